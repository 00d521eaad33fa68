/**
 * One MetricStore conformance suite, run against every adapter: DuckDB on a temp file and
 * InfluxDB on a real influxd (test/harness/influxd.ts). Each test gets a fresh, empty store
 * (new file / new database) so every assertion can be exact.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { COUNTERS, DIMENSIONS, type Dimension, type Tags } from '@siyu-pulse/contracts/catalogue';
import { StoreError, type AlertRow, type CounterQuery, type CounterRow, type DistinctRow, type MetricStore, type SketchRow } from '../src/store/port.js';
import { Hll } from '../src/sketch/hll.js';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import { createInfluxStore } from '../src/store/influx/adapter.js';
import { InfluxClient } from '../src/store/influx/client.js';
import { quoteIdent, quoteString } from '../src/store/influx/influxql.js';
import { encodePoint } from '../src/store/influx/lineProtocol.js';
import { freePort, influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';

const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** 2024-01-01T00:00:00Z: aligned to minute, hour and UTC day. */
const T0 = Date.UTC(2024, 0, 1);

const tags = (t: Partial<Tags> = {}): Tags => ({ channel: '', community: '', campaign: '', ...t });
const row = (ts: number, t: Partial<Tags>, counters: Record<string, number>): CounterRow => ({ ts, tags: tags(t), counters });

function cq(q: Partial<CounterQuery> & Pick<CounterQuery, 'from' | 'to'>): CounterQuery {
  return { stepMs: MIN, offsetMs: 0, counters: ['message'], by: [], filter: {}, ...q };
}

async function expectRefused(p: Promise<unknown>, message?: RegExp): Promise<StoreError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreError);
  const se = err as StoreError;
  expect(se.retryable).toBe(false);
  if (message) expect(se.message).toMatch(message);
  return se;
}

/** Values that must survive write → group-by → filter → tagValues exactly. */
const TRICKY = [
  'with space',
  'a,b',
  'k=v',
  'a=b,c d',
  "it's",
  'say "hi"',
  '"',
  "'",
  'back\\slash',
  'quote\\"inside',
  "apos\\'inside",
  '微信社群·上海',
  'emoji 🎉🚀',
  '#hash',
  "mix, =\"'\\x 私域🎯",
];
/** Refused by tagValueProblem. */
const REFUSED = ['trailing\\', 'two\\\\backslashes', 'new\nline', 'tab\there', ' leading', 'back\\ space', 'x'.repeat(129)];
/** InfluxQL injection attempts (every one must match nothing and harm nothing). */
const INJECTIONS = [
  `x' OR "channel" =~ /.*/ --`,
  `x\\' OR 1=1 --`,
  `'; DROP MEASUREMENT "pulse_counts"; --`,
  `wx' OR 'a'='a`,
  `' OR ''='`,
  `wx'; SELECT * FROM "pulse_counts"; --`,
  `\\' OR "channel" != '' --`,
  `wx\\`,
  `"`,
  `\\`,
  `'`,
  `/.*/`,
];

interface Target {
  name: string;
  run: boolean;
  beforeAll?: () => Promise<void>;
  afterAll?: () => Promise<void>;
  /** A fresh, empty, initialised store. */
  make: () => Promise<MetricStore>;
}

