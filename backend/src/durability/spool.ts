/**
 * The write spool: every flushed snapshot of bucket rows is appended here (fsynced) before
 * it goes to the store, and a drainer writes it to the store in the background, retrying
 * with backoff while the store is down. So a store outage of an hour loses nothing: the
 * wall keeps running on live state, the spool grows, and it drains when the store is back.
 *
 * Rows are full rows (a later version of a bucket replaces the earlier one), so the
 * pending set is coalesced by key — an outage costs one entry per bucket and tag set, not
 * one per flush — and re-writing after a crash is harmless. The file is append-only; it is
 * compacted to the pending set when it passes half the limit and emptied once drained.
 * The LSN of the last spooled snapshot is kept in `checkpoint.json`: journal events after
 * it are replayed on start-up.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { CounterName, Granularity, MemberSetId } from '@siyu-pulse/contracts/catalogue';
import type { CounterRow, DistinctRow, MetricStore, SketchRow } from '../store/port.js';
import type { Rollup } from '../store/rollups.js';
import { syncDir } from './journal.js';
import type { Snapshot } from '../collector/snapshot.js';

export interface SpoolMetrics {
  rowsWritten(kind: 'counters' | 'distinct' | 'sketches', n: number): void;
  writeError(kind: 'counters' | 'distinct' | 'sketches'): void;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  /** Rows per store write while draining. */
  batchRows?: number;
  /** Backoff between failed drain attempts. */
  retryMs?: readonly number[];
  onError?(err: Error): void;
  onRecovered?(): void;
  metrics?: SpoolMetrics;
}

export type { Snapshot };

export class SpoolFullError extends Error {
  constructor(bytes: number, max: number) {
    super(`write spool is full (${Math.round(bytes / 1048576)} MB of ${Math.round(max / 1048576)} MB): the store has been unreachable too long; rows stay in memory and ingest will refuse new events once the journal is full`);
    this.name = 'SpoolFullError';
  }
}

interface Entry<R> {
  row: R;
  seq: number;
}

type EncodedCounter = [number, string, string, string, Record<string, number>, Rollup?];
type EncodedDistinct = [number, string, string, string, number];
type EncodedSketch = [number, string, string, string, string, string, string?];

const counterKey = (r: CounterRow) => `${r.ts}\u0000${r.tags.channel}\u0000${r.tags.community}\u0000${r.tags.campaign}\u0000${r.rollup ?? ''}`;
const distinctKey = (r: DistinctRow) => `${r.ts}\u0000${r.granularity}\u0000${r.set}\u0000${r.channel}`;
const sketchKey = (r: SketchRow) => `${r.ts}\u0000${r.granularity}\u0000${r.set}\u0000${r.channel}\u0000${r.node}\u0000${r.community ?? ''}`;
// A seventh element: a group's sketch (SketchRow.community); spools written before have six.
const encodeSketch = (r: SketchRow): EncodedSketch =>
  r.community !== undefined ? [r.ts, r.granularity, r.set, r.channel, r.node, r.sketch, r.community] : [r.ts, r.granularity, r.set, r.channel, r.node, r.sketch];
const decodeSketch = (a: EncodedSketch): SketchRow => ({
  ts: a[0],
  granularity: a[1] as Granularity,
  set: a[2] as MemberSetId,
  channel: a[3],
  node: a[4],
  sketch: a[5],
  ...(typeof a[6] === 'string' ? { community: a[6] } : {}),
});

function encodeCounter(r: CounterRow): EncodedCounter {
  const nonZero: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.counters)) if (v) nonZero[k] = v;
  return r.rollup ? [r.ts, r.tags.channel, r.tags.community, r.tags.campaign, nonZero, r.rollup] : [r.ts, r.tags.channel, r.tags.community, r.tags.campaign, nonZero];
}

