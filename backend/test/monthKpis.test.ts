/**
 * Month-level KPIs on a known event set over 40 past days, on DuckDB (temp file) and a real
 * influxd: 月活, 人均互动频次（月）, 7 / 30-day 留存率 and 复购率 from GET /api/v1/series (and
 * its SeriesService), the alert source and the wall's month values equal the values computed
 * exactly from the event set (JS Sets), within each point's stated bound. The events are
 * POSTed with past `ts` to a running server (history ingest), which hashes the member ids
 * with its salt.
 *
 * Two populations: ~6,000 members over all channels (7- and 30-day unions dense, bound
 * ±1 % per sketch) and 150 members on `store_qr` (every sketch sparse: exact).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRuleDocument } from '@siyu-pulse/alerts';
import { createKpiSource } from '../src/alerting/kpiSource.js';
import type { EventType } from '@siyu-pulse/contracts/catalogue';
import { KPI_BY_ID } from '@siyu-pulse/contracts/catalogue';
import { SeriesService, type SeriesResult } from '../src/query/series.js';
import { startTestPulse, type TestPulse } from './harness/pulse.js';
import { MonthLive } from '../src/live/monthLive.js';
import { Hll } from '../src/sketch/hll.js';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import { createInfluxStore } from '../src/store/influx/adapter.js';
import type { MetricStore, SketchRow } from '../src/store/port.js';
import { DAY, HOUR, dayStart } from '../src/time/zone.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';

const TZ = 'Asia/Shanghai';
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

const MONTH_KPIS = ['active_members_30d', 'interactions_per_member_month', 'retention_7d', 'retention_30d', 'repeat_purchase_rate'] as const;

for (const kind of ['duckdb', 'influx'] as const) {
  const runIt = kind === 'duckdb' || influxdOrSkip('month KPI suite (influx)');
  describe.runIf(runIt)(`month-level KPIs on a known 40-day event set (${kind})`, () => {
    let influx: InfluxdHandle | null = null;
    let pulse: TestPulse;
    let store: MetricStore;
    const events = eventSet();
    const now = Date.now();
    // Day DAYS−1 is yesterday: nothing depends on the time of day the test runs.
    const today = dayStart(now, TZ);
    const dayTs = (d: number) => today - (DAYS - d) * DAY;

    beforeAll(async () => {
      if (kind === 'influx') influx = await startInfluxd();
      // A fixed salt: the same hashes (so the same sketches) on every run.
      pulse = await startTestPulse({ ...(influx ? { influx } : {}), env: { PULSE_SALT: 'month-kpi-test-salt-0123456789abcdef' } });
      store = pulse.store;
      // All of a day's events in one minute (10:00 local): one minute / hour / day period each.
      const body = events.map((e, i) => ({ type: e.type, channel: e.channel, member: e.member, ts: dayTs(e.day) + 10 * HOUR + (i % 50_000), ...(e.type === 'order.paid' ? { amount: 100 } : {}) }));
      for (let i = 0; i < body.length; ) {
        const r = await pulse.post(body.slice(i, i + 5_000).map((x) => JSON.stringify(x)).join('\n'), { contentType: 'application/x-ndjson' });
        if (r.status === 429 || r.status === 503) {
          // Back-pressure (rate or a history burst faster than the store): wait as told, resend.
          await new Promise((res) => setTimeout(res, 1000 * Number(r.headers.get('retry-after') ?? 1)));
          continue;
        }
        expect(r.status, JSON.stringify(r.json)).toBe(202);
        expect((r.json as { rejected: unknown[] }).rejected).toEqual([]);
        i += 5_000;
      }
      await pulse.flushToStore();
    }, 600_000);
    afterAll(async () => {
      await pulse?.stopAndClean();
      await influx?.stop();
    });

    it('GET /api/v1/series at step=1d equals the exact values within each point\'s bound (all channels: dense unions)', async () => {
      const from = dayTs(DAYS - 10);
      const to = dayTs(DAYS);
      for (const kpi of MONTH_KPIS) {
        const t0 = performance.now();
        const r = await pulse.get(`/api/v1/series?kpi=${kpi}&from=${from}&to=${to}&step=1d`);
        const ms = performance.now() - t0;
        expect(r.status, JSON.stringify(r.json)).toBe(200);
        const res = r.json as SeriesResult;
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

    it('the wall\'s month values (live/monthLive.ts) are the series values of today and yesterday', async () => {
      const live = new MonthLive(store, TZ, (err) => {
        throw err;
      }, () => now);
      await live.refresh();
      const v = live.current()!;
      const series = new SeriesService(store, 10_000, TZ, () => now);
      for (const kpi of MONTH_KPIS) {
        const res = await series.series({ kpi, from: String(dayTs(DAYS - 1)), to: String(now), step: '1d', filter: {} });
        const [[, yesterday], [, today]] = res.series[0]!.points as [[number, number | null], [number, number | null]];
        expect(v.yesterday[kpi], kpi).toBe(yesterday);
        expect(v.today[kpi], kpi).toBe(today);
      }
      // Today's 30 days hold 29 days of the set: 月活 today is the union of days 11 … 39.
      const set = new Set(events.filter((e) => e.day >= DAYS - 29).map((e) => e.member));
      expect(Math.abs(v.today.active_members_30d! - set.size)).toBeLessThanOrEqual(set.size * 0.01);
      expect(v.todayByChannel.store_qr!.active_members_30d).toBe(new Set(events.filter((e) => e.day >= DAYS - 29 && e.channel === 'store_qr').map((e) => e.member)).size);
    }, 60_000);

    it('月活 at step=1d over 30 days equals merging each point\'s 30 day sketches naively (prints both times)', async () => {
      const series = new SeriesService(store, 10_000, TZ, () => now);
      const from = dayTs(DAYS - 30);
      const to = dayTs(DAYS);
      const times: number[] = [];
      let res;
      for (let i = 0; i < 5; i++) {
        const t0 = performance.now();
        res = await series.series({ kpi: 'active_members_30d', from: String(from), to: String(to), step: '1d', filter: {} });
        times.push(performance.now() - t0);
      }
      expect(res!.series[0]!.points).toHaveLength(30);
      // The naive way: every point merges its 30 day sketches (read once).
      const t0 = performance.now();
      const rows = await store.querySketches({ from: from - 29 * DAY, to, granularity: 'day', set: 'active', channel: '' });
      const read = performance.now() - t0;
      const days = new Map(rows.map((r) => [r.ts, Hll.fromBase64(r.sketch)]));
      const dense = [...days.values()].filter((h) => h.isDense).length;
      const t1 = performance.now();
      const naive: number[] = [];
      for (let p = 0; p < 30; p++) {
        const u = new Hll();
        for (let d = 0; d < 30; d++) {
          const h = days.get(from + (p - d) * DAY);
          if (h) u.merge(h);
        }
        naive.push(u.estimate());
      }
      const naiveMs = performance.now() - t1;
      expect(res!.series[0]!.points.map(([, v]) => v)).toEqual(naive);
      times.sort((a, b) => a - b);
      console.log(
        `[${kind}] 月活 step=1d × 30 points: median ${times[2]!.toFixed(0)} ms (min ${times[0]!.toFixed(0)}, max ${times[4]!.toFixed(0)}) over 5 runs; ` +
          `${rows.length} day sketches read (${dense} dense) in ${read.toFixed(0)} ms; naive 900 merges ${naiveMs.toFixed(0)} ms on top of the read`,
      );
    }, 60_000);

    it('alert rules accept the month KPIs over a 1d window, and the alert source answers it as the series API does', async () => {
      const source = createKpiSource({ store, timezone: TZ, historySince: () => 0, now: () => now });
      const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
      const doc = (window: string) => ({
        rules: [
          { id: 'retention_low', name: '7 日留存率低于目标', kind: 'target', kpi: 'retention_7d', window, for: window },
          { id: 'repeat_drop', name: '复购率下跌', kpi: 'repeat_purchase_rate', by: 'channel', window, baseline: { type: 'previous_window' }, thresholds: { fire: 0.2, clear: 0.1 }, direction: 'down' },
        ],
      });
      const ok = parseRuleDocument(doc('1d'), { file: 'month.yaml', catalogue });
      expect(ok.problems).toEqual([]);
      expect(ok.rules.map((r) => r.kpi)).toEqual(['retention_7d', 'repeat_purchase_rate']);
      // A window that is not a stored period is refused.
      expect(parseRuleDocument(doc('7d'), { file: 'month.yaml', catalogue }).problems.length).toBeGreaterThan(0);
      // The source answers the rule's window (the day holding its end) like the series API.
      const e = DAYS - 1;
      const w = await source.window('retention_7d', dayTs(e), dayTs(e + 1));
      const api = (await pulse.get(`/api/v1/series?kpi=retention_7d&from=${dayTs(e)}&to=${dayTs(e + 1)}&step=1d`)).json as SeriesResult;
      expect(w!.total.value).toBe(api.series[0]!.points[0]![1]);
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

/**
 * The query time of 月活 at step=1d over 30 points with realistic (dense) day sketches: 60
 * stored days of ~40,000 active members each, all channels and 7 channels, written through
 * the store port. Prints figures; asserts only that the answer equals the naive merge.
 */