function runConformance(target: Target): void {
  describe.skipIf(!target.run)(`MetricStore conformance: ${target.name}`, () => {
    let store: MetricStore;
    beforeAll(async () => target.beforeAll?.());
    afterAll(async () => target.afterAll?.());
    beforeEach(async () => {
      store = await target.make();
    });
    afterEach(async () => store?.close());

    it('init() is idempotent and ping() answers', async () => {
      await store.init();
      await expect(store.ping()).resolves.toBeUndefined();
    });

    it('writes counter rows and reads the sums back', async () => {
      await store.writeCounters([
        row(T0, { channel: 'wx' }, { message: 3, order_paid_fen: 1999 }),
        row(T0 + 10_000, { channel: 'wx' }, { message: 2 }), // same minute, other row
        row(T0, { channel: 'qq', community: 'c1' }, { message: 4, member_join: 1 }),
        row(T0 + MIN, {}, { message: 1 }),
      ]);
      const series = await store.queryCounters(
        cq({ from: T0, to: T0 + HOUR, counters: ['message', 'order_paid_fen', 'member_join', 'spend_fen'] }),
      );
      expect(series).toEqual([
        {
          tags: {},
          points: [
            { ts: T0, sums: { message: 9, order_paid_fen: 1999, member_join: 1, spend_fen: 0 } },
            { ts: T0 + MIN, sums: { message: 1, order_paid_fen: 0, member_join: 0, spend_fen: 0 } },
          ],
        },
      ]);
    });

    it('keeps every catalogue counter, zeros included', async () => {
      const all = Object.fromEntries(COUNTERS.map((c, i) => [c, i + 1]));
      await store.writeCounters([row(T0, { channel: 'wx' }, all)]);
      const [s] = await store.queryCounters(cq({ from: T0, to: T0 + MIN, counters: COUNTERS }));
      expect(s?.points).toEqual([{ ts: T0, sums: all }]);
    });

    it('rewriting the same bucket replaces the row in full (not adds)', async () => {
      await store.writeCounters([row(T0, { channel: 'wx', community: 'c1' }, { message: 5, interaction: 3 })]);
      await store.writeCounters([row(T0, { channel: 'wx', community: 'c1' }, { message: 2 })]);
      // Within one batch the last row for a key wins too.
      await store.writeCounters([
        row(T0 + MIN, { channel: 'wx' }, { message: 7 }),
        row(T0 + MIN, { channel: 'wx' }, { message: 8, spend_fen: 1 }),
      ]);
      const series = await store.queryCounters(
        cq({ from: T0, to: T0 + HOUR, counters: ['message', 'interaction', 'spend_fen'], by: ['channel', 'community'] }),
      );
      expect(series).toEqual([
        { tags: { channel: 'wx', community: '' }, points: [{ ts: T0 + MIN, sums: { message: 8, interaction: 0, spend_fen: 1 } }] },
        { tags: { channel: 'wx', community: 'c1' }, points: [{ ts: T0, sums: { message: 2, interaction: 0, spend_fen: 0 } }] },
      ]);
    });

    it("keeps a group's hour and day rollups whoever writes its 10 s rows (derived; rollup rows refused)", async () => {
      // Asia/Shanghai days (the stores' default): 2024-01-01T16:00Z starts a day.
      const day = T0 - 8 * HOUR;
      const g = (ts: number, community: string, counters: Record<string, number>, campaign = '') => row(ts, { channel: 'wx', community, campaign }, counters);
      await store.writeCounters([g(T0, 'ga', { message: 5, interaction: 2 }), g(T0 + 10_000, 'ga', { message: 1 }), g(T0 + 2 * HOUR, 'gb', { member_join: 3 }), row(T0, { channel: 'wx' }, { message: 100 })]);
      // Rewrites replace: one smaller, one larger, a new campaign row of the same group, a new day.
      await store.writeCounters([g(T0, 'ga', { message: 2 }), g(T0 + 2 * HOUR, 'gb', { member_join: 4, member_leave: 1 }), g(T0 + 20 * MIN, 'ga', { message: 7 }, 'camp'), g(T0 + 17 * HOUR, 'ga', { message: 9 })]);
      // The same rows again: the rollups do not move.
      await store.writeCounters([g(T0 + 10_000, 'ga', { message: 1 })]);
      const counters = ['message', 'interaction', 'member_join', 'member_leave'] as const;
      const zero = { message: 0, interaction: 0, member_join: 0, member_leave: 0 };
      const by = ['channel', 'community'] as const;
      const hours = await store.queryCounters(cq({ from: day, to: day + 2 * DAY, stepMs: HOUR, counters: [...counters], by: [...by], source: 'hour' }));
      expect(hours).toEqual([
        { tags: { channel: 'wx', community: 'ga' }, points: [{ ts: T0, sums: { ...zero, message: 2 + 1 + 7 } }, { ts: T0 + 17 * HOUR, sums: { ...zero, message: 9 } }] },
        { tags: { channel: 'wx', community: 'gb' }, points: [{ ts: T0 + 2 * HOUR, sums: { ...zero, member_join: 4, member_leave: 1 } }] },
      ]);
      const days = await store.queryCounters(cq({ from: day, to: day + 2 * DAY, stepMs: DAY, offsetMs: 16 * HOUR, counters: [...counters], by: [...by], source: 'day' }));
      expect(days).toEqual([
        { tags: { channel: 'wx', community: 'ga' }, points: [{ ts: day, sums: { ...zero, message: 10 } }, { ts: day + DAY, sums: { ...zero, message: 9 } }] },
        { tags: { channel: 'wx', community: 'gb' }, points: [{ ts: day, sums: { ...zero, member_join: 4, member_leave: 1 } }] },
      ]);
      // A rollup row from a writer that does not keep them is refused, and nothing of its call is written.
      await expectRefused(store.writeCounters([g(T0 + 3 * HOUR, 'gc', { message: 1 }), { ...g(T0, 'ga', { message: 1 }), rollup: 'hour' }]), /derived by the store/);
      expect(await store.queryCounters(cq({ from: T0, to: T0 + DAY, counters: ['message'], filter: { community: 'gc' }, source: 'raw' }))).toEqual([]);
      // The collector's way: it writes whole rollup rows itself, and the store derives nothing.
      await store.writeCounters([g(T0 + 30_000, 'ga', { message: 4 }), { ...g(T0, 'ga', { message: 14 }), rollup: 'hour' }], { rollups: 'given' });
      const [ga] = await store.queryCounters(cq({ from: T0, to: T0 + HOUR, stepMs: HOUR, counters: ['message'], filter: { community: 'ga' }, source: 'hour' }));
      expect(ga?.points).toEqual([{ ts: T0, sums: { message: 14 } }]);
    });

    describe('range queries', () => {
      // 3 hours × 2 channels × 2 communities (+ rows without community / campaign).
      beforeEach(async () => {
        const rows: CounterRow[] = [];
        for (let h = 0; h < 3; h++) {
          for (const channel of ['wx', 'qw']) {
            for (const community of ['c1', 'c2']) {
              for (const m of [0, 30]) {
                rows.push(row(T0 + h * HOUR + m * MIN, { channel, community, campaign: 'camp' }, { message: h + 1, page_view: community === 'c1' ? 10 : 100 }));
              }
            }
          }
          rows.push(row(T0 + h * HOUR + 5 * MIN, { channel: 'wx' }, { message: 1000, page_view: 0 }));
        }
        // Plain writes: the store derives the groups' hour / day rollups the group queries below read.
        await store.writeCounters(rows);
      });

      it('steps by hour with no split', async () => {
        const s = await store.queryCounters(cq({ from: T0, to: T0 + 3 * HOUR, stepMs: HOUR, counters: ['message', 'page_view'] }));
        expect(s).toEqual([
          {
            tags: {},
            points: [
              { ts: T0, sums: { message: 8 * 1 + 1000, page_view: 2 * 2 * 110 } },
              { ts: T0 + HOUR, sums: { message: 8 * 2 + 1000, page_view: 440 } },
              { ts: T0 + 2 * HOUR, sums: { message: 8 * 3 + 1000, page_view: 440 } },
            ],
          },
        ]);
      });

      it('splits by channel', async () => {
        const s = await store.queryCounters(cq({ from: T0, to: T0 + 2 * HOUR, stepMs: HOUR, by: ['channel'] }));
        expect(s).toEqual([
          { tags: { channel: 'qw' }, points: [{ ts: T0, sums: { message: 4 } }, { ts: T0 + HOUR, sums: { message: 8 } }] },
          { tags: { channel: 'wx' }, points: [{ ts: T0, sums: { message: 1004 } }, { ts: T0 + HOUR, sums: { message: 1008 } }] },
        ]);
      });

      it('splits by channel + community, rows without a tag get ""', async () => {
        const s = await store.queryCounters(cq({ from: T0, to: T0 + HOUR, stepMs: HOUR, counters: ['page_view'], by: ['channel', 'community'] }));
        expect(s).toEqual([
          { tags: { channel: 'qw', community: 'c1' }, points: [{ ts: T0, sums: { page_view: 20 } }] },
          { tags: { channel: 'qw', community: 'c2' }, points: [{ ts: T0, sums: { page_view: 200 } }] },
          { tags: { channel: 'wx', community: '' }, points: [{ ts: T0, sums: { page_view: 0 } }] },
          { tags: { channel: 'wx', community: 'c1' }, points: [{ ts: T0, sums: { page_view: 20 } }] },
          { tags: { channel: 'wx', community: 'c2' }, points: [{ ts: T0, sums: { page_view: 200 } }] },
        ]);
      });

      it('filters by equality, on split and non-split dimensions', async () => {
        const a = await store.queryCounters(
          cq({ from: T0, to: T0 + 3 * HOUR, stepMs: HOUR, counters: ['page_view'], by: ['channel'], filter: { community: 'c2' } }),
        );
        const pts = [0, 1, 2].map((h) => ({ ts: T0 + h * HOUR, sums: { page_view: 200 } }));
        expect(a).toEqual([
          { tags: { channel: 'qw' }, points: pts },
          { tags: { channel: 'wx' }, points: pts },
        ]);
        const b = await store.queryCounters(
          cq({ from: T0, to: T0 + HOUR, stepMs: HOUR, by: ['community'], filter: { channel: 'wx', campaign: 'camp' } }),
        );
        expect(b).toEqual([
          { tags: { community: 'c1' }, points: [{ ts: T0, sums: { message: 2 } }] },
          { tags: { community: 'c2' }, points: [{ ts: T0, sums: { message: 2 } }] },
        ]);
        // '' filters rows that do not have the tag.
        const c = await store.queryCounters(cq({ from: T0, to: T0 + 3 * HOUR, stepMs: 3 * HOUR, filter: { community: '' } }));
        expect(c).toEqual([{ tags: {}, points: [{ ts: T0, sums: { message: 3000 } }] }]);
        const none = await store.queryCounters(cq({ from: T0, to: T0 + 3 * HOUR, filter: { channel: 'nope' } }));
        expect(none).toEqual([]);
      });

      it('from is inclusive, to is exclusive', async () => {
        // Minute buckets: T0+30m has 4 rows of message=1; T0+60m belongs to hour 2.
        const s = await store.queryCounters(cq({ from: T0 + 30 * MIN, to: T0 + HOUR }));
        expect(s).toEqual([{ tags: {}, points: [{ ts: T0 + 30 * MIN, sums: { message: 4 } }] }]);
        const t = await store.queryCounters(cq({ from: T0 + 5 * MIN, to: T0 + 5 * MIN + 1 }));
        expect(t).toEqual([{ tags: {}, points: [{ ts: T0 + 5 * MIN, sums: { message: 1000 } }] }]);
        expect(await store.queryCounters(cq({ from: T0 + 5 * MIN + 1, to: T0 + 30 * MIN }))).toEqual([]);
      });

      it('empty ranges return []', async () => {
        expect(await store.queryCounters(cq({ from: T0 + 10 * HOUR, to: T0 + 11 * HOUR }))).toEqual([]);
        expect(await store.queryCounters(cq({ from: T0, to: T0 }))).toEqual([]);
        expect(await store.queryCounters(cq({ from: T0 + HOUR, to: T0 }))).toEqual([]);
        expect(await store.queryCounters(cq({ from: T0 - DAY, to: T0, by: ['channel', 'community'] }))).toEqual([]);
        expect(await store.tagValues('channel', T0 + 10 * HOUR, T0 + 11 * HOUR)).toEqual([]);
      });

      it('tagValues honours [from, to)', async () => {
        await store.writeCounters([row(T0 + 5 * HOUR, { channel: 'late', community: 'c9' }, { message: 1 })]);
        expect(await store.tagValues('channel', T0, T0 + 3 * HOUR)).toEqual(['qw', 'wx']);
        expect(await store.tagValues('channel', T0, T0 + 5 * HOUR + 1)).toEqual(['late', 'qw', 'wx']);
        expect(await store.tagValues('channel', T0 + 5 * HOUR, T0 + 6 * HOUR)).toEqual(['late']);
        expect(await store.tagValues('community', T0, T0 + 6 * HOUR)).toEqual(['c1', 'c2', 'c9']);
        expect(await store.tagValues('campaign', T0, T0 + 6 * HOUR)).toEqual(['camp']);
      });
    });

    it('aligns buckets with an offset (Asia/Shanghai days start 16:00 UTC)', async () => {
      const d = (iso: string) => Date.parse(iso);
      await store.writeCounters([
        row(d('2024-01-01T15:59:59.999Z'), { channel: 'wx' }, { message: 1 }),
        row(d('2024-01-01T16:00:00.000Z'), { channel: 'wx' }, { message: 10 }),
        row(d('2024-01-02T15:59:00.000Z'), { channel: 'wx' }, { message: 100 }),
        row(d('2024-01-02T16:00:00.000Z'), { channel: 'wx' }, { message: 1000 }),
      ]);
      const expected = [
        {
          tags: {},
          points: [
            { ts: d('2023-12-31T16:00:00Z'), sums: { message: 1 } },
            { ts: d('2024-01-01T16:00:00Z'), sums: { message: 110 } },
            { ts: d('2024-01-02T16:00:00Z'), sums: { message: 1000 } },
          ],
        },
      ];
      const q = { from: d('2023-12-31T16:00:00Z'), to: d('2024-01-03T16:00:00Z'), stepMs: DAY };
      expect(await store.queryCounters(cq({ ...q, offsetMs: 57_600_000 }))).toEqual(expected);
      // The same alignment expressed as −8 h.
      expect(await store.queryCounters(cq({ ...q, offsetMs: -28_800_000 }))).toEqual(expected);
      // Hour buckets at a +30 min offset (e.g. India).
      const h = await store.queryCounters(
        cq({ from: d('2024-01-01T15:30:00Z'), to: d('2024-01-01T16:30:00Z'), stepMs: HOUR, offsetMs: 30 * MIN }),
      );
      expect(h).toEqual([{ tags: {}, points: [{ ts: d('2024-01-01T15:30:00Z'), sums: { message: 11 } }] }]);
    });

    it('an empty store answers [] everywhere', async () => {
      expect(await store.queryCounters(cq({ from: T0, to: T0 + DAY, by: ['channel'] }))).toEqual([]);
      expect(await store.queryDistinct({ from: T0, to: T0 + DAY, granularity: 'minute', set: 'active', byChannel: false })).toEqual([]);
      expect(await store.queryDistinct({ from: T0, to: T0 + DAY, granularity: 'minute', set: 'active', byChannel: true })).toEqual([]);
      expect(await store.tagValues('community', T0, T0 + DAY)).toEqual([]);
    });

    it('tricky tag values round-trip exactly (group-by, filter, tagValues)', async () => {
      const rows = TRICKY.map((v, i) => row(T0 + i * MIN, { channel: v, community: v, campaign: v }, { message: i + 1 }));
      await store.writeCounters(rows); // the store derives the groups' hour / day rollups
      const sorted = [...TRICKY].sort();
      for (const dim of DIMENSIONS) {
        expect(await store.tagValues(dim, T0, T0 + HOUR)).toEqual(sorted);
        const series = await store.queryCounters(cq({ from: T0, to: T0 + HOUR, stepMs: HOUR, by: [dim] }));
        expect(series).toEqual(sorted.map((v) => ({ tags: { [dim]: v }, points: [{ ts: T0, sums: { message: TRICKY.indexOf(v) + 1 } }] })));
      }
      for (const [i, v] of TRICKY.entries()) {
        for (const dim of DIMENSIONS) {
          const s = await store.queryCounters(cq({ from: T0, to: T0 + HOUR, stepMs: HOUR, filter: { [dim]: v } }));
          expect(s, `${dim} = ${JSON.stringify(v)}`).toEqual([{ tags: {}, points: [{ ts: T0, sums: { message: i + 1 } }] }]);
        }
      }
    });

    it('refuses a batch with a value tagValueProblem rejects, writing nothing of it', async () => {
      for (const bad of REFUSED) {
        for (const dim of DIMENSIONS) {
          const err = await expectRefused(
            store.writeCounters([row(T0, { channel: 'good' }, { message: 1 }), row(T0 + MIN, { [dim]: bad }, { message: 1 })]),
          );
          expect(err.message).toContain(dim);
        }
        await expectRefused(
          store.writeDistinct([
            { ts: T0, granularity: 'minute', set: 'active', channel: '', value: 1 },
            { ts: T0, granularity: 'minute', set: 'active', channel: bad, value: 1 },
          ]),
          /channel/,
        );
      }
      await expectRefused(store.writeCounters([row(T0, { channel: 'x\n' }, { message: 1 })]), /control character/);
      await expectRefused(store.writeCounters([row(T0, { channel: 'x\\' }, { message: 1 })]), /backslash/);
      expect(await store.queryCounters(cq({ from: T0 - DAY, to: T0 + DAY }))).toEqual([]);
      expect(await store.tagValues('channel', T0 - DAY, T0 + DAY)).toEqual([]);
      expect(await store.queryDistinct({ from: T0 - DAY, to: T0 + DAY, granularity: 'minute', set: 'active', byChannel: false })).toEqual([]);
    });

    it('refuses names and numbers that are not allow-listed / valid', async () => {
      const ok = cq({ from: T0, to: T0 + HOUR });
      await expectRefused(store.writeCounters([row(T0, { channel: 'wx' }, { message: 1, bogus: 1 })]), /bogus/);
      await expectRefused(store.writeCounters([row(T0, { channel: 'wx' }, { 'message" DROP': 1 })]));
      await expectRefused(store.writeCounters([row(T0, { channel: 'wx' }, { message: -1 })]));
      await expectRefused(store.writeCounters([row(T0, { channel: 'wx' }, { message: 1.5 })]));
      await expectRefused(store.writeCounters([row(T0, { channel: 'wx' }, { message: Number.NaN })]));
      await expectRefused(store.writeCounters([row(T0 + 0.5, { channel: 'wx' }, { message: 1 })]));
      await expectRefused(store.writeCounters([{ ts: T0, tags: { ...tags(), region: 'x' } as Tags, counters: { message: 1 } }]), /region/);
      await expectRefused(store.queryCounters({ ...ok, counters: ['bogus'] }), /bogus/);
      await expectRefused(store.queryCounters({ ...ok, counters: ['message', 'message") FROM x; --'] }));
      await expectRefused(store.queryCounters({ ...ok, counters: [] }));
      await expectRefused(store.queryCounters({ ...ok, by: ['bogus' as Dimension] }), /bogus/);
      await expectRefused(store.queryCounters({ ...ok, filter: { bogus: 'x' } as Partial<Tags> }), /bogus/);
      await expectRefused(store.queryCounters({ ...ok, stepMs: 0 }));
      await expectRefused(store.queryCounters({ ...ok, stepMs: 1.5 }));
      await expectRefused(store.queryCounters({ ...ok, from: Number.NaN }));
      await expectRefused(store.queryCounters({ ...ok, to: '0ms; DROP MEASUREMENT x' as unknown as number }));
      await expectRefused(store.queryCounters({ ...ok, offsetMs: 1e21 }));
      await expectRefused(store.tagValues('bogus' as Dimension, T0, T0 + HOUR), /bogus/);
      await expectRefused(store.tagValues('channel', T0, Number.POSITIVE_INFINITY));
      await expectRefused(store.queryDistinct({ from: T0, to: T0 + HOUR, granularity: 'week' as 'day', set: 'active', byChannel: false }));
      await expectRefused(store.queryDistinct({ from: T0, to: T0 + HOUR, granularity: 'day', set: "active' OR 1=1" as 'active', byChannel: false }));
      await expectRefused(store.writeDistinct([{ ts: T0, granularity: 'minute', set: 'active', channel: '', value: -3 }]));
      await expectRefused(store.writeDistinct([{ ts: T0, granularity: 'second' as 'minute', set: 'active', channel: '', value: 3 }]));
    });

    it('InfluxQL injection through every query parameter returns nothing extra and harms nothing', async () => {
      const seed = [
        row(T0, { channel: 'wx', community: 'c1', campaign: 'k1' }, { message: 1 }),
        row(T0, { channel: 'qq', community: 'c2', campaign: 'k2' }, { message: 2 }),
      ];
      await store.writeCounters(seed);
      await store.writeDistinct([
        { ts: T0, granularity: 'minute', set: 'active', channel: 'wx', value: 5 },
        { ts: T0, granularity: 'minute', set: 'active', channel: '', value: 7 },
      ]);
      const baseline = await store.queryCounters(cq({ from: T0, to: T0 + HOUR, by: ['channel'] }));
      for (const evil of INJECTIONS) {
        for (const dim of DIMENSIONS) {
          expect(await store.queryCounters(cq({ from: T0, to: T0 + HOUR, filter: { [dim]: evil } })), evil).toEqual([]);
          expect(await store.queryCounters(cq({ from: T0, to: T0 + HOUR, by: ['channel'], filter: { channel: 'wx', [dim]: evil } }))).toEqual([]);
        }
        expect(await store.queryDistinct({ from: T0, to: T0 + HOUR, granularity: 'minute', set: 'active', byChannel: true, channel: evil })).toEqual([]);
        await expectRefused(store.tagValues(evil as Dimension, T0, T0 + HOUR));
        await expectRefused(store.queryCounters(cq({ from: T0, to: T0 + HOUR, counters: [evil] })));
        await expectRefused(store.queryCounters(cq({ from: T0, to: T0 + HOUR, by: [evil as Dimension] })));
      }
      // Everything is still there, unchanged.
      expect(await store.queryCounters(cq({ from: T0, to: T0 + HOUR, by: ['channel'] }))).toEqual(baseline);
      expect(baseline).toEqual([
        { tags: { channel: 'qq' }, points: [{ ts: T0, sums: { message: 2 } }] },
        { tags: { channel: 'wx' }, points: [{ ts: T0, sums: { message: 1 } }] },
      ]);
      expect(await store.tagValues('channel', T0, T0 + HOUR)).toEqual(['qq', 'wx']);
      expect(await store.queryDistinct({ from: T0, to: T0 + HOUR, granularity: 'minute', set: 'active', byChannel: false })).toEqual([
        { points: [{ ts: T0, value: 7 }] },
      ]);
    });

    it('alert history filters: injections and values no tag can hold (NUL, newline) find nothing and harm nothing', async () => {
      const alert: AlertRow = {
        id: 'e1', ts: T0, alertKey: 'members_drop|channel=wx', ruleId: 'members_drop', ruleName: '新增成员骤降', kpi: 'new_members', splitDim: 'channel', splitValue: 'wx',
        from: 'pending', state: 'firing', severity: 'crit', value: 10, baseline: 100, baselineKind: 'previous', change: -0.9, threshold: 0.15, summary: 'x',
      };
      await store.writeAlertEvents([alert]);
      const q = { from: T0, to: T0 + HOUR, limit: 10 };
      for (const evil of [...INJECTIONS, '\u0000', 'members_drop\u0000', 'a\nb', '\u0001', '\ud800', 'new_members ']) {
        for (const key of ['ruleId', 'kpi', 'state'] as const) expect(await store.queryAlertEvents({ ...q, [key]: evil }), `${key}=${JSON.stringify(evil)}`).toEqual([]);
      }
      expect(await store.queryAlertEvents({ ...q, ruleId: 'members_drop', kpi: 'new_members', state: 'firing' })).toMatchObject([{ id: 'e1', alertKey: alert.alertKey }]);
    });

    it('uptime: one span per run, a heartbeat moves it on, queried by overlap', async () => {
      expect(await store.queryUptime(T0, T0 + DAY)).toEqual([]);
      await store.writeUptime({ runId: 'run-a', startedAt: T0, lastSeenAt: T0 });
      await store.writeUptime({ runId: 'run-a', startedAt: T0, lastSeenAt: T0 + 10 * MIN }); // heartbeat
      await store.writeUptime({ runId: 'run-b', startedAt: T0 + HOUR, lastSeenAt: T0 + 2 * HOUR });
      expect(await store.queryUptime(T0, T0 + DAY)).toEqual([
        { runId: 'run-a', startedAt: T0, lastSeenAt: T0 + 10 * MIN },
        { runId: 'run-b', startedAt: T0 + HOUR, lastSeenAt: T0 + 2 * HOUR },
      ]);
      // Overlap: run-a ended before, run-b starts at `to` (excluded), both sides exact.
      expect((await store.queryUptime(T0 + 10 * MIN + 1, T0 + HOUR)).map((u) => u.runId)).toEqual([]);
      expect((await store.queryUptime(T0 + 10 * MIN, T0 + HOUR + 1)).map((u) => u.runId)).toEqual(['run-a', 'run-b']);
      expect((await store.queryUptime(T0 + 90 * MIN, T0 + 91 * MIN)).map((u) => u.runId)).toEqual(['run-b']);
    });

    it('distinct counts: write, rewrite, total, by channel, one channel', async () => {
      const dr = (ts: number, channel: string, value: number, granularity: DistinctRow['granularity'] = 'minute'): DistinctRow => ({
        ts,
        granularity,
        set: 'active',
        channel,
        value,
      });
      await store.writeDistinct([
        dr(T0, '', 10),
        dr(T0, 'wx', 6),
        dr(T0, 'qq', 5),
        dr(T0 + MIN, '', 3),
        dr(T0 + MIN, 'wx', 3),
        dr(T0 + 2 * MIN, 'qq', 1),
        dr(T0, '', 99, 'hour'),
        dr(T0, 'wx', 98, 'hour'),
        dr(T0, '', 999, 'day'),
      ]);
      // The period fills up: the same (ts, granularity, set, channel) is rewritten.
      await store.writeDistinct([dr(T0 + MIN, '', 4), dr(T0 + MIN, 'wx', 4)]);
      const base = { from: T0, to: T0 + HOUR, set: 'active' as const };
      expect(await store.queryDistinct({ ...base, granularity: 'minute', byChannel: false })).toEqual([
        { points: [{ ts: T0, value: 10 }, { ts: T0 + MIN, value: 4 }] },
      ]);
      expect(await store.queryDistinct({ ...base, granularity: 'minute', byChannel: true })).toEqual([
        { channel: 'qq', points: [{ ts: T0, value: 5 }, { ts: T0 + 2 * MIN, value: 1 }] },
        { channel: 'wx', points: [{ ts: T0, value: 6 }, { ts: T0 + MIN, value: 4 }] },
      ]);
      expect(await store.queryDistinct({ ...base, granularity: 'minute', byChannel: false, channel: 'wx' })).toEqual([
        { channel: 'wx', points: [{ ts: T0, value: 6 }, { ts: T0 + MIN, value: 4 }] },
      ]);
      expect(await store.queryDistinct({ ...base, granularity: 'hour', byChannel: false })).toEqual([{ points: [{ ts: T0, value: 99 }] }]);
      expect(await store.queryDistinct({ ...base, granularity: 'hour', byChannel: true })).toEqual([
        { channel: 'wx', points: [{ ts: T0, value: 98 }] },
      ]);
      expect(await store.queryDistinct({ ...base, from: T0 - DAY, to: T0 + DAY, granularity: 'day', byChannel: false })).toEqual([
        { points: [{ ts: T0, value: 999 }] },
      ]);
      // [from, to)
      expect(await store.queryDistinct({ ...base, from: T0 + MIN, to: T0 + 2 * MIN, granularity: 'minute', byChannel: true })).toEqual([
        { channel: 'wx', points: [{ ts: T0 + MIN, value: 4 }] },
      ]);
      expect(await store.queryDistinct({ ...base, granularity: 'minute', byChannel: false, channel: 'nope' })).toEqual([]);
      // Distinct rows do not leak into counter queries or tag values.
      expect(await store.queryCounters(cq({ from: T0, to: T0 + HOUR }))).toEqual([]);
      expect(await store.tagValues('channel', T0, T0 + HOUR)).toEqual([]);
    });

    it('distinct channel values with tricky characters round-trip', async () => {
      const rows: DistinctRow[] = TRICKY.map((channel, i) => ({ ts: T0, granularity: 'minute', set: 'active', channel, value: i + 1 }));
      await store.writeDistinct(rows);
      const all = await store.queryDistinct({ from: T0, to: T0 + MIN, granularity: 'minute', set: 'active', byChannel: true });
      expect(all).toEqual([...TRICKY].sort().map((channel) => ({ channel, points: [{ ts: T0, value: TRICKY.indexOf(channel) + 1 }] })));
      for (const [i, channel] of TRICKY.entries()) {
        const one = await store.queryDistinct({ from: T0, to: T0 + MIN, granularity: 'minute', set: 'active', byChannel: true, channel });
        expect(one).toEqual([{ channel, points: [{ ts: T0, value: i + 1 }] }]);
      }
    });

    it('group sketches by a list of groups (tricky names, injections read nothing); day marks and kept day rankings', async () => {
      const sk = (n: number) => {
        const h = new Hll();
        for (let i = 0; i < n; i++) h.add(((i * 2_654_435_761) % 2 ** 25) * 64 + 1);
        return h.toBase64();
      };
      const g = (community: string, n: number, ts = T0, granularity: SketchRow['granularity'] = 'day'): SketchRow => ({ ts, granularity, set: 'active', channel: '', node: 'main', sketch: sk(n), community });
      await store.writeSketches([...TRICKY.map((c, i) => g(c, i + 1)), g('plain', 9), g('plain', 3, T0, 'hour')]);
      const list = async (community: readonly string[]) => (await store.querySketches({ from: T0, to: T0 + DAY, granularity: 'day', set: 'active', community })).map((r) => r.community);
      expect(await list([TRICKY[0]!, 'plain', 'absent'])).toEqual([TRICKY[0], 'plain'].sort());
      expect(await list(TRICKY)).toEqual([...TRICKY].sort());
      // Only the injections that are also stored names (" and ') read their own rows.
      expect(await list(INJECTIONS)).toEqual(INJECTIONS.filter((c) => TRICKY.includes(c)).sort());
      expect(await list([])).toEqual([]);
      // Writing a group's day sketch marks its day (an hour sketch or a channel's does not).
      const first = await store.groupDayTops(T0, T0 + 2 * DAY);
      expect([...first.marks.keys()]).toEqual([T0]);
      expect(first.tops.size).toBe(0);
      await store.writeSketches([g('plain', 3, T0 + DAY, 'hour'), { ts: T0 + DAY, granularity: 'day', set: 'active', channel: '', node: 'main', sketch: sk(2) }]);
      expect([...(await store.groupDayTops(T0, T0 + 2 * DAY)).marks.keys()]).toEqual([T0]);
      const mark = first.marks.get(T0)!;
      const top = { day: T0, basis: mark, groups: 12, top: [{ community: TRICKY[1]!, members: 9 }, { community: 'plain', members: 9 }], rest: 4, groupsSketch: sk(12) };
      await store.writeGroupDayTop(top);
      await store.writeGroupDayTop({ ...top, day: T0 + DAY, basis: null, top: [], rest: 0, groups: 0 });
      const kept = await store.groupDayTops(T0, T0 + 2 * DAY);
      expect(kept.tops.get(T0)).toEqual(top);
      expect(kept.tops.get(T0 + DAY)).toEqual({ ...top, day: T0 + DAY, basis: null, top: [], rest: 0, groups: 0 });
      // Another write of the day: a new mark, the kept ranking stays as it was (its basis tells it is stale).
      await store.writeSketches([g('plain', 10)]);
      const after = await store.groupDayTops(T0, T0 + DAY);
      expect(after.marks.get(T0)).not.toBe(mark);
      expect(after.tops.get(T0)?.basis).toBe(mark);
    });

    it('member sketches: write, replace per node, read every node and channel of a period, tricky channels, dense sketches', async () => {
      const sk = (n: number, from = 0) => {
        const h = new Hll();
        for (let i = from; i < from + n; i++) h.add(((i * 2_654_435_761) % 2 ** 25) * 64 + 1 + (i % 7));
        return h.toBase64();
      };
      const row = (ts: number, channel: string, node: string, sketch: string, granularity: SketchRow['granularity'] = 'day'): SketchRow => ({ ts, granularity, set: 'active', channel, node, sketch });
      // The store keeps the text as given; 150,000 characters are split across fields in InfluxDB (64 KB limit per string).
      const dense = randomBytes(112_500).toString('base64');
      await store.writeSketches([row(T0, '', 'main', sk(3)), row(T0, 'wx', 'main', sk(2)), row(T0, '', 'node-b', sk(5, 100)), row(T0 + DAY, '', 'main', dense)]);
      await store.writeSketches([row(T0, '', 'main', sk(4))]); // the period fills up: replaced in full
      await store.writeSketches(TRICKY.map((channel) => row(T0, channel, 'main', sk(1), 'hour')));
      const day = await store.querySketches({ from: T0, to: T0 + DAY, granularity: 'day', set: 'active' });
      expect(day.map((r) => [r.ts, r.channel, r.node, Hll.fromBase64(r.sketch).estimate()])).toEqual([
        [T0, '', 'main', 4],
        [T0, '', 'node-b', 5],
        [T0, 'wx', 'main', 2],
      ]);
      // Readers merge the nodes' rows: 4 ∪ 5 (disjoint) = 9.
      const merged = new Hll();
      for (const r of day.filter((x) => x.channel === '')) merged.merge(Hll.fromBase64(r.sketch));
      expect(merged.estimate()).toBe(9);
      const next = await store.querySketches({ from: T0 + DAY, to: T0 + 2 * DAY, granularity: 'day', set: 'active' });
      expect(next).toHaveLength(1);
      expect(next[0]!.sketch).toBe(dense);
      expect(await store.querySketches({ from: T0, to: T0 + DAY, granularity: 'day', set: 'active', channel: 'wx' })).toHaveLength(1);
      expect(await store.querySketches({ from: T0, to: T0 + DAY, granularity: 'day', set: 'push_reached' })).toEqual([]);
      const hour = await store.querySketches({ from: T0, to: T0 + HOUR, granularity: 'hour', set: 'active' });
      expect(hour.map((r) => r.channel).sort()).toEqual([...TRICKY].sort());
      for (const channel of [...TRICKY, ...INJECTIONS]) {
        const one = await store.querySketches({ from: T0, to: T0 + HOUR, granularity: 'hour', set: 'active', channel });
        expect(one.map((r) => r.channel)).toEqual(TRICKY.includes(channel) ? [channel] : []);
      }
      await expectRefused(store.writeSketches([row(T0, '', 'main', 'not base64!')]));
      await expectRefused(store.writeSketches([row(T0, '', '', sk(1))]));
      // Sketches do not leak into counts.
      expect(await store.queryDistinct({ from: T0, to: T0 + 2 * DAY, granularity: 'day', set: 'active', byChannel: false })).toEqual([]);
    });

    it('writes a batch larger than one request chunk (and reports throughput)', async () => {
      const N = 12_000;
      const channels = ['wx', 'qw', 'dy', 'xhs'];
      const rows: CounterRow[] = [];
      for (let i = 0; i < N; i++) {
        rows.push(row(T0 + Math.floor(i / 40) * MIN, { channel: channels[i % 4], community: `c${i % 40}`, campaign: 'k' }, { message: 1, page_view: i % 7 }));
      }
      const t = performance.now();
      await store.writeCounters(rows);
      const secs = (performance.now() - t) / 1000;
      console.log(`[${target.name}] wrote ${N} counter rows (${COUNTERS.length} counters each) in ${secs.toFixed(2)} s = ${Math.round(N / secs)} rows/s`);
      const s = await store.queryCounters(cq({ from: T0, to: T0 + DAY, stepMs: DAY, counters: ['message', 'page_view'], by: ['channel'] }));
      let pv = 0;
      for (let i = 0; i < N; i++) pv += i % 7;
      expect(s.map((x) => x.tags.channel)).toEqual(['dy', 'qw', 'wx', 'xhs']);
      expect(s.reduce((a, x) => a + (x.points[0]?.sums.message ?? 0), 0)).toBe(N);
      expect(s.reduce((a, x) => a + (x.points[0]?.sums.page_view ?? 0), 0)).toBe(pv);
      expect((await store.tagValues('community', T0, T0 + DAY)).length).toBe(40);
    });

    it('serves concurrent calls', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.writeCounters([row(T0 + i * MIN, { channel: `ch${i % 3}` }, { message: i })])),
      );
      const [s, vals] = await Promise.all([
        store.queryCounters(cq({ from: T0, to: T0 + HOUR, stepMs: HOUR })),
        store.tagValues('channel', T0, T0 + HOUR),
      ]);
      expect(s).toEqual([{ tags: {}, points: [{ ts: T0, sums: { message: 190 } }] }]);
      expect(vals).toEqual(['ch0', 'ch1', 'ch2']);
    });
  });
}

