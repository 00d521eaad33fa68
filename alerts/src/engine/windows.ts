/**
 * Window arithmetic for one evaluation: the current window, the baseline window(s) and
 * the pooling of trailing windows. Pure.
 */
import type { BaselineKind, Dimension, KpiSource, WindowResult, WindowValue } from '../contract.js';

export const SECOND = 1_000;
export const MINUTE = 60_000;
export const DAY = 86_400_000;

/** [from, to) in epoch ms. */
export interface Span {
  from: number;
  to: number;
}

/**
 * The evaluation instant: `now` down to `alignMs` (a second by default), or to the minute
 * for distinct-count KPIs, whose windows the store answers only at minute boundaries.
 */
export function evaluationTime(now: number, minuteAligned: boolean, alignMs = SECOND): number {
  const step = minuteAligned ? Math.max(MINUTE, alignMs) : alignMs;
  return Math.floor(now / step) * step;
}

export function currentWindow(t: number, windowMs: number): Span {
  return { from: t - windowMs, to: t };
}

export function baselineWindows(kind: BaselineKind, count: number, t: number, windowMs: number): Span[] {
  switch (kind) {
    case 'previous_window':
      return [{ from: t - 2 * windowMs, to: t - windowMs }];
    case 'same_window_yesterday':
      return [{ from: t - windowMs - DAY, to: t - DAY }];
    case 'same_window_last_week':
      return [{ from: t - windowMs - 7 * DAY, to: t - 7 * DAY }];
    case 'trailing_mean':
      // The N windows just before the current one, newest first.
      return Array.from({ length: count }, (_, i) => ({ from: t - (i + 2) * windowMs, to: t - (i + 1) * windowMs }));
    case 'seasonal':
      // Chosen per instant with the calendar (seasonal.ts planCandidates).
      return [];
  }
}

/**
 * Pool N baseline windows into one. Ratios pool as a ratio of sums (Σnum / Σden over all
 * N windows, never a mean of N ratios); sums and counts as the mean per window. `sample` is
 * the mean per window so that min_sample means the same for current and baseline, while
 * num/den stay pooled sums (the significance test gets all the evidence).
 */
export function poolWindows(results: readonly WindowResult[]): WindowResult {
  if (results.length === 1 && results[0]) return results[0];
  const keys = new Set(results.flatMap((r) => Object.keys(r.splits)));
  const splits = splitRecord();
  for (const k of keys) {
    const present = results.map((r) => r.splits[k]).filter((v): v is WindowValue => v !== undefined);
    splits[k] = poolValues(present, results.length);
  }
  return { total: poolValues(results.map((r) => r.total), results.length), splits };
}

function poolValues(values: readonly WindowValue[], n: number): WindowValue {
  const ratio = values.some((v) => v.num !== undefined);
  const sample = values.reduce((s, v) => s + v.sample, 0) / n;
  if (ratio) {
    const num = values.reduce((s, v) => s + (v.num ?? 0), 0);
    const den = values.reduce((s, v) => s + (v.den ?? 0), 0);
    return { value: den > 0 ? num / den : null, num, den, sample };
  }
  // A window where the split sent nothing counts as 0 (sums); a null total stays unknown.
  const known = values.filter((v) => v.value !== null);
  if (known.length === 0) return { value: null, sample };
  return { value: known.reduce((s, v) => s + (v.value ?? 0), 0) / n, sample };
}

/**
 * An empty per-split record without a prototype. Split values are chosen by producers (a
 * channel may be called `__proto__` or `constructor`): on a plain object the first would
 * be swallowed by the prototype setter and the second read back as Object's constructor.
 */
export function splitRecord(): Record<string, WindowValue> {
  return Object.create(null) as Record<string, WindowValue>;
}

/** A source whose windows' splits are prototype-less records, whatever the source built. */
export function withOwnSplits(source: KpiSource): KpiSource {
  return {
    catalogue: () => source.catalogue(),
    lastSeen: (by) => Object.assign(Object.create(null) as Record<string, number>, source.lastSeen(by)),
    async window(kpi, from, to, by) {
      const r = await source.window(kpi, from, to, by);
      if (r === null) return null;
      // Object.entries sees an own `__proto__` key; assigning into a prototype-less record keeps it.
      const splits = splitRecord();
      for (const [k, v] of Object.entries(r.splits)) splits[k] = v;
      return { total: r.total, splits };
    },
    // 社群 member counts (group_exodus), prototype-less like the rest.
    ...(source.sizes ? { sizes: (by: Dimension) => Object.assign(Object.create(null) as Record<string, number>, source.sizes!(by)) } : {}),
  };
}
