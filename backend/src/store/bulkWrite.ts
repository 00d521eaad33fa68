/**
 * Bulk counter writes outside the collector (benchmarks, test fixtures, one-off loads): the
 * rows in chunks, each retried as the spool retries (durability/spool.ts) when the store calls
 * the failure retryable (influxd's write timeout on a loaded machine), and refused at once when
 * it does not (bad data, auth).
 */
import type { CounterRow, MetricStore } from './port.js';
import { rollupRowsOf, type RollupOptions } from './rollups.js';

export interface BulkWriteOptions {
  /** Rows per writeCounters call (default 5,000). */
  chunk?: number;
  /** Tries per chunk before the error is thrown (default 20). */
  attempts?: number;
  /** Pause between tries (default 1 s). */
  retryMs?: number;
  /**
   * The groups' hour and day rollups (store/rollups.ts). By default the store derives them
   * from the rows (MetricStore.writeCounters, 'derive': right for any set of rows). A load of
   * WHOLE periods may derive them here instead (`{ wholePeriods: <the store's RollupOptions> }`):
   * one pass, no reads, which a big load on InfluxDB needs — but the rollup rows then REPLACE
   * the stored ones, so `rows` must hold every 10 s row of each hour and day it touches.
   */
  rollups?: 'derive' | { wholePeriods: RollupOptions };
}

/** Writes every row; resolves with the number of retried chunk writes. */
export async function writeCountersInChunks(store: MetricStore, rows: readonly CounterRow[], opts: BulkWriteOptions = {}): Promise<number> {
  const whole = opts.rollups === undefined || opts.rollups === 'derive' ? null : opts.rollups.wholePeriods;
  if (whole) rows = [...rows, ...rollupRowsOf(rows, whole)];
  const mode = whole ? 'given' : 'derive';
  const chunk = opts.chunk ?? 5_000;
  const attempts = opts.attempts ?? 20;
  let retries = 0;
  for (let i = 0; i < rows.length; i += chunk) {
    for (let attempt = 1; ; attempt++) {
      try {
        await store.writeCounters(rows.slice(i, i + chunk), { rollups: mode });
        break;
      } catch (err) {
        if (!(err as { retryable?: boolean }).retryable || attempt >= attempts) throw err;
        retries++;
        await new Promise((r) => setTimeout(r, opts.retryMs ?? 1_000));
      }
    }
  }
  return retries;
}
