/**
 * Per-group hour and day rollups (store/rollups.ts), on DuckDB and a real influxd: a skewed
 * population of groups (a few lively, a long tail) sends two days of events through the
 * collector; then a restarted collector takes a late event (yesterday, an hour long closed
 * and evicted) and an event in an hour the first process had written. Every group's hour
 * and day series read from the rollups equal the events sent, the same query on the 10 s
 * rows gives the same, a ranking over the span ranks as the events say, and orders carrying
 * the group count per group. DuckDB also: an import's deltas land in the rollups, and a file
 * from before the rollups gets them filled when it opens.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventType } from '@siyu-pulse/contracts/catalogue';
import type { CountableEvent } from '../src/collector/counters.js';
import { groupPopulation } from '../src/communities/population.js';
import { GroupRanking } from '../src/communities/ranking.js';
import { mulberry32 } from '../src/simulator/random.js';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import type { CounterQuery } from '../src/store/port.js';
import { SHANGHAI_DAY_OFFSET_MS, planCounterQuery } from '../src/store/rollups.js';
import { normalizeCounterQuery } from '../src/store/validate.js';
import { writeCountersInChunks } from '../src/store/bulkWrite.js';
import { DAY, HOUR, MINUTE, dayStart, floorTo } from '../src/time/zone.js';
import { openGroupStore, type GroupStore } from './harness/groupStore.js';
import { collectorWritingTo } from './harness/collector.js';
import { influxdOrSkip } from './harness/influxd.js';

const TZ = 'Asia/Shanghai';
const GROUPS = 400;
const COUNTED = ['message', 'interaction', 'member_join', 'member_leave', 'order_paid', 'order_paid_fen'];
const COUNTER_OF: Partial<Record<EventType, string>> = { message: 'message', interaction: 'interaction', 'member.join': 'member_join', 'member.leave': 'member_leave', 'order.paid': 'order_paid' };


/** Expected sums: group → period start → counter → n. */
type Tally = Map<string, Map<number, Record<string, number>>>;
function tally(t: Tally, group: string, period: number, e: CountableEvent): void {
  let g = t.get(group);
  if (!g) t.set(group, (g = new Map()));
  let p = g.get(period);
  if (!p) g.set(period, (p = {}));
  const c = COUNTER_OF[e.type]!;
  p[c] = (p[c] ?? 0) + 1;
  if (e.type === 'order.paid') p.order_paid_fen = (p.order_paid_fen ?? 0) + (e.amount ?? 0);
}

// A fixed instant: 10:25 Beijing time, so "today" has whole hours before it.
const NOW = dayStart(Date.now(), TZ) - 2 * DAY + 10 * HOUR + 25 * MINUTE;
const YESTERDAY = dayStart(NOW, TZ) - DAY;
const FROM = YESTERDAY;
const TO = floorTo(NOW, HOUR) + HOUR;

/** Two days of the population's events (deterministic), by time. */
function events(): CountableEvent[] {
  const rnd = mulberry32(99);
  const out: CountableEvent[] = [];
  for (const g of groupPopulation(GROUPS, 23, 300)) {
    const tags = { channel: 'wechat_group', community: g.id, campaign: '' };
    for (const [day, end] of [[YESTERDAY, YESTERDAY + DAY], [YESTERDAY + DAY, NOW - MINUTE]] as const) {
      const at = () => day + Math.floor(rnd() * (end - day));
      const push = (type: EventType, n: number, amount?: number) => {
        for (let i = 0; i < n; i++) out.push({ type, ts: at(), tags, ...(amount !== undefined ? { amount } : {}) });
      };
      push('message', g.messages);
      push('interaction', g.interactions);
      push('member.join', g.joins);
      push('member.leave', g.leaves);
      // Orders carrying the group: conversion per group.
      push('order.paid', Math.floor(g.messages / 40), 9_900);
    }
  }
  return out.sort((a, b) => a.ts - b.ts);
}

