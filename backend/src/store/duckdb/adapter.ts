/**
 * MetricStore on an embedded DuckDB file (the default when no InfluxDB is configured).
 *
 * pulse_counts(ts, channel, community, campaign, <one BIGINT per counter>), PK (ts, tags)
 * pulse_groups_hour, pulse_groups_day: the same columns, one row per group and hour / local day
 *   (store/rollups.ts; campaign ''); filled from pulse_counts once when a file without them opens
 * pulse_history(ts, channel, community, campaign, counter, value), no key: imported 10 s counter
 *   deltas, one row per counter set (applyAdditive); a 10 s row reads as its pulse_counts row
 *   plus the sum of its history rows (HISTORY below)
 * pulse_meta(key, value): the rollups' completeness mark
 * pulse_distinct(ts, granularity, member_set, channel, value), PK (ts, granularity, member_set, channel)
 * pulse_sketch(ts, granularity, member_set, channel, node, part, sketch), PK (…, node, part): sketch text in parts
 * pulse_group_sketch: the same with community in place of channel (per-group active members)
 * pulse_group_day_mark(day, mark): a new mark with every write of a group's day sketch
 * pulse_group_day_top(day, basis, body): a day's ranking of the groups (GroupDayTop, JSON body)
 * Tag value '' = no value. Values are always bound (parameters or the appender); the only
 * identifiers in SQL text are allow-listed catalogue names.
 */
import { randomBytes } from 'node:crypto';
import { BIGINT, DuckDBDataChunk, DuckDBInstance, VARCHAR, type DuckDBAppender, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { COUNTERS, DIMENSIONS, type Dimension } from '@siyu-pulse/contracts/catalogue';
import {
  StoreError,
  type AdditiveBatch,
  type CounterQuery,
  type CounterRow,
  type CounterSeries,
  type DistinctQuery,
  type DistinctRow,
  type DistinctSeries,
  type GroupDayTop,
  type MetricStore,
  type SketchQuery,
  type SketchRow,
  type StoreMemory,
  type WriteCountersOptions,
} from '../port.js';
import {
  checkCounterName,
  checkDimension,
  checkRange,
  compareStrings,
  compareTagLists,
  normalizeCounterQuery,
  normalizeCounterRows,
  normalizeSparseCounterRows,
  normalizeDistinctQuery,
  normalizeDistinctRows,
  normalizeSketchQuery,
  normalizeSketchRows,
  type NormalizedCounterQuery,
  type NormalizedCounterRow,
  type SparseCounterRow,
} from '../validate.js';
import { SHANGHAI_DAY_OFFSET_MS, planCounterQuery, readPlanned, rollupDeltasOf, rollupModeOf, rollupsOf, type CounterSource, type RollupOptions } from '../rollups.js';
import { noPause, slicer, SLICE_MS, type Pause } from '../../time/turns.js';

/** Characters per stored sketch part (see pulse_sketch). */
const SKETCH_PART = 3_000;
/**
 * DuckDB's buffer pool defaults to 80 % of the machine's RAM; the embedded store shares the
 * process with the server, so it is held to a limit (it spills to disk beyond it). Not lower:
 * the primary-key index of pulse_counts does not spill, and at 128 MB a store of 20,000
 * communities ran out of memory on its 7th day (measured, bench:communities) — but that was
 * with the staging tables' leak (STAGES below); without it, 128 MB held all 30 days (2.28 M
 * rows, 2026-12-07). A lower, budget-sized default waits for the import bench at that limit.
 */
export const DEFAULT_DUCKDB_MEMORY_LIMIT = '1GB';

export interface DuckDbStoreOptions {
  /** Database file (created if missing), or ':memory:'. */
  file: string;
  /** DuckDB memory_limit, e.g. '512MB' (PULSE_DUCKDB_MEMORY_LIMIT). */
  memoryLimit?: string;
  /** DuckDB checkpoint_threshold (WAL size that triggers a checkpoint); LIVE_CHECKPOINT_THRESHOLD unless set. */
  checkpointThreshold?: string;
  /** Day rollups' alignment (store/rollups.ts); Asia/Shanghai's midnight by default. */
  rollups?: RollupOptions;
  /**
   * checkpoint_threshold while import batches are applied (applyAdditive), when
   * `checkpointThreshold` is not set; IMPORT_CHECKPOINT_THRESHOLD by default.
   */
  importCheckpointThreshold?: string;
  /** How long after the last import batch the live threshold is set again (ms); IMPORT_IDLE_MS by default. */
  importIdleMs?: number;
}

/**
 * The WAL size between checkpoints while history is imported. A checkpoint compresses the
 * row groups that changed, and the last one is usually part-filled; at DuckDB's default
 * (16MB, a couple of import batches of wide counter rows) a row group of 122,880 rows is
 * checkpointed several times as it fills (by the row counts; not traced). 64MB is of the
 * order of one row group of counter rows. Measured on the brand month's first 600,000 events
 * (load ~12, docs/dev-notes/2026-12-07e/h12imp4.md): server CPU 53.5 → 45.7 s, peak RSS 524
 * → 536 MiB; 256MB saved little more (44.6 s) and held 786 MiB. Live ingest keeps the
 * configured threshold (its committed rows stay in memory until a checkpoint: the memory bench).
 */
export const IMPORT_CHECKPOINT_THRESHOLD = '64MB';
/**
 * The WAL size between checkpoints for live ingest. Committed rows stay in memory until a
 * checkpoint (IN_MEMORY_TABLE), and the 10 s sketch flush rewrites dense sketches of tens of KB
 * each: at DuckDB's 16MB default that held 30–70 MiB between checkpoints. Measured with the
 * memory bench (10 M members, idle box, lead10 note): peak RSS 398 → 375 MiB, RSS after 398 →
 * 352, ingest rate unchanged (50.9k / 49.0k → 53.5k / 47.5k ev/s first / last million).
 */
export const LIVE_CHECKPOINT_THRESHOLD = '4MB';
/** The import threshold is dropped once no import batch came for this long (ms). */
const IMPORT_IDLE_MS = 5_000;

/**
 * The imported 10 s counter deltas, narrow and append-only: (ts, tags, counter name, value),
 * one row per counter a delta sets, no primary key. A brand's event sets one or two of the
 * catalogue's counters, so an import row of pulse_counts wrote ~58 cells (and an entry of its
 * primary-key index, after a read of the keys already stored) to set ~1.5; here it appends
 * ~1.5 rows of 6 cells, and adding needs no read (deltas of one key add up on reads).
 * - Reads of the 10 s rows (queryTable 'raw', tagValues) add pulse_history to pulse_counts
 *   (UNION ALL under the same sums), only once the file has history rows (`hasHistory`).
 * - A write that replaces a 10 s row in full (writeCounters) first folds the history of its
 *   keys into pulse_counts and deletes it (foldHistory), so "replaces in full" and the
 *   'derive' rollups' "new row minus stored row" see the whole stored row.
 * - The groups' hour and day rollups stay wide (a fifth of the rows; addCounterDeltas).
 * The counter is stored by name (dictionary-compressed), so a catalogue that gains counters
 * or reorders them reads old history right.
 */
const HISTORY = 'pulse_history';
const HISTORY_TYPES = [BIGINT, ...DIMENSIONS.map(() => VARCHAR), VARCHAR, BIGINT];

/** The table of a counter source. */
const TABLE: Record<CounterSource, string> = { raw: 'pulse_counts', hour: 'pulse_groups_hour', day: 'pulse_groups_day' };

/** Double-quoted SQL identifier; only catalogue names (counters, dimensions) get here. */
function col(name: string): string {
  if (!(DIMENSIONS as readonly string[]).includes(name)) checkCounterName(name);
  return `"${name}"`;
}

const TAG_COLS = DIMENSIONS.map(col).join(', ');
/** A counter name as an SQL string literal (allow-listed catalogue names only, like col()). */
function lit(name: string): string {
  checkCounterName(name);
  return `'${name}'`;
}
/** pulse_history's rows as columns of `counters` (each row sets one of them, the rest 0). */
const historyAsColumns = (counters: readonly string[]) => counters.map((n) => `CASE WHEN counter = ${lit(n)} THEN value ELSE 0 END AS ${col(n)}`);
/** stage_counts' column types (ts, the tags, the counters) and rows per DataChunk (DuckDB's vector size). */
const STAGE_COUNT_TYPES = [BIGINT, ...DIMENSIONS.map(() => VARCHAR), ...COUNTERS.map(() => BIGINT)];
const STAGE_CHUNK_ROWS = 2048;
/** BigInts of small counter values, made once (an import appends a value per history row, most of them 1). */
const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 1024 }, (_, i) => BigInt(i));
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** Sketch and count rows appended between two looks at whether the event loop wants a turn. */
const TURN_ROWS = 512;
const counterKey = (...parts: (number | string)[]) => parts.join('\u0000');
const periodKey = (ts: number, g: string, set: string, channel: string) => `${ts}\u0000${g}\u0000${set}\u0000${channel}`;
const sketchKey = (r: SketchRow) => `${periodKey(r.ts, r.granularity, r.set, r.channel)}\u0000${r.node}`;
function split<T>(list: readonly T[], inFirst: (x: T) => boolean): [T[], T[]] {
  const a: T[] = [];
  const b: T[] = [];
  for (const x of list) (inFirst(x) ? a : b).push(x);
  return [a, b];
}

