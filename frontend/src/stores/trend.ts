import type { TrendPoint } from '@siyu-pulse/contracts/live';

/** The wall's trend buffer holds one hour of minute points, never more. */
export const TREND_MAX_POINTS = 60;

/**
 * Merges a tick's `trendTail` into the trend buffer and returns a NEW array (the store keeps
 * it in a shallowRef, so replacing the array is what triggers the chart):
 *  - a tail point replaces the buffer point of the same minute (the open minute keeps changing);
 *  - a newer minute is appended; an older missing minute is inserted in order;
 *  - the result is trimmed to the newest `max` points.
 * The input arrays are not modified.
 */
export function mergeTrend(buffer: readonly TrendPoint[], tail: readonly TrendPoint[], max = TREND_MAX_POINTS): TrendPoint[] {
  const out = buffer.slice();
  for (const p of tail) {
    // Search from the end: tail points are almost always the last one or two minutes.
    let i = out.length - 1;
    while (i >= 0 && out[i]!.ts > p.ts) i--;
    if (i >= 0 && out[i]!.ts === p.ts) out[i] = p;
    else out.splice(i + 1, 0, p);
  }
  return out.length > max ? out.slice(out.length - max) : out;
}

/** A snapshot's trend, sorted and bounded the same way. */
export function boundedTrend(points: readonly TrendPoint[], max = TREND_MAX_POINTS): TrendPoint[] {
  return mergeTrend([], points, max);
}
