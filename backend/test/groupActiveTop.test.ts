/**
 * The ranking of groups by active members over whole days through the kept day rankings
 * (communities/activeMembers.ts, GroupDayTop), on DuckDB and a real influxd. 400 skewed groups'
 * day sketches over 11 past days are written as the collector writes them (one row per group,
 * day and node). Checked against the distinct members sent, and against the scan of every
 * group's sketches:
 * - a 5-day top-10 is decided from the kept days and the candidates' sketches, and a second
 *   ranking reads no day's full set of group sketches again;
 * - a group that never made a day's top but leads the range (fresh members every day) is
 *   found: the bound does not hold, the ranking falls back to the scan; with deeper kept lists
 *   the second, deeper try finds it without the scan;
 * - a late write into a kept day (another node's sketch of a quiet group) gives the day a new
 *   mark, and the next ranking recomputes that day and has the group first.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_TOP_K, topActiveGroups } from '../src/communities/activeMembers.js';
import { groupPopulation } from '../src/communities/population.js';
import { createMemberHasher } from '../src/ingest/memberHash.js';
import { Hll, sketchKeyOf } from '../src/sketch/hll.js';
import { mulberry32 } from '../src/simulator/random.js';
import type { MetricStore, SketchQuery, SketchRow } from '../src/store/port.js';
import { DAY, dayStart } from '../src/time/zone.js';
import { openGroupStore, type GroupStore } from './harness/groupStore.js';
import { influxdOrSkip } from './harness/influxd.js';

const TZ = 'Asia/Shanghai';
const GROUPS = 400;
const hasher = createMemberHasher('group-active-top-test');
const keyOf = (id: string) => sketchKeyOf(hasher(id));
const dayOf = (ts: number) => dayStart(ts, TZ);
/** Eleven whole past days: D0–D4 for the kept rankings, D5–D10 for the drifter. */
const D0 = dayOf(Date.now()) - 12 * DAY;
const day = (i: number) => D0 + i * DAY;

/** group → day → member ids, as sent. */
const sent = new Map<string, Map<number, Set<string>>>();
function send(group: string, d: number, id: string): void {
  let g = sent.get(group);
  if (!g) sent.set(group, (g = new Map()));
  let s = g.get(d);
  if (!s) g.set(d, (s = new Set()));
  s.add(id);
}

/** Every group draws its members each day from its own pool (the same people come back); the drifter has 40 new ones a day on D5–D10. */
function population(): void {
  const rnd = mulberry32(2717);
  for (const g of groupPopulation(GROUPS, 23, 400)) {
    const pool = Math.max(3, Math.round(g.messages * 0.6));
    for (let i = 0; i < 11; i++) for (let k = 0; k < g.messages; k++) send(g.id, day(i), `${g.id}-m${Math.floor(rnd() * pool)}`);
  }
  for (let i = 5; i < 11; i++) for (let k = 0; k < 40; k++) send('drifter', day(i), `drifter-${i}-${k}`);
}
population();

function sketchRow(community: string, ts: number, ids: Iterable<string>, node = 'main'): SketchRow {
  const h = new Hll();
  for (const id of ids) h.add(keyOf(id));
  return { ts, granularity: 'day', set: 'active', channel: '', node, sketch: h.toBase64(), community };
}

/** Expected ranking over days [a, b) from the members sent. */
function expected(a: number, b: number): [string, number][] {
  const out: [string, number][] = [];
  for (const [id, days] of sent) {
    const u = new Set<string>();
    for (const [ts, s] of days) if (ts >= day(a) && ts < day(b)) for (const m of s) u.add(m);
    if (u.size) out.push([id, u.size]);
  }
  return out.sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1));
}