function decodeCounter(a: EncodedCounter, counterNames: readonly CounterName[]): CounterRow {
  const counters = Object.fromEntries(counterNames.map((c) => [c, a[4][c] ?? 0])) as Record<CounterName, number>;
  const row: CounterRow = { ts: a[0], tags: { channel: a[1], community: a[2], campaign: a[3] }, counters };
  // A sixth element: a per-group rollup row (store/rollups.ts); spools written before have five.
  if (a[5] === 'hour' || a[5] === 'day') row.rollup = a[5];
  return row;
}

const encodeDistinct = (r: DistinctRow): EncodedDistinct => [r.ts, r.granularity, r.set, r.channel, r.value];
const decodeDistinct = (a: EncodedDistinct): DistinctRow => ({ ts: a[0], granularity: a[1] as Granularity, set: a[2] as MemberSetId, channel: a[3], value: a[4] });

// Capped at 10 s: after an outage the backlog starts draining within seconds of the store coming back.
const DEFAULT_RETRY = [1_000, 2_000, 5_000, 10_000] as const;

export class Spool {
  private readonly file: string;
  private readonly checkpointFile: string;
  private handle: FileHandle | undefined;
  private fileBytes = 0;
  private readonly counters = new Map<string, Entry<CounterRow>>();
  private readonly distinct = new Map<string, Entry<DistinctRow>>();
  private readonly sketches = new Map<string, Entry<SketchRow>>();
  private seq = 0;
  private spooledLsn = 0;
  private oldestPendingAt: number | null = null;
  private appending: Promise<unknown> = Promise.resolve();
  private draining: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private attempt = 0;
  private stopped = false;
  private store: MetricStore | undefined;
  private lastError: string | null = null;
  private drainedRows = 0;

  private constructor(
    private readonly opts: SpoolOptions,
    private readonly counterNames: readonly CounterName[],
  ) {
    this.file = path.join(opts.dir, 'spool.ndjson');
    this.checkpointFile = path.join(opts.dir, 'checkpoint.json');
  }

  /** Opens the spool directory and loads what an earlier run left (checkpoint and rows). */
  static open(opts: SpoolOptions, counterNames: readonly CounterName[]): Spool {
    mkdirSync(opts.dir, { recursive: true });
    const spool = new Spool(opts, counterNames);
    if (existsSync(spool.checkpointFile)) {
      const cp = JSON.parse(readFileSync(spool.checkpointFile, 'utf8')) as { lsn?: unknown };
      if (typeof cp.lsn === 'number') spool.spooledLsn = cp.lsn;
    }
    if (existsSync(spool.file)) {
      spool.fileBytes = statSync(spool.file).size;
      for (const line of readFileSync(spool.file, 'utf8').split('\n')) {
        if (!line) continue;
        let rec: { lsn: number; c: EncodedCounter[]; d: EncodedDistinct[]; k?: EncodedSketch[] };
        try {
          rec = JSON.parse(line) as typeof rec;
        } catch {
          continue; // a torn tail: that snapshot was never confirmed, its events are still in the journal
        }
        spool.merge(rec.c.map((a) => decodeCounter(a, counterNames)), rec.d.map(decodeDistinct), (rec.k ?? []).map(decodeSketch), Date.now());
        spool.spooledLsn = Math.max(spool.spooledLsn, rec.lsn);
      }
    }
    return spool;
  }

  /** LSN of the newest snapshot that is durable here (or already in the store). */
  get lsn(): number {
    return this.spooledLsn;
  }

  backlog(): { rows: number; bytes: number; oldestAt: number | null; lastError: string | null; drainedRows: number } {
    return { rows: this.pendingRows(), bytes: this.fileBytes, oldestAt: this.oldestPendingAt, lastError: this.lastError, drainedRows: this.drainedRows };
  }

  private merge(counters: readonly CounterRow[], distinct: readonly DistinctRow[], sketches: readonly SketchRow[], at: number): void {
    for (const row of counters) this.counters.set(counterKey(row), { row, seq: ++this.seq });
    for (const row of distinct) this.distinct.set(distinctKey(row), { row, seq: ++this.seq });
    for (const row of sketches) this.sketches.set(sketchKey(row), { row, seq: ++this.seq });
    if ((counters.length || distinct.length || sketches.length) && this.oldestPendingAt === null) this.oldestPendingAt = at;
  }

