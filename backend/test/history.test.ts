/**
 * Late and historical events (issue 12, point 3), on DuckDB and a real influxd:
 * - through the HTTP API: events 2 h, 3 days and 399 days old are accepted and ADDED to what
 *   their buckets and day periods already held (series API); one 401 days old is refused
 *   with the history limit named, and nothing else of its batch is lost; the same ids sent
 *   again after a restart are duplicates (the id ledger is on disk);
 * - through IngestService with an injected clock (no sleeps): a duplicate id 23 h later is
 *   counted once, 49 h later (past the 48 h window) it counts again; a batch the journal
 *   refused leaves no id marked.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTERS } from '@siyu-pulse/contracts/catalogue';
import { LmdbIdLedger } from '../src/ingest/idLedger.js';
import { createMemberHasher } from '../src/ingest/memberHash.js';
import { IngestService, IngestUnavailableError, type DurableLog } from '../src/ingest/service.js';
import { TagGuard } from '../src/ingest/tagGuard.js';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import { createInfluxStore } from '../src/store/influx/adapter.js';
import type { MetricStore } from '../src/store/port.js';
import { DAY, HOUR, floorTo } from '../src/time/zone.js';
import { collectorWritingTo } from './harness/collector.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

const CN = 8 * HOUR;
const cnDay = (ts: number) => Math.floor((ts + CN) / DAY) * DAY - CN;

type Answer = { accepted: number; duplicates: number; rejected: { index: number; error: string }[] };

for (const kind of ['duckdb', 'influx'] as const) {
  const run = kind === 'duckdb' || influxdOrSkip('history suite (influx)');

  describe.runIf(run)(`history over HTTP (${kind})`, () => {
    let influx: InfluxdHandle | null = null;
    let pulse: TestPulse | undefined;
    let dataDir = '';
    let influxDb: string | undefined;
    const now = Date.now();
    // Bucket starts 2 h, 3 days, 399 days back; the 401-day one is beyond the limit.
    const at = { h2: floorTo(now - 2 * HOUR, 10_000), d3: floorTo(now - 3 * DAY, 10_000), d399: floorTo(now - 399 * DAY, 10_000) };
    const start = () => startTestPulse({ influx: influx ?? undefined, influxDb, dataDir, env: { PULSE_SALT: 'history-test-salt-0123456789' } });

    beforeAll(async () => {
      if (kind === 'influx') influx = await startInfluxd();
      influxDb = influx?.newDb();
      dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-history-'));
      pulse = await start();
    }, 60_000);
    afterAll(async () => {
      await pulse?.close();
      await influx?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    const msgs = (id: string, ts: number, n: number, member?: (i: number) => string) =>
      Array.from({ length: n }, (_, i) => ({ id: `${id}-${i}`, type: 'message', channel: 'wecom', ts: ts + i, ...(member ? { member: member(i) } : {}) }));
    const series = async (q: string) => {
      const r = await pulse!.get(`/api/v1/series?${q}`);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      return (r.json as { series: { points: [number, number | null][] }[] }).series.flatMap((s) => s.points);
    };
    const bucket = (kpi: string, ts: number) => series(`kpi=${kpi}&from=${ts}&to=${ts + 10_000}&step=all`);
    const day = (kpi: string, ts: number) => series(`kpi=${kpi}&from=${cnDay(ts)}&to=${cnDay(ts) + DAY}&step=1d`);

    it('2 h, 3 days and 399 days old are accepted and added to their stored buckets; 401 days is refused alone', async () => {
      const first = [...msgs('a2h', at.h2, 3), ...msgs('a3d', at.d3, 2, (i) => `u${i}`), ...msgs('a399', at.d399, 4)];
      const r1 = await pulse!.post(JSON.stringify(first));
      expect(r1.json).toEqual({ accepted: 9, duplicates: 0, rejected: [] });
      await pulse!.flushToStore();
      expect(await bucket('messages', at.h2)).toEqual([[at.h2, 3]]);
      expect(await bucket('messages', at.d3)).toEqual([[at.d3, 2]]);
      expect(await bucket('messages', at.d399)).toEqual([[at.d399, 4]]);
      expect(await day('active_members', at.d3)).toEqual([[cnDay(at.d3), 2]]);

      // Later events for the same (long closed, evicted) buckets, one too old in the middle.
      const second = [...msgs('b2h', at.h2 + 100, 1), ...msgs('b3d', at.d3 + 100, 2, (i) => (i === 0 ? 'u0' : 'u-new')), { id: 'too-old', type: 'message', channel: 'wecom', ts: now - 401 * DAY }, ...msgs('b399', at.d399 + 100, 1), { type: 'message', channel: 'wecom' }];
      const r2 = await pulse!.post(JSON.stringify(second));
      const a2 = r2.json as Answer;
      expect(r2.status).toBe(202);
      expect(a2.accepted).toBe(5);
      expect(a2.rejected).toHaveLength(1);
      expect(a2.rejected[0]!.index).toBe(3);
      expect(a2.rejected[0]!.error).toMatch(/older than the history limit of 400 days \(PULSE_HISTORY_DAYS\)/);
      await pulse!.flushToStore();
      expect(await bucket('messages', at.h2)).toEqual([[at.h2, 4]]);
      expect(await bucket('messages', at.d3)).toEqual([[at.d3, 4]]);
      expect(await bucket('messages', at.d399)).toEqual([[at.d399, 5]]);
      // u0, u1 stored; u0 again and u-new: the stored day sketch is merged, 3 members.
      expect(await day('active_members', at.d3)).toEqual([[cnDay(at.d3), 3]]);
      expect(await day('messages', at.d3)).toEqual([[cnDay(at.d3), 4]]);
      const metrics = await pulse!.get('/metrics');
      expect(String(metrics.json)).toMatch(/pulse_events_rejected_total\{reason="too_late"\} 1/);
    }, 60_000);

    it('after a restart the same ids are duplicates (the ledger is on disk) and the stored counts stand', async () => {
      await pulse!.close();
      pulse = await start();
      const again = [...msgs('a2h', at.h2, 3), ...msgs('a3d', at.d3, 2, (i) => `u${i}`), ...msgs('a399', at.d399, 4), ...msgs('b3d', at.d3 + 100, 2)];
      const r = await pulse.post(JSON.stringify(again));
      expect(r.json).toEqual({ accepted: 0, duplicates: 11, rejected: [] });
      await pulse.flushToStore();
      expect(await bucket('messages', at.d399)).toEqual([[at.d399, 5]]);
      expect(await day('messages', at.d3)).toEqual([[cnDay(at.d3), 4]]);
      expect(await day('active_members', at.d3)).toEqual([[cnDay(at.d3), 3]]);
    }, 60_000);
  });

  describe.runIf(run)(`dedup window with an injected clock (${kind})`, () => {
    let influx: InfluxdHandle | null = null;
    let dir = '';
    let store: MetricStore;
    beforeAll(async () => {
      if (kind === 'influx') influx = await startInfluxd();
      dir = mkdtempSync(path.join(tmpdir(), 'pulse-ledger-'));
      store = kind === 'duckdb' ? createDuckDbStore({ file: path.join(dir, 'p.duckdb') }) : createInfluxStore({ url: influx!.url, db: influx!.newDb(), timeoutMs: 10_000 });
      await store.init();
    }, 60_000);
    afterAll(async () => {
      await store?.close();
      await influx?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('a duplicate 23 h later counts once, 49 h later again; a refused or busy batch marks nothing; a reopened ledger remembers', async () => {
      const t0 = floorTo(Date.now() - 3 * DAY, HOUR);
      const clock = { now: t0 };
      const collector = collectorWritingTo(store, () => clock.now);
      let failNext = false;
      let busy: string | null = null;
      const log: DurableLog = {
        append(items) {
          if (failNext) {
            failNext = false;
            return Promise.reject(new Error('disk full'));
          }
          collector.addDurable(items, 0);
          return Promise.resolve();
        },
      };
      let ledger = LmdbIdLedger.open({ dir: path.join(dir, 'ids'), windowMs: 48 * HOUR, fsync: false });
      const service = () =>
        new IngestService({
          log,
          hashMember: createMemberHasher('ledger-test-salt-0123456789'),
          ledger,
          tagGuard: new TagGuard({ channel: 50, community: 100, campaign: 100 }),
          historyMs: 400 * DAY,
          futureSkewMs: 60_000,
          metrics: { accepted: () => {}, duplicate: () => {}, rejected: () => {} },
          busy: () => busy,
          now: () => clock.now,
        });
      // Each event is stamped in the hour it was sent (so every send lands in its own bucket).
      const send = (id: string) => service().accept([{ id, type: 'message', channel: 'wecom', ts: clock.now }]);
      try {
        expect(await send('order-1')).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
        clock.now = t0 + 23 * HOUR;
        expect(await send('order-1')).toEqual({ accepted: 0, duplicates: 1, rejected: [] });
        // The ledger is reopened (a restart): still a duplicate.
        await ledger.close();
        ledger = LmdbIdLedger.open({ dir: path.join(dir, 'ids'), windowMs: 48 * HOUR, fsync: false });
        clock.now = t0 + 47 * HOUR;
        expect(await send('order-1')).toEqual({ accepted: 0, duplicates: 1, rejected: [] });
        // A batch the journal refused: not acknowledged, so its id is not marked.
        failNext = true;
        await expect(send('order-2')).rejects.toBeInstanceOf(IngestUnavailableError);
        // A collector too busy with history refuses the batch whole: nothing counted, nothing marked.
        busy = 'the collector holds 150001 rows not yet written';
        await expect(send('order-2')).rejects.toThrow(/150001 rows/);
        busy = null;
        expect(await send('order-2')).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
        // Past the 48 h window the first id counts again.
        clock.now = t0 + 49 * HOUR;
        expect(await send('order-1')).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
        await collector.flush();
        const [s] = await store.queryCounters({ from: t0, to: t0 + 50 * HOUR, stepMs: HOUR, offsetMs: 0, counters: COUNTERS, by: [], filter: {} });
        expect(s!.points.filter((p) => p.sums.message).map((p) => [(p.ts - t0) / HOUR, p.sums.message])).toEqual([
          [0, 1],
          [47, 1],
          [49, 1],
        ]);
      } finally {
        await ledger.close();
      }
    }, 60_000);
  });
}
