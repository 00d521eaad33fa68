/**
 * Units of the aggregated import path (import/aggregate.ts, IngestService.acceptHistory,
 * DuckDB applyAdditive), in process with a real LmdbIdLedger and a DuckDB temp file:
 *
 * - a crash between the ids' commit and the store's commit: the batch's retry (same mark)
 *   counts its ids, anyone else sees them as duplicates;
 * - applyAdditive adds (never replaces) counters, merges sketches with what is stored,
 *   writes the mark with them, answers 'done' for a mark it has, and writes nothing on a conflict;
 * - the aggregate of a batch equals the per-event sums (counters, members per period).
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { COUNTERS, EVENT_TYPES } from '@siyu-pulse/contracts/catalogue';
import { applyEvent, eventSlots, newVector, type CountableEvent } from '../src/collector/counters.js';
import { aggregateHistory, type AggregateOptions } from '../src/import/aggregate.js';
import { oneAtATime } from '../src/time/turns.js';
import { LmdbIdLedger } from '../src/ingest/idLedger.js';
import { createMemberHasher } from '../src/ingest/memberHash.js';
import { IngestService, IngestUnavailableError, type HistoryPath } from '../src/ingest/service.js';
import { TagGuard } from '../src/ingest/tagGuard.js';
import { Hll, sketchKeyOf } from '../src/sketch/hll.js';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import type { CounterRow, MetricStore } from '../src/store/port.js';
import { DAY, HOUR, MINUTE, alignmentOffset, floorTo } from '../src/time/zone.js';

const TZ = 'Asia/Shanghai';
const hasher = createMemberHasher('aggregated-units-salt-0123456789');
const periodStart: AggregateOptions['periodStart'] = (g, ts) => {
  const step = g === 'minute' ? MINUTE : g === 'hour' ? HOUR : DAY;
  return floorTo(ts, step, alignmentOffset(step, TZ, ts));
};
const opts = (conflict = () => false): AggregateOptions => ({ bucketMs: 10_000, periodStart, pushCapPerDay: 2, node: 'main', conflict });
const ev = (type: CountableEvent['type'], ts: number, channel: string, member?: string, amount?: number): CountableEvent => {
  const hash = member === undefined ? undefined : hasher(member);
  return { type, ts, tags: { channel, community: 'g1', campaign: '' }, ...(hash ? { member: hash, sketchKey: sketchKeyOf(hash) } : {}), ...(amount !== undefined ? { amount } : {}) };
};

describe('aggregated import path', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'pulse-agg-units-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('ids confirmed before a failed store commit: the same batch counts them on its retry, anyone else sees duplicates', async () => {
    const ledger = LmdbIdLedger.open({ dir: path.join(dir, 'ids'), windowMs: 48 * HOUR, fsync: false });
    const now = Date.UTC(2026, 11, 7, 4, 0, 0);
    const service = new IngestService({
      log: { append: () => Promise.resolve() },
      hashMember: hasher,
      ledger,
      tagGuard: new TagGuard({ channel: 50, community: 100, campaign: 100 }),
      historyMs: 400 * DAY,
      futureSkewMs: 60_000,
      metrics: { accepted: () => {}, duplicate: () => {}, rejected: () => {} },
      now: () => now,
    });
    const applied: number[] = [];
    let failNext = true;
    const history: HistoryPath = {
      cutoff: () => now - 2 * DAY,
      apply: (events) => {
        // The crash window: the ids are on disk, the store commit never happens.
        if (failNext) {
          failNext = false;
          return Promise.reject(new Error('store went away'));
        }
        applied.push(events.length);
        return Promise.resolve('applied');
      },
    };
    const items = [
      { id: 'o-1', type: 'message', channel: 'wecom', member: 'a', ts: now - 5 * DAY },
      { id: 'o-2', type: 'message', channel: 'wecom', member: 'b', ts: now - 5 * DAY },
      { id: 'o-1', type: 'message', channel: 'wecom', member: 'a', ts: now - 5 * DAY }, // repeated in the batch
      { type: 'message', channel: 'wecom', member: 'c', ts: now - 5 * DAY },
      { type: 'message', channel: 'wecom', ts: now + 3_600_000 }, // future: refused
    ];
    try {
      await expect(service.acceptHistory(items, new Map(), 'imp/0', history)).rejects.toBeInstanceOf(IngestUnavailableError);
      expect(applied).toEqual([]);
      const retry = await service.acceptHistory(items, new Map(), 'imp/0', history);
      expect(retry).toMatchObject({ accepted: 3, duplicates: 1, applied: true });
      expect(retry!.rejected).toHaveLength(1);
      expect(retry!.rejected[0]!.index).toBe(4);
      expect(applied).toEqual([3]);
      // Another batch, or a producer, with the same ids: duplicates.
      expect(await service.acceptHistory(items.slice(0, 2), new Map(), 'imp/1', history)).toMatchObject({ accepted: 0, duplicates: 2 });
      expect(await service.accept([items[0]!])).toEqual({ accepted: 0, duplicates: 1, rejected: [] });
      // A batch with an event inside the cutoff is left to the producers' path, untouched.
      expect(await service.acceptHistory([{ id: 'o-9', type: 'message', channel: 'wecom', ts: now - HOUR }], new Map(), 'imp/2', history)).toBeNull();
      expect(await service.accept([{ id: 'o-9', type: 'message', channel: 'wecom', ts: now - HOUR }])).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    } finally {
      await ledger.close();
    }
  });

  it('the aggregate of a batch: counters per bucket and tag set, members per period and channel, push over cap', async () => {
    const t = Date.UTC(2026, 10, 3, 2, 0, 5);
    const events = [
      ev('message', t, 'wecom', 'a'),
      ev('message', t + 1_000, 'wecom', 'a'),
      ev('order.paid', t + 2_000, 'miniprogram', 'b', 1_500),
      ev('message', t + 61_000, 'wecom', 'c'),
      ev('push.sent', t, 'wecom', 'd'),
      ev('push.sent', t + 1, 'wecom', 'd'),
      ev('push.sent', t + 2, 'wecom', 'd'), // third push of the day, cap 2: over the cap
      ev('message', t + 5, 'wecom'), // no member
    ];
    const agg = await aggregateHistory(events, { importId: 'x', seq: 0 }, opts());
    expect(agg.minTs).toBe(t);
    const rows = new Map(agg.counters.map((r) => [`${r.ts}/${r.tags.channel}`, r.counters]));
    const b0 = Math.floor(t / 10_000) * 10_000;
    expect(rows.get(`${b0}/wecom`)).toEqual({ message: 3, push_sent: 3 });
    expect(rows.get(`${b0}/miniprogram`)).toEqual({ order_paid: 1, order_paid_fen: 1_500 });
    expect(rows.get(`${Math.floor((t + 61_000) / 10_000) * 10_000}/wecom`)).toEqual({ message: 1 });
    const out = (await agg.complete([]))!;
    const count = (set: string, g: string, start: number, channel: string) => out.distinct.find((d) => d.set === set && d.granularity === g && d.ts === start && d.channel === channel)?.value;
    const day = periodStart('day', t);
    const minute = periodStart('minute', t);
    expect(count('active', 'day', day, '')).toBe(3);
    expect(count('active', 'day', day, 'wecom')).toBe(2);
    expect(count('active', 'minute', minute, '')).toBe(2);
    expect(count('buyers', 'hour', periodStart('hour', t), '')).toBe(1);
    expect(count('push_reached', 'day', day, 'wecom')).toBe(1);
    expect(count('push_over_cap', 'day', day, 'wecom')).toBe(1);
    // Every count row has its sketch row (the same period, set and channel).
    const channelRows = out.sketches.filter((s) => s.community === undefined);
    expect(channelRows.map((s) => `${s.ts}/${s.granularity}/${s.set}/${s.channel}`).sort()).toEqual(out.distinct.map((s) => `${s.ts}/${s.granularity}/${s.set}/${s.channel}`).sort());
    // And the group's (every event is g1's) active members per hour and day: the same members as the all-channel set.
    const groupDay = out.sketches.find((s) => s.community === 'g1' && s.granularity === 'day' && s.ts === day);
    expect(Hll.fromBase64(groupDay!.sketch).estimate()).toBe(3);
    expect(out.sketches.filter((s) => s.community !== undefined).every((s) => s.set === 'active' && (s.granularity === 'hour' || s.granularity === 'day'))).toBe(true);
    // A conflict: nothing to write.
    expect(await (await aggregateHistory(events, { importId: 'x', seq: 0 }, opts(() => true))).complete([])).toBeNull();
  });

  it("an event's sparse counter slots (import rows) add up to what applyEvent adds to a vector, for every type, amount and duration", () => {
    const scratch: number[] = [];
    let checked = 0;
    for (const type of EVENT_TYPES) {
      for (const amount of [undefined, 0, 1_234]) {
        for (const durationMs of [undefined, 0, 900, 45_000, 10_000_000]) {
          const e: CountableEvent = { type, ts: 0, tags: { channel: 'wecom', community: '', campaign: '' }, ...(amount !== undefined ? { amount } : {}), ...(durationMs !== undefined ? { durationMs } : {}) };
          const dense = newVector();
          applyEvent(dense, e);
          const sparse = newVector();
          const n = eventSlots(e, scratch);
          for (let i = 0; i < n; i += 2) sparse[scratch[i]!]! += scratch[i + 1]!;
          expect([...sparse], `${type} ${amount} ${durationMs}`).toEqual([...dense]);
          checked++;
        }
      }
    }
    expect(checked).toBe(EVENT_TYPES.length * 15);
  });

  describe('DuckDB applyAdditive', () => {
    let store: MetricStore;
    beforeAll(async () => {
      store = createDuckDbStore({ file: path.join(dir, 'add.duckdb') });
      await store.init();
    });
    afterAll(() => store.close());

    it('adds counters to stored rows, merges sketches with stored ones (any node), records the mark; a mark it has is done, a conflict writes nothing', async () => {
      const t = Date.UTC(2026, 9, 1, 3, 0, 0);
      const day = periodStart('day', t);
      // Already stored: a collector's row (3 messages) and day sketch of members a, b (node main), and x on another node.
      await store.writeCounters([{ ts: t, tags: { channel: 'wecom', community: 'g1', campaign: '' }, counters: { message: 3 } }]);
      const ab = new Hll();
      for (const m of ['a', 'b']) ab.add(sketchKeyOf(hasher(m)));
      const x = new Hll();
      x.add(sketchKeyOf(hasher('x')));
      await store.writeSketches([
        { ts: day, granularity: 'day', set: 'active', channel: '', node: 'main', sketch: ab.toBase64() },
        { ts: day, granularity: 'day', set: 'active', channel: '', node: 'other', sketch: x.toBase64() },
      ]);
      const batch = [ev('message', t + 1, 'wecom', 'b'), ev('message', t + 2, 'wecom', 'c'), ev('message', t + 20_000, 'wecom', 'c')];
      expect(await store.applyAdditive!(await aggregateHistory(batch, { importId: 'imp', seq: 0 }, opts()))).toBe('applied');
      expect(await store.applyAdditive!(await aggregateHistory(batch, { importId: 'imp', seq: 0 }, opts()))).toBe('done');
      expect(await store.applyAdditive!(await aggregateHistory(batch, { importId: 'imp', seq: 1 }, opts(() => true)))).toBe('conflict');
      expect(await store.importMarks!()).toEqual(['imp/0']);
      const [s] = await store.queryCounters({ from: t, to: t + 30_000, stepMs: 10_000, offsetMs: 0, counters: ['message'], by: [], filter: {} });
      expect(s!.points.map((p) => [p.ts - t, p.sums.message])).toEqual([
        [0, 5],
        [20_000, 1],
      ]);
      const [d] = await store.queryDistinct({ from: day, to: day + DAY, granularity: 'day', set: 'active', byChannel: false });
      expect(d!.points).toEqual([{ ts: day, value: 4 }]); // a, b, x, c
      const rows = await store.querySketches({ from: day, to: day + 1, granularity: 'day', set: 'active', channel: '' });
      const merged = new Hll();
      for (const r of rows) merged.merge(Hll.fromBase64(r.sketch));
      expect(merged.estimate()).toBe(4);
      expect(COUNTERS).toContain('message');
    });

    it('per-group active members: a batch merges its groups’ members into their stored hour and day sketches (any node) and marks the day', async () => {
      const t = Date.UTC(2026, 9, 3, 3, 0, 0);
      const day = periodStart('day', t);
      const hour = floorTo(t, HOUR);
      const at = (type: CountableEvent['type'], ts: number, community: string, member: string): CountableEvent => {
        const hash = hasher(member);
        return { type, ts, tags: { channel: 'wecom', community, campaign: '' }, member: hash, sketchKey: sketchKeyOf(hash) };
      };
      // Stored: g1's day and hour sketches of a, b (node main) and x (another node).
      const sketch = (...ids: string[]) => {
        const h = new Hll();
        for (const m of ids) h.add(sketchKeyOf(hasher(m)));
        return h.toBase64();
      };
      await store.writeSketches([
        { ts: day, granularity: 'day', set: 'active', channel: '', node: 'main', sketch: sketch('a', 'b'), community: 'g1' },
        { ts: day, granularity: 'day', set: 'active', channel: '', node: 'other', sketch: sketch('x'), community: 'g1' },
        { ts: hour, granularity: 'hour', set: 'active', channel: '', node: 'main', sketch: sketch('a'), community: 'g1' },
      ]);
      const marked = (await store.groupDayTops(day, day + 1)).marks.get(day);
      // b and c talk in g1 (this hour and the next), d joins g2, e only leaves g2 and f gets a push: not active.
      const batch = [at('message', t + 1, 'g1', 'b'), at('message', t + 2, 'g1', 'c'), at('interaction', t + HOUR, 'g1', 'c'), at('member.join', t + 5, 'g2', 'd'), at('member.leave', t + 6, 'g2', 'e'), at('push.sent', t + 7, 'g2', 'f')];
      const agg = await aggregateHistory(batch, { importId: 'groups', seq: 0 }, opts());
      expect(agg.groupSketches?.communities.sort()).toEqual(['g1', 'g2']);
      expect(await store.applyAdditive!(agg)).toBe('applied');
      const members = async (community: string, granularity: 'hour' | 'day', from: number) => {
        const rows = await store.querySketches({ from, to: from + 1, granularity, set: 'active', community });
        const h = new Hll();
        for (const r of rows) h.merge(Hll.fromBase64(r.sketch));
        return h.estimate();
      };
      expect(await members('g1', 'day', day)).toBe(4); // a, b, x, c
      expect(await members('g1', 'hour', hour)).toBe(3); // a, b, c
      expect(await members('g1', 'hour', hour + HOUR)).toBe(1); // c
      expect(await members('g2', 'day', day)).toBe(1); // d
      expect((await store.groupDayTops(day, day + 1)).marks.get(day)).not.toBe(marked);
      // The same batch again: done, nothing merged twice; a collector holding a group period: a conflict.
      expect(await store.applyAdditive!(await aggregateHistory(batch, { importId: 'groups', seq: 0 }, opts()))).toBe('done');
      const held: AggregateOptions['conflict'] = (_rows, _periods, groups) => groups.some((g) => g.community === 'g2');
      expect(await store.applyAdditive!(await aggregateHistory([at('message', t + 9, 'g2', 'z')], { importId: 'groups', seq: 1 }, { ...opts(), conflict: held }))).toBe('conflict');
      expect(await members('g2', 'day', day)).toBe(1);
    });

    it('a batch into an empty range is inserted; the next batch over it adds every counter column to the rows it shares and inserts the rest', async () => {
      const t = Date.UTC(2026, 9, 5, 3, 0, 0);
      const first = [ev('message', t + 1, 'wecom', 'a'), ev('order.paid', t + 2, 'wecom', 'a', 1_000), ev('message', t + 10_001, 'sms', 'b')];
      expect(await store.applyAdditive!(await aggregateHistory(first, { importId: 'fresh', seq: 0 }, opts()))).toBe('applied');
      const second = [ev('order.paid', t + 3, 'wecom', 'b', 250), ev('message', t + 4, 'wecom', 'c'), ev('order.paid', t + 20_000, 'sms', 'c', 7), ev('message', t + 5, 'douyin', 'd')];
      expect(await store.applyAdditive!(await aggregateHistory(second, { importId: 'fresh', seq: 1 }, opts()))).toBe('applied');
      const series = await store.queryCounters({ from: t, to: t + 30_000, stepMs: 10_000, offsetMs: 0, counters: ['message', 'order_paid', 'order_paid_fen'], by: ['channel'], filter: {} });
      const got = series.flatMap((s) => s.points.map((p) => [s.tags.channel, p.ts - t, p.sums.message, p.sums.order_paid, p.sums.order_paid_fen]));
      expect(got.sort()).toEqual(
        [
          ['douyin', 0, 1, 0, 0],
          ['sms', 10_000, 1, 0, 0],
          ['sms', 20_000, 0, 1, 7],
          ['wecom', 0, 2, 2, 1_250],
        ].sort(),
      );
      // The groups' hour and day rollups: the second batch adds to the two rows the first one
      // stored and appends the new one (douyin).
      for (const [source, step] of [['hour', HOUR], ['day', DAY]] as const) {
        const from = source === 'hour' ? floorTo(t, HOUR) : periodStart('day', t);
        const rolled = await store.queryCounters({ from, to: from + step, stepMs: step, offsetMs: from % step, counters: ['message', 'order_paid', 'order_paid_fen'], by: ['channel'], filter: { community: 'g1' }, source });
        const sums = rolled.map((s) => [s.tags.channel, ...s.points.map((p) => [p.ts - from, p.sums.message, p.sums.order_paid, p.sums.order_paid_fen])]);
        expect(sums.sort(), source).toEqual(
          [
            ['douyin', [0, 1, 0, 0]],
            ['sms', [0, 1, 1, 7]],
            ['wecom', [0, 2, 2, 1_250]],
          ].sort(),
        );
      }
    });

    it('refuses a batch with a bad delta row (unknown counter, negative or fractional value, a rollup row, a bad tag) and writes nothing of it', async () => {
      const t = Date.UTC(2026, 9, 9, 3, 0, 0);
      const good = { ts: t, tags: { channel: 'wecom', community: 'g1', campaign: '' }, counters: { message: 1 } };
      const bad: [string, CounterRow][] = [
        ['not in the catalogue', { ...good, counters: { nope: 1 } as CounterRow['counters'] }],
        ['must be an integer ≥ 0', { ...good, counters: { message: -1 } }],
        ['must be an integer ≥ 0', { ...good, counters: { message: 1.5 } }],
        ['10 s rows only', { ...good, rollup: 'hour' }],
        ['tag channel', { ...good, tags: { ...good.tags, channel: 'a\u0000b' } }],
      ];
      for (const [i, [reason, row]] of bad.entries()) {
        const batch = { importId: 'bad', seq: i, counters: [good, row], sketchRanges: [], complete: () => Promise.resolve({ sketches: [], distinct: [] }) };
        await expect(store.applyAdditive!(batch)).rejects.toThrow(reason);
      }
      const series = await store.queryCounters({ from: t, to: t + 10_000, stepMs: 10_000, offsetMs: 0, counters: ['message'], by: [], filter: {} });
      expect(series.flatMap((s) => s.points.map((p) => p.sums.message)).filter((v) => v)).toEqual([]);
      expect(await store.importMarks!()).not.toContain('bad/0');
      // The same rows without the bad one are applied, duplicates of a key keeping the last.
      const ok = { importId: 'bad', seq: 9, counters: [good, { ...good, counters: { message: 4 } }], sketchRanges: [], complete: () => Promise.resolve({ sketches: [], distinct: [] }) };
      expect(await store.applyAdditive!(ok)).toBe('applied');
      const after = await store.queryCounters({ from: t, to: t + 10_000, stepMs: 10_000, offsetMs: 0, counters: ['message'], by: [], filter: {} });
      expect(after.flatMap((s) => s.points.map((p) => p.sums.message))).toEqual([4]);
    });
  });

  it('imported 10 s deltas (pulse_history) read as part of their rows: filters, splits, tag values, after a reopen; a replacing write folds them in, the derived rollups stay the sum', async () => {
    const file = path.join(dir, 'history.duckdb');
    let store = createDuckDbStore({ file });
    await store.init();
    const t = Date.UTC(2026, 9, 11, 3, 0, 0);
    const hour = floorTo(t, HOUR);
    const wecom = { channel: 'wecom', community: 'g1', campaign: '' };
    const raw = (counters: ('message' | 'order_paid_fen')[], by: ('channel' | 'community')[] = [], filter = {}) =>
      store.queryCounters({ from: t, to: t + 30_000, stepMs: 10_000, offsetMs: 0, counters, by, filter, source: 'raw' });
    const rolled = async () => (await store.queryCounters({ from: hour, to: hour + HOUR, stepMs: HOUR, offsetMs: 0, counters: ['message'], by: [], filter: { community: 'g1' }, source: 'hour' }))[0]?.points[0]?.sums.message;
    try {
      // A collector's row, then two batches over it (one with a channel only history has).
      await store.writeCounters([{ ts: t, tags: wecom, counters: { message: 3 } }]);
      const one = [ev('message', t + 1, 'wecom', 'a'), ev('order.paid', t + 2, 'wecom', 'a', 900), ev('message', t + 10_001, 'weibo', 'b')];
      expect(await store.applyAdditive!(await aggregateHistory(one, { importId: 'hist', seq: 0 }, opts()))).toBe('applied');
      expect(await store.applyAdditive!(await aggregateHistory([ev('message', t + 3, 'wecom', 'c')], { importId: 'hist', seq: 1 }, opts()))).toBe('applied');
      const check = async () => {
        const split = await raw(['message', 'order_paid_fen'], ['channel']);
        expect(split.map((x) => [x.tags.channel, x.points.map((p) => [p.ts - t, p.sums.message, p.sums.order_paid_fen])])).toEqual([
          ['wecom', [[0, 5, 900]]],
          ['weibo', [[10_000, 1, 0]]],
        ]);
        expect((await raw(['order_paid_fen'], [], { channel: 'weibo' }))[0]!.points).toEqual([{ ts: t + 10_000, sums: { order_paid_fen: 0 } }]);
        expect(await store.tagValues('channel', t, t + 30_000)).toEqual(['wecom', 'weibo']);
        expect(await rolled()).toBe(6);
      };
      await check();
      // The history is found again when the file is opened again.
      await store.close();
      store = createDuckDbStore({ file });
      await store.init();
      await check();
      // A write replaces the row in full (the collector rewriting a row it loaded: 5 + 2 late
      // messages): 7, not 7 + the 2 imported ones; the derived hour rollup follows (7 + weibo's 1).
      await store.writeCounters([{ ts: t, tags: wecom, counters: { message: 7, order_paid_fen: 900 } }]);
      expect((await raw(['message', 'order_paid_fen']))[0]!.points).toEqual([
        { ts: t, sums: { message: 7, order_paid_fen: 900 } },
        { ts: t + 10_000, sums: { message: 1, order_paid_fen: 0 } },
      ]);
      expect(await rolled()).toBe(8);
      // A later batch adds to the rewritten row again.
      expect(await store.applyAdditive!(await aggregateHistory([ev('message', t + 4, 'wecom', 'd')], { importId: 'hist', seq: 2 }, opts()))).toBe('applied');
      expect((await raw(['message']))[0]!.points[0]).toEqual({ ts: t, sums: { message: 8 } });
      expect(await rolled()).toBe(9);
    } finally {
      await store.close();
    }
  });

  it('the same events imported (narrow pulse_history) and written as whole rows read the same: every split, step and source, tag values', async () => {
    const imported = createDuckDbStore({ file: path.join(dir, 'same-imported.duckdb') });
    const written = createDuckDbStore({ file: path.join(dir, 'same-written.duckdb') });
    await Promise.all([imported.init(), written.init()]);
    try {
      const t0 = Date.UTC(2026, 9, 20, 15, 0, 0); // across two Shanghai days
      const types = ['message', 'interaction', 'order.paid', 'push.sent', 'push.delivered'] as const;
      let seed = 7;
      const rnd = (n: number) => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) % n;
      const events: CountableEvent[] = [];
      for (let i = 0; i < 3_000; i++) {
        const member = hasher(`m${rnd(400)}`);
        const type = types[rnd(types.length)]!;
        events.push({
          type,
          ts: t0 + i * 29_000 + rnd(20_000),
          tags: { channel: ['wecom', 'sms', 'douyin'][rnd(3)]!, community: ['', 'g1', 'g2'][rnd(3)]!, campaign: ['', 'c1'][rnd(2)]! },
          member,
          sketchKey: sketchKeyOf(member),
          ...(type === 'order.paid' ? { amount: 100 + rnd(5_000) } : {}),
        });
      }
      // Imported in three batches (their edges share buckets, hours and days); written as the summed rows.
      const whole = new Map<string, CounterRow>();
      for (let seq = 0; seq < 3; seq++) {
        const agg = await aggregateHistory(events.slice(seq * 1_000, (seq + 1) * 1_000), { importId: 'same', seq }, opts());
        expect(await imported.applyAdditive!(agg)).toBe('applied');
        for (const r of agg.counters) {
          const k = `${r.ts}/${r.tags.channel}/${r.tags.community}/${r.tags.campaign}`;
          const w = whole.get(k) ?? { ts: r.ts, tags: r.tags, counters: {} };
          for (const [name, v] of Object.entries(r.counters)) w.counters[name] = (w.counters[name] ?? 0) + v;
          whole.set(k, w);
        }
      }
      await written.writeCounters([...whole.values()]);
      const from = floorTo(t0, DAY, alignmentOffset(DAY, TZ, t0));
      const to = from + 3 * DAY;
      const counters = ['message', 'interaction', 'order_paid', 'order_paid_fen', 'push_sent', 'push_delivered'] as const;
      const queries = [
        { stepMs: 10_000, offsetMs: 0, by: [], filter: {} },
        { stepMs: HOUR, offsetMs: 0, by: ['channel'], filter: {} },
        { stepMs: HOUR, offsetMs: 0, by: ['community'], filter: { channel: 'wecom' } },
        { stepMs: DAY, offsetMs: alignmentOffset(DAY, TZ, t0), by: ['community', 'channel'], filter: {} },
        { stepMs: DAY, offsetMs: alignmentOffset(DAY, TZ, t0), by: [], filter: { community: 'g2' } },
        { stepMs: 5 * MINUTE, offsetMs: 0, by: ['campaign'], filter: { community: 'g1' } },
      ] as const;
      for (const q of queries) {
        const ask = (s: MetricStore) => s.queryCounters({ from, to, counters: [...counters], ...q, by: [...q.by] });
        const [a, b] = await Promise.all([ask(imported), ask(written)]);
        expect(a, JSON.stringify(q)).toEqual(b);
        expect(a.length).toBeGreaterThan(0);
      }
      for (const dim of ['channel', 'community', 'campaign'] as const) expect(await imported.tagValues(dim, from, to)).toEqual(await written.tagValues(dim, from, to));
    } finally {
      await Promise.all([imported.close(), written.close()]);
    }
  });

  it('import batches run at the import checkpoint threshold; once they stop, the live threshold is back', async () => {
    // A tiny import threshold makes every import commit checkpoint (an empty WAL after it),
    // which the live threshold (LIVE_CHECKPOINT_THRESHOLD, 4MB) does not: the WAL file shows which one is set.
    const file = path.join(dir, 'thresholds.duckdb');
    const store = createDuckDbStore({ file, importCheckpointThreshold: '1KB', importIdleMs: 200 });
    await store.init();
    const wal = () => (existsSync(`${file}.wal`) ? statSync(`${file}.wal`).size : 0);
    try {
      const t = Date.UTC(2026, 9, 9, 3, 0, 0);
      const live = { ts: t - DAY, tags: { channel: 'wecom', community: '', campaign: '' }, counters: { message: 1 } };
      await store.writeCounters([live]);
      expect(wal()).toBeGreaterThan(0); // the live threshold: not checkpointed
      await store.writeCounters([{ ...live, ts: t - 2 * DAY }]);
      const batch = [ev('message', t + 1, 'wecom', 'a'), ev('message', t + 10_001, 'sms', 'b')];
      expect(await store.applyAdditive!(await aggregateHistory(batch, { importId: 'thr', seq: 0 }, opts()))).toBe('applied');
      expect(wal()).toBe(0); // the import threshold: checkpointed at its commit
      let more = 0;
      await vi.waitFor(
        async () => {
          await store.writeCounters([{ ...live, ts: t - 3 * DAY + 10_000 * more++ }]);
          expect(wal()).toBeGreaterThan(0); // the live threshold is back
        },
        { timeout: 10_000 },
      );
      const [s] = await store.queryCounters({ from: t - 3 * DAY, to: t + DAY, stepMs: DAY, offsetMs: 0, counters: ['message'], by: [], filter: {} });
      expect(s!.points.reduce((n, p) => n + p.sums.message!, 0)).toBe(4 + more);
    } finally {
      await store.close();
    }
  });

  it('a store file whose counter columns are not in catalogue order (added later by ALTER TABLE) still gets each delta in its own column', async () => {
    // An older file without the `message` and `order_paid_fen` columns: the store adds them at the end.
    const file = path.join(dir, 'older.duckdb');
    const old = await DuckDBInstance.create(file);
    const c = await old.connect();
    const kept = COUNTERS.filter((n) => n !== 'message' && n !== 'order_paid_fen');
    await c.run(`CREATE TABLE pulse_counts (ts BIGINT NOT NULL, channel VARCHAR NOT NULL, community VARCHAR NOT NULL, campaign VARCHAR NOT NULL, ${kept.map((n) => `"${n}" BIGINT NOT NULL DEFAULT 0`).join(', ')}, PRIMARY KEY (ts, channel, community, campaign))`);
    c.closeSync();
    old.closeSync();
    const store = createDuckDbStore({ file });
    await store.init();
    try {
      const t = Date.UTC(2026, 9, 7, 3, 0, 0);
      const batch = [ev('message', t + 1, 'wecom', 'a'), ev('order.paid', t + 2, 'wecom', 'a', 300), ev('push.sent', t + 3, 'wecom', 'b')];
      expect(await store.applyAdditive!(await aggregateHistory(batch, { importId: 'older', seq: 0 }, opts()))).toBe('applied');
      const [s] = await store.queryCounters({ from: t, to: t + 10_000, stepMs: 10_000, offsetMs: 0, counters: ['message', 'order_paid', 'order_paid_fen', 'push_sent'], by: [], filter: {} });
      expect(s!.points).toEqual([{ ts: t, sums: { message: 1, order_paid: 1, order_paid_fen: 300, push_sent: 1 } }]);
    } finally {
      await store.close();
    }
  });

  it('import batches are aggregated and written one at a time, in call order, and a failed one does not stop the next', async () => {
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const apply = oneAtATime(async (n: number) => {
      most = Math.max(most, ++running);
      await new Promise((r) => setImmediate(r));
      order.push(n);
      running--;
      if (n === 1) throw new Error('store down');
      return n * 10;
    });
    const results = await Promise.allSettled([apply(0), apply(1), apply(2)]);
    expect(most).toBe(1);
    expect(order).toEqual([0, 1, 2]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((results[2] as PromiseFulfilledResult<number>).value).toBe(20);
  });
});
