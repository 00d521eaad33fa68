/**
 * Per-group rollups (issue 17 point 1): the counters of every 社群 summed per hour and per
 * local day, stored beside the 10 s rows (DuckDB tables pulse_groups_hour / pulse_groups_day,
 * InfluxDB measurements of the same names), tags channel + community (campaign always '').
 *
 * Why: a query over many groups and a long span read every 10 s row of every group (20,000
 * groups × 30 days: 2.3 M rows; a top-10 over 30 days took 5–20 s and the weekly report
 * 207 s with influxd at 8.3 GiB). An hour row holds what up to 360 bucket rows held; a day
 * row what up to 8,640 did.
 *
 * Written like the 10 s rows: whole rows that replace the stored one (the collector keeps the
 * open hour and day of each active group in memory, and adds the stored row in first when it
 * takes up a period it does not hold: a late or replayed event). Imports add deltas to them
 * (DuckDB applyAdditive). Any other writer of group 10 s rows gets them derived by the store
 * (writeCounters' default, `rollups: 'derive'`: the row's change is added to its hour and day);
 * a bulk load of whole periods may derive them itself with rollupRowsOf (`rollups: 'given'`).
 *
 * Reads: queryCounters of both adapters routes a query scoped to groups (community in `by`
 * or `filter`, no campaign) whose step is a whole number of hours through planCounterQuery:
 * whole days from the day rows, whole hours from the hour rows, the edges from the 10 s rows.
 * Only periods from the store's `completeFrom` mark on are read from rollups (a store that
 * held groups before rollups existed is complete only from the first day after the upgrade).
 */
import { StoreError, type CounterQuery, type CounterRow, type CounterSeries, type WriteCountersOptions } from './port.js';
import { COUNTERS } from '@siyu-pulse/contracts/catalogue';
import type { NormalizedCounterQuery, NormalizedCounterRow, SparseCounterRow } from './validate.js';

export type Rollup = 'hour' | 'day';
/** Where a counter query reads: the 10 s rows, or one of the rollups. */
export type CounterSource = 'raw' | Rollup;

const HOUR = 3_600_000;
const DAY = 86_400_000;

/**
 * The default alignment of day rollups: local midnight in Asia/Shanghai (UTC+8, no DST) as an
 * offset of UTC days, as time/zone.ts alignmentOffset(DAY, …) gives it (16 h).
 */
export const SHANGHAI_DAY_OFFSET_MS = 16 * HOUR;

export interface RollupOptions {
  /**
   * Day rollups start at `dayOffsetMs + k × DAY` (the business time zone's midnight; see
   * dayOffsetOfZone). null: the zone has DST, days are not a fixed length: no day rollups
   * (day queries read 24 hour rows).
   */
  dayOffsetMs: number | null;
}

/** The fixed day offset of a zone (alignmentOffset at two instants half a year apart), or null when it has DST. */
export function dayOffsetOfZone(offsetAt: (at: number) => number, now: number): number | null {
  const a = offsetAt(now);
  const b = offsetAt(now + 182 * DAY);
  if (a !== b) return null;
  return ((-a % DAY) + DAY) % DAY;
}

export function rollupStart(rollup: Rollup, ts: number, dayOffsetMs: number | null): number {
  if (rollup === 'hour') return Math.floor(ts / HOUR) * HOUR;
  if (dayOffsetMs === null) throw new Error('day rollups need a fixed day offset');
  return Math.floor((ts - dayOffsetMs) / DAY) * DAY + dayOffsetMs;
}

/** Which rollups a store keeps: hour always, day when the zone has fixed-length days. */
export function rollupsOf(o: RollupOptions): Rollup[] {
  return o.dayOffsetMs === null ? ['hour'] : ['hour', 'day'];
}

/** Whether a row belongs in the rollups: rows of a group (community set). */
export const rollsUp = (tags: { community?: string }): boolean => (tags.community ?? '') !== '';

/**
 * writeCounters' rollup mode (MetricStore.writeCounters). 'derive' refuses rollup rows: a
 * writer that does not keep the rollups itself must not replace them (it would drop what the
 * collector counted); the store derives them from the 10 s rows instead.
 */
export function rollupModeOf(rows: readonly NormalizedCounterRow[], opts: WriteCountersOptions | undefined): 'derive' | 'given' {
  const mode = opts?.rollups ?? 'derive';
  if (mode !== 'derive' && mode !== 'given') throw new StoreError(`unknown rollups mode ${JSON.stringify(mode)}`, false);
  if (mode === 'derive' && rows.some((r) => r.rollup !== undefined)) {
    throw new StoreError("rollup rows are derived by the store: write the 10 s rows only, or pass { rollups: 'given' } when writing every group's hour and day rows yourself (rollupRowsOf)", false);
  }
  return mode;
}

/** A 10 s row's key (ts, channel, community, campaign) as derivedRollupRows' callers may key their stored rows. */
export const rawRowKey = (ts: number, channel: string, community: string, campaign: string) => `${ts}\u0000${channel}\u0000${community}\u0000${campaign}`;

