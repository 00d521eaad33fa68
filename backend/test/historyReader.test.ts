/**
 * The backtest's HistoryReader answers every window exactly as one store query per window
 * does (the live engine's store path), on DuckDB and on a real influxd: 3 days of uneven
 * 30-second counter rows on three channels (one channel silent for a day) and distinct
 * counts per minute / hour / day, 100 random minute-aligned windows from 1 minute to 2 days
 * (many crossing UTC midnight), total and per channel, and the KPI values the engine sees
 * through createKpiSource for a count, a ratio and a distinct KPI.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryReader } from '../src/alerting/historyReader.js';
import { createKpiSource, storeReader } from '../src/alerting/kpiSource.js';
import { COUNTERS } from '@siyu-pulse/contracts/catalogue';
import { KPI_BY_ID } from '@siyu-pulse/contracts/catalogue';
import { countersFor } from '../src/query/series.js';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import { createInfluxStore } from '../src/store/influx/adapter.js';
import type { CounterRow, DistinctRow, MetricStore } from '../src/store/port.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;
/** Beijing midnight, 3 days of data from here. */
const T0 = Date.parse('2026-11-20T00:00:00+08:00');
const CHANNELS = ['wecom', 'sms', 'douyin'];

/** Deterministic pseudo-random numbers (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function counterRows(): CounterRow[] {
  const r = rng(7);
  const rows: CounterRow[] = [];
  for (let ts = T0; ts < T0 + 3 * DAY; ts += 30_000) {
    for (const channel of CHANNELS) {
      // douyin is silent on the second day; every channel skips ~30% of buckets.
      if (channel === 'douyin' && ts >= T0 + DAY && ts < T0 + 2 * DAY) continue;
      if (r() < 0.3) continue;
      const counters: Record<string, number> = Object.fromEntries(COUNTERS.map((c) => [c, 0]));
      counters.member_join = Math.floor(r() * 4);
      counters.push_delivered = Math.floor(r() * 20);
      counters.push_open = Math.floor(r() * (counters.push_delivered + 1) * 0.4);
      counters.message = Math.floor(r() * 9);
      rows.push({ ts, tags: { channel, community: '', campaign: '' }, counters });
    }
  }
  return rows;
}

function distinctRows(): DistinctRow[] {
  const r = rng(11);
  const rows: DistinctRow[] = [];
  const periods = [
    ['minute', MIN],
    ['hour', H],
    ['day', DAY],
  ] as const;
  for (const [g, step] of periods) {
    for (let ts = T0; ts < T0 + 3 * DAY; ts += step) {
      const per = CHANNELS.map((c) => [c, Math.floor(r() * 50 * (step / MIN) ** 0.5)] as const);
      rows.push({ ts, granularity: g, set: 'active', channel: '', value: per.reduce((a, [, v]) => a + v, 0) });
      for (const [channel, value] of per) if (value > 0) rows.push({ ts, granularity: g, set: 'active', channel, value });
    }
  }
  return rows;
}

const runInflux = influxdOrSkip('HistoryReader on InfluxDB');

describe.each([
  { store: 'duckdb' as const, run: true },
  { store: 'influx' as const, run: runInflux },
])('HistoryReader equals one store query per window ($store)', ({ store: kind, run }) => {
  let influx: InfluxdHandle | undefined;
  let store: MetricStore;
  let dir = '';

  beforeAll(async () => {
    if (!run) return;
    if (kind === 'influx') {
      influx = await startInfluxd();
      store = createInfluxStore({ url: influx.url, db: influx.newDb(), timeoutMs: 30_000 });
    } else {
      dir = mkdtempSync(path.join(tmpdir(), 'pulse-history-'));
      store = await createDuckDbStore({ file: path.join(dir, 'pulse.duckdb') });
    }
    await store.init();
    const rows = counterRows();
    for (let i = 0; i < rows.length; i += 5000) await store.writeCounters(rows.slice(i, i + 5000));
    await store.writeDistinct(distinctRows());
  }, 180_000);
  afterAll(async () => {
    await store?.close();
    await influx?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.runIf(run)('answers 100 random windows (total and per channel) with the same sums', async () => {
    const r = rng(3);
    const direct = storeReader(store);
    const cached = new HistoryReader({ store, counters: ['member_join', 'push_delivered', 'push_open'] });
    const pick = (sums: Record<string, number>) => ({ member_join: sums.member_join ?? 0, push_delivered: sums.push_delivered ?? 0, push_open: sums.push_open ?? 0 });
    let crossing = 0;
    for (let i = 0; i < 100; i++) {
      const len = [1, 5, 15, 60, 240, 1440, 2880][Math.floor(r() * 7)]! * MIN;
      const from = T0 - 2 * H + Math.floor(r() * ((3 * DAY + 4 * H) / MIN)) * MIN;
      const to = from + len;
      if (Math.floor(from / DAY) !== Math.floor((to - 1) / DAY)) crossing++;
      const by = r() < 0.5 ? ('channel' as const) : undefined;
      const [a, b] = await Promise.all([direct.counters(from, to, by), cached.counters(from, to, by)]);
      const where = `[${new Date(from).toISOString()}, +${len / MIN}m) by ${by ?? '-'}`;
      expect(Object.keys(b.total).length === 0, `${where} total presence`).toBe(Object.keys(a.total).length === 0);
      expect(pick(b.total), where).toEqual(pick(a.total));
      expect([...b.splits.keys()].sort(), `${where} split values`).toEqual([...a.splits.keys()].sort());
      for (const [k, v] of a.splits) expect(pick(b.splits.get(k)!), `${where} ${k}`).toEqual(pick(v));
    }
    expect(crossing).toBeGreaterThan(10);
    // Windows reach 6 UTC days; a day costs 1 query for the total and 2 by channel: ≤ 18, not one per window.
    expect(cached.queries).toBeLessThanOrEqual(18);
  });

  it.runIf(run)('gives the engine the same KPI values (count, ratio, distinct) through createKpiSource', async () => {
    const historySince = () => T0;
    const plain = createKpiSource({ store, timezone: 'Asia/Shanghai', historySince, now: () => T0 + 4 * DAY });
    const r = rng(5);
    for (const kpi of ['new_members', 'push_open_rate', 'active_members']) {
      const def = KPI_BY_ID.get(kpi)!;
      const fast = createKpiSource({ store, timezone: 'Asia/Shanghai', historySince, reader: new HistoryReader({ store, counters: countersFor(def) }), now: () => T0 + 4 * DAY });
      for (let i = 0; i < 24; i++) {
        const len = kpi === 'active_members' ? [MIN, H, DAY][i % 3]! : [15 * MIN, H, DAY][i % 3]!;
        const to = T0 + len + Math.floor(r() * ((3 * DAY - len) / MIN)) * MIN;
        const by = i % 2 ? ('channel' as const) : undefined;
        const [a, b] = await Promise.all([plain.window(kpi, to - len, to, by), fast.window(kpi, to - len, to, by)]);
        expect(b, `${kpi} ${new Date(to).toISOString()} ${len / MIN}m ${by ?? ''}`).toEqual(a);
      }
    }
    // Before history: "not enough history" from both.
    expect(await plain.window('new_members', T0 - H, T0 + H)).toBeNull();
  });
});