for (const kind of ['duckdb', 'influx'] as const) {
  const runIt = kind === 'duckdb' || influxdOrSkip('group rollups (influx)');
  describe.runIf(runIt)(`per-group hour and day rollups (${kind})`, () => {
    let g: GroupStore;
    const byHour: Tally = new Map();
    const byDay: Tally = new Map();
    const all = events();
    const late: CountableEvent = { type: 'message', ts: YESTERDAY + 3 * HOUR + 17 * MINUTE, tags: { channel: 'wechat_group', community: 'g00399', campaign: '' } };
    const again: CountableEvent = { type: 'member.leave', ts: NOW + 2 * MINUTE, tags: { channel: 'wechat_group', community: 'g00000', campaign: '' } };

    beforeAll(async () => {
      g = await openGroupStore(kind, 'pulse-rollups-', 30_000);
      const first = collectorWritingTo(g.store, () => NOW);
      await first.seedFromStore();
      for (const e of all) first.add(e, NOW);
      await first.flush();
      // A restarted process, 10 minutes later: yesterday's hours are long closed and the
      // current hour's rows are in the store only.
      const second = collectorWritingTo(g.store, () => NOW + 10 * MINUTE);
      await second.seedFromStore();
      second.add(late, NOW + 10 * MINUTE);
      second.add(again, NOW + 10 * MINUTE);
      await second.flush();
      for (const e of [...all, late, again]) {
        tally(byHour, e.tags.community, floorTo(e.ts, HOUR), e);
        tally(byDay, e.tags.community, dayStart(e.ts, TZ), e);
      }
    }, 120_000);
    afterAll(async () => {
      await g?.stop();
    });

    const series = async (q: Omit<CounterQuery, 'counters'>) => g.store.queryCounters({ ...q, counters: COUNTED });
    const points = (s: Awaited<ReturnType<typeof series>>[number] | undefined) =>
      new Map((s?.points ?? []).map((p) => [p.ts, Object.fromEntries(COUNTED.filter((c) => p.sums[c]).map((c) => [c, p.sums[c]]))]));

    it('a group’s series by hour and by day (rollups) equal the events sent, late and restarted ones included', async () => {
      for (const id of ['g00000', 'g00001', 'g00050', 'g00399', 'g00200']) {
        const hours = await series({ from: FROM, to: TO, stepMs: HOUR, offsetMs: 0, by: [], filter: { community: id } });
        expect(points(hours[0]), `${id} by hour`).toEqual(byHour.get(id));
        const days = await series({ from: FROM, to: TO, stepMs: DAY, offsetMs: SHANGHAI_DAY_OFFSET_MS, by: [], filter: { community: id } });
        expect(points(days[0]), `${id} by day`).toEqual(byDay.get(id));
      }
      // Read from the rollups themselves (not the 10 s rows): the plan routes there, and the rows are there.
      const q = { from: FROM, to: TO, stepMs: DAY, offsetMs: SHANGHAI_DAY_OFFSET_MS, counters: COUNTED, by: ['community' as const], filter: {} };
      expect(planCounterQuery(normalizeCounterQuery(q), undefined, { dayOffsetMs: SHANGHAI_DAY_OFFSET_MS, completeFrom: 0 }).map((s) => s.source)).toContain('day');
      const hourRows = await series({ from: FROM, to: TO, stepMs: HOUR, offsetMs: 0, by: ['community'], filter: {}, source: 'hour' });
      expect(hourRows).toHaveLength(GROUPS);
      for (const s of hourRows) expect(points(s), `${s.tags.community} hour rows`).toEqual(byHour.get(s.tags.community!));
      const dayRows = await series({ ...q, source: 'day' });
      for (const s of dayRows) expect(points(s), `${s.tags.community} day rows`).toEqual(byDay.get(s.tags.community!));
      // The late message is in yesterday's 03:00 hour of g00399, the restarted leave in g00000's current hour.
      expect(byHour.get('g00399')!.get(floorTo(late.ts, HOUR))!.message).toBeGreaterThanOrEqual(1);
      expect(byHour.get('g00000')!.get(floorTo(again.ts, HOUR))!.member_leave).toBeGreaterThanOrEqual(1);
    });

    it('every group by day over the span: rollups and 10 s rows agree', async () => {
      const q = { from: FROM, to: TO, stepMs: DAY, offsetMs: SHANGHAI_DAY_OFFSET_MS, by: ['community' as const], filter: {} };
      const routed = await series(q);
      const raw = await series({ ...q, source: 'raw' });
      expect(routed).toHaveLength(GROUPS);
      expect(routed).toEqual(raw);
    });

    it('top-10 by messages and by members lost rank as the events say, with orders per group', async () => {
      const ranking = new GroupRanking(g.store, TZ);
      const totals = new Map<string, Record<string, number>>();
      for (const [id, periods] of byDay) {
        const t: Record<string, number> = {};
        for (const p of periods.values()) for (const [c, n] of Object.entries(p)) t[c] = (t[c] ?? 0) + n;
        totals.set(id, t);
      }
      const expectTop = (key: (t: Record<string, number>) => number, dir: 1 | -1) =>
        [...totals].sort((a, b) => dir * (key(a[1]) - key(b[1])) || (a[0] < b[0] ? -1 : 1)).slice(0, 10).map(([id, t]) => [id, key(t)]);
      const top = await ranking.rank({ from: FROM, to: NOW + 10 * MINUTE, by: 'messages', order: 'desc', limit: 10 });
      expect(top.groups).toBe(GROUPS);
      expect(top.rows.map((r) => [r.community, r.messages])).toEqual(expectTop((t) => t.message ?? 0, -1));
      expect(top.rows.map((r) => r.paid_orders)).toEqual(top.rows.map((r) => totals.get(r.community)!.order_paid ?? 0));
      expect(top.rows[0]!.paid_orders).toBeGreaterThan(0);
      const losing = await ranking.rank({ from: FROM, to: NOW + 10 * MINUTE, by: 'net', order: 'asc', limit: 10 });
      expect(losing.rows.map((r) => [r.community, r.net])).toEqual(expectTop((t) => (t.member_join ?? 0) - (t.member_leave ?? 0), 1));
    });

    it.runIf(kind === 'duckdb')('an import’s deltas land in the rollups (applyAdditive)', async () => {
      const ts = YESTERDAY + 5 * HOUR + 30_000;
      const before = await series({ from: YESTERDAY, to: YESTERDAY + DAY, stepMs: DAY, offsetMs: SHANGHAI_DAY_OFFSET_MS, by: [], filter: { community: 'g00007' }, source: 'day' });
      const outcome = await g.store.applyAdditive!({
        importId: 'rollup-test',
        seq: 1,
        counters: [{ ts, tags: { channel: 'wechat_group', community: 'g00007', campaign: '' }, counters: { message: 4 } }],
        sketchRanges: [],
        complete: () => ({ sketches: [], distinct: [] }),
      });
      expect(outcome).toBe('applied');
      const after = await series({ from: YESTERDAY, to: YESTERDAY + DAY, stepMs: DAY, offsetMs: SHANGHAI_DAY_OFFSET_MS, by: [], filter: { community: 'g00007' }, source: 'day' });
      expect(after[0]!.points[0]!.sums.message).toBe(before[0]!.points[0]!.sums.message! + 4);
      const hour = await series({ from: floorTo(ts, HOUR), to: floorTo(ts, HOUR) + HOUR, stepMs: HOUR, offsetMs: 0, by: [], filter: { community: 'g00007' }, source: 'hour' });
      expect(hour[0]!.points[0]!.sums.message).toBe((byHour.get('g00007')!.get(floorTo(ts, HOUR))?.message ?? 0) + 4);
    });
  });
}

