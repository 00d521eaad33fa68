/**
 * A KPI given as a series (`timestamp,value`, one row per bucket) as a KpiSource, for the
 * backtest CLI and tests. `sum`: a window's value is the sum of its rows (counts, money);
 * `mean`: the mean of its rows (levels, ratios) — a ratio of sums, Σvalue ÷ rows, so it
 * pools like any ratio KPI. A ratio may give each row's denominator (`timestamp,value,sample`:
 * an open rate and its deliveries): the window is then Σ(value × sample) ÷ Σsample, with the
 * deliveries as its sample, as the product's own ratio KPIs are.
 */
import type { KpiInfo, KpiSource, WindowResult } from '../contract.js';

export interface SeriesRow {
  ts: number;
  value: number;
  /** `mean` series only: the row's denominator (deliveries behind an open rate). */
  sample?: number;
}

export type SeriesKind = 'sum' | 'mean';

export const SERIES_KPI = 'series';

/** The catalogue entry of a series KPI: a plain sum or mean, never a distinct count. */
export function seriesKpi(kind: SeriesKind, id = SERIES_KPI): KpiInfo {
  return {
    id,
    label: { zh: kind === 'sum' ? '序列（计数）' : '序列（水平）', en: kind === 'sum' ? 'series (count)' : 'series (level)' },
    unit: kind === 'sum' ? 'count' : 'multiple',
    good: 'neutral',
    ratio: kind === 'mean',
    splits: [],
    distinct: false,
  };
}

/** The most common gap between rows: the series' bucket. */
export function bucketOf(rows: readonly SeriesRow[]): number {
  const counts = new Map<number, number>();
  for (let i = 1; i < Math.min(rows.length, 2000); i++) {
    const d = (rows[i]?.ts ?? 0) - (rows[i - 1]?.ts ?? 0);
    if (d > 0) counts.set(d, (counts.get(d) ?? 0) + 1);
  }
  let best = 0;
  let bestN = -1;
  for (const [d, n] of counts) if (n > bestN) [best, bestN] = [d, n];
  if (!best) throw new Error('the series needs at least two rows with increasing timestamps');
  return best;
}

export function seriesSource(rows: readonly SeriesRow[], kind: SeriesKind, id = SERIES_KPI): KpiSource & { bucketMs: number } {
  const sorted = [...rows].sort((a, b) => a.ts - b.ts);
  const ts = sorted.map((r) => r.ts);
  const weighted = kind === 'mean' && sorted.some((r) => r.sample !== undefined);
  if (weighted && !sorted.every((r) => r.sample !== undefined && Number.isFinite(r.sample) && r.sample >= 0)) throw new Error('a denominator (sample) on every row or on none, each ≥ 0');
  if (kind === 'sum' && sorted.some((r) => r.sample !== undefined)) throw new Error('a denominator (sample) is for mean series only: a count is its own sample');
  // Prefix sums: Σvalue (Σvalue × sample when weighted) and Σsample.
  const prefix = [0];
  const prefixSample = [0];
  for (const r of sorted) {
    prefix.push((prefix.at(-1) ?? 0) + (weighted ? r.value * (r.sample ?? 0) : r.value));
    prefixSample.push((prefixSample.at(-1) ?? 0) + (r.sample ?? 0));
  }
  const bucketMs = bucketOf(sorted);
  const first = ts[0] ?? 0;
  const lower = (x: number): number => {
    let lo = 0;
    let hi = ts.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if ((ts[m] ?? 0) < x) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  const kpi = seriesKpi(kind, id);
  return {
    bucketMs,
    catalogue: () => [kpi],
    lastSeen: () => ({}),
    async window(k, from, to): Promise<WindowResult | null> {
      if (k !== id) throw new Error(`unknown KPI ${k}`);
      if (from < first) return null;
      const a = lower(from);
      const b = lower(to);
      const n = b - a;
      const sum = (prefix[b] ?? 0) - (prefix[a] ?? 0);
      const expected = Math.max(1, Math.round((to - from) / bucketMs));
      if (kind === 'mean') {
        // No rows: no value (a gap in a level series is not a level of 0).
        const den = weighted ? (prefixSample[b] ?? 0) - (prefixSample[a] ?? 0) : n;
        return { total: { value: den > 0 ? sum / den : null, num: sum, den, sample: den }, splits: {} };
      }
      // Counts: a window with at most half its rows is unknown; a few missing rows are filled at the window's rate.
      if (n * 2 < expected) return { total: { value: null, sample: 0 }, splits: {} };
      const value = n === expected ? sum : (sum * expected) / n;
      return { total: { value, sample: Math.abs(value) }, splits: {} };
    },
  };
}

/**
 * Parse `timestamp,value` CSV text (header optional; times ISO or 'YYYY-MM-DD HH:MM:SS', UTC
 * unless zoned), or `timestamp,value,sample` (a ratio's denominator per row).
 */
export function parseSeriesCsv(text: string): { rows: SeriesRow[]; texts: string[] } {
  const rows: SeriesRow[] = [];
  const texts: string[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const l = line.trim();
    if (!l) return;
    const [a = '', b = '', c] = l.split(',');
    const value = Number(b);
    const sample = c === undefined ? undefined : Number(c);
    const ts = parseTime(a.trim());
    if (ts === null || b.trim() === '' || !Number.isFinite(value) || (sample !== undefined && (c?.trim() === '' || !Number.isFinite(sample) || sample < 0))) {
      if (i === 0) return; // header
      throw new Error(`line ${i + 1}: expected "timestamp,value" or "timestamp,value,sample" (sample ≥ 0), got ${JSON.stringify(l.slice(0, 80))}`);
    }
    rows.push(sample === undefined ? { ts, value } : { ts, value, sample });
    texts.push(a.trim());
  });
  if (rows.length < 2) throw new Error('the series needs at least two rows');
  return { rows, texts };
}

function parseTime(s: string): number | null {
  if (/^\d{10,13}$/.test(s)) return s.length === 13 ? Number(s) : Number(s) * 1000;
  const iso = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.test(s) ? s.replace(' ', 'T') : null;
  if (!iso) return null;
  const zoned = /(Z|[+-]\d{2}:?\d{2})$/.test(iso) ? iso : `${iso}Z`;
  const t = Date.parse(zoned);
  return Number.isFinite(t) ? t : null;
}
