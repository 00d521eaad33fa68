/**
 * A month of history fed in bulk through the server's own path (BulkFeeder → IngestService →
 * journal → collector → spool → store), on DuckDB and a real influxd: sorted by time with a
 * share of stragglers for days already written and evicted, with a small memory bound so the
 * collector flushes and evicts many times. The totals per day (messages, GMV, active
 * members) on /api/v1/series are exact, and the collector ends holding nothing of the month.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BulkFeeder } from '../src/ingest/bulk.js';
import { DAY } from '../src/time/zone.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

const CN = 8 * 3_600_000;
const cnDay = (ts: number) => Math.floor((ts + CN) / DAY) * DAY - CN;
const DAYS = 30;
const PER_DAY = 600;
const BATCH = 3_000;

/** Deterministic pseudo-random (mulberry32). */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Ev {
  id: string;
  type: 'message' | 'order.paid';
  channel: string;
  ts: number;
  member: string;
  amount?: number;
}

function month(today: number) {
  const r = rng(12);
  const events: Ev[] = [];
  const want = new Map<number, { messages: number; gmv: number; members: Set<string> }>();
  const first = today - DAYS * DAY;
  for (let d = 0; d < DAYS; d++) {
    const start = first + d * DAY;
    const w = { messages: 0, gmv: 0, members: new Set<string>() };
    want.set(start, w);
    for (let i = 0; i < PER_DAY; i++) {
      const member = `d${d}-m${Math.floor(r() * 150)}`;
      const ts = start + Math.floor(((i + r()) / PER_DAY) * DAY);
      const paid = i % 10 === 0;
      const amount = paid ? 100 + Math.floor(r() * 50_000) : undefined;
      events.push({ id: `hist-${d}-${i}`, type: paid ? 'order.paid' : 'message', channel: i % 3 === 0 ? 'miniprogram' : 'wecom', ts, member, ...(amount ? { amount } : {}) });
      w.members.add(member);
      if (paid) w.gmv += amount!;
      else w.messages++;
    }
  }
  // Sorted by time, but 3 % arrive late: one to five days after their neighbours (a producer
  // re-sending an old queue), for days already flushed and evicted.
  const keyed = events.map((e) => ({ e, key: r() < 0.03 ? e.ts + (1 + Math.floor(r() * 5)) * DAY : e.ts }));
  keyed.sort((a, b) => a.key - b.key);
  return { first, events: keyed.map((k) => k.e), want };
}

for (const kind of ['duckdb', 'influx'] as const) {
  const run = kind === 'duckdb' || influxdOrSkip('bulk history suite (influx)');
  describe.runIf(run)(`a month of history in bulk (${kind})`, () => {
    let influx: InfluxdHandle | null = null;
    let pulse: TestPulse | undefined;
    beforeAll(async () => {
      if (kind === 'influx') influx = await startInfluxd();
      pulse = await startTestPulse({ influx: influx ?? undefined, env: { PULSE_SALT: 'bulk-history-test-salt-0123456789', PULSE_INGEST_RATE: '10000000', PULSE_INGEST_BURST: '100000000' } });
    }, 60_000);
    afterAll(async () => {
      await pulse?.stopAndClean();
      await influx?.stop();
    });

    it(`${DAYS * PER_DAY} events over ${DAYS} days: exact daily totals, bounded memory, nothing held at the end`, async () => {
      const p = pulse!;
      const today = cnDay(Date.now());
      const { first, events, want } = month(today);
      const feeder = new BulkFeeder({ ingest: p.ingest, collector: p.collector, backlog: p.storeBacklog, flushToStore: p.flushToStore, maxHeldRows: 3_000, maxBacklogRows: 20_000 });
      let accepted = 0;
      const started = performance.now();
      for (let i = 0; i < events.length; i += BATCH) {
        const r = await feeder.feed(events.slice(i, i + BATCH));
        expect(r.rejected).toEqual([]);
        accepted += r.accepted;
      }
      await feeder.finish();
      const seconds = (performance.now() - started) / 1000;
      console.info(`[bulkHistory] ${kind}: ${accepted} events in ${seconds.toFixed(1)} s (${Math.round(accepted / seconds)} events/s), peak held rows ${feeder.peakHeldRows}, forced flushes ${feeder.forcedFlushes}`);
      expect(accepted).toBe(events.length);
      expect(feeder.forcedFlushes).toBeGreaterThan(3);
      // Everything of the month was written and left memory.
      expect(p.collector.heldRows()).toBe(0);

      const series = async (kpi: string) => {
        const r = await p.get(`/api/v1/series?kpi=${kpi}&from=${first}&to=${today}&step=1d`);
        expect(r.status, JSON.stringify(r.json)).toBe(200);
        return (r.json as { series: { points: [number, number | null][] }[] }).series[0]!.points;
      };
      const expected = (f: (w: { messages: number; gmv: number; members: Set<string> }) => number) => [...want].map(([ts, w]) => [ts, f(w)]);
      expect(await series('messages')).toEqual(expected((w) => w.messages));
      expect(await series('gmv')).toEqual(expected((w) => w.gmv));
      // ≤ 150 members a day: the sketch's sparse mode is exact here (fixed salt).
      expect(await series('active_members')).toEqual(expected((w) => w.members.size));

      // The same month again: every id is a duplicate, nothing changes.
      let duplicates = 0;
      for (let i = 0; i < events.length; i += BATCH) duplicates += (await feeder.feed(events.slice(i, i + BATCH))).duplicates;
      await feeder.finish();
      expect(duplicates).toBe(events.length);
      expect(await series('messages')).toEqual(expected((w) => w.messages));
    }, 300_000);
  });
}
