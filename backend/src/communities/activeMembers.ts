/**
 * Per-group active members read back (issue 17 point 1): the group sketches the collector
 * writes (collector/groupMembers.ts) merged per group and period over every writing node,
 * and over a range for a ranking — distinct members do not add up, sketches merge.
 *
 * A range's members of one group = the estimate of the merge of its period sketches in the
 * range: day sketches when the range is whole local days, hour sketches otherwise (hour
 * precision at the edges). No per-member data is read or kept (register maxima only).
 */
import { GRANULARITIES } from '@siyu-pulse/contracts/catalogue';
import { Hll } from '../sketch/hll.js';
import type { MetricStore, SketchRow } from '../store/port.js';
import { GROUP_MEMBER_SET, type GroupGranularity } from '../collector/groupMembers.js';

export interface ActivePoint {
  ts: number;
  members: number;
}

/** One group's active members per hour or per day over period starts in [from, to), ascending. */
export async function groupActiveSeries(store: MetricStore, community: string, granularity: GroupGranularity, from: number, to: number): Promise<ActivePoint[]> {
  const rows = await store.querySketches({ from, to, granularity, set: GROUP_MEMBER_SET, community });
  const byTs = new Map<number, Hll>();
  for (const r of rows) mergeInto(byTs, r.ts, r);
  return [...byTs.entries()].sort((a, b) => a[0] - b[0]).map(([ts, h]) => ({ ts, members: h.estimate() }));
}

export interface ActiveRanking {
  /** Groups with at least one active member in the range. */
  groups: number;
  /** Descending by members (ties: community ascending), at most `limit`. */
  rows: { community: string; members: number }[];
}

/**
 * Every group's active members over [from, to) (distinct across the range), the top `limit`.
 * `dayStart(ts)`: the local day's start (the collector's day periods); a range of whole days
 * reads one day sketch per group and day, any other range hour sketches (hour-aligned).
 */
export async function topActiveGroups(store: MetricStore, from: number, to: number, limit: number, dayStart: (ts: number) => number): Promise<ActiveRanking> {
  const granularity: GroupGranularity = dayStart(from) === from && dayStart(to) === to ? 'day' : 'hour';
  const step = GRANULARITIES[granularity];
  const f = granularity === 'hour' ? Math.floor(from / step) * step : from;
  const rows = await store.querySketches({ from: f, to, granularity, set: GROUP_MEMBER_SET, community: true });
  const byGroup = new Map<string, Hll>();
  for (const r of rows) mergeInto(byGroup, r.community ?? '', r);
  const all = [...byGroup.entries()].map(([community, h]) => ({ community, members: h.estimate() }));
  all.sort((a, b) => b.members - a.members || (a.community < b.community ? -1 : a.community > b.community ? 1 : 0));
  return { groups: all.length, rows: all.slice(0, limit) };
}

function mergeInto<K>(map: Map<K, Hll>, key: K, row: SketchRow): void {
  const h = Hll.fromBase64(row.sketch);
  const had = map.get(key);
  if (had) had.merge(h);
  else map.set(key, h);
}
