/**
 * Month-level KPIs on a known event set over 40 past days, on DuckDB (temp file) and a real
 * influxd: 月活, 人均互动频次（月）, 7 / 30-day 留存率 and 复购率 from /api/v1/series' logic
 * (SeriesService) and from the alert source equal the values computed exactly from the
 * event set (JS Sets), within each point's stated bound. Members are hashed with a server
 * salt as ingest does; the history goes in through the collector (events with past ts).
 *
 * Two populations: ~6,000 members over all channels (7- and 30-day unions dense, bound
 * ±1 % per sketch) and 150 members on `store_qr` (every sketch sparse: exact).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKpiSource } from '../src/alerting/kpiSource.js';
import type { EventType } from '../src/catalogue/events.js';
import { KPI_BY_ID } from '../src/catalogue/kpis.js';
import { Collector } from '../src/collector/collector.js';
import { createMemberHasher } from '../src/ingest/memberHash.js';
import { SeriesService } from '../src/query/series.js';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import { createInfluxStore } from '../src/store/influx/adapter.js';
import type { MetricStore } from '../src/store/port.js';
import { DAY, HOUR, MINUTE, dayStart } from '../src/time/zone.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';

const TZ = 'Asia/Shanghai';
const hash = createMemberHasher('month-kpi-test-salt-0123456789abcdef');
const DAYS = 40;
const CHANNELS = ['wecom', 'miniprogram', 'wechat_group'];

/** Deterministic PRNG (mulberry32): the event set is the same on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Ev {
  type: EventType;
  day: number;
  member: string;
  channel: string;
}

/** Day 0 … DAYS−1; day DAYS−1 is yesterday. Members live a while and are active some days. */
function eventSet(): Ev[] {
  const r = rng(12);
  const out: Ev[] = [];
  const add = (member: string, channel: string, day: number, buyP: number) => {
    out.push({ type: 'message', day, member, channel });
    const n = Math.floor(r() * 4);
    for (let k = 0; k < n; k++) out.push({ type: 'interaction', day, member, channel });
    if (r() < buyP) out.push({ type: 'order.paid', day, member, channel });
  };
  for (let i = 0; i < 6000; i++) {
    const start = Math.floor(r() * 50) - 10;
    const end = start + 10 + Math.floor(r() * 50);
    const channel = CHANNELS[i % CHANNELS.length]!;
    for (let d = Math.max(0, start); d < Math.min(DAYS, end); d++) if (r() < 0.3) add(`m${i}`, channel, d, 0.15);
  }
  // A small channel: every sketch stays sparse.
  for (let i = 0; i < 150; i++) {
    const start = Math.floor(r() * 40) - 10;
    for (let d = Math.max(0, start); d < Math.min(DAYS, start + 35); d++) if (r() < 0.25) add(`s${i}`, 'store_qr', d, 0.3);
  }
  return out;
}

/** Exact values from the event set for the 30 / 7 days ending with day `e`. */
function exact(events: readonly Ev[], e: number, channel?: string) {
  const evs = channel ? events.filter((x) => x.channel === channel) : events;
  const members = (types: EventType[], from: number, to: number) => new Set(evs.filter((x) => types.includes(x.type) && x.day >= from && x.day <= to).map((x) => x.member));
  const active: EventType[] = ['message', 'interaction', 'order.paid'];
  const inter = (a: Set<string>, b: Set<string>) => [...a].filter((m) => b.has(m)).length;
  const mau = members(active, e - 29, e);
  const interactions = evs.filter((x) => x.type === 'interaction' && x.day >= e - 29 && x.day <= e).length;
  const ret = (k: number) => {
    const prev = members(active, e - 2 * k + 1, e - k);
    const cur = members(active, e - k + 1, e);
    return prev.size ? inter(prev, cur) / prev.size : null;
  };
  const prevBuyers = members(['order.paid'], e - 59, e - 30);
  const buyers = members(['order.paid'], e - 29, e);
  return {
    active_members_30d: mau.size,
    interactions_per_member_month: interactions / mau.size,
    retention_7d: ret(7),
    retention_30d: ret(30),
    repeat_purchase_rate: buyers.size ? inter(prevBuyers, buyers) / buyers.size : null,
  };
}