  /** The counter row of one bucket and tag set still waiting for the store, if any. */
  pendingCounters(ts: number, tags: { channel: string; community: string; campaign: string }, rollup?: Rollup): CounterRow | undefined {
    // Asked per row of an import batch (Collector.historyConflict): no key string when nothing is pending.
    if (this.counters.size === 0) return undefined;
    return this.counters.get(`${ts}\u0000${tags.channel}\u0000${tags.community}\u0000${tags.campaign}\u0000${rollup ?? ''}`)?.row;
  }

  /** Sketch rows of one period still waiting for the store (every channel and node; groups' rows with `groups`). */
  pendingSketches(set: string, granularity: Granularity, start: number, groups = false): SketchRow[] {
    const out: SketchRow[] = [];
    for (const { row } of this.sketches.values()) {
      if (row.ts === start && row.set === set && row.granularity === granularity && (row.community !== undefined) === groups) out.push(row);
    }
    return out;
  }

  /**
   * Periods (`ts\0granularity\0set`) with a distinct or sketch row still waiting for the
   * store: the aggregated import path (import/aggregate.ts) leaves them to the collector.
   */
  pendingPeriods(): Set<string> {
    const out = new Set<string>();
    for (const { row } of this.distinct.values()) out.add(`${row.ts}\u0000${row.granularity}\u0000${row.set}`);
    for (const { row } of this.sketches.values()) out.add(`${row.ts}\u0000${row.granularity}\u0000${row.set}`);
    return out;
  }

  /** Appends a snapshot durably (write + fdatasync). Throws SpoolFullError or the I/O error. */
  append(s: Snapshot): Promise<void> {
    const run = this.appending.then(async () => {
      const sketches = s.sketches ?? [];
      if (s.counters.length === 0 && s.distinct.length === 0 && sketches.length === 0) {
        this.spooledLsn = Math.max(this.spooledLsn, s.lsn);
        return;
      }
      const line = Buffer.from(`${JSON.stringify({ lsn: s.lsn, c: s.counters.map(encodeCounter), d: s.distinct.map(encodeDistinct), k: sketches.map(encodeSketch) })}\n`, 'utf8');
      if (this.fileBytes + line.length > this.opts.maxBytes / 2 && this.pendingRows() > 0) await this.compact();
      if (this.fileBytes + line.length > this.opts.maxBytes) throw new SpoolFullError(this.fileBytes + line.length, this.opts.maxBytes);
      const h = await this.fileHandle();
      await h.write(line);
      await h.datasync();
      this.fileBytes += line.length;
      this.merge(s.counters, s.distinct, sketches, Date.now());
      this.spooledLsn = Math.max(this.spooledLsn, s.lsn);
      this.kick();
    });
    this.appending = run.catch(() => undefined);
    return run;
  }

  private pendingRows(): number {
    return this.counters.size + this.distinct.size + this.sketches.size;
  }

  private async fileHandle(): Promise<FileHandle> {
    if (!this.handle) {
      const created = !existsSync(this.file);
      this.handle = await open(this.file, 'a');
      if (created) syncDir(this.opts.dir);
    }
    return this.handle;
  }

  /** Rewrites the file as the pending set alone (one record), atomically. */
  private async compact(): Promise<void> {
    const tmp = `${this.file}.tmp`;
    const counters = [...this.counters.values()].map((e) => encodeCounter(e.row));
    const distinct = [...this.distinct.values()].map((e) => encodeDistinct(e.row));
    const sketches = [...this.sketches.values()].map((e) => encodeSketch(e.row));
    const data = `${JSON.stringify({ lsn: this.spooledLsn, c: counters, d: distinct, k: sketches })}\n`;
    const h = await open(tmp, 'w');
    try {
      await h.write(data);
      await h.datasync();
    } finally {
      await h.close();
    }
    await this.handle?.close();
    this.handle = undefined;
    renameSync(tmp, this.file);
    syncDir(this.opts.dir);
    this.fileBytes = Buffer.byteLength(data);
  }