describe('a DuckDB file from before the rollups', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pulse-rollup-fill-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('gets its groups’ hours and days filled from the 10 s rows when it opens', async () => {
    const file = path.join(dir, 'old.duckdb');
    const store = createDuckDbStore({ file });
    await store.init();
    const rows = [0, 1, 2, 3].map((i) => ({ ts: YESTERDAY + i * 40 * MINUTE, tags: { channel: 'wechat_group', community: i % 2 ? 'ga' : 'gb', campaign: '' }, counters: { message: i + 1 } }));
    rows.push({ ts: YESTERDAY, tags: { channel: 'wechat_group', community: '', campaign: '' }, counters: { message: 100 } });
    await writeCountersInChunks(store, rows);
    await store.close();
    // What an older build left: no rollup tables, no mark.
    const db = await DuckDBInstance.create(file);
    const c = await db.connect();
    await c.run('DROP TABLE pulse_groups_hour; DROP TABLE pulse_groups_day; DROP TABLE pulse_meta');
    c.closeSync();
    db.closeSync();
    const reopened = createDuckDbStore({ file });
    await reopened.init();
    try {
      const day = await reopened.queryCounters({ from: YESTERDAY, to: YESTERDAY + DAY, stepMs: DAY, offsetMs: SHANGHAI_DAY_OFFSET_MS, counters: ['message'], by: ['community'], filter: {}, source: 'day' });
      expect(day.map((s) => [s.tags.community, s.points.map((p) => p.sums.message)])).toEqual([['ga', [6]], ['gb', [4]]]);
      const hours = await reopened.queryCounters({ from: YESTERDAY, to: YESTERDAY + DAY, stepMs: HOUR, offsetMs: 0, counters: ['message'], by: [], filter: { community: 'ga' }, source: 'hour' });
      expect(hours[0]!.points.map((p) => [p.ts - YESTERDAY, p.sums.message])).toEqual([[0, 2], [2 * HOUR, 4]]);
      // The split by community keeps the rows without one.
      const split = await reopened.queryCounters({ from: YESTERDAY, to: YESTERDAY + DAY, stepMs: DAY, offsetMs: SHANGHAI_DAY_OFFSET_MS, counters: ['message'], by: ['community'], filter: {} });
      expect(split.map((s) => [s.tags.community, s.points[0]!.sums.message])).toEqual([['', 100], ['ga', 6], ['gb', 4]]);
    } finally {
      await reopened.close();
    }
  });
});
