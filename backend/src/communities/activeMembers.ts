/**
 * Per-group active members read back (issue 17 point 1): the group sketches the collector
 * writes (collector/groupMembers.ts) merged per group and period over every writing node,
 * and over a range for a ranking — distinct members do not add up, sketches merge.
 *
 * A range's members of one group = the estimate of the merge of its period sketches in the
 * range: day sketches when the range is whole local days, hour sketches otherwise (hour
 * precision at the edges). No per-member data is read or kept (register maxima only).
 */
import { createHash } from 'node:crypto';
import { GRANULARITIES } from '@siyu-pulse/contracts/catalogue';
import { Hll, sketchKeyOf } from '../sketch/hll.js';
import { HOUR } from '../time/zone.js';
import type { GroupDayTop, MetricStore, SketchRow } from '../store/port.js';
import { GROUP_MEMBER_SET, type GroupGranularity } from '../collector/groupMembers.js';

export interface ActivePoint {
  ts: number;
  members: number;
}

/** One group's active members per hour or per day over period starts in [from, to), ascending. */
export async function groupActiveSeries(store: MetricStore, community: string, granularity: GroupGranularity, from: number, to: number): Promise<ActivePoint[]> {
  return (await groupsActiveSeries(store, [community], granularity, from, to)).get(community) ?? [];
}

/** Each listed group's active members per hour or per day over [from, to), ascending: one query for all of them. */
export async function groupsActiveSeries(store: MetricStore, communities: readonly string[], granularity: GroupGranularity, from: number, to: number): Promise<Map<string, ActivePoint[]>> {
  const out = new Map<string, ActivePoint[]>();
  if (communities.length === 0) return out;
  const rows = await store.querySketches({ from, to, granularity, set: GROUP_MEMBER_SET, community: communities });
  const byGroup = new Map<string, Map<number, Hll>>();
  for (const r of rows) {
    const c = r.community ?? '';
    let byTs = byGroup.get(c);
    if (!byTs) byGroup.set(c, (byTs = new Map()));
    mergeInto(byTs, r.ts, r);
  }
  for (const c of communities) {
    const byTs = byGroup.get(c) ?? new Map<number, Hll>();
    out.set(c, [...byTs.entries()].sort((a, b) => a[0] - b[0]).map(([ts, h]) => ({ ts, members: h.estimate() })));
  }
  return out;
}

/** Each listed group's active members over [from, to) (period starts; day sketches merged), 0 for a group without any. */
export async function activeMembersOf(store: MetricStore, communities: readonly string[], from: number, to: number): Promise<Map<string, number>> {
  const out = new Map(communities.map((c) => [c, 0]));
  if (communities.length === 0) return out;
  const rows = await store.querySketches({ from, to, granularity: 'day', set: GROUP_MEMBER_SET, community: communities });
  const byGroup = new Map<string, Hll>();
  for (const r of rows) mergeInto(byGroup, r.community ?? '', r);
  for (const [c, h] of byGroup) out.set(c, h.estimate());
  return out;
}

export interface ActiveRanking {
  /**
   * Groups with at least one active member in the range: exact for one day and for ranges
   * whose groups all sit in the days' kept rankings; otherwise the estimate of the union of
   * the days' group sketches (exact in practice to ~1,500 groups, within ~1 % beyond).
   */
  groups: number;
  /** Descending by members (ties: community ascending), at most `limit`. */
  rows: { community: string; members: number }[];
}

/**
 * Groups a day's kept ranking lists. Deep, because the bound sums over days: the same members
 * come back day after day, so a group's distinct members over 30 days are far below the sum of
 * its days' (measured on the 20,000-group bench: with the top 100 of each day the 30-day bound
 * was ~4× the 10th group's members and every 30-day ranking fell back to the scan).
 */
export const DAY_TOP_K = 1000;
/** The first, cheap try reads the candidates of each day's top this deep (most ranges decide there). */
const FIRST_DEPTH = 100;
/**
 * Sketch estimates are not exactly subadditive (the union's estimate can exceed the sum of
 * the days' by the estimator's noise: group sketches are p = 14, 0.81 % standard error dense,
 * ~0 sparse), so the bound on a group outside every day's top gets this relative margin
 * (5 standard errors) and +1.
 */