for (const kind of ['duckdb', 'influx'] as const) {
  const runIt = kind === 'duckdb' || influxdOrSkip('month KPI timing (influx)');
  describe.runIf(runIt)(`月活 over 30 days with dense day sketches: query time (${kind})`, () => {
    let influx: InfluxdHandle | null = null;
    let dir = '';
    let store: MetricStore;
    const now = Date.now();
    const today = dayStart(now, TZ);
    const channels = ['wecom', 'miniprogram', 'wechat_group', 'douyin', 'app_push', 'sms', 'store_qr'];

    beforeAll(async () => {
      if (kind === 'influx') influx = await startInfluxd();
      dir = mkdtempSync(path.join(tmpdir(), 'pulse-month-dense-'));
      store = kind === 'duckdb' ? createDuckDbStore({ file: path.join(dir, 'p.duckdb') }) : createInfluxStore({ url: influx!.url, db: influx!.newDb(), timeoutMs: 60_000 });
      await store.init();
      const r = rng(7);
      const key = () => Math.floor(r() * 2 ** 25) * 64 + 1 + Math.min(39, Math.floor(-Math.log2(r() || 1e-12)));
      for (let d = 1; d <= 60; d++) {
        const total = new Hll();
        const rows: SketchRow[] = [];
        for (const channel of channels) {
          const h = new Hll();
          for (let i = 0; i < 6_000; i++) h.add(key());
          total.merge(h);
          rows.push({ ts: today - d * DAY, granularity: 'day', set: 'active', channel, node: 'main', sketch: h.toBase64() });
        }
        rows.push({ ts: today - d * DAY, granularity: 'day', set: 'active', channel: '', node: 'main', sketch: total.toBase64() });
        await store.writeSketches(rows);
      }
    }, 300_000);
    afterAll(async () => {
      await store?.close();
      await influx?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('prints the series time for 30 points (total and by channel) and equals the naive 900-merge answer', async () => {
      const series = new SeriesService(store, 10_000, TZ, () => now);
      const from = today - 30 * DAY;
      const q = { kpi: 'active_members_30d', from: String(from), to: String(today), step: '1d', filter: {} };
      const time = async (extra: object) => {
        const times: number[] = [];
        let res;
        for (let i = 0; i < 5; i++) {
          const t0 = performance.now();
          res = await series.series({ ...q, ...extra });
          times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        return { res: res!, median: times[2]!, min: times[0]!, max: times[4]! };
      };
      const total = await time({});
      const split = await time({ by: 'channel' });
      expect(split.res.series).toHaveLength(channels.length);
      const t0 = performance.now();
      const rows = await store.querySketches({ from: from - 29 * DAY, to: today, granularity: 'day', set: 'active', channel: '' });
      const read = performance.now() - t0;
      const days = new Map(rows.map((x) => [x.ts, Hll.fromBase64(x.sketch)]));
      expect([...days.values()].every((h) => h.isDense)).toBe(true);
      const t1 = performance.now();
      const naive: number[] = [];
      for (let p = 0; p < 30; p++) {
        const u = new Hll();
        for (let d = 0; d < 30; d++) {
          const h = days.get(from + (p - d) * DAY);
          if (h) u.merge(h);
        }
        naive.push(u.estimate());
      }
      const naiveMs = performance.now() - t1;
      expect(total.res.series[0]!.points.map(([, v]) => v)).toEqual(naive);
      const f = (x: { median: number; min: number; max: number }) => `median ${x.median.toFixed(0)} ms (min ${x.min.toFixed(0)}, max ${x.max.toFixed(0)})`;
      console.log(
        `[${kind}] 月活 step=1d × 30 points, dense day sketches (~${naive[29]} members in 30 days): total ${f(total)}; by channel (7 series) ${f(split)}; ` +
          `reading the ${rows.length} all-channel day sketches alone ${read.toFixed(0)} ms; naive 900 merges ${naiveMs.toFixed(0)} ms after that read`,
      );
    }, 300_000);
  });
}