// One influxd for the whole file (started only when the file has influx tests to run).
const runInflux = influxdOrSkip('InfluxDB conformance suite');
let influx: InfluxdHandle | null = null;
beforeAll(async () => {
  if (runInflux) influx = await startInfluxd();
});
afterAll(async () => influx?.stop());

// ---------------------------------------------------------------------------- DuckDB
let duckDir = '';
let duckN = 0;
runConformance({
  name: 'duckdb',
  run: true,
  beforeAll: async () => {
    duckDir = mkdtempSync(join(tmpdir(), 'pulse-duck-'));
  },
  afterAll: async () => rmSync(duckDir, { recursive: true, force: true }),
  make: async () => {
    const store = createDuckDbStore({ file: join(duckDir, `t${++duckN}.duckdb`) });
    await store.init();
    return store;
  },
});

// ---------------------------------------------------------------------------- InfluxDB
runConformance({
  name: 'influx (influxd v1 HTTP API)',
  run: runInflux,
  make: async () => {
    if (!influx) throw new Error('influxd not started');
    const store = createInfluxStore({ url: influx.url, db: influx.newDb() });
    await store.init();
    return store;
  },
});

// Adapter-specific checks that the shared suite cannot see (escaping below the port).
describe.skipIf(!runInflux)('InfluxDB adapter internals', () => {
  let h: InfluxdHandle;
  beforeAll(() => {
    if (!influx) throw new Error('influxd not started');
    h = influx;
  });

  it('encodes line protocol with the documented escapes', () => {
    expect(
      encodePoint({ measurement: 'm e,a', tags: { b: 'x y,z=w', a: '', 'k=1': 'v' }, fields: { 'f 1': 3, g: 0 }, ts: 1700000000000 }),
    ).toBe('m\\ e\\,a,b=x\\ y\\,z\\=w,k\\=1=v f\\ 1=3i,g=0i 1700000000000');
    expect(() => encodePoint({ measurement: 'm', tags: { a: 'x\\' }, fields: { v: 1 }, ts: 1 })).toThrow(StoreError);
  });

  it('quotes InfluxQL strings so no payload escapes the literal, even ones the adapter short-circuits', async () => {
    const store = createInfluxStore({ url: h.url, db: h.db });
    await store.init();
    await store.writeCounters([row(T0, { channel: 'wx' }, { message: 1 })]);
    const client = new InfluxClient({ url: h.url, db: h.db });
    expect(quoteString(`a\\'b\n`)).toBe(`'a\\\\\\'b\\n'`);
    expect(quoteIdent(`a\\"b`)).toBe(`"a\\\\\\"b"`);
    for (const evil of [...INJECTIONS, ...REFUSED]) {
      const q = `SELECT sum("message") FROM "pulse_counts" WHERE "channel" = ${quoteString(evil)} AND time >= ${T0}ms AND time < ${T0 + HOUR}ms`;
      expect(await client.query(q), evil).toEqual([]);
    }
    expect(await store.tagValues('channel', T0, T0 + HOUR)).toEqual(['wx']);
  });

  it('maps HTTP failures to StoreError with the right retryability', async () => {
    const missing = new InfluxClient({ url: h.url, db: 'no_such_db' });
    const e1 = await missing.write(['pulse_counts message=1i 1']).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(StoreError);
    expect((e1 as StoreError).retryable).toBe(false);
    expect((e1 as StoreError).message).toMatch(/404.*database not found/);
    const e2 = await missing.query('SELECT "x" FROM "y"').catch((e: unknown) => e);
    expect((e2 as StoreError).message).toMatch(/database not found/);
    const bad = await new InfluxClient({ url: h.url, db: h.db }).query('SELECT').catch((e: unknown) => e);
    expect((bad as StoreError).retryable).toBe(false);
    // Nothing listens here: a network error, worth retrying.
    const down = createInfluxStore({ url: `http://127.0.0.1:${await freePort()}`, db: 'x', timeoutMs: 2000 });
    const e3 = await down.init().catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(StoreError);
    expect((e3 as StoreError).retryable).toBe(true);
    expect((e3 as StoreError).message).toMatch(/ECONNREFUSED/);
    await expect(down.ping()).rejects.toBeInstanceOf(StoreError);
  });

  it('survives an influxd restart on the same port and data dir (outage)', async () => {
    const store = createInfluxStore({ url: h.url, db: h.newDb(), timeoutMs: 2000 });
    await store.init();
    await store.writeCounters([row(T0, { channel: 'wx' }, { message: 4 })]);
    await h.kill();
    const e = await store.writeCounters([row(T0 + MIN, { channel: 'wx' }, { message: 1 })]).catch((x: unknown) => x);
    expect((e as StoreError).retryable).toBe(true);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreError);
    await h.restart();
    await store.ping();
    await store.writeCounters([row(T0 + MIN, { channel: 'wx' }, { message: 1 })]);
    expect(await store.queryCounters(cq({ from: T0, to: T0 + HOUR, stepMs: HOUR }))).toEqual([
      { tags: {}, points: [{ ts: T0, sums: { message: 5 } }] },
    ]);
  });
});