const BOUND_MARGIN = 0.04;

export interface TopActiveOptions {
  /** Groups a day's kept ranking lists when this call computes it (DAY_TOP_K). */
  dayTopK?: number;
  /** The first try's depth (FIRST_DEPTH). */
  firstDepth?: number;
}

/**
 * Every group's active members over [from, to) (distinct across the range), the top `limit`.
 * `dayStart(ts)`: the local day's start (the collector's day periods); a range of whole days
 * reads one day sketch per group and day, any other range hour sketches (hour-aligned).
 *
 * Whole days go through the days' kept rankings (GroupDayTop, computed from a day's sketches
 * the first time a ranking needs it and again whenever a later write changed that day), so a
 * 30-day ranking reads 30 small rows and the candidates' sketches, not 20,000 groups × 30 days:
 * - the candidates are the groups in some day's top; a group in none of them had, every day,
 *   at most that day's `rest` members, so over the range at most B = Σ rest (distinct members
 *   over days are at most the sum of the days');
 * - the candidates' day sketches are merged over the range; when the `limit`-th of them has
 *   more than B (with the estimator's margin), no other group can reach the list and it is the
 *   answer (as exact as the sketches);
 * - first with each day's best FIRST_DEPTH groups (B from the next one of each day), then with
 *   the whole kept lists (DAY_TOP_K); if neither decides, every group's day sketches are
 *   merged, as a ranking without kept days does.
 */
export async function topActiveGroups(store: MetricStore, from: number, to: number, limit: number, dayStart: (ts: number) => number, opts: TopActiveOptions = {}): Promise<ActiveRanking> {
  const wholeDays = dayStart(from) === from && dayStart(to) === to;
  if (!wholeDays) {
    const step = GRANULARITIES.hour;
    return scanActiveGroups(store, Math.floor(from / step) * step, to, 'hour', limit);
  }
  if (from >= to) return { groups: 0, rows: [] };
  const days: number[] = [];
  // The next local day: 27 h on lands in it whatever a DST change made of this one.
  for (let d = from; d < to; d = dayStart(d + 27 * HOUR)) days.push(d);
  const { marks, tops: kept } = await store.groupDayTops(from, to);
  const tops: GroupDayTop[] = [];
  for (const day of days) {
    const top = kept.get(day);
    // Kept and still valid (nothing wrote the day's group sketches since), or computed now.
    tops.push(top && top.basis === (marks.get(day) ?? null) ? top : await keepDayTop(store, day, dayStart(day + 27 * HOUR), marks.get(day) ?? null, opts.dayTopK ?? DAY_TOP_K));
  }
  const all = new Set<string>();
  let rest = 0;
  for (const t of tops) {
    for (const r of t.top) all.add(r.community);
    rest += t.rest;
  }
  if (all.size === 0) return { groups: 0, rows: [] };
  const groups = () => groupsOf(tops, all.size, rest);
  if (tops.length === 1) {
    // One day: its ranking is the day's exact order as far as it goes.
    const top = tops[0]!;
    const n = groups();
    return (limit <= top.top.length || top.rest === 0) && n !== null ? { groups: n, rows: top.top.slice(0, limit) } : scanActiveGroups(store, from, to, 'day', limit);
  }
  // Deepening: each day's first FIRST_DEPTH groups, then its whole list; the candidates'
  // sketches merged over the range (each group read once).
  const merged = new Map<string, number>();
  const deepest = Math.max(...tops.map((t) => t.top.length));
  const first = opts.firstDepth ?? FIRST_DEPTH;
  for (const depth of deepest > first ? [first, deepest] : [deepest]) {
    const candidates = new Set<string>();
    let bound = 0;
    for (const t of tops) {
      for (const r of t.top.slice(0, depth)) candidates.add(r.community);
      bound += t.top.length > depth ? t.top[depth]!.members : t.rest;
    }
    const fresh = [...candidates].filter((c) => !merged.has(c));
    if (fresh.length) {
      const rows = await store.querySketches({ from, to, granularity: 'day', set: GROUP_MEMBER_SET, community: fresh });
      const byGroup = new Map<string, Hll>();
      for (const r of rows) mergeInto(byGroup, r.community ?? '', r);
      for (const [c, h] of byGroup) merged.set(c, h.estimate());
    }
    const ranked = sortRanking([...merged.entries()].map(([community, members]) => ({ community, members })));
    if (bound === 0 || (ranked.length >= limit && ranked[limit - 1]!.members > Math.ceil(bound * (1 + BOUND_MARGIN)) + 1)) {
      const n = groups();
      if (n !== null) return { groups: n, rows: ranked.slice(0, limit) };
    }
  }
  return scanActiveGroups(store, from, to, 'day', limit);
}

