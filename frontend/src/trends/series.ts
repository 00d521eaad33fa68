/**
 * From series API answers to what the page shows: series keys and names, the top-N cut,
 * the comparison aligned onto the current window, and the per-series summary and change.
 *
 * The summary of a range (and so the compare change) must be a ratio of sums for ratio
 * KPIs, but the series API answers per-step values only. What we do:
 *  - additive KPIs (`sum`: counts, money): the range total is the sum of the step values —
 *    exact, sums add up;
 *  - everything else (ratios, quantiles, distinct counts): one more series call with
 *    step = the whole shown window, which the backend evaluates as Σnum / Σden (or one
 *    quantile / one distinct count) over the window. The backend aligns steps to its zone,
 *    so that call is only exact when the window starts on a boundary of a step that long
 *    (e.g. a 1-hour window starting on the hour); otherwise, or when the backend refuses
 *    the step, the summary is shown as unavailable with the reason — never the mean of the
 *    per-step ratios, which weights a quiet step like a busy one.
 */
import type { KpiDef, KpiUnit } from '@siyu-pulse/contracts/catalogue';
import { changeTone, type ChangeTone } from '../kpi';
import type { Dim } from './state';
import type { Outrun } from '@siyu-pulse/contracts/catalogue';

export type Tags = Partial<Record<Dim, string>>;
export type Point = [number, number | null];

/** `GET /api/v1/series` answer. */
export interface SeriesAnswer {
  kpi: string;
  unit: KpiUnit;
  from: number;
  to: number;
  step: number;
  /** Ratios: `thin` lists points with fewer than `thinBelow` denominator events; share KPIs: `outruns` those over 100%. */
  series: { tags: Tags; points: Point[]; thin?: number[]; outruns?: number[] }[];
  thinBelow?: number;
  outrun?: Outrun;
}

export const tagKey = (tags: Tags): string => JSON.stringify([tags.channel ?? null, tags.community ?? null, tags.campaign ?? null]);

/** Sum-kind KPIs add up across steps; nothing else does. */
export const isAdditive = (def: Pick<KpiDef, 'formula'>): boolean => def.formula.kind === 'sum';

/** Member-set KPIs exist only at 1m / 1h / 1d (month-level ones at 1d) and split by channel only. */
export function usesDistinct(def: Pick<KpiDef, 'formula'>): boolean {
  const f = def.formula;
  return f.kind === 'distinct' || f.kind === 'span' || (f.kind === 'ratio' && 'distinct' in f.den);
}

export const total = (points: readonly Point[]): number | null => {
  let sum = 0;
  let any = false;
  for (const [, v] of points) {
    if (v === null) continue;
    sum += v;
    any = true;
  }
  return any ? sum : null;
};

export const hasData = (points: readonly Point[]): boolean => points.some(([, v]) => v !== null && v !== 0);

export interface Ranked {
  key: string;
  tags: Tags;
  points: Point[];
}

/**
 * Top `n` series of one KPI, the rest hidden. Additive KPIs rank by |total|; for the
 * others a total means nothing, so they rank by how many steps have data (a proxy for
 * volume: a channel with one delivery and one open is not the "best" channel), then by
 * the range value when known.
 */
export function topSeries(answer: SeriesAnswer, additive: boolean, n: number, rangeValue?: (key: string) => number | null): { shown: Ranked[]; hidden: Ranked[] } {
  const all: Ranked[] = answer.series.map((s) => ({ key: tagKey(s.tags), tags: s.tags, points: s.points }));
  const score = (r: Ranked): [number, number] => {
    if (additive) return [Math.abs(total(r.points) ?? 0), 0];
    return [r.points.filter(([, v]) => v !== null && v !== 0).length, rangeValue?.(r.key) ?? -Infinity];
  };
  const scored = all.map((r) => ({ r, s: score(r) }));
  scored.sort((a, b) => b.s[0] - a.s[0] || b.s[1] - a.s[1] || a.r.key.localeCompare(b.r.key));
  const sorted = scored.map((x) => x.r);
  return { shown: sorted.slice(0, n), hidden: sorted.slice(n) };
}

/**
 * The comparison window's points moved onto the current window's time axis: the value at
 * `ts - shift` is drawn at `ts`. Each output point is `[ts, value, originalTs]`; steps the
 * comparison does not have are null.
 */
export function alignComparison(current: readonly Point[], comparison: readonly Point[] | undefined, shift: number): [number, number | null, number][] {
  const byTs = new Map<number, number | null>();
  for (const [ts, v] of comparison ?? []) byTs.set(ts, v);
  return current.map(([ts]) => [ts, byTs.get(ts - shift) ?? null, ts - shift]);
}

/** Relative change (cur − base) / |base|; null when either is unknown or base is 0. */
export function relativeChange(cur: number | null | undefined, base: number | null | undefined): number | null {
  if (cur === null || cur === undefined || base === null || base === undefined) return null;
  if (!Number.isFinite(cur) || !Number.isFinite(base) || base === 0) return null;
  return (cur - base) / Math.abs(base);
}

/** `+12.3%` / `−4.0%` / `0.0%` (U+2212 minus, like the wall). */
export function formatChange(change: number | null): string {
  if (change === null) return '—';
  const p = change * 100;
  const text = Math.abs(p) >= 1000 ? Math.round(Math.abs(p)).toLocaleString('en-US') : Math.abs(p).toFixed(1);
  if (text === '0.0') return '0.0%';
  return `${p > 0 ? '+' : '−'}${text}%`;
}

export function changeSummary(cur: number | null, base: number | null, good: KpiDef['good']): { change: number | null; text: string; tone: ChangeTone } {
  const change = relativeChange(cur, base);
  return { change, text: formatChange(change), tone: changeTone(change, good) };
}

/** Why a range value could not be computed. */
export type Unavailable = 'unaligned' | 'refused';

/** A range value per series key, or why it is missing. */
export type RangeValues = { ok: true; values: Map<string, number | null> } | { ok: false; why: Unavailable; detail?: string };

/** Reads the answer of the step = whole-window call; refuses one that covers another window. */
export function wholeWindowValues(answer: SeriesAnswer, from: number, to: number): RangeValues {
  if (answer.from !== from || answer.to !== to || answer.series.some((s) => s.points.length !== 1)) return { ok: false, why: 'unaligned' };
  return { ok: true, values: new Map(answer.series.map((s) => [tagKey(s.tags), s.points[0]![1]])) };
}

/** Range values of an additive KPI: the per-series totals. */
export function additiveValues(answer: SeriesAnswer): RangeValues {
  return { ok: true, values: new Map(answer.series.map((s) => [tagKey(s.tags), total(s.points)])) };
}
