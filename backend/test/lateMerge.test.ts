/**
 * A late event for a bucket and periods that memory no longer holds (2 h old) is added to
 * the stored bucket (not written over it) and its member merged into the stored sketches of
 * its minute, hour and day — on DuckDB and a real influxd. This is the collector's part of
 * history ingest: rows and periods it did not seed are read from the store before they are
 * rewritten.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COUNTERS } from '@siyu-pulse/contracts/catalogue';
import { createMemberHasher } from '../src/ingest/memberHash.js';
import { Hll, sketchKeyOf } from '../src/sketch/hll.js';
import { createDuckDbStore } from '../src/store/duckdb/adapter.js';
import { createInfluxStore } from '../src/store/influx/adapter.js';
import { HOUR, floorTo } from '../src/time/zone.js';
import { collectorWritingTo } from './harness/collector.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';

const hash = createMemberHasher('late-merge-test-salt-0123456789');
const tags = { channel: 'wecom', community: '社群A', campaign: '' };


for (const kind of ['duckdb', 'influx'] as const) {
  const runIt = kind === 'duckdb' || influxdOrSkip('late merge suite (influx)');
  describe.runIf(runIt)(`a 2 h late event is added to its closed bucket and merged into its periods (${kind})`, () => {
    let influx: InfluxdHandle | null = null;
    let dir = '';
    beforeAll(async () => {
      if (kind === 'influx') influx = await startInfluxd();
      dir = mkdtempSync(path.join(tmpdir(), 'pulse-late-'));
    }, 60_000);
    afterAll(async () => {
      await influx?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('stored bucket 5 + 2 late = 7 messages, not 2; stored minute / hour / day members 3 → 4 (a known member changes nothing)', async () => {
      const store = kind === 'duckdb' ? createDuckDbStore({ file: path.join(dir, 'p.duckdb') }) : createInfluxStore({ url: influx!.url, db: influx!.newDb(), timeoutMs: 10_000 });
      await store.init();
      const now = Date.now();
      const T = floorTo(now - 2 * HOUR, 10_000);
      try {
        // What an earlier run stored: 5 messages by 3 members in bucket T.
        const first = collectorWritingTo(store, () => T + 20_000);
        await first.seedFromStore();
        for (let i = 0; i < 5; i++) first.add({ type: 'message', ts: T + i, tags, member: hash(`m${i % 3}`) }, T + i);
        await first.flush();
        // Now, two hours later, a fresh process: T is far outside what it seeds.
        const second = collectorWritingTo(store, () => now);
        await second.seedFromStore();
        second.add({ type: 'message', ts: T + 5_000, tags, member: hash('m-late') }, now);
        second.add({ type: 'message', ts: T + 6_000, tags, member: hash('m1') }, now);
        await second.flush();
        const [series] = await store.queryCounters({ from: T, to: T + 10_000, stepMs: 10_000, offsetMs: 0, counters: COUNTERS, by: ['channel', 'community'], filter: {} });
        expect(series!.tags).toEqual({ channel: 'wecom', community: '社群A' });
        expect(series!.points.map((p) => [p.ts, p.sums.message])).toEqual([[T, 7]]);
        for (const g of ['minute', 'hour', 'day'] as const) {
          const start = second.periodStart(g, T);
          const [total] = await store.queryDistinct({ from: start, to: start + 1, granularity: g, set: 'active', byChannel: false });
          expect(total!.points, g).toEqual([{ ts: start, value: 4 }]);
          const sketches = await store.querySketches({ from: start, to: start + 1, granularity: g, set: 'active', channel: '' });
          const merged = new Hll();
          for (const r of sketches) merged.merge(Hll.fromBase64(r.sketch));
          const expected = new Hll();
          for (const m of ['m0', 'm1', 'm2', 'm-late']) expected.add(sketchKeyOf(hash(m)));
          expect(merged.serialize().equals(expected.serialize()), g).toBe(true);
        }
      } finally {
        await store.close();
      }
    }, 60_000);
  });
}
