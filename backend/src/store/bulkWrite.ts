/**
 * Bulk counter writes outside the collector (benchmarks, test fixtures, one-off loads): the
 * rows in chunks, each retried as the spool retries (durability/spool.ts) when the store calls
 * the failure retryable (influxd's write timeout on a loaded machine), and refused at once when
 * it does not (bad data, auth).
 */
import type { CounterRow, MetricStore } from './port.js';
import { SHANGHAI_DAY_OFFSET_MS, rollupRowsOf, type RollupOptions } from './rollups.js';

export interface BulkWriteOptions {
  /** Rows per writeCounters call (default 5,000). */
  chunk?: number;
  /** Tries per chunk before the error is thrown (default 20). */
  attempts?: number;
  /** Pause between tries (default 1 s). */
  retryMs?: number;
  /**
   * The groups' hour and day rollups (store/rollups.ts) are derived from `rows` and written
   * after them, as the collector would have (Asia/Shanghai days by default); null: none. The
   * rollup rows REPLACE the stored ones: `rows` must hold every 10 s row of the hours and days
   * it touches (a whole local day, or the whole population).
   */
  rollups?: RollupOptions | null;
}

/** Writes every row; resolves with the number of retried chunk writes. */
export async function writeCountersInChunks(store: MetricStore, rows: readonly CounterRow[], opts: BulkWriteOptions = {}): Promise<number> {
  const rollups = opts.rollups === undefined ? { dayOffsetMs: SHANGHAI_DAY_OFFSET_MS } : opts.rollups;
  if (rollups) rows = [...rows, ...rollupRowsOf(rows, rollups)];
  const chunk = opts.chunk ?? 5_000;
  const attempts = opts.attempts ?? 20;
  let retries = 0;
  for (let i = 0; i < rows.length; i += chunk) {
    for (let attempt = 1; ; attempt++) {
      try {
        await store.writeCounters(rows.slice(i, i + chunk));
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