/**
 * The rollup rows a 'derive' write leaves behind (for a store without transactions that
 * reads first; DuckDB does the same in SQL): for each rollup period a group 10 s row of
 * `rows` falls in, the stored rollup row plus Σ (new 10 s row − stored 10 s row).
 * `storedRaw` / `storedRollups` give the stored values (COUNTERS order) by
 * (ts, channel, community, campaign) and by (rollup, ts, channel, community); absent = 0.
 */
export function derivedRollupRows(
  rows: readonly NormalizedCounterRow[],
  storedRaw: (ts: number, channel: string, community: string, campaign: string) => readonly number[] | undefined,
  storedRollup: (rollup: Rollup, ts: number, channel: string, community: string) => readonly number[] | undefined,
  o: RollupOptions,
): NormalizedCounterRow[] {
  const out = new Map<string, NormalizedCounterRow>();
  for (const r of rows) {
    if (r.rollup !== undefined || !rollsUp(r.tags)) continue;
    const old = storedRaw(r.ts, r.tags.channel, r.tags.community, r.tags.campaign);
    for (const rollup of rollupsOf(o)) {
      const ts = rollupStart(rollup, r.ts, o.dayOffsetMs);
      const key = `${rollup}\u0000${rawRowKey(ts, r.tags.channel, r.tags.community, '')}`;
      let row = out.get(key);
      if (!row) {
        const stored = storedRollup(rollup, ts, r.tags.channel, r.tags.community);
        const values = stored ? [...stored] : new Array<number>(r.values.length).fill(0);
        out.set(key, (row = { ts, tags: { channel: r.tags.channel, community: r.tags.community, campaign: '' }, values, rollup }));
      }
      r.values.forEach((v, i) => {
        row.values[i] = (row.values[i] ?? 0) + v - (old?.[i] ?? 0);
      });
    }
  }
  // Never below 0: a stored 10 s row that its rollup never held (an InfluxDB database from
  // before the rollups, read from the 10 s rows anyway) is not taken off what is not there.
  for (const row of out.values()) row.values = row.values.map((v) => Math.max(0, v));
  return [...out.values()];
}

/**
 * The hour and day rollup rows of a set of 10 s rows (summed; rows without a group are
 * skipped). For bulk writers (benchmarks, fixtures) and import deltas: a writer that REPLACES
 * rollup rows must hand over every 10 s row of the periods it touches (a whole day), or the
 * rollups would hold part of them.
 */
export function rollupRowsOf(rows: readonly CounterRow[], o: RollupOptions): CounterRow[] {
  const out = new Map<string, CounterRow>();
  for (const rollup of rollupsOf(o)) {
    for (const r of rows) {
      if (!rollsUp(r.tags)) continue;
      const ts = rollupStart(rollup, r.ts, o.dayOffsetMs);
      const key = `${rollup}\u0000${ts}\u0000${r.tags.channel ?? ''}\u0000${r.tags.community}`;
      let row = out.get(key);
      if (!row) out.set(key, (row = { ts, tags: { channel: r.tags.channel ?? '', community: r.tags.community, campaign: '' }, counters: {}, rollup }));
      for (const c in r.counters) {
        const v = r.counters[c];
        if (v) row.counters[c] = (row.counters[c] ?? 0) + v;
      }
    }
  }
  return [...out.values()];
}

/**
 * The hour and day rollup deltas of checked sparse 10 s deltas (an import batch's, DuckDB
 * applyAdditive): rollupRowsOf on the value pairs, rows found through maps (start →
 * channel → community), not a key string per row and rollup.
 */
export function rollupDeltasOf(rows: readonly SparseCounterRow[], o: RollupOptions): Record<Rollup, NormalizedCounterRow[]> {
  const out = { hour: [], day: [] } as Record<Rollup, NormalizedCounterRow[]>;
  for (const rollup of rollupsOf(o)) {
    const list: NormalizedCounterRow[] = [];
    const at = new Map<number, Map<string, Map<string, NormalizedCounterRow>>>();
    let lastTs = Number.NaN;
    let lastStart = 0;
    for (const r of rows) {
      if (!rollsUp(r.tags)) continue;
      if (r.ts !== lastTs) {
        lastTs = r.ts;
        lastStart = rollupStart(rollup, r.ts, o.dayOffsetMs);
      }
      const ts = lastStart;
      let byChannel = at.get(ts);
      if (!byChannel) at.set(ts, (byChannel = new Map()));
      let byCommunity = byChannel.get(r.tags.channel);
      if (!byCommunity) byChannel.set(r.tags.channel, (byCommunity = new Map()));
      let row = byCommunity.get(r.tags.community);
      if (!row) {
        byCommunity.set(r.tags.community, (row = { ts, tags: { channel: r.tags.channel, community: r.tags.community, campaign: '' }, values: new Array<number>(COUNTERS.length).fill(0), rollup }));
        list.push(row);
      }
      const v = row.values;
      const s = r.slots;
      for (let i = 0; i < s.length; i += 2) v[s[i]!]! += s[i + 1]!;
    }
    out[rollup] = list;
  }
  return out;
}