/**
 * The range's groups: one day's count; every candidate when no day had more groups than its
 * top; else the union of the days' group sketches (null when a day's is missing: InfluxDB
 * keeps none over its 64 KB string cap).
 */
function groupsOf(tops: readonly GroupDayTop[], candidates: number, bound: number): number | null {
  if (tops.length === 1) return tops[0]!.groups;
  if (bound === 0) return candidates;
  const union = new Hll();
  for (const t of tops) {
    if (t.groups === 0) continue;
    if (t.groupsSketch === '') return null;
    union.merge(Hll.fromBase64(t.groupsSketch));
  }
  return union.estimate();
}

/**
 * Rows a scan reads per query: one day of day sketches, six hours of hour sketches. Why not the
 * whole range at once: 20,000 groups × 30 days is 600,000 rows of sketch text held together
 * (the likely cause, not profiled, of the 1.6 GB RSS peak of the 20,000-group bench's InfluxDB
 * run with nine such scans); merged a slice at a time, memory holds one slice's rows and one
 * merged sketch per group.
 */
const SCAN_SLICE_MS: Record<GroupGranularity, number> = { day: 24 * HOUR, hour: 6 * HOUR };

/** Every group's sketches of the range merged (no kept days): the reference the kept rankings must equal. */
export async function scanActiveGroups(store: MetricStore, from: number, to: number, granularity: GroupGranularity, limit: number): Promise<ActiveRanking> {
  const byGroup = new Map<string, Hll>();
  // The slices partition [from, to), so each stored row is read exactly once.
  for (let a = from; a < to; a += SCAN_SLICE_MS[granularity]) {
    const rows = await store.querySketches({ from: a, to: Math.min(to, a + SCAN_SLICE_MS[granularity]), granularity, set: GROUP_MEMBER_SET, community: true });
    for (const r of rows) mergeInto(byGroup, r.community ?? '', r);
  }
  const all = sortRanking([...byGroup.entries()].map(([community, h]) => ({ community, members: h.estimate() })));
  return { groups: all.length, rows: all.slice(0, limit) };
}

/**
 * Computes a day's ranking from every group's day sketches and keeps it with `basis`, the
 * day's mark as read BEFORE the sketches: a write landing after that read gives the day a new
 * mark (the adapters mark after the sketch is stored), so a ranking that missed it is stale.
 */
async function keepDayTop(store: MetricStore, day: number, next: number, basis: string | null, k: number): Promise<GroupDayTop> {
  const rows = await store.querySketches({ from: day, to: next, granularity: 'day', set: GROUP_MEMBER_SET, community: true });
  const byGroup = new Map<string, Hll>();
  for (const r of rows) mergeInto(byGroup, r.community ?? '', r);
  const all = sortRanking([...byGroup.entries()].map(([community, h]) => ({ community, members: h.estimate() })));
  byGroup.clear();
  const groupsSketch = new Hll();
  for (const g of all) groupsSketch.add(sketchKeyOf(createHash('sha256').update(g.community).digest('base64url')));
  const n = Math.min(k, all.length);
  const top: GroupDayTop = { day, basis, groups: all.length, top: all.slice(0, n), rest: all[n]?.members ?? 0, groupsSketch: groupsSketch.toBase64() };
  await store.writeGroupDayTop(top);
  return top;
}

function sortRanking<T extends { community: string; members: number }>(rows: T[]): T[] {
  return rows.sort((a, b) => b.members - a.members || (a.community < b.community ? -1 : a.community > b.community ? 1 : 0));
}

function mergeInto<K>(map: Map<K, Hll>, key: K, row: SketchRow): void {
  const h = Hll.fromBase64(row.sketch);
  const had = map.get(key);
  if (had) had.merge(h);
  else map.set(key, h);
}
