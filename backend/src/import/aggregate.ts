/**
 * The aggregated path for an import batch of history: the batch is summed in memory into
 * one counter delta per 10 s bucket × tag set and one sketch per period × member set ×
 * channel, and written once, additively, together with the batch's ledger mark, in one
 * store transaction (MetricStore.applyAdditive). What the producers' path does per event
 * (journal line, collector row read back from the store and replaced, spool) it does once
 * per row per batch.
 *
 * Same counts as the collector: applyEvent for counters, the member sets of each type at
 * every granularity (total and per channel), each group's active members per hour and local
 * day (collector/groupMembers.ts: group sketches), push_over_cap touched wherever a push went and
 * a member added on the push that takes them over the daily cap (pushes counted within
 * the batch, as the collector counts them within its window for history).
 *
 * Why it is exactly once across a crash (the events are not journaled): the counter
 * deltas, the merged sketches, the distinct counts and the mark (import id, batch) commit
 * in one transaction. Before the commit nothing of the batch is in the store and it was
 * not acknowledged, so the client's retry applies it; after the commit the mark is there,
 * and a retry is answered "done" without counting. Deltas are added (ON CONFLICT … c = c +
 * excluded.c), sketches are the merge of every stored row and the batch, so nothing
 * already stored is replaced by less.
 *
 * Only for rows and periods the collector does not hold: the caller sends batches with an
 * event inside the collector's range through the producers' path, and the store checks
 * `conflict` (Collector.historyConflict) inside its write slot, just before the write.
 */
import { GRANULARITIES, MEMBER_SET_IDS, MEMBER_SETS, type EventType, type Granularity, type MemberSetId, type Tags } from '@siyu-pulse/contracts/catalogue';
import { COUNTERS } from '@siyu-pulse/contracts/catalogue';
import { eventSlots, type CountableEvent } from '../collector/counters.js';
import { PushCapCounter } from '../collector/pushCap.js';
import { GROUP_GRANULARITIES, GROUP_MEMBER_SET, GROUP_SKETCH_PRECISION, type GroupGranularity } from '../collector/groupMembers.js';
import { Hll } from '../sketch/hll.js';
import type { AdditiveBatch, CounterRow, DistinctRow, SketchRow } from '../store/port.js';
import { noPause, type Pause } from '../time/turns.js';

const SETS_BY_TYPE = new Map<EventType, MemberSetId[]>();
for (const id of MEMBER_SET_IDS) for (const type of MEMBER_SETS[id]) SETS_BY_TYPE.set(type, [...(SETS_BY_TYPE.get(type) ?? []), id]);
const GRANS = Object.keys(GRANULARITIES) as Granularity[];
/** The event types that make a member active in a group (the collector's GroupMembers). */
const GROUP_ACTIVE = new Set<EventType>(MEMBER_SETS[GROUP_MEMBER_SET]);

export interface AggregateOptions {
  bucketMs: number;
  /** Start of the period holding `ts` (the collector's time zone alignment). */
  periodStart(g: Granularity, ts: number): number;
  pushCapPerDay: number;
  /** The writer id of the sketch rows (the collector's node). */
  node: string;
  /** True when the collector holds one of these rows, periods or group periods (checked in the store's write slot). */
  conflict(
    rows: readonly { ts: number; tags: Tags }[],
    periods: readonly { set: MemberSetId; granularity: Granularity; start: number }[],
    groups: readonly { granularity: GroupGranularity; start: number; community: string }[],
  ): boolean;
}

interface PeriodSketches {
  set: MemberSetId;
  granularity: Granularity;
  start: number;
  total: Hll;
  byChannel: Map<string, Hll>;
}

const SEP = '\u0000';

/**
 * A 10 s row's deltas as (counter slot, value) pairs of the counters it sets: a row of
 * history holds an event or two, and a vector of every counter per row (54 slots) was most
 * of an import's allocation (docs/dev-notes/2026-12-08a/h12imp6.md).
 */
interface SparseRow {
  ts: number;
  tags: Tags;
  s: number[];
}
type RowsOfBucket = Map<string, Map<string, Map<string, SparseRow>>>;

/**
 * `pause` gives the event loop a turn between slices of the per-event work and of the
 * sketch merges in `complete` (time/turns.ts): a batch is tens of thousands of events.
 */