export interface Segment {
  source: CounterSource;
  from: number;
  to: number;
  /** Only rows without a group (community ''): what a split by community reads beside the rollups. */
  ungrouped?: boolean;
}

/**
 * How a counter query is read: one raw segment, or whole days from the day rows, whole hours
 * from the hour rows and the edges from the 10 s rows. Rollups answer only when every
 * rollup period falls inside one bucket of the query (step a multiple of the period, buckets
 * aligned to its boundaries), when the query is about groups (a row without a community is
 * not in the rollups) and not about campaigns (rollups drop the campaign), and only from
 * `completeFrom` on.
 */
export function planCounterQuery(q: NormalizedCounterQuery, source: CounterQuery['source'], o: RollupOptions & { completeFrom: number }): Segment[] {
  if (source !== undefined && source !== 'auto') return [{ source, from: q.from, to: q.to }];
  const raw: Segment[] = [{ source: 'raw', from: q.from, to: q.to }];
  const dims = [...q.by, ...q.filter.map(([d]) => d)];
  const grouped = q.by.includes('community') || q.filter.some(([d, v]) => d === 'community' && v !== '');
  if (!grouped || dims.includes('campaign')) return raw;
  if (q.filter.some(([d, v]) => d === 'community' && v === '')) return raw;
  // One bucket over the whole range (a ranking's totals): every period inside it fits.
  const bucketOf = (ts: number) => Math.floor((ts - q.offsetMs) / q.stepMs);
  const oneBucket = bucketOf(q.from) === bucketOf(q.to - 1);
  if (!oneBucket && (q.stepMs % HOUR !== 0 || q.offsetMs % HOUR !== 0)) return raw;
  const start = Math.max(q.from, o.completeFrom);
  const h0 = Math.ceil(start / HOUR) * HOUR;
  const h1 = Math.floor(q.to / HOUR) * HOUR;
  if (h0 >= h1) return raw;
  const out: Segment[] = [];
  const push = (source: CounterSource, from: number, to: number) => {
    if (from < to) out.push({ source, from, to });
  };
  push('raw', q.from, h0);
  const dayOff = o.dayOffsetMs;
  const daysFit = dayOff !== null && (oneBucket || (q.stepMs % DAY === 0 && (((q.offsetMs - dayOff) % DAY) + DAY) % DAY === 0));
  if (daysFit) {
    const d0 = Math.ceil((h0 - dayOff) / DAY) * DAY + dayOff;
    const d1 = Math.floor((h1 - dayOff) / DAY) * DAY + dayOff;
    if (d0 < d1) {
      push('hour', h0, d0);
      push('day', d0, d1);
      push('hour', d1, h1);
    } else push('hour', h0, h1);
  } else push('hour', h0, h1);
  push('raw', h1, q.to);
  // A split by community has a series for the rows without one ('' : not in the rollups).
  if (!q.filter.some(([d]) => d === 'community')) out.push({ source: 'raw', from: h0, to: h1, ungrouped: true });
  return out;
}

/** Adds series of the same query read over disjoint segments (sums per tag set and bucket). */
export function mergeSegments(parts: readonly CounterSeries[][], counters: readonly string[], order: (a: CounterSeries, b: CounterSeries) => number): CounterSeries[] {
  if (parts.length === 1) return [...parts[0]!].sort(order);
  const series = new Map<string, { tags: CounterSeries['tags']; points: Map<number, Record<string, number>> }>();
  for (const part of parts) {
    for (const s of part) {
      const key = JSON.stringify(s.tags);
      let m = series.get(key);
      if (!m) series.set(key, (m = { tags: s.tags, points: new Map() }));
      for (const p of s.points) {
        const sums = m.points.get(p.ts);
        if (!sums) m.points.set(p.ts, { ...p.sums });
        else for (const c of counters) sums[c] = (sums[c] ?? 0) + (p.sums[c] ?? 0);
      }
    }
  }
  const out: CounterSeries[] = [...series.values()].map((m) => ({
    tags: m.tags,
    points: [...m.points.entries()].sort((a, b) => a[0] - b[0]).map(([ts, sums]) => ({ ts, sums })),
  }));
  return out.sort(order);
}

/** Reads a query over its plan: one read per segment (in parallel), merged. */
export async function readPlanned(
  q: NormalizedCounterQuery,
  plan: readonly Segment[],
  readOne: (segment: Segment) => Promise<CounterSeries[]>,
  order: (a: CounterSeries, b: CounterSeries) => number,
): Promise<CounterSeries[]> {
  const parts = await Promise.all(plan.map((s) => readOne(s)));
  return mergeSegments(parts, q.counters, order);
}