/** The store, counting the reads of every group's sketches (a day computed or a scan). */
function counting(store: MetricStore): { store: MetricStore; fullReads: SketchQuery[] } {
  const fullReads: SketchQuery[] = [];
  return {
    fullReads,
    store: new Proxy(store, {
      get(target, prop, receiver) {
        const v: unknown = Reflect.get(target, prop, receiver);
        if (prop === 'querySketches')
          return (q: SketchQuery) => {
            if (q.community === true) fullReads.push(q);
            return target.querySketches(q);
          };
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }),
  };
}

for (const kind of ['duckdb', 'influx'] as const) {
  const runIt = kind === 'duckdb' || influxdOrSkip('group day rankings (influx)');
  describe.runIf(runIt)(`ranking groups by active members through kept day rankings (${kind})`, () => {
    let g: GroupStore;
    beforeAll(async () => {
      g = await openGroupStore(kind, 'pulse-group-top-', 30_000);
      const rows: SketchRow[] = [];
      for (const [id, days] of sent) for (const [ts, s] of days) rows.push(sketchRow(id, ts, s));
      for (let i = 0; i < rows.length; i += 500) await g.store.writeSketches(rows.slice(i, i + 500));
    }, 60_000);
    afterAll(async () => {
      await g?.stop();
    });

    it('a 5-day top-10 is decided from the kept days and the candidates, and kept days are not read again', async () => {
      const c = counting(g.store);
      const want = expected(0, 5);
      // Each day keeps its best 150 (of 400); the first try (the best 100 of each day) decides.
      const first = await topActiveGroups(c.store, day(0), day(5), 10, dayOf, { dayTopK: 150 });
      expect(first.rows.map((r) => [r.community, r.members])).toEqual(want.slice(0, 10));
      expect(first.groups).toBe(want.length);
      // Each day computed once from all its groups' sketches; no scan of the range.
      expect(c.fullReads.map((q) => q.from)).toEqual([0, 1, 2, 3, 4].map(day));
      const { marks, tops } = await g.store.groupDayTops(day(0), day(5));
      expect([...tops.keys()].sort()).toEqual([0, 1, 2, 3, 4].map(day));
      for (const [ts, t] of tops) {
        expect(t.basis).toBe(marks.get(ts));
        const dayWant = expected((ts - D0) / DAY, (ts - D0) / DAY + 1);
        expect(t.top.map((r) => [r.community, r.members])).toEqual(dayWant.slice(0, 150));
        expect(t.rest).toBe(dayWant[150]![1]);
        expect(t.groups).toBe(GROUPS);
      }
      c.fullReads.length = 0;
      const again = await topActiveGroups(c.store, day(0), day(5), 10, dayOf);
      expect(again).toEqual(first);
      expect(c.fullReads).toEqual([]);
      // One kept day answers a day's ranking by itself.
      const one = await topActiveGroups(c.store, day(3), day(4), 10, dayOf);
      expect(one.rows.map((r) => [r.community, r.members])).toEqual(expected(3, 4).slice(0, 10));
      expect(one.groups).toBe(GROUPS);
      expect(c.fullReads).toEqual([]);
    });

    it('a group in no day’s top that leads the range is found (the bound does not decide: every group is read)', async () => {
      const want = expected(5, 8);
      // The drifter's 120 members over the 3 days put it in the top 3, yet it is not among any day's best 5.
      expect(want.slice(0, 3).map(([id]) => id)).toContain('drifter');
      for (let i = 5; i < 8; i++) expect(expected(i, i + 1).slice(0, 5).map(([id]) => id)).not.toContain('drifter');
      const c = counting(g.store);
      const top = await topActiveGroups(c.store, day(5), day(8), 3, dayOf, { dayTopK: 5 });
      expect(top.rows.map((r) => [r.community, r.members])).toEqual(want.slice(0, 3));
      expect(top.groups).toBe(want.length);
      // Three days computed, then the scan of the range, a day at a time (bounded memory).
      const days = [5, 6, 7].map((i) => [day(i), day(i + 1)]);
      expect(c.fullReads.map((q) => [q.from, q.to])).toEqual([...days, ...days]);
    });

    it('the deeper try finds that group without the scan when the days keep deeper lists', async () => {
      const want = expected(8, 11);
      expect(want.slice(0, 3).map(([id]) => id)).toContain('drifter');
      const c = counting(g.store);
      // Best 5 of each day: not decided (the drifter is not among them); best 20: decided.
      const top = await topActiveGroups(c.store, day(8), day(11), 3, dayOf, { dayTopK: 20, firstDepth: 5 });
      expect(top.rows.map((r) => [r.community, r.members])).toEqual(want.slice(0, 3));
      expect(c.fullReads.map((q) => [q.from, q.to])).toEqual([8, 9, 10].map((i) => [day(i), day(i + 1)]));
    });

    it('a late write into a kept day gives it a new mark; the next ranking recomputes the day (keeping the whole default depth)', async () => {
      const before = await g.store.groupDayTops(day(2), day(3));
      expect(before.tops.get(day(2))?.basis).toBe(before.marks.get(day(2)));
      // Another node counted 500 members in a quiet group on D2.
      const late = Array.from({ length: 500 }, (_, k) => `late-${k}`);
      for (const id of late) send('g00399', day(2), id);
      await g.store.writeSketches([sketchRow('g00399', day(2), late, 'node-2')]);
      const after = await g.store.groupDayTops(day(2), day(3));
      expect(after.marks.get(day(2))).not.toBe(before.marks.get(day(2)));
      const c = counting(g.store);
      const top = await topActiveGroups(c.store, day(0), day(5), 10, dayOf);
      expect(top.rows[0]?.community).toBe('g00399');
      expect(top.rows.map((r) => [r.community, r.members])).toEqual(expected(0, 5).slice(0, 10));
      expect(c.fullReads.map((q) => q.from)).toEqual([day(2)]);
      const kept = await g.store.groupDayTops(day(2), day(3));
      expect(kept.tops.get(day(2))?.basis).toBe(kept.marks.get(day(2)));
      expect(kept.tops.get(day(2))?.top).toHaveLength(Math.min(DAY_TOP_K, GROUPS));
    });
  });
}
