/**
 * Test harness: the store of a 20,000-group suite (communityBoard, weeklyCommunities,
 * groupAlerts), DuckDB on a temp file or a throw-away influxd, and the one writer that loads
 * its population (large chunks, retried as the spool retries when influxd times out on a
 * loaded machine).
 *
 *   const g = await openGroupStore('influx', 'pulse-board-');
 *   await writeGroupRows(g.store, rows);
 *   …
 *   await g.stop();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeCountersInChunks } from '../../src/store/bulkWrite.js';
import { createDuckDbStore } from '../../src/store/duckdb/adapter.js';
import { createInfluxStore } from '../../src/store/influx/adapter.js';
import type { CounterRow, MetricStore } from '../../src/store/port.js';
import { SHANGHAI_DAY_OFFSET_MS } from '../../src/store/rollups.js';
import { startInfluxd, type InfluxdHandle } from './influxd.js';

export type StoreKind = 'duckdb' | 'influx';

export interface GroupStore {
  readonly store: MetricStore;
  /** Temp dir of the suite (the DuckDB file is `pulse.duckdb` in it: a server started on dataDir finds it). */
  readonly dir: string;
  readonly influx: InfluxdHandle | null;
  /** The influx database ('' on DuckDB). */
  readonly influxDb: string;
  /** Closes the store, influxd and removes the dir. Idempotent. */
  stop(): Promise<void>;
}

export async function openGroupStore(kind: StoreKind, prefix: string, influxTimeoutMs = 120_000): Promise<GroupStore> {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  let influx: InfluxdHandle | null = null;
  let influxDb = '';
  let store: MetricStore;
  if (kind === 'influx') {
    influx = await startInfluxd();
    influxDb = influx.newDb();
    store = createInfluxStore({ url: influx.url, db: influxDb, timeoutMs: influxTimeoutMs });
  } else store = createDuckDbStore({ file: path.join(dir, 'pulse.duckdb') });
  await store.init();
  return {
    store,
    dir,
    influx,
    influxDb,
    async stop() {
      await store.close();
      await influx?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes a population's rows in 20,000-row calls, each retried up to 60 times when the store
 * says retryable. `rows` is the whole population (every 10 s row of each day it touches), so
 * the groups' rollups are summed here in one pass (wholePeriods) instead of read and derived
 * by the store per call, which on influxd costs reads of up to 20,000 series per call.
 */
export function writeGroupRows(store: MetricStore, rows: readonly CounterRow[]): Promise<number> {
  return writeCountersInChunks(store, rows, { chunk: 20_000, attempts: 60, rollups: { wholePeriods: { dayOffsetMs: SHANGHAI_DAY_OFFSET_MS } } });
}