  // ---- draining ------------------------------------------------------------------------

  /** Starts writing pending rows to the store in the background. */
  startDraining(store: MetricStore): void {
    this.store = store;
    this.stopped = false;
    this.kick();
  }

  /** Writes everything pending now; rejects with the store's error (used at start-up). */
  async drainNow(store: MetricStore): Promise<void> {
    this.store = store;
    await this.drainOnce();
    if (this.lastError) throw new Error(this.lastError);
  }

  private kick(): void {
    if (this.stopped || !this.store || this.draining || this.retryTimer) return;
    if (this.pendingRows() === 0) return;
    this.draining = this.drainOnce().finally(() => {
      this.draining = undefined;
      if (this.stopped) return;
      if (this.lastError) {
        const delays = this.opts.retryMs ?? DEFAULT_RETRY;
        const delay = delays[Math.min(this.attempt++, delays.length - 1)]!;
        this.retryTimer = setTimeout(() => {
          this.retryTimer = undefined;
          this.kick();
        }, delay);
        this.retryTimer.unref();
      } else {
        this.attempt = 0;
        this.kick(); // rows that arrived meanwhile
      }
    });
  }

  private async drainOnce(): Promise<void> {
    const store = this.store!;
    const batch = this.opts.batchRows ?? 5_000;
    try {
      await this.drainMap(this.counters, 'counters', (rows) => store.writeCounters(rows, { rollups: 'given' }), batch);
      // Sketches before counts: a reader never sees a count whose sketch is not stored yet.
      await this.drainMap(this.sketches, 'sketches', (rows) => store.writeSketches(rows), Math.min(batch, 200));
      await this.drainMap(this.distinct, 'distinct', (rows) => store.writeDistinct(rows), batch);
      if (this.lastError) this.opts.onRecovered?.();
      this.lastError = null;
      if (this.pendingRows() === 0) await this.truncate();
    } catch (err) {
      const message = `store write failed: ${(err as Error).message}`;
      if (message !== this.lastError) this.opts.onError?.(err as Error);
      this.lastError = message;
    }
  }

  private async drainMap<R>(map: Map<string, Entry<R>>, kind: 'counters' | 'distinct' | 'sketches', write: (rows: R[]) => Promise<void>, batch: number): Promise<void> {
    while (map.size > 0) {
      const chunk: [string, Entry<R>][] = [];
      for (const entry of map) {
        chunk.push(entry);
        if (chunk.length >= batch) break;
      }
      try {
        await write(chunk.map(([, e]) => e.row));
      } catch (err) {
        this.opts.metrics?.writeError(kind);
        throw err;
      }
      // Only rows not replaced meanwhile leave the set; a newer version is written next.
      for (const [key, e] of chunk) if (map.get(key)?.seq === e.seq) map.delete(key);
      this.drainedRows += chunk.length;
      this.opts.metrics?.rowsWritten(kind, chunk.length);
    }
  }

  /**
   * Everything is in the store: remember the LSN, then empty the file. Runs in the append
   * queue, so no snapshot can be appended between the check and the truncation.
   */
  private truncate(): Promise<void> {
    const run = this.appending.then(async () => {
      if (this.pendingRows() > 0 || this.fileBytes === 0) return;
      const tmp = `${this.checkpointFile}.tmp`;
      const cp = await open(tmp, 'w');
      try {
        await cp.write(JSON.stringify({ lsn: this.spooledLsn }));
        await cp.datasync();
      } finally {
        await cp.close();
      }
      renameSync(tmp, this.checkpointFile);
      syncDir(this.opts.dir);
      const f = await this.fileHandle();
      await f.truncate(0);
      await f.datasync();
      this.fileBytes = 0;
      this.oldestPendingAt = null;
    });
    this.appending = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.draining;
    await this.appending;
    await this.handle?.close();
    this.handle = undefined;
  }
}