function collectorOn(store: MetricStore): Collector {
  return new Collector({
    bucketMs: 10_000,
    latenessMs: 5 * MINUTE,
    flushMs: 600_000,
    timezone: TZ,
    pushCapPerDay: 3,
    store,
    sink: {
      async append(s) {
        await store.writeSketches(s.sketches ?? []);
        await store.writeCounters(s.counters);
        await store.writeDistinct(s.distinct);
      },
    },
    logger: pino({ level: 'silent' }),
    metrics: { flushDuration: () => {}, rowsWritten: () => {} },
  });
}

const MONTH_KPIS = ['active_members_30d', 'interactions_per_member_month', 'retention_7d', 'retention_30d', 'repeat_purchase_rate'] as const;

for (const kind of ['duckdb', 'influx'] as const) {
  const runIt = kind === 'duckdb' || influxdOrSkip('month KPI suite (influx)');
  describe.runIf(runIt)(`month-level KPIs on a known 40-day event set (${kind})`, () => {
    let influx: InfluxdHandle | null = null;
    let dir = '';
    let store: MetricStore;
    const events = eventSet();
    const now = Date.now();
    // Day DAYS−1 is yesterday: nothing depends on the time of day the test runs.
    const today = dayStart(now, TZ);
    const dayTs = (d: number) => today - (DAYS - d) * DAY;

    beforeAll(async () => {
      if (kind === 'influx') influx = await startInfluxd();
      dir = mkdtempSync(path.join(tmpdir(), 'pulse-month-'));
      store = kind === 'duckdb' ? createDuckDbStore({ file: path.join(dir, 'p.duckdb') }) : createInfluxStore({ url: influx!.url, db: influx!.newDb(), timeoutMs: 30_000 });
      await store.init();
      const collector = collectorOn(store);
      await collector.seedFromStore();
      // All of a day's events in one minute (10:00 local): one minute / hour / day period each.
      events.forEach((e, i) => {
        collector.add({ type: e.type, ts: dayTs(e.day) + 10 * HOUR + (i % 50_000), tags: { channel: e.channel, community: '', campaign: '' }, member: hash(e.member), ...(e.type === 'order.paid' ? { amount: 100 } : {}) }, now);
      });
      await collector.flush();
    }, 300_000);
    afterAll(async () => {
      await store?.close();
      await influx?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('series at step=1d equal the exact values within each point\'s bound (all channels: dense unions)', async () => {
      const series = new SeriesService(store, 10_000, TZ, () => now);
      const from = dayTs(DAYS - 10);
      const to = dayTs(DAYS);
      for (const kpi of MONTH_KPIS) {
        const t0 = performance.now();
        const res = await series.series({ kpi, from: String(from), to: String(to), step: '1d', filter: {} });
        const ms = performance.now() - t0;
        const s = res.series[0]!;
        expect(s.points).toHaveLength(10);
        const bounds = new Map(s.bounds ?? []);
        for (const [ts, value] of s.points) {
          const e = Math.round((ts - dayTs(0)) / DAY);
          const want = exact(events, e)[kpi];
          const bound = bounds.get(ts)!;
          expect(value, `${kpi} day ${e}`).not.toBeNull();
          expect(Math.abs(value! - want!), `${kpi} day ${e}: ${value} vs exact ${want} (bound ±${bound})`).toBeLessThanOrEqual(bound);
        }
        const last = s.points[s.points.length - 1]!;
        const e = DAYS - 1;
        console.log(`[${kind}] ${kpi} yesterday: ${last[1]} (exact ${exact(events, e)[kpi]}, bound ±${bounds.get(last[0])}), 10 points in ${ms.toFixed(0)} ms`);
      }
    }, 120_000);

    it('the bounds are the ones the descriptions state: ±1 % relative for 月活, at most a few points for the rates', async () => {
      const series = new SeriesService(store, 10_000, TZ, () => now);
      const e = DAYS - 1;
      const at = async (kpi: string) => {
        const res = await series.series({ kpi, from: String(dayTs(e)), to: String(dayTs(e + 1)), step: '1d', filter: {} });
        return { value: res.series[0]!.points[0]![1]!, bound: res.series[0]!.bounds![0]![1] };
      };
      const mau = await at('active_members_30d');
      // Dense: the bound is 1 % of the count, not 0 (the union of 30 days is far over 1,500).
      expect(mau.bound).toBeCloseTo(mau.value * 0.01, 6);
      for (const kpi of ['retention_7d', 'retention_30d', 'repeat_purchase_rate']) {
        const { bound } = await at(kpi);
        expect(bound, kpi).toBeGreaterThan(0);
        expect(bound, kpi).toBeLessThan(0.1);
      }
    }, 60_000);

    it('a small channel (every sketch sparse) is exact', async () => {
      const series = new SeriesService(store, 10_000, TZ, () => now);
      const from = dayTs(DAYS - 5);
      for (const kpi of MONTH_KPIS) {
        const res = await series.series({ kpi, from: String(from), to: String(dayTs(DAYS)), step: '1d', filter: { channel: 'store_qr' } });
        for (const [ts, value] of res.series[0]!.points) {
          const e = Math.round((ts - dayTs(0)) / DAY);
          const want = exact(events, e, 'store_qr')[kpi];
          if (want === null) expect(value).toBeNull();
          else expect(value, `${kpi} day ${e}`).toBeCloseTo(want, 9);
        }
      }
    }, 60_000);

    it('by=channel gives one series per channel, each equal to that channel alone', async () => {
      const series = new SeriesService(store, 10_000, TZ, () => now);
      const q = { kpi: 'retention_7d', from: String(dayTs(DAYS - 2)), to: String(dayTs(DAYS)), step: '1d' };
      const split = await series.series({ ...q, by: 'channel', filter: {} });
      expect(split.series.map((s) => s.tags.channel)).toEqual([...CHANNELS, 'store_qr'].sort());
      const one = await series.series({ ...q, filter: { channel: 'wecom' } });
      expect(split.series.find((s) => s.tags.channel === 'wecom')!.points).toEqual(one.series[0]!.points);
    }, 60_000);

    it('steps other than 1d are refused with the reason', async () => {
      const series = new SeriesService(store, 10_000, TZ, () => now);
      await expect(series.series({ kpi: 'active_members_30d', from: String(dayTs(30)), to: String(dayTs(DAYS)), step: '1h', filter: {} })).rejects.toThrow(/step must be 1d/);
    });

    it('the alert source answers a 1d window with the same value, total and per channel', async () => {
      const source = createKpiSource({ store, timezone: TZ, historySince: () => 0, now: () => now });
      const info = source.catalogue().find((k) => k.id === 'retention_30d')!;
      expect(info).toMatchObject({ distinct: true, ratio: true, target: 0.85 });
      const e = DAYS - 1;
      const w = await source.window('retention_30d', dayTs(e), dayTs(e + 1), 'channel');
      const want = exact(events, e).retention_30d!;
      expect(Math.abs(w!.total.value! - want)).toBeLessThan(0.05);
      expect(w!.splits.store_qr!.value).toBeCloseTo(exact(events, e, 'store_qr').retention_30d!, 9);
      const mau = await source.window('active_members_30d', dayTs(e), dayTs(e + 1));
      expect(Math.abs(mau!.total.value! - exact(events, e).active_members_30d) / exact(events, e).active_members_30d).toBeLessThanOrEqual(0.01);
      expect(KPI_BY_ID.get('interactions_per_member_month')!.target).toBe(12);
    }, 60_000);
  });
}