/** DuckDB errors after validation are environmental (I/O, lock, closed): worth a retry. */
function wrap(what: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  return new StoreError(`DuckDB ${what} failed: ${err instanceof Error ? err.message : String(err)}`, true);
}

const num = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? v : 0);

export function createDuckDbStore(opts: DuckDbStoreOptions): MetricStore {
  const rollupOpts: RollupOptions = opts.rollups ?? { dayOffsetMs: SHANGHAI_DAY_OFFSET_MS };
  let instance: DuckDBInstance | null = null;
  let conn: DuckDBConnection | null = null;
  /** A third connection for duckdb_memory() (instance-wide), so /metrics waits behind nothing. */
  let probe: DuckDBConnection | null = null;
  /** close() was called: refuse new calls. */
  let closing = false;
  /** The connection is gone. */
  let closed = false;
  let initing: Promise<void> | null = null;
  /**
   * The threshold applyAdditive sets while imports run (none when the operator set one), the
   * one to go back to (read at open), and the timer that goes back after IMPORT_IDLE_MS.
   */
  const importThreshold = opts.checkpointThreshold ? null : (opts.importCheckpointThreshold ?? IMPORT_CHECKPOINT_THRESHOLD);
  let liveThreshold = '';
  let importIdle: NodeJS.Timeout | null = null;
  /** pulse_history has rows (HISTORY): reads add them, replacing writes fold them first. Only ever set. */
  let hasHistory = false;
  /** Counter columns in the same order as COUNTERS (the staging table's layout). */
  const counterCols = COUNTERS.map(col);
  /**
   * The counter tables (pulse_counts and the rollups) whose columns are (ts, tags, COUNTERS)
   * in that order, so an appender can write them by position. A file whose later counters
   * were added by ALTER TABLE may differ: then additive writes go through stage_counts (named
   * columns).
   */
  const inCatalogueOrder = new Set<string>();
  /**
   * Per-connection staging tables fed by the appender (fast, no SQL text from values), by
   * their columns. They are emptied by being created again (`clearStage`), not by DELETE: a
   * DELETE or TRUNCATE on a temporary table never gives its memory back (measured on DuckDB
   * 1.5: ~20 MiB of IN_MEMORY_TABLE, for good, after 12,000 counter rows and 2,400 sketch and
   * count rows), which grew the server by ~60 MiB per million events ingested.
   */
  const STAGES = {
    stage_counts: `(ts BIGINT, ${DIMENSIONS.map((d) => `${col(d)} VARCHAR`).join(', ')}, ${counterCols.map((cc) => `${cc} BIGINT`).join(', ')})`,
    stage_distinct: '(ts BIGINT, granularity VARCHAR, member_set VARCHAR, channel VARCHAR, value BIGINT)',
    stage_sketch: '(ts BIGINT, granularity VARCHAR, member_set VARCHAR, channel VARCHAR, node VARCHAR, part INTEGER, parts INTEGER, sketch VARCHAR)',
  } as const;
  const clearStage = (c: DuckDBConnection, name: keyof typeof STAGES) => c.run(`CREATE OR REPLACE TEMP TABLE ${name} ${STAGES[name]}`);

  /** One statement at a time on one connection, in call order. */
  function lane(connection: () => DuckDBConnection | null) {
    let queue: Promise<unknown> = Promise.resolve();
    let waiting = 0;
    const run = <T>(what: string, fn: (c: DuckDBConnection) => Promise<T>): Promise<T> => {
      if (closing) return Promise.reject(new StoreError('DuckDB store is closed', false));
      waiting++;
      const next = queue.then(async () => {
        try {
          const c = connection();
          if (closed) throw new StoreError('DuckDB store is closed', false);
          if (!c) throw new StoreError('DuckDB store used before init()', false);
          return await fn(c);
        } catch (err) {
          throw wrap(what, err);
        } finally {
          waiting--;
        }
      });
      queue = next.catch(() => undefined);
      return next;
    };
    return { run, idle: () => queue, waiting: () => waiting };
  }
  // Writes: one connection, one statement at a time: the staging table and the write
  // sequence (append → INSERT OR REPLACE → clear) must not interleave between calls.
  const writes = lane(() => conn);
  const serial = writes.run;
  // Reads on connections of their own, so a long write (an import batch, a demo fill) does
  // not hold up the API's queries (the 30-day trends stood at 加载中 during the demo fill).
  // Each read sees what was committed when it starts: a caller that awaited a write sees it,
  // and the collector takes the spool's pending rows before it reads the stored ones (the
  // spool drops a row only after its write resolved), so nothing falls between the two.
  // Two of them: a burst of the alert engine's baseline queries does not queue the wall's.
  const readers: (DuckDBConnection | null)[] = [null, null];
  const reads = readers.map((_, i) => lane(() => readers[i] ?? null));
  const read = <T>(what: string, fn: (c: DuckDBConnection) => Promise<T>): Promise<T> =>
    reads.reduce((a, b) => (b.waiting() < a.waiting() ? b : a)).run(what, fn);

  async function open(): Promise<void> {
    let c: DuckDBConnection | null = null;
    try {
      instance = await DuckDBInstance.create(opts.file, {
        memory_limit: opts.memoryLimit ?? DEFAULT_DUCKDB_MEMORY_LIMIT,
        checkpoint_threshold: opts.checkpointThreshold ?? LIVE_CHECKPOINT_THRESHOLD,
      });
      c = await instance.connect();
      for (const table of Object.values(TABLE)) {
        await c.run(
          `CREATE TABLE IF NOT EXISTS ${table} (ts BIGINT NOT NULL, ${DIMENSIONS.map((d) => `${col(d)} VARCHAR NOT NULL`).join(', ')}, ` +
            `${counterCols.map((cc) => `${cc} BIGINT NOT NULL DEFAULT 0`).join(', ')}, PRIMARY KEY (ts, ${TAG_COLS}))`,
        );
        // The catalogue can grow: add the counters this file does not have yet. DuckDB
        // cannot ADD COLUMN … NOT NULL; DEFAULT 0 fills the existing rows with 0.
        const existing = new Set(
          (await c.runAndReadAll(`SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $t`, { t: table }))
            .getRowObjects()
            .map((r) => String(r.column_name)),
        );
        for (const counter of COUNTERS) {
          if (!existing.has(counter)) await c.run(`ALTER TABLE ${table} ADD COLUMN ${col(counter)} BIGINT DEFAULT 0`);
        }
      }
      await c.run(`CREATE TABLE IF NOT EXISTS ${HISTORY} (ts BIGINT NOT NULL, ${DIMENSIONS.map((d) => `${col(d)} VARCHAR NOT NULL`).join(', ')}, counter VARCHAR NOT NULL, value BIGINT NOT NULL)`);
      hasHistory = (await c.runAndReadAll(`SELECT 1 FROM ${HISTORY} LIMIT 1`)).currentRowCount > 0;
      await c.run('CREATE TABLE IF NOT EXISTS pulse_meta (key VARCHAR PRIMARY KEY, value BIGINT NOT NULL)');
      // A file from before the rollups: its groups' 10 s rows are summed into them once (in
      // one transaction with the mark, so a crash half-way does it again from the start).
      const mark = await c.runAndReadAll(`SELECT value FROM pulse_meta WHERE key = 'rollups_from'`);
      if (mark.getRowObjects().length === 0) await backfillRollups(c);
      for (const table of Object.values(TABLE)) {
        const order = (await c.runAndReadAll(`SELECT column_name FROM duckdb_columns() WHERE database_name = current_database() AND schema_name = 'main' AND table_name = $t ORDER BY column_index`, { t: table }))
          .getRowObjects()
          .map((r) => String(r.column_name));
        if (order.join('\u0000') === ['ts', ...DIMENSIONS, ...COUNTERS].join('\u0000')) inCatalogueOrder.add(table);
      }
      await c.run(
        `CREATE TABLE IF NOT EXISTS pulse_distinct (ts BIGINT NOT NULL, granularity VARCHAR NOT NULL, member_set VARCHAR NOT NULL, ` +
          `channel VARCHAR NOT NULL, value BIGINT NOT NULL, PRIMARY KEY (ts, granularity, member_set, channel))`,
      );
      for (const name of Object.keys(STAGES) as (keyof typeof STAGES)[]) await c.run(`CREATE TEMP TABLE IF NOT EXISTS ${name} ${STAGES[name]}`);
      await c.run(
        `CREATE TABLE IF NOT EXISTS pulse_alerts (id VARCHAR PRIMARY KEY, ts BIGINT NOT NULL, alert_key VARCHAR, rule_id VARCHAR, rule_name VARCHAR, ` +
          `kpi VARCHAR, split_dim VARCHAR, split_value VARCHAR, from_state VARCHAR, state VARCHAR, severity VARCHAR, value DOUBLE, ` +
          `baseline DOUBLE, baseline_kind VARCHAR, change DOUBLE, threshold DOUBLE, summary VARCHAR)`,
      );
      // Member sketches (base64 of the versioned HLL form): per period, set, channel and node,
      // in parts of ≤ 3,000 characters — DuckDB keeps longer strings in overflow blocks that a
      // rewrite every second does not give back (measured: out of memory within minutes).
      await c.run(
        `CREATE TABLE IF NOT EXISTS pulse_sketch (ts BIGINT NOT NULL, granularity VARCHAR NOT NULL, member_set VARCHAR NOT NULL, ` +
          `channel VARCHAR NOT NULL, node VARCHAR NOT NULL, part INTEGER NOT NULL, sketch VARCHAR NOT NULL, PRIMARY KEY (ts, granularity, member_set, channel, node, part))`,
      );
      // Per-group sketches (SketchRow.community: a group's active members per hour / day), the
      // same layout with the group in place of the channel.
      await c.run(
        `CREATE TABLE IF NOT EXISTS pulse_group_sketch (ts BIGINT NOT NULL, granularity VARCHAR NOT NULL, member_set VARCHAR NOT NULL, ` +
          `community VARCHAR NOT NULL, node VARCHAR NOT NULL, part INTEGER NOT NULL, sketch VARCHAR NOT NULL, PRIMARY KEY (ts, granularity, member_set, community, node, part))`,
      );
      // The groups' day rankings (port.ts GroupDayTop) and the marks that tell a kept one is stale.
      await c.run(`CREATE TABLE IF NOT EXISTS pulse_group_day_mark (day BIGINT PRIMARY KEY, mark VARCHAR NOT NULL)`);
      await c.run(`CREATE TABLE IF NOT EXISTS pulse_group_day_top (day BIGINT PRIMARY KEY, basis VARCHAR, body VARCHAR NOT NULL)`);
      // One row per server run (uptime/uptime.ts): when the server was up, so downtime reads as a gap.
      await c.run(`CREATE TABLE IF NOT EXISTS pulse_uptime (run_id VARCHAR PRIMARY KEY, started_at BIGINT NOT NULL, last_seen_at BIGINT NOT NULL)`);
      // The marks of the aggregated import batches (applyAdditive).
      await c.run(`CREATE TABLE IF NOT EXISTS pulse_imports (import_id VARCHAR NOT NULL, seq INTEGER NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (import_id, seq))`);
      liveThreshold = String((await c.runAndReadAll(`SELECT current_setting('checkpoint_threshold') AS t`)).getRowObjects()[0]?.t ?? '');
      for (let i = 0; i < readers.length; i++) readers[i] = await instance.connect();
      probe = await instance.connect();
      conn = c;
    } catch (err) {
      for (let i = 0; i < readers.length; i++) {
        readers[i]?.closeSync();
        readers[i] = null;
      }
      probe?.closeSync();
      probe = null;
      c?.closeSync();
      instance?.closeSync();
      instance = null;
      throw wrap(`init (${opts.file})`, err);
    }
  }

  /**
   * An appender writes its rows into the table when flushed, synchronously on the calling
   * (JavaScript) thread, index updates included. When `pause` wants a turn for the event
   * loop, the rows so far are flushed first, so the work between two turns stays one slice
   * (an import batch appends tens of thousands of rows; time/turns.ts). Inside a
   * transaction the flushed rows stay uncommitted as before: nothing else runs on this
   * connection (one write lane).
   */
  async function turnAfterFlush(appender: DuckDBAppender, pause: Pause) {
    const turn = pause();
    if (!turn) return;
    appender.flushSync();
    await turn;
  }

  /**
   * Counter rows into `table` (stage_counts, or pulse_counts itself when its columns are in
   * catalogue order), a column at a time: one DataChunk per ≤ 2,048 rows, so a BIGINT column
   * is one native copy instead of a call per value (the row appender made ~58 calls per row,
   * and a batch of sparse history has about a row per event).
   */
  async function appendCounters(c: DuckDBConnection, deltas: readonly NormalizedCounterRow[], table: string, catalog?: string, pause: Pause = noPause) {
    const appender = await c.createAppender(table, 'main', catalog ?? null);
    try {
      for (let at = 0; at < deltas.length; at += STAGE_CHUNK_ROWS) {
        const part = deltas.slice(at, at + STAGE_CHUNK_ROWS);
        const chunk = DuckDBDataChunk.create(STAGE_COUNT_TYPES, part.length);
        chunk.setColumnValues(0, part.map((r) => BigInt(r.ts)));
        DIMENSIONS.forEach((d, i) => chunk.setColumnValues(1 + i, part.map((r) => r.tags[d])));
        for (let k = 0; k < COUNTERS.length; k++) chunk.setColumnValues(1 + DIMENSIONS.length + k, part.map((r) => (r.values[k] ? BigInt(r.values[k]!) : 0n)));
        appender.appendDataChunk(chunk);
        await turnAfterFlush(appender, pause);
      }
    } finally {
      appender.closeSync();
    }
  }

  /**
   * 10 s counter deltas appended to pulse_history (HISTORY; inside the caller's transaction):
   * a row per counter a delta sets, in DataChunks of ≤ 2,048 rows. A delta that sets none
   * still gets a row (its first counter, 0), so its bucket reads as stored (0), as a
   * pulse_counts row of zeros did.
   */
  async function appendHistory(c: DuckDBConnection, deltas: readonly SparseCounterRow[], pause: Pause = noPause) {
    const appender = await c.createAppender(HISTORY, 'main', null);
    try {
      let ts: bigint[] = [];
      let tags: string[][] = DIMENSIONS.map(() => []);
      let names: string[] = [];
      let values: bigint[] = [];
      const add = (t: bigint, r: SparseCounterRow, name: string, value: number) => {
        ts.push(t);
        for (let d = 0; d < DIMENSIONS.length; d++) tags[d]!.push(r.tags[DIMENSIONS[d]!]);
        names.push(name);
        values.push(value < SMALL_BIGINTS.length ? SMALL_BIGINTS[value]! : BigInt(value));
      };
      const flush = () => {
        if (ts.length === 0) return;
        const chunk = DuckDBDataChunk.create(HISTORY_TYPES, ts.length);
        chunk.setColumnValues(0, ts);
        for (let d = 0; d < DIMENSIONS.length; d++) chunk.setColumnValues(1 + d, tags[d]!);
        chunk.setColumnValues(1 + DIMENSIONS.length, names);
        chunk.setColumnValues(2 + DIMENSIONS.length, values);
        appender.appendDataChunk(chunk);
        ts = [];
        tags = DIMENSIONS.map(() => []);
        names = [];
        values = [];
      };
      // Rows of a batch come bucket by bucket: one BigInt per bucket, not per row.
      let lastTs = Number.NaN;
      let t = 0n;
      for (const r of deltas) {
        if (r.ts !== lastTs) {
          lastTs = r.ts;
          t = BigInt(r.ts);
        }
        const s = r.slots;
        for (let i = 0; i < s.length; i += 2) add(t, r, COUNTERS[s[i]!]!, s[i + 1]!);
        if (s.length === 0) add(t, r, COUNTERS[0]!, 0);
        if (ts.length >= STAGE_CHUNK_ROWS - COUNTERS.length) {
          flush();
          await turnAfterFlush(appender, pause);
        }
      }
      flush();
    } finally {
      appender.closeSync();
    }
  }

  /**
   * Before the 10 s rows staged in stage_counts replace their stored rows (writeCounters;
   * inside its transaction): the history deltas of those keys are added into pulse_counts
   * and deleted, so the stored row is whole again (HISTORY). Only when pulse_history has rows
   * in the staged rows' time range (zone maps on ts: the live range usually has none).
   */
  async function foldHistory(c: DuckDBConnection, range: { lo: number; hi: number }) {
    const inRange = `h.ts >= CAST($lo AS BIGINT) AND h.ts <= CAST($hi AS BIGINT)`;
    const any = await c.runAndReadAll(`SELECT 1 FROM ${HISTORY} AS h WHERE ${inRange} LIMIT 1`, range);
    if (any.currentRowCount === 0) return;
    const sameKey = `h.ts = s.ts AND ${DIMENSIONS.map((d) => `h.${col(d)} = s.${col(d)}`).join(' AND ')}`;
    const sums = COUNTERS.map((n) => `coalesce(sum(h.value) FILTER (WHERE h.counter = ${lit(n)}), 0)`).join(', ');
    await c.run(
      `INSERT INTO pulse_counts (ts, ${TAG_COLS}, ${counterCols.join(', ')}) ` +
        `SELECT h.ts, ${DIMENSIONS.map((d) => `h.${col(d)}`).join(', ')}, ${sums} FROM ${HISTORY} AS h ` +
        `WHERE ${inRange} AND EXISTS (SELECT 1 FROM temp.main.stage_counts AS s WHERE ${sameKey}) ` +
        `GROUP BY h.ts, ${DIMENSIONS.map((d) => `h.${col(d)}`).join(', ')} ` +
        `ON CONFLICT (ts, ${TAG_COLS}) DO UPDATE SET ${counterCols.map((cc) => `${cc} = ${cc} + EXCLUDED.${cc}`).join(', ')}`,
      range,
    );
    await c.run(`DELETE FROM ${HISTORY} AS h USING temp.main.stage_counts AS s WHERE ${inRange} AND ${sameKey}`, range);
  }

  /**
   * Adds counter deltas to `table` (a rollup; inside the caller's transaction).
   * The keys already stored in the deltas' time range are read first (zone maps on ts bound
   * the scan to the row groups that can hold them): those rows get `c = c + delta` (staged,
   * an UPDATE joined on the key), and every other row is appended straight to the table
   * (DataChunks; staged and inserted when its columns are not in catalogue order). An import
   * in time order overlaps the stored rows only in the bucket, hour and day at its batches'
   * edges, so nearly every row takes the append; before, one stored row in a batch's range
   * sent all of its rows through the staging table and two joins (UPDATE, INSERT … NOT EXISTS).
   * Deltas are unique per key (normalizeCounterRows), and nothing else writes between the
   * read and the append (one write lane), so an appended key is never a duplicate.
   */
  async function addCounterDeltas(c: DuckDBConnection, table: string, deltas: readonly NormalizedCounterRow[], pause: Pause = noPause) {
    if (deltas.length === 0) return;
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of deltas) {
      if (r.ts < lo) lo = r.ts;
      if (r.ts > hi) hi = r.ts;
    }
    const range = { lo, hi };
    const storedKeys = new Set<string>();
    const reader = await c.runAndReadAll(`SELECT ts, ${TAG_COLS} FROM ${table} WHERE ts >= CAST($lo AS BIGINT) AND ts <= CAST($hi AS BIGINT)`, range);
    const cols = reader.getColumns();
    const n = reader.currentRowCount;
    for (let i = 0; i < n; i++) storedKeys.add(counterKey(num(cols[0]![i]), ...DIMENSIONS.map((_, d) => String(cols[1 + d]![i] ?? ''))));
    const [stored, fresh] = storedKeys.size ? split(deltas, (r) => storedKeys.has(counterKey(r.ts, ...DIMENSIONS.map((d) => r.tags[d])))) : [[], deltas];
    const all = `ts, ${TAG_COLS}, ${counterCols.join(', ')}`;
    if (stored.length) {
      await appendCounters(c, stored, 'stage_counts', 'temp', pause);
      try {
        const sameKey = `p.ts >= CAST($lo AS BIGINT) AND p.ts <= CAST($hi AS BIGINT) AND p.ts = s.ts AND ${DIMENSIONS.map((d) => `p.${col(d)} = s.${col(d)}`).join(' AND ')}`;
        await c.run(`UPDATE ${table} AS p SET ${counterCols.map((cc) => `${cc} = p.${cc} + s.${cc}`).join(', ')} FROM temp.main.stage_counts AS s WHERE ${sameKey}`, range);
      } finally {
        await clearStage(c, 'stage_counts');
      }
    }
    if (fresh.length === 0) return;
    if (inCatalogueOrder.has(table)) return appendCounters(c, fresh, table, undefined, pause);
    await appendCounters(c, fresh, 'stage_counts', 'temp', pause);
    try {
      await c.run(`INSERT INTO ${table} (${all}) SELECT ${all} FROM temp.main.stage_counts`);
    } finally {
      await clearStage(c, 'stage_counts');
    }
  }

  /**
   * The sketch rows staged in temp.main.stage_sketch replace their stored rows in `table`
   * (the group column is `who`; staged in `channel`). A sketch that got shorter (sparse →
   * smaller) leaves no stale tail parts behind. The rows' time range bounds the delete's join
   * to the row groups that can hold them (zone maps on ts): unbounded, every call scanned the
   * whole table, and a 30-day load of 20,000 groups' sketches slowed day by day (measured: 4×
   * the write time).
   */
  async function replaceFromStage(c: DuckDBConnection, list: readonly SketchRow[], table: 'pulse_sketch' | 'pulse_group_sketch', who: 'channel' | 'community') {
    await c.run(
      `INSERT OR REPLACE INTO ${table} (ts, granularity, member_set, ${who}, node, part, sketch) ` +
        `SELECT ts, granularity, member_set, channel, node, part, sketch FROM temp.main.stage_sketch`,
    );
    let lo = Infinity;
    let hi = -Infinity;
    for (const r of list) {
      if (r.ts < lo) lo = r.ts;
      if (r.ts > hi) hi = r.ts;
    }
    await c.run(
      `DELETE FROM ${table} USING (SELECT DISTINCT ts, granularity, member_set, channel, node, parts FROM temp.main.stage_sketch) s ` +
        `WHERE ${table}.ts >= CAST($lo AS BIGINT) AND ${table}.ts <= CAST($hi AS BIGINT) AND ${table}.ts = s.ts AND ${table}.granularity = s.granularity AND ${table}.member_set = s.member_set ` +
        `AND ${table}.${who} = s.channel AND ${table}.node = s.node AND ${table}.part >= s.parts`,
      { lo, hi },
    );
  }

  /**
   * A new mark for every day of which a group's day sketch is among `rows` (GroupDayTop), in
   * the caller's transaction: a kept ranking of that day is stale from the commit on.
   */
  async function markGroupDays(c: DuckDBConnection, rows: readonly SketchRow[]) {
    const days = [...new Set(rows.filter((r) => r.community !== undefined && r.granularity === 'day').map((r) => r.ts))];
    for (const day of days) await c.run('INSERT OR REPLACE INTO pulse_group_day_mark VALUES (CAST($d AS BIGINT), $m)', { d: day, m: randomBytes(12).toString('base64') });
  }

  /** Sketch rows in parts into `table`: pulse_sketch, or stage_sketch (which also keeps the number of parts). */
  async function appendSketches(c: DuckDBConnection, list: readonly SketchRow[], table: 'pulse_sketch' | 'pulse_group_sketch' | 'stage_sketch', catalog?: string, pause: Pause = noPause) {
    const appender = await c.createAppender(table, 'main', catalog ?? null);
    try {
      for (let i = 0; i < list.length; i++) {
        const row = list[i]!;
        if (i % TURN_ROWS === TURN_ROWS - 1) await turnAfterFlush(appender, pause);
        const parts = Math.ceil(row.sketch.length / SKETCH_PART);
        for (let part = 0; part < parts; part++) {
          appender.appendBigInt(BigInt(row.ts));
          appender.appendVarchar(row.granularity);
          appender.appendVarchar(row.set);
          appender.appendVarchar(row.channel);
          appender.appendVarchar(row.node);
          appender.appendInteger(part);
          if (table === 'stage_sketch') appender.appendInteger(parts);
          appender.appendVarchar(parts === 1 ? row.sketch : row.sketch.slice(part * SKETCH_PART, (part + 1) * SKETCH_PART));
          appender.endRow();
        }
      }
    } finally {
      appender.closeSync();
    }
  }

  /** Count rows into `table` (pulse_distinct or stage_distinct: the same columns). */
  async function appendDistinct(c: DuckDBConnection, list: readonly DistinctRow[], table: 'pulse_distinct' | 'stage_distinct', catalog?: string, pause: Pause = noPause) {
    const appender = await c.createAppender(table, 'main', catalog ?? null);
    try {
      for (let i = 0; i < list.length; i++) {
        const row = list[i]!;
        if (i % TURN_ROWS === TURN_ROWS - 1) await turnAfterFlush(appender, pause);
        appender.appendBigInt(BigInt(row.ts));
        appender.appendVarchar(row.granularity);
        appender.appendVarchar(row.set);
        appender.appendVarchar(row.channel);
        appender.appendBigInt(BigInt(row.value));
        appender.endRow();
      }
    } finally {
      appender.closeSync();
    }
  }

  /** Each rollup table with the SQL of its period start for a 10 s row's `ts` column. */
  function rollupStarts(ts: string): [string, string][] {
    const starts: [string, string][] = [[TABLE.hour, `${ts} - (((${ts} % ${HOUR_MS}) + ${HOUR_MS}) % ${HOUR_MS})`]];
    const dayOff = rollupOpts.dayOffsetMs;
    if (dayOff !== null) starts.push([TABLE.day, `${ts} - (((((${ts}) - ${dayOff}) % ${DAY_MS}) + ${DAY_MS}) % ${DAY_MS})`]);
    return starts;
  }

  /**
   * writeCounters' 'derive' mode (inside its transaction, the 10 s rows staged and not yet
   * written): adds each staged group row's change — the new row minus the stored one — to its
   * hour and day rows, so the rollups stay what the 10 s rows sum to whoever writes them.
   */
  async function addRollupChanges(c: DuckDBConnection, range: { lo: number; hi: number }) {
    const same = `o.ts >= CAST($lo AS BIGINT) AND o.ts <= CAST($hi AS BIGINT) AND o.ts = s.ts AND ${DIMENSIONS.map((d) => `o.${col(d)} = s.${col(d)}`).join(' AND ')}`;
    const changes = counterCols.map((cc) => `sum(s.${cc} - coalesce(o.${cc}, 0))`).join(', ');
    for (const [table, start] of rollupStarts('s.ts')) {
      await c.run(
        `INSERT INTO ${table} (ts, ${TAG_COLS}, ${counterCols.join(', ')}) ` +
          `SELECT ${start} AS p, s.${col('channel')}, s.${col('community')}, '', ${changes} ` +
          `FROM temp.main.stage_counts AS s LEFT JOIN pulse_counts AS o ON ${same} WHERE s.${col('community')} <> '' ` +
          `GROUP BY p, s.${col('channel')}, s.${col('community')} ` +
          `ON CONFLICT (ts, ${TAG_COLS}) DO UPDATE SET ${counterCols.map((cc) => `${cc} = greatest(${cc} + EXCLUDED.${cc}, 0)`).join(', ')}`,
        range,
      );
    }
  }

  /** Sums the groups' 10 s rows into the rollup tables (their earlier content replaced) and marks them complete. */
  async function backfillRollups(c: DuckDBConnection) {
    await c.run('BEGIN TRANSACTION');
    try {
      const sums = counterCols.map((cc) => `sum(${cc})`).join(', ');
      const all = `ts, ${TAG_COLS}, ${counterCols.join(', ')}`;
      const source = hasHistory ? `(SELECT ${all} FROM pulse_counts UNION ALL SELECT ts, ${TAG_COLS}, ${historyAsColumns(COUNTERS).join(', ')} FROM ${HISTORY})` : 'pulse_counts';
      for (const [table, start] of rollupStarts('ts')) {
        await c.run(`DELETE FROM ${table}`);
        await c.run(
          `INSERT INTO ${table} (ts, ${TAG_COLS}, ${counterCols.join(', ')}) SELECT ${start} AS p, ${col('channel')}, ${col('community')}, '', ${sums} ` +
            `FROM ${source} WHERE ${col('community')} <> '' GROUP BY p, ${col('channel')}, ${col('community')}`,
        );
      }
      await c.run(`INSERT OR REPLACE INTO pulse_meta VALUES ('rollups_from', 0)`);
      await c.run('COMMIT');
    } catch (err) {
      await c.run('ROLLBACK');
      throw err;
    }
  }

  /**
   * In an import (write lane): checkpoints less often (IMPORT_CHECKPOINT_THRESHOLD) until no
   * batch came for IMPORT_IDLE_MS; then the live threshold is set again and the import's WAL
   * checkpointed (a failed CHECKPOINT, e.g. while another transaction writes, is left to the
   * next automatic one).
   */
  async function importCheckpoints(c: DuckDBConnection) {
    if (!importThreshold || !liveThreshold) return;
    if (importIdle) clearTimeout(importIdle);
    else await c.run(`SET checkpoint_threshold = '${importThreshold.replace(/'/g, '')}'`);
    importIdle = setTimeout(() => {
      importIdle = null;
      serial('checkpoint after import', async (w) => {
        if (importIdle) return; // a batch came meanwhile
        await w.run(`SET checkpoint_threshold = '${liveThreshold.replace(/'/g, '')}'`);
        await w.run('CHECKPOINT').catch(() => undefined);
      }).catch(() => undefined);
    }, opts.importIdleMs ?? IMPORT_IDLE_MS);
    importIdle.unref();
  }

  /** One table's sums over [from, to) by the query's buckets and split (ungrouped: rows without a community only). */
  async function queryTable(q: NormalizedCounterQuery, table: string, from: number, to: number, ungrouped: boolean): Promise<CounterSeries[]> {
    const params: Record<string, DuckDBValue> = { from, to, step: q.stepMs, off: q.offsetMs };
    const where = ['ts >= CAST($from AS BIGINT)', 'ts < CAST($to AS BIGINT)'];
    q.filter.forEach(([dim, value], i) => {
      where.push(`${col(dim)} = $f${i}`);
      params[`f${i}`] = value;
    });
    if (ungrouped) where.push(`${col('community')} = ''`);
    // floor((ts - off) / step) * step + off, written with a non-negative remainder
    // because DuckDB's % (like //) truncates toward zero for negative operands.
    const bucket = `ts - ((((ts - CAST($off AS BIGINT)) % CAST($step AS BIGINT)) + CAST($step AS BIGINT)) % CAST($step AS BIGINT))`;
    const byCols = q.by.map(col);
    // The 10 s rows: pulse_counts and the imported deltas of pulse_history (HISTORY), summed alike.
    // Each side filtered and cut to the columns the sums need (ts, the split, the counters).
    const cond = where.join(' AND ');
    const source =
      table === TABLE.raw && hasHistory
        ? `(SELECT ${['ts', ...byCols, ...q.counters.map(col)].join(', ')} FROM ${table} WHERE ${cond} ` +
          `UNION ALL SELECT ${['ts', ...byCols, ...historyAsColumns(q.counters)].join(', ')} FROM ${HISTORY} WHERE ${cond})`
        : `${table} WHERE ${cond}`;
    const sql =
      `SELECT ${[`${bucket} AS bucket`, ...byCols, ...q.counters.map((c) => `CAST(coalesce(sum(${col(c)}), 0) AS BIGINT) AS ${col(c)}`)].join(', ')} ` +
      `FROM ${source} GROUP BY ${['bucket', ...byCols].join(', ')} ORDER BY bucket`;
    const result = await read('queryCounters', (c) => rows(c, sql, params));
    const series = new Map<string, CounterSeries>();
    for (const r of result) {
      const tags: Partial<Record<Dimension, string>> = {};
      for (const d of q.by) tags[d] = String(r[d] ?? '');
      const key = JSON.stringify(q.by.map((d) => tags[d]));
      let s = series.get(key);
      if (!s) series.set(key, (s = { tags, points: [] }));
      const sums: Record<string, number> = {};
      for (const c of q.counters) sums[c] = num(r[c]);
      s.points.push({ ts: num(r.bucket), sums });
    }
    return [...series.values()];
  }

  async function rows(c: DuckDBConnection, sql: string, params: Record<string, DuckDBValue>) {
    const reader = await c.runAndReadAll(sql, params);
    return reader.getRowObjects();
  }

  return {
    kind: 'duckdb',

    init() {
      if (closing) return Promise.reject(new StoreError('DuckDB store is closed', false));
      // Concurrent or repeated init() share one open.
      initing ??= open().catch((err: unknown) => {
        initing = null;
        throw err;
      });
      return initing;
    },

    async writeCounters(input: readonly CounterRow[], writeOpts?: WriteCountersOptions) {
      // Validate the whole batch first: a refused row means nothing of the call is written.
      const batch = normalizeCounterRows(input);
      if (batch.length === 0) return;
      // Group 10 s rows written by anyone but the collector: their rollups are derived here.
      let derive: { lo: number; hi: number } | null = null;
      if (rollupModeOf(batch, writeOpts) === 'derive') {
        for (const r of batch) {
          if (r.tags.community === '') continue;
          derive ??= { lo: r.ts, hi: r.ts };
          if (r.ts < derive.lo) derive.lo = r.ts;
          if (r.ts > derive.hi) derive.hi = r.ts;
        }
      }
      // 10 s rows and rollup rows (store/rollups.ts) go to their own tables.
      const byTable = new Map<string, NormalizedCounterRow[]>();
      for (const row of batch) {
        const table = TABLE[row.rollup ?? 'raw'];
        const list = byTable.get(table);
        if (list) list.push(row);
        else byTable.set(table, [row]);
      }
      await serial('writeCounters', async (c) => {
        // 10 s rows replace stored ones that imported history may add to (foldHistory).
        const raw = hasHistory ? byTable.get(TABLE.raw) : undefined;
        let fold: { lo: number; hi: number } | null = null;
        for (const r of raw ?? []) {
          fold ??= { lo: r.ts, hi: r.ts };
          if (r.ts < fold.lo) fold.lo = r.ts;
          if (r.ts > fold.hi) fold.hi = r.ts;
        }
        const many = byTable.size > 1 || derive !== null || fold !== null;
        if (many) await c.run('BEGIN TRANSACTION');
        try {
          for (const [table, list] of byTable) {
            const appender = await c.createAppender('stage_counts', 'main', 'temp');
            try {
              for (const row of list) {
                appender.appendBigInt(BigInt(row.ts));
                for (const d of DIMENSIONS) appender.appendVarchar(row.tags[d]);
                for (const v of row.values) appender.appendBigInt(BigInt(v));
                appender.endRow();
              }
            } finally {
              appender.closeSync(); // flushes
            }
            try {
              if (fold && table === TABLE.raw) await foldHistory(c, fold);
              if (derive && table === TABLE.raw) await addRollupChanges(c, derive);
              // One statement (or one transaction over the tables): all rows replace, or none
              // does. Rows are unique per key (normalizeCounterRows), which ON CONFLICT requires.
              await c.run(
                `INSERT OR REPLACE INTO ${table} (ts, ${TAG_COLS}, ${counterCols.join(', ')}) ` +
                  `SELECT ts, ${TAG_COLS}, ${counterCols.join(', ')} FROM temp.main.stage_counts`,
              );
            } finally {
              await clearStage(c, 'stage_counts');
            }
          }
          if (many) await c.run('COMMIT');
        } catch (err) {
          if (many) await c.run('ROLLBACK');
          throw err;
        }
      });
    },

    async writeDistinct(input: readonly DistinctRow[]) {
      const batch = normalizeDistinctRows(input);
      if (batch.length === 0) return;
      await serial('writeDistinct', async (c) => {
        await appendDistinct(c, batch, 'stage_distinct', 'temp');
        try {
          await c.run(
            `INSERT OR REPLACE INTO pulse_distinct (ts, granularity, member_set, channel, value) ` +
              `SELECT ts, granularity, member_set, channel, value FROM temp.main.stage_distinct`,
          );
        } finally {
          await clearStage(c, 'stage_distinct');
        }
      });
    },

    async writeSketches(input: readonly SketchRow[]) {
      const batch = normalizeSketchRows(input);
      if (batch.length === 0) return;
      // Group sketches go to pulse_group_sketch, staged with the group in the channel column.
      const [grouped, channels] = split(batch, (r) => r.community !== undefined);
      const parts: [SketchRow[], 'pulse_sketch' | 'pulse_group_sketch', 'channel' | 'community'][] = [];
      if (channels.length) parts.push([channels, 'pulse_sketch', 'channel']);
      if (grouped.length) parts.push([grouped.map((r) => ({ ...r, channel: r.community! })), 'pulse_group_sketch', 'community']);
      await serial('writeSketches', async (c) => {
        await c.run('BEGIN TRANSACTION');
        try {
          for (const [list, table, who] of parts) {
            await appendSketches(c, list, 'stage_sketch', 'temp');
            try {
              await replaceFromStage(c, list, table, who);
            } finally {
              await clearStage(c, 'stage_sketch');
            }
          }
          await markGroupDays(c, grouped);
          await c.run('COMMIT');
        } catch (err) {
          await c.run('ROLLBACK');
          throw err;
        }
      });
    },

    async applyAdditive(b: AdditiveBatch) {
      const deltas = normalizeSparseCounterRows(b.counters);
      return serial('applyAdditive', async (c) => {
        const done = await rows(c, 'SELECT 1 AS x FROM pulse_imports WHERE import_id = $i AND seq = $s', { i: b.importId, s: b.seq });
        if (done.length) return 'done' as const;
        await importCheckpoints(c);
        // What is stored for the batch's periods: every node's sketch rows (to merge), and
        // which count rows exist (those are replaced, the others appended).
        const stored: SketchRow[] = [];
        const storedCounts = new Set<string>();
        if (b.sketchRanges.length) {
          // One query per table for all of the batch's ranges (member set × granularity), not
          // two per range: each statement costs a round of DuckDB's task scheduling, and the
          // write slot waits for it. The outer ts bounds keep the scan to the ranges' row groups.
          const params: Record<string, DuckDBValue> = { lo: Math.min(...b.sketchRanges.map((r) => r.from)), hi: Math.max(...b.sketchRanges.map((r) => r.to)) };
          const any = b.sketchRanges
            .map((r, i) => {
              Object.assign(params, { [`f${i}`]: r.from, [`t${i}`]: r.to, [`g${i}`]: r.granularity, [`s${i}`]: r.set });
              return `(granularity = $g${i} AND member_set = $s${i} AND ts >= CAST($f${i} AS BIGINT) AND ts < CAST($t${i} AS BIGINT))`;
            })
            .join(' OR ');
          const where = `ts >= CAST($lo AS BIGINT) AND ts < CAST($hi AS BIGINT) AND (${any})`;
          const found = await rows(c, `SELECT granularity, member_set, ts, channel, node, sketch FROM pulse_sketch WHERE ${where} ORDER BY granularity, member_set, ts, channel, node, part`, params);
          let last: SketchRow | undefined;
          for (const x of found) {
            const granularity = String(x.granularity) as SketchRow['granularity'];
            const set = String(x.member_set) as SketchRow['set'];
            const ts = num(x.ts);
            const channel = String(x.channel ?? '');
            const node = String(x.node ?? '');
            if (last && last.granularity === granularity && last.set === set && last.ts === ts && last.channel === channel && last.node === node) last.sketch += String(x.sketch ?? '');
            else stored.push((last = { ts, granularity, set, channel, node, sketch: String(x.sketch ?? '') }));
          }
          const counts = await rows(c, `SELECT ts, granularity, member_set, channel FROM pulse_distinct WHERE ${where}`, params);
          for (const x of counts) storedCounts.add(periodKey(num(x.ts), String(x.granularity), String(x.member_set), String(x.channel ?? '')));
        }
        // The batch's groups' stored sketches of its group periods (per-group active members).
        const gs = b.groupSketches;
        if (gs && gs.communities.length && gs.ranges.length) {
          const params: Record<string, DuckDBValue> = { s: gs.set, lo: Math.min(...gs.ranges.map((r) => r.from)), hi: Math.max(...gs.ranges.map((r) => r.to)) };
          const any = gs.ranges.map((r, i) => (Object.assign(params, { [`f${i}`]: r.from, [`t${i}`]: r.to, [`g${i}`]: r.granularity }), `(granularity = $g${i} AND ts >= CAST($f${i} AS BIGINT) AND ts < CAST($t${i} AS BIGINT))`)).join(' OR ');
          const groups = gs.communities.map((g, i) => ((params[`c${i}`] = g), `$c${i}`)).join(', ');
          const found = await rows(
            c,
            `SELECT granularity, ts, community, node, sketch FROM pulse_group_sketch WHERE member_set = $s AND ts >= CAST($lo AS BIGINT) AND ts < CAST($hi AS BIGINT) AND (${any}) ` +
              `AND community IN (${groups}) ORDER BY granularity, ts, community, node, part`,
            params,
          );
          let last: SketchRow | undefined;
          for (const x of found) {
            const granularity = String(x.granularity) as SketchRow['granularity'];
            const ts = num(x.ts);
            const community = String(x.community ?? '');
            const node = String(x.node ?? '');
            if (last && last.granularity === granularity && last.ts === ts && last.community === community && last.node === node) last.sketch += String(x.sketch ?? '');
            else stored.push((last = { ts, granularity, set: gs.set, channel: '', node, sketch: String(x.sketch ?? ''), community }));
          }
        }
        // Checked here, in the write slot: nothing else writes or reads this store until the commit.
        const out = await b.complete(stored);
        if (!out) return 'conflict' as const;
        const [groupRows, sketches] = split(normalizeSketchRows(out.sketches), (r) => r.community !== undefined);
        const distinct = normalizeDistinctRows(out.distinct);
        // A row whose key is stored is replaced through the staging table; a new one is appended
        // straight to its table (the appender writes inside the open transaction). Group rows
        // are keyed and staged with the group in the channel's place (pulse_group_sketch).
        const asGroup = (r: SketchRow): SketchRow => ({ ts: r.ts, granularity: r.granularity, set: r.set, channel: r.community ?? '', node: r.node, sketch: r.sketch });
        const storedSketches = new Set(stored.filter((r) => r.community === undefined).map((r) => sketchKey(r)));
        const storedGroups = new Set(stored.filter((r) => r.community !== undefined).map((r) => sketchKey(asGroup(r))));
        const [replaceSketches, newSketches] = split(sketches, (r) => storedSketches.has(sketchKey(r)));
        const [replaceGroups, newGroups] = split(groupRows.map(asGroup), (r) => storedGroups.has(sketchKey(r)));
        const [replaceCounts, newCounts] = split(distinct, (r) => storedCounts.has(periodKey(r.ts, r.granularity, r.set, r.channel)));
        // Turns for the event loop between slices of the appends (a look at the clock per slice of rows).
        const pause = slicer(SLICE_MS, 1);
        try {
          if (replaceSketches.length) await appendSketches(c, replaceSketches, 'stage_sketch', 'temp', pause);
          if (replaceCounts.length) await appendDistinct(c, replaceCounts, 'stage_distinct', 'temp', pause);
          // One transaction: the deltas are added, the sketches and counts replaced by their
          // merges or appended, and the mark recorded — all of it or none (import/aggregate.ts).
          await c.run('BEGIN TRANSACTION');
          try {
            // The 10 s rows' deltas (appended to pulse_history: HISTORY), and the groups' hour
            // and day rollups of them (store/rollups.ts). Reads add history from here on (a
            // rollback leaves the flag set: they then add an empty table).
            if (deltas.length) {
              hasHistory = true;
              await appendHistory(c, deltas, pause);
            }
            const rolled = rollupDeltasOf(deltas, rollupOpts);
            for (const rollup of rollupsOf(rollupOpts)) await addCounterDeltas(c, TABLE[rollup], rolled[rollup], pause);
            if (replaceSketches.length) {
              await replaceFromStage(c, replaceSketches, 'pulse_sketch', 'channel');
            }
            if (newSketches.length) await appendSketches(c, newSketches, 'pulse_sketch', undefined, pause);
            if (replaceGroups.length) {
              await clearStage(c, 'stage_sketch');
              await appendSketches(c, replaceGroups, 'stage_sketch', 'temp', pause);
              await replaceFromStage(c, replaceGroups, 'pulse_group_sketch', 'community');
            }
            if (newGroups.length) await appendSketches(c, newGroups, 'pulse_group_sketch', undefined, pause);
            await markGroupDays(c, groupRows);
            if (replaceCounts.length) {
              await c.run(
                `INSERT OR REPLACE INTO pulse_distinct (ts, granularity, member_set, channel, value) ` +
                  `SELECT ts, granularity, member_set, channel, value FROM temp.main.stage_distinct`,
              );
            }
            if (newCounts.length) await appendDistinct(c, newCounts, 'pulse_distinct', undefined, pause);
            await c.run('INSERT INTO pulse_imports VALUES ($i, $s, CAST($at AS BIGINT))', { i: b.importId, s: b.seq, at: Date.now() });
            await c.run('COMMIT');
          } catch (err) {
            await c.run('ROLLBACK');
            throw err;
          }
          return 'applied' as const;
        } finally {
          if (replaceSketches.length || replaceGroups.length) await clearStage(c, 'stage_sketch');
          if (replaceCounts.length) await clearStage(c, 'stage_distinct');
        }
      });
    },

    async importMarks() {
      const found = await serial('importMarks', (c) => rows(c, 'SELECT import_id, seq FROM pulse_imports ORDER BY import_id, seq', {}));
      return found.map((r) => `${String(r.import_id)}/${num(r.seq)}`);
    },

    async querySketches(query: SketchQuery): Promise<SketchRow[]> {
      const q = normalizeSketchQuery(query);
      if (q.impossible || q.from >= q.to) return [];
      const params: Record<string, DuckDBValue> = { from: q.from, to: q.to, g: q.granularity, s: q.set };
      // Group sketches (q.community) are read from pulse_group_sketch, the group in the channel's place.
      const groups = q.community !== undefined;
      const who = groups ? 'community' : 'channel';
      let cond = '';
      if (typeof q.community === 'string') {
        cond = ' AND community = $c';
        params.c = q.community;
      } else if (Array.isArray(q.community)) {
        cond = ` AND community IN (${q.community.map((c, i) => ((params[`c${i}`] = c), `$c${i}`)).join(', ')})`;
      } else if (!groups && q.channel !== undefined) {
        cond = ' AND channel = $c';
        params.c = q.channel;
      }
      const sql =
        `SELECT ts, ${who} AS who, node, sketch FROM ${groups ? 'pulse_group_sketch' : 'pulse_sketch'} WHERE ts >= CAST($from AS BIGINT) AND ts < CAST($to AS BIGINT) ` +
        `AND granularity = $g AND member_set = $s${cond} ORDER BY ts, ${who}, node, part`;
      const result = await read('querySketches', (c) => rows(c, sql, params));
      const out: SketchRow[] = [];
      let last: SketchRow | undefined;
      let lastWho = '';
      for (const r of result) {
        const ts = num(r.ts);
        const whoValue = String(r.who ?? '');
        const node = String(r.node ?? '');
        if (last && last.ts === ts && lastWho === whoValue && last.node === node) last.sketch += String(r.sketch ?? '');
        else {
          last = groups
            ? { ts, granularity: q.granularity, set: q.set, channel: '', node, sketch: String(r.sketch ?? ''), community: whoValue }
            : { ts, granularity: q.granularity, set: q.set, channel: whoValue, node, sketch: String(r.sketch ?? '') };
          lastWho = whoValue;
          out.push(last);
        }
      }
      return out.sort((a, b) => a.ts - b.ts || compareStrings(a.community ?? a.channel, b.community ?? b.channel) || compareStrings(a.node, b.node));
    },

    async groupDayTops(from: number, to: number) {
      checkRange(from, to);
      const [marks, tops] = await read('groupDayTops', async (c) => [
        await rows(c, 'SELECT day, mark FROM pulse_group_day_mark WHERE day >= CAST($f AS BIGINT) AND day < CAST($t AS BIGINT)', { f: from, t: to }),
        await rows(c, 'SELECT day, basis, body FROM pulse_group_day_top WHERE day >= CAST($f AS BIGINT) AND day < CAST($t AS BIGINT)', { f: from, t: to }),
      ]);
      return {
        marks: new Map(marks.map((r) => [num(r.day), String(r.mark)])),
        tops: new Map(tops.map((r) => [num(r.day), { ...(JSON.parse(String(r.body)) as Omit<GroupDayTop, 'day' | 'basis'>), day: num(r.day), basis: r.basis === null ? null : String(r.basis) }])),
      };
    },

    async writeGroupDayTop(top: GroupDayTop) {
      const { day, basis, ...body } = top;
      checkRange(day, day);
      await serial('writeGroupDayTop', (c) => c.run('INSERT OR REPLACE INTO pulse_group_day_top VALUES (CAST($d AS BIGINT), $b, $body)', { d: day, b: basis, body: JSON.stringify(body) }));
    },

    async queryCounters(query: CounterQuery): Promise<CounterSeries[]> {
      const q = normalizeCounterQuery(query);
      if (q.impossible || q.from >= q.to) return [];
      const keyOf = (s: CounterSeries) => q.by.map((d) => s.tags[d] ?? '');
      const order = (a: CounterSeries, b: CounterSeries) => compareTagLists(keyOf(a), keyOf(b));
      // The pulse_meta mark is 0 (a file's rollups are filled when it opens): rollups are complete.
      const plan = planCounterQuery(q, query.source, { ...rollupOpts, completeFrom: 0 });
      return readPlanned(q, plan, (seg) => queryTable(q, TABLE[seg.source], seg.from, seg.to, seg.ungrouped === true), order);
    },

    async queryDistinct(query: DistinctQuery): Promise<DistinctSeries[]> {
      const q = normalizeDistinctQuery(query);
      if (q.impossible || q.from >= q.to) return [];
      const params: Record<string, DuckDBValue> = { from: q.from, to: q.to, g: q.granularity, s: q.set };
      let channelCond = "channel = ''";
      if (q.mode === 'byChannel') channelCond = "channel <> ''";
      if (q.mode === 'one') {
        channelCond = 'channel = $c';
        params.c = q.channel;
      }
      const sql =
        `SELECT ts, channel, value FROM pulse_distinct WHERE ts >= CAST($from AS BIGINT) AND ts < CAST($to AS BIGINT) ` +
        `AND granularity = $g AND member_set = $s AND ${channelCond} ORDER BY ts`;
      const result = await read('queryDistinct', (c) => rows(c, sql, params));
      const series = new Map<string, DistinctSeries>();
      for (const r of result) {
        const channel = String(r.channel ?? '');
        let s = series.get(channel);
        if (!s) series.set(channel, (s = q.mode === 'total' ? { points: [] } : { channel, points: [] }));
        s.points.push({ ts: num(r.ts), value: num(r.value) });
      }
      return [...series.values()].sort((a, b) => compareStrings(a.channel ?? '', b.channel ?? ''));
    },

    async writeAlertEvents(input) {
      if (input.length === 0) return;
      await serial('writeAlertEvents', async (c) => {
        await c.run('BEGIN TRANSACTION');
        try {
          for (const a of input) {
            await c.run(
              'INSERT OR REPLACE INTO pulse_alerts VALUES ($id, $ts, $alertKey, $ruleId, $ruleName, $kpi, $splitDim, $splitValue, $from, $state, $severity, $value, $baseline, $baselineKind, $change, $threshold, $summary)',
              { ...a, ts: BigInt(a.ts) },
            );
          }
          await c.run('COMMIT');
        } catch (err) {
          await c.run('ROLLBACK');
          throw err;
        }
      });
    },

    async queryAlertEvents(q) {
      return read('queryAlertEvents', async (c) => {
        const params: Record<string, DuckDBValue> = { from: BigInt(Math.trunc(q.from)), to: BigInt(Math.trunc(q.to)), limit: BigInt(Math.max(1, Math.min(10_000, Math.trunc(q.limit)))) };
        const where = ['ts >= $from', 'ts < $to'];
        for (const [column, key] of [['rule_id', 'ruleId'], ['kpi', 'kpi'], ['state', 'state'], ['id', 'id']] as const) {
          const value = q[key];
          if (value === undefined) continue;
          where.push(`${column} = $${key}`);
          params[key] = value;
        }
        const found = await rows(c, `SELECT * FROM pulse_alerts WHERE ${where.join(' AND ')} ORDER BY ts DESC, id LIMIT $limit`, params);
        const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
        const s = (v: unknown) => (v === null || v === undefined ? '' : String(v));
        return found.map((r) => ({
          id: s(r.id), ts: Number(r.ts), alertKey: s(r.alert_key), ruleId: s(r.rule_id), ruleName: s(r.rule_name), kpi: s(r.kpi),
          splitDim: s(r.split_dim), splitValue: s(r.split_value), from: s(r.from_state), state: s(r.state), severity: s(r.severity),
          value: n(r.value), baseline: n(r.baseline), baselineKind: s(r.baseline_kind), change: n(r.change), threshold: n(r.threshold), summary: s(r.summary),
        }));
      });
    },

    async writeUptime(span) {
      checkRange(span.startedAt, span.lastSeenAt);
      await serial('writeUptime', (c) =>
        c.run('INSERT OR REPLACE INTO pulse_uptime VALUES ($runId, $startedAt, $lastSeenAt)', {
          runId: span.runId,
          startedAt: BigInt(Math.trunc(span.startedAt)),
          lastSeenAt: BigInt(Math.trunc(span.lastSeenAt)),
        }),
      );
    },

    async queryUptime(from, to) {
      checkRange(from, to);
      const found = await read('queryUptime', (c) =>
        rows(c, 'SELECT run_id, started_at, last_seen_at FROM pulse_uptime WHERE started_at < CAST($to AS BIGINT) AND last_seen_at >= CAST($from AS BIGINT) ORDER BY started_at, run_id', { from, to }),
      );
      return found.map((r) => ({ runId: String(r.run_id), startedAt: Number(r.started_at), lastSeenAt: Number(r.last_seen_at) }));
    },

    async tagValues(dim, from, to) {
      checkDimension(dim);
      checkRange(from, to);
      if (from >= to) return [];
      const where = `ts >= CAST($from AS BIGINT) AND ts < CAST($to AS BIGINT) AND ${col(dim)} <> ''`;
      // The imported 10 s deltas (HISTORY) hold tag values too.
      const sql = hasHistory
        ? `SELECT DISTINCT v FROM (SELECT ${col(dim)} AS v FROM pulse_counts WHERE ${where} UNION ALL SELECT ${col(dim)} AS v FROM ${HISTORY} WHERE ${where})`
        : `SELECT DISTINCT ${col(dim)} AS v FROM pulse_counts WHERE ${where}`;
      const result = await read('tagValues', (c) => rows(c, sql, { from, to }));
      return result.map((r) => String(r.v)).sort(compareStrings);
    },

    async memory(): Promise<StoreMemory[]> {
      if (closing || !probe) return [];
      try {
        const found = (await probe.runAndReadAll(`SELECT tag, memory_usage_bytes AS m, temporary_storage_bytes AS t FROM duckdb_memory()`)).getRowObjects();
        return found.map((r) => ({ tag: String(r.tag), memoryBytes: num(r.m), temporaryBytes: num(r.t) }));
      } catch (err) {
        throw wrap('memory', err);
      }
    },

    async ping() {
      await serial('ping', (c) => c.run('SELECT 1'));
    },

    async close() {
      if (closing) return;
      closing = true;
      if (importIdle) clearTimeout(importIdle);
      importIdle = null;
      await Promise.all([writes.idle(), ...reads.map((r) => r.idle())]); // calls already queued finish first
      closed = true;
      probe?.closeSync();
      probe = null;
      for (let i = 0; i < readers.length; i++) {
        readers[i]?.closeSync();
        readers[i] = null;
      }
      conn?.closeSync();
      instance?.closeSync();
      conn = null;
      instance = null;
    },
  };
}
