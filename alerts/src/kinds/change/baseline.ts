/**
 * The change kind's baselines: the previous window (环比), the same window yesterday / last
 * week (同比), or the mean of the last N windows, pooled as ratios of sums (../../engine/windows.ts);
 * and the echo guard that keeps a spike still inside the baseline window from firing again.
 */
import type { Evaluation } from '../common/evaluation.js';
import type { AlertRecord } from '../types.js';
import type { Span } from '../../engine/windows.js';

export { baselineWindows, poolWindows } from '../../engine/windows.js';

/**
 * A baseline window that overlapped this alert's own last firing holds the spike itself:
 * comparing with it would fire a second, opposite alert (an echo). No decision instead.
 */
export function echoGuard(rec: AlertRecord | undefined, spans: readonly Span[], ev: Evaluation): Evaluation {
  if (!rec || !ev.observation || rec.machine.inner === 'firing') return ev;
  // Only the opposite move is an echo: the same move again is the KPI moving (or flapping).
  const fire = ev.observation.fire;
  if (!fire) return ev;
  const hit = spans.some((b) => rec.firingSpans.some((f) => f.move !== fire && b.from < f.to && f.from < b.to));
  return hit ? { ...ev, observation: { ...ev.observation, fire: null }, reason: 'baseline window holds this alert\'s last firing: an opposite move now is its echo' } : ev;
}

/** Remember closed firing episodes (baselines leave them out) for `keepMs`. */
export function trackFiringSpans(rec: AlertRecord, prev: { firingSince: number | null; move: 'up' | 'down' | null }, windowMs: number, t: number, keepMs: number, adopted: boolean): void {
  // A closed episode: its windows must not teach the baseline (no echo).
  // An adopted shift is the new normal: it must teach the baseline, not be left out.
  if (prev.firingSince !== null && rec.machine.inner !== 'firing' && !adopted) rec.firingSpans.push({ from: prev.firingSince - windowMs, to: t, move: prev.move });
  rec.firingSpans = rec.firingSpans.filter((f) => f.to > t - keepMs);
}