export async function aggregateHistory(
  events: readonly CountableEvent[],
  mark: { importId: string; seq: number },
  o: AggregateOptions,
  pause: Pause = noPause,
): Promise<AdditiveBatch & { events: number; minTs: number | null }> {
  const rows: SparseRow[] = [];
  /** bucket → channel → community → campaign → row (no key string per event). */
  const byBucket = new Map<number, RowsOfBucket>();
  let lastBucket = Number.NaN;
  let bucketRows: RowsOfBucket = new Map();
  const slots: number[] = [0, 0, 0, 0, 0, 0];
  const periods = new Map<string, PeriodSketches>();
  /** Group periods: community → period start → the batch's members, per granularity (no key string per event). */
  type GroupPeriod = { granularity: GroupGranularity; start: number; community: string; h: Hll };
  const groupPeriods: Record<GroupGranularity, Map<string, Map<number, GroupPeriod>>> = { hour: new Map(), day: new Map() };
  const allGroupPeriods: GroupPeriod[] = [];
  const pushCap = new PushCapCounter(o.pushCapPerDay, 0, (ts) => o.periodStart('day', ts));
  let minTs: number | null = null;
  // Period starts per event: one per granularity, cached for the run of events in the same minute.
  let lastMinute = Number.NaN;
  const starts: Record<Granularity, number> = { minute: 0, hour: 0, day: 0 };
  const periodOf = (set: MemberSetId, g: Granularity, start: number) => {
    const key = `${set}${SEP}${g}${SEP}${start}`;
    let p = periods.get(key);
    if (!p) periods.set(key, (p = { set, granularity: g, start, total: new Hll(), byChannel: new Map() }));
    return p;
  };
  const channelOf = (p: PeriodSketches, channel: string) => {
    let h = p.byChannel.get(channel);
    if (!h) p.byChannel.set(channel, (h = new Hll()));
    return h;
  };
  // The periods of the current minute, per member set and granularity (starts change only at minute edges).
  const current = new Map<MemberSetId, PeriodSketches[]>();
  const periodsOf = (set: MemberSetId) => {
    let list = current.get(set);
    if (!list) current.set(set, (list = GRANS.map((g) => periodOf(set, g, starts[g]))));
    return list;
  };
  const addMember = (set: MemberSetId, channel: string, key: number) => {
    for (const p of periodsOf(set)) {
      p.total.add(key);
      channelOf(p, channel).add(key);
    }
  };
  for (const e of events) {
    const bucket = Math.floor(e.ts / o.bucketMs) * o.bucketMs;
    const t = e.tags;
    if (bucket !== lastBucket) {
      lastBucket = bucket;
      let b = byBucket.get(bucket);
      if (!b) byBucket.set(bucket, (b = new Map()));
      bucketRows = b;
    }
    let byCommunity = bucketRows.get(t.channel);
    if (!byCommunity) bucketRows.set(t.channel, (byCommunity = new Map()));
    let byCampaign = byCommunity.get(t.community);
    if (!byCampaign) byCommunity.set(t.community, (byCampaign = new Map()));
    let row = byCampaign.get(t.campaign);
    if (!row) {
      // The event's tags object is shared per tag set (collector/tagSets.ts, frozen): kept, not copied.
      const tags = Object.isFrozen(t) ? t : { channel: t.channel, community: t.community, campaign: t.campaign };
      byCampaign.set(t.campaign, (row = { ts: bucket, tags, s: [] }));
      rows.push(row);
    }
    const n = eventSlots(e, slots);
    const s = row.s;
    for (let i = 0; i < n; i += 2) {
      const slot = slots[i]!;
      let j = 0;
      while (j < s.length && s[j] !== slot) j += 2;
      if (j < s.length) s[j + 1]! += slots[i + 1]!;
      else s.push(slot, slots[i + 1]!);
    }
    if (minTs === null || e.ts < minTs) minTs = e.ts;
    const key = e.sketchKey;
    if (key === undefined) continue;
    const minute = Math.floor(e.ts / 60_000);
    if (minute !== lastMinute) {
      lastMinute = minute;
      for (const g of GRANS) starts[g] = o.periodStart(g, e.ts);
      current.clear();
    }
    for (const set of SETS_BY_TYPE.get(e.type) ?? []) addMember(set, t.channel, key);
    if (t.community !== '' && GROUP_ACTIVE.has(e.type)) {
      for (const g of GROUP_GRANULARITIES) {
        let byStart = groupPeriods[g].get(t.community);
        if (!byStart) groupPeriods[g].set(t.community, (byStart = new Map()));
        let gp = byStart.get(starts[g]);
        if (!gp) {
          byStart.set(starts[g], (gp = { granularity: g, start: starts[g], community: t.community, h: new Hll(GROUP_SKETCH_PRECISION) }));
          allGroupPeriods.push(gp);
        }
        gp.h.add(key);
      }
    }
    if (e.type === 'push.sent' && e.member !== undefined) {
      // As the collector: the channel's over-cap count is touched on every push (a stored 0).
      for (const p of periodsOf('push_over_cap')) channelOf(p, t.channel);
      if (pushCap.count(e.ts, e.member)) addMember('push_over_cap', t.channel, key);
    }
    const p = pause();
    if (p) await p;
  }
  const counters: CounterRow[] = [];
  for (const { ts, tags, s } of rows) {
    const c: CounterRow['counters'] = {};
    for (let i = 0; i < s.length; i += 2) {
      const n = Math.round(s[i + 1]!);
      if (n !== 0) c[COUNTERS[s[i]!]!] = n;
    }
    counters.push({ ts, tags, counters: c });
  }
  // One sketch query per member set × granularity, over the batch's range of periods.
  const ranges = new Map<string, { set: MemberSetId; granularity: Granularity; from: number; to: number }>();
  for (const p of periods.values()) {
    const end = p.start + GRANULARITIES[p.granularity];
    widen(ranges, `${p.set}${SEP}${p.granularity}`, p.start, end, () => ({ set: p.set, granularity: p.granularity, from: p.start, to: end }));
  }
  const periodList = [...periods.values()].map((p) => ({ set: p.set, granularity: p.granularity, start: p.start }));
  const groupList = allGroupPeriods.map((p) => ({ granularity: p.granularity, start: p.start, community: p.community }));
  const groupRanges = new Map<GroupGranularity, { granularity: GroupGranularity; from: number; to: number }>();
  for (const p of groupList) {
    const end = p.start + GRANULARITIES[p.granularity];
    widen(groupRanges, p.granularity, p.start, end, () => ({ granularity: p.granularity, from: p.start, to: end }));
  }
  return {
    importId: mark.importId,
    seq: mark.seq,
    events: events.length,
    minTs,
    counters,
    sketchRanges: [...ranges.values()],
    ...(groupList.length ? { groupSketches: { set: GROUP_MEMBER_SET, communities: [...new Set(groupList.map((p) => p.community))], ranges: [...groupRanges.values()] } } : {}),
    async complete(stored: readonly SketchRow[]) {
      const byKey = new Map<string, SketchRow[]>();
      const byGroup = new Map<string, SketchRow[]>();
      for (const r of stored) {
        if (r.community !== undefined) {
          const k = `${r.granularity}${SEP}${r.ts}${SEP}${r.community}`;
          const list = byGroup.get(k);
          if (list) list.push(r);
          else byGroup.set(k, [r]);
          continue;
        }
        const k = `${r.set}${SEP}${r.granularity}${SEP}${r.ts}${SEP}${r.channel}`;
        const list = byKey.get(k);
        if (list) list.push(r);
        else byKey.set(k, [r]);
      }
      const sketches: SketchRow[] = [];
      const distinct: DistinctRow[] = [];
      const emit = (p: PeriodSketches, channel: string, h: Hll) => {
        // The union of every node's stored row and the batch, written as this node's row (the
        // batch's own sketch, only read, when nothing is stored).
        const storedRows = byKey.get(`${p.set}${SEP}${p.granularity}${SEP}${p.start}${SEP}${channel}`);
        let merged = h;
        if (storedRows) {
          merged = new Hll();
          for (const r of storedRows) merged.merge(Hll.fromBase64(r.sketch));
          merged.merge(h);
        }
        sketches.push({ ts: p.start, granularity: p.granularity, set: p.set, channel, node: o.node, sketch: merged.toBase64() });
        distinct.push({ ts: p.start, granularity: p.granularity, set: p.set, channel, value: merged.estimate() });
      };
      for (const p of periods.values()) {
        emit(p, '', p.total);
        for (const [channel, h] of p.byChannel) {
          emit(p, channel, h);
          const turn = pause();
          if (turn) await turn;
        }
      }
      // A group's period: the union of every node's stored row and the batch, as this node's row.
      for (const p of allGroupPeriods) {
        const storedRows = byGroup.get(`${p.granularity}${SEP}${p.start}${SEP}${p.community}`);
        let merged = p.h;
        if (storedRows) {
          merged = new Hll(GROUP_SKETCH_PRECISION);
          for (const r of storedRows) merged.merge(Hll.fromBase64(r.sketch));
          merged.merge(p.h);
        }
        sketches.push({ ts: p.start, granularity: p.granularity, set: GROUP_MEMBER_SET, channel: '', node: o.node, sketch: merged.toBase64(), community: p.community });
        const turn = pause();
        if (turn) await turn;
      }
      // Checked last, with no turn between it and the return: the store writes what this
      // returns in the same write slot, and the collector may have taken a row up during a turn.
      if (o.conflict(counters, periodList, groupList)) return null;
      return { sketches, distinct };
    },
  };
}

/** Widens the range kept under `key` to hold [start, end), or keeps the one `make` gives for a new key. */
function widen<K, R extends { from: number; to: number }>(ranges: Map<K, R>, key: K, start: number, end: number, make: () => R): void {
  const r = ranges.get(key);
  if (!r) ranges.set(key, make());
  else {
    r.from = Math.min(r.from, start);
    r.to = Math.max(r.to, end);
  }
}
