/**
 * The 社群 board on both stores (DuckDB temp file, real influxd) over 20,000 groups written
 * as the collector writes them (10 s counter rows), at a fixed "now" so no result depends
 * on the time of day: most active today, fastest growing and losing members rank as the
 * totals sent; a group that talked last week and went quiet for the configured days is
 * listed as 沉默群 (and one that still talks is not); sparklines hold 14 daily values that
 * end with today's total. Without member ids (no group sketches) "most active" ranks by
 * messages; once groups have active members today (their day sketches), by those members,
 * with a sparkline of members per day.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommunityBoardService } from '../src/communities/board.js';
import { CommunityNames } from '../src/communities/names.js';
import { groupPopulation } from '../src/communities/population.js';
import { GroupRanking } from '../src/communities/ranking.js';
import type { CounterRow, SketchRow } from '../src/store/port.js';
import { Hll } from '../src/sketch/hll.js';
import { DAY } from '../src/time/zone.js';
import { openGroupStore, writeGroupRows, type GroupStore } from './harness/groupStore.js';
import { influxdOrSkip } from './harness/influxd.js';

const N = 20_000;
const TZ = 'Asia/Shanghai';
const TODAY = Date.parse('2026-11-20T00:00:00+08:00');
const NOW = TODAY + 15 * 3_600_000;
const pop = groupPopulation(N, 17, 200);
const SILENT = pop[3]!.id; // lively last week, nothing for 3 days
const EXODUS = pop[500]!.id; // many leaves today

function rows(): CounterRow[] {
  const out: CounterRow[] = [];
  const row = (ts: number, community: string, counters: Record<string, number>) => out.push({ ts, tags: { channel: 'wechat_group', community, campaign: '' }, counters });
  for (let d = 9; d >= 0; d--) {
    const day = TODAY - d * DAY;
    for (const [i, g] of pop.entries()) {
      if (d > 0 && i % 10 !== 0 && i > 50) continue; // older days: lively groups and every tenth
      if (g.id === SILENT && d <= 2) continue;
      const ts = day + 9 * 3_600_000 + (i % 360) * 10_000;
      const today = d === 0;
      row(ts, g.id, { message: g.messages, interaction: g.interactions, member_join: today ? g.joins : 0, member_leave: today ? (g.id === EXODUS ? 60 : g.leaves) : 0 });
    }
  }
  return out;
}

const runInflux = influxdOrSkip('社群 board suite');
for (const kind of ['duckdb', 'influx'] as const) {
  describe.skipIf(kind === 'influx' && !runInflux)(`社群 board over 20,000 groups (${kind})`, () => {
    let fixture: GroupStore;
    let board: CommunityBoardService;

    beforeAll(async () => {
      fixture = await openGroupStore(kind, 'pulse-board-', 60_000);
      await writeGroupRows(fixture.store, rows());
      const names = new CommunityNames({ dataDir: fixture.dir });
      await names.setMany(pop.map((x) => ({ id: x.id, name: x.name })));
      board = new CommunityBoardService({ store: fixture.store, ranking: new GroupRanking(fixture.store, TZ), names, timezone: TZ, silentDays: 3, now: () => NOW });
    }, 300_000);
    afterAll(() => fixture?.stop());

    it('ranks most active, growing and losing groups as sent, names them, and lists the silent group', async () => {
      const b = await board.board(10);
      expect(b.groups).toBe(N);
      expect(b.activeBy).toBe('messages');
      const order = (f: (g: (typeof pop)[number]) => number, dir: 1 | -1) =>
        pop.map((g) => ({ id: g.id, v: f(g) })).filter((x) => (dir === -1 ? x.v > 0 : x.v < 0) || f === msgs).sort((a, c) => dir * (a.v - c.v) || (a.id < c.id ? -1 : 1)).slice(0, 10);
      const msgs = (g: (typeof pop)[number]) => (g.id === SILENT ? 0 : g.messages);
      const net = (g: (typeof pop)[number]) => (g.id === SILENT ? 0 : g.joins - (g.id === EXODUS ? 60 : g.leaves));
      expect(b.lists.active.map((e) => [e.community, e.value])).toEqual(order(msgs, -1).map((x) => [x.id, x.v]));
      expect(b.lists.growing.map((e) => [e.community, e.value])).toEqual(order(net, -1).map((x) => [x.id, x.v]));
      expect(b.lists.losing.map((e) => [e.community, e.value])).toEqual(order(net, 1).map((x) => [x.id, x.v]));
      expect(b.lists.losing[0]).toMatchObject({ community: EXODUS, name: pop[500]!.name });
      expect(b.lists.silent.map((e) => e.community)).toEqual([SILENT]);
      expect(b.lists.silent[0]!.name).toBe(pop[3]!.name);
      const top = b.lists.active[0]!;
      expect(top.spark).toHaveLength(14);
      expect(top.spark[13]).toBe(top.value);
      expect(b.lists.silent[0]!.spark.slice(-3)).toEqual([0, 0, 0]);
    }, 120_000);

    it('ranks most active by today’s active members once groups have them, with members per day as the sparkline', async () => {
      // 300 groups with active members today (not in the order of their messages), the first ten yesterday too.
      const members = (i: number, d: number) => ((i * 37 + d * 11) % 97) + 1;
      const sketch = (community: string, ts: number, n: number): SketchRow => {
        const h = new Hll();
        for (let k = 0; k < n; k++) h.add((((k + 1) * 2654435761) % 2 ** 25) * 64 + 1 + (k % 20));
        return { ts, granularity: 'day', set: 'active', channel: '', node: 'main', sketch: h.toBase64(), community };
      };
      const rows: SketchRow[] = [];
      for (let i = 0; i < 300; i++) rows.push(sketch(pop[i]!.id, TODAY, members(i, 0)));
      for (let i = 0; i < 10; i++) rows.push(sketch(pop[i]!.id, TODAY - DAY, members(i, 1)));
      await fixture.store.writeSketches(rows);
      const names = new CommunityNames({ dataDir: fixture.dir });
      const fresh = new CommunityBoardService({ store: fixture.store, ranking: new GroupRanking(fixture.store, TZ), names, timezone: TZ, silentDays: 3, now: () => NOW });
      const b = await fresh.board(10);
      expect(b.activeBy).toBe('members');
      const want = Array.from({ length: 300 }, (_, i) => ({ id: pop[i]!.id, i, v: members(i, 0) }))
        .sort((a, c) => c.v - a.v || (a.id < c.id ? -1 : 1))
        .slice(0, 10);
      expect(b.lists.active.map((e) => [e.community, e.value])).toEqual(want.map((x) => [x.id, x.v]));
      for (const [k, e] of b.lists.active.entries()) {
        expect(e.spark).toHaveLength(14);
        expect(e.spark[13]).toBe(e.value);
        expect(e.spark[12]).toBe(want[k]!.i < 10 ? members(want[k]!.i, 1) : 0);
        expect(e.spark.slice(0, 12)).toEqual(Array(12).fill(0));
      }
      // The other lists do not change.
      expect(b.lists.losing[0]!.community).toBe(EXODUS);
    }, 120_000);
  });
}
