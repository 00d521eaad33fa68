/**
 * The id ledger: event ids already counted, so a producer retrying a batch (or re-sending
 * yesterday's offline queue, or an import run twice) is counted once within the dedup
 * window (PULSE_DEDUP_HOURS, default 48 h, measured on arrival time).
 *
 * Behind an interface because a cluster shares it (issue 18: Redis, SET NX with a TTL);
 * the single-node implementation is `LmdbIdLedger`.
 */
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import { IdFilter, hashId } from './idFilter.js';

export interface IdLedger {
  /** A duplicate is an id claimed less than this long before (arrival time). */
  readonly windowMs: number;
  /**
   * Answers, per id, whether it was seen within the window before `at`, and reserves the
   * others: a later claim sees them as seen. An id repeated inside `ids` is a duplicate the
   * second time. Then exactly one of confirm() or release() for the reserved ids.
   * `owner`: an import batch mark. An id confirmed earlier by the same owner is not a
   * duplicate for it (that batch's retry after a crash: its ids were marked, its events
   * never acknowledged), and is for everyone else.
   */
  claim(ids: readonly string[], at: number, owner?: string): Promise<boolean[]>;
  /**
   * The reserved ids' batch is durable (journaled): their marks are made durable too. Only
   * after the journal: a crash between the two leaves the ids in the journal, which re-marks
   * them at start-up; the other order would leave ids marked whose events were never kept,
   * and the producer's retry would be taken for a duplicate (lost).
   */
  confirm(ids: readonly string[], at: number, owner?: string): Promise<void>;
  /** Drops the reservations of a batch that was not acknowledged (a retry is not a duplicate). */
  release(ids: readonly string[], at: number): Promise<void>;
  /**
   * Journal replay after a restart: marks the ids of this node's journaled events (at their
   * arrival time) and answers, per entry, whether the event is still this node's to count.
   * False only where another node counted the id meanwhile: this node died after journaling
   * but before confirming, its claim's lease ran out, and the producer's retry was counted
   * elsewhere. Counting it again on replay would count it twice. Single node: always true.
   */
  markReplayed(entries: readonly (readonly [string, number])[]): Promise<boolean[]>;
  /** Drops what fell out of the window. */
  sweep(now: number): Promise<void>;
  close(): Promise<void>;
}

/** One half window of ids: its LMDB database and the filter of its ids (complete once `filled`). */
interface Partition {
  db: Database<number | string, string>;
  filter: IdFilter;
  filled: boolean;
}

export interface LmdbIdLedgerOptions {
  dir: string;
  windowMs: number;
  /** fsync each commit (follows PULSE_JOURNAL_FSYNC; the journal re-remembers ids it retains either way). */
  fsync: boolean;
}

/**
 * Ids in LMDB (the `lmdb` package: memory-mapped B-tree, prebuilt binaries, crash-safe
 * commits). Chosen over hand-written files and over a DuckDB table because a point lookup
 * is a few microseconds with no query planning, writes issued in one turn commit together
 * (one transaction per claimed batch), and the map is paged by the OS: the process holds
 * no per-id memory, only the ids of commits in flight.
 *
 * Time-partitioned: ids go into a named database per half window of arrival time. A lookup
 * checks the (at most three) partitions that overlap the window; a partition entirely older
 * than the window is dropped whole, so expiry never scans ids and the file stays at about
 * 1.5 windows of ids (LMDB reuses freed pages; the file does not shrink).
 *
 * Each partition has a Bloom filter in memory (idFilter.ts, 2 MiB, fixed): a new id, which
 * nearly every id is, is answered without a disk lookup. Every id this process writes is added
 * to its partition's filter when its write is issued (while still reserved in `pending`); a
 * partition found on disk at start-up is read into its filter in the background, and is looked
 * up on disk for every id until that is done. So a filter's "certainly not" is never wrong.
 */
export class LmdbIdLedger implements IdLedger {
  readonly windowMs: number;
  private readonly spanMs: number;
  private readonly root: RootDatabase;
  private readonly meta: Database<number[], string>;
  /** By start; a db's value: arrival time, or `<arrival time>|<owner>` for ids an import batch confirmed. */
  private readonly partitions = new Map<number, Partition>();
  /** Ids reserved by a claim or whose commit is in flight (LMDB shows a write to readers once committed). */
  private readonly pending = new Map<string, number>();
  /** Reading the partitions found at start-up into their filters. */
  private filling: Promise<void> = Promise.resolve();
  private closing = false;

  private constructor(o: LmdbIdLedgerOptions) {
    this.windowMs = o.windowMs;
    this.spanMs = Math.max(1, Math.floor(o.windowMs / 2));
    mkdirSync(o.dir, { recursive: true });
    this.root = open({ path: o.dir, maxDbs: 64, noSync: !o.fsync, compression: false });
    this.meta = this.root.openDB<number[], string>({ name: 'meta' });
    const found = this.meta.get('partitions') ?? [];
    for (const start of found) this.partitions.set(start, this.openPartition(start, false));
    this.filling = this.fill(found);
  }

  /** Keys read into a filter per event-loop turn at start-up. */
  private static readonly FILL_CHUNK = 20_000;

  /**
   * Reads the ids of partitions that were on disk at start-up into their filters, a chunk per
   * turn (a 48 h window can hold millions of ids: start-up and ingest go on meanwhile, looking
   * those partitions up on disk). Ids written meanwhile are added by mark() as for any partition.
   */
  private async fill(starts: readonly number[]): Promise<void> {
    for (const start of starts) {
      let after: string | undefined;
      for (;;) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        const p = this.partitions.get(start);
        if (this.closing || !p) break;
        let n = 0;
        for (const key of p.db.getKeys(after === undefined ? { limit: LmdbIdLedger.FILL_CHUNK } : { start: after, limit: LmdbIdLedger.FILL_CHUNK + 1 })) {
          if (key === after) continue;
          p.filter.add(key);
          after = key;
          n++;
        }
        if (n === 0) {
          p.filled = true;
          break;
        }
      }
    }
  }

  /** Resolves once the partitions found at start-up are in their filters (tests, benchmarks). */
  get filtersFilled(): Promise<void> {
    return this.filling;
  }

  static open(o: LmdbIdLedgerOptions): LmdbIdLedger {
    return new LmdbIdLedger(o);
  }

  private openPartition(start: number, filled: boolean): Partition {
    return { db: this.root.openDB<number | string, string>({ name: `ids-${start}` }), filter: new IdFilter(), filled };
  }

  private partitionFor(at: number): Partition {
    const start = Math.floor(at / this.spanMs) * this.spanMs;
    let p = this.partitions.get(start);
    if (!p) {
      p = this.openPartition(start, true);
      // A partition this process creates may hold ids of an earlier run all the same (its start
      // was not yet in `meta` when that run died): then it is read into its filter first.
      if (p.db.getKeysCount({ limit: 1 }) > 0) {
        p.filled = false;
        this.filling = this.filling.then(() => this.fill([start]));
      }
      this.partitions.set(start, p);
      void this.meta.put('partitions', [...this.partitions.keys()].sort((a, b) => a - b));
    }
    return p;
  }

  /** Whether `id` was seen within the window before/at `at` by anyone but `owner`. */
  private seen(id: string, at: number, owner: string | undefined): boolean {
    const since = at - this.windowMs;
    const p = this.pending.get(id);
    if (p !== undefined && p >= since) return true;
    let hashed = false;
    for (const [start, { db, filter, filled }] of this.partitions) {
      if (start + this.spanMs <= since) continue;
      if (filled) {
        if (!hashed) hashId(id);
        hashed = true;
        if (!filter.mayHaveHashed()) continue;
      }
      const v = db.get(id);
      if (v === undefined) continue;
      if (typeof v === 'number') {
        if (v >= since) return true;
        continue;
      }
      const bar = v.indexOf('|');
      if (Number(v.slice(0, bar)) >= since && (owner === undefined || v.slice(bar + 1) !== owner)) return true;
    }
    return false;
  }

  /** Writes `entries` in one transaction (one commit, one promise: per-put promises cost more than the puts). */
  private async mark(entries: readonly (readonly [string, number])[], owner?: string): Promise<void> {
    if (entries.length === 0) return;
    for (const [id, at] of entries) this.pending.set(id, at);
    const targets = entries.map(([id, at]) => {
      const { db, filter } = this.partitionFor(at);
      // Before the commit, while the id is reserved in `pending`: no moment where neither answers.
      filter.add(id);
      return [db, id, owner === undefined ? at : `${at}|${owner}`] as const;
    });
    await this.root.transaction(() => {
      for (const [db, id, value] of targets) void db.put(id, value);
    });
    // Committed: readers see the marks on disk. (A failed commit leaves them reserved in
    // memory: this process still dedups them, and the journal re-marks them at start-up.)
    for (const [id, at] of entries) if (this.pending.get(id) === at) this.pending.delete(id);
  }

  claim(ids: readonly string[], at: number, owner?: string): Promise<boolean[]> {
    const seen: boolean[] = new Array<boolean>(ids.length);
    // Checked and reserved in one synchronous pass: two concurrent batches cannot both claim an id.
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      seen[i] = this.seen(id, at, owner);
      if (!seen[i]) this.pending.set(id, at);
    }
    return Promise.resolve(seen);
  }

  /** mark() for ids of one arrival time: one partition, one value, no per-id tuples (the hot path). */
  async confirm(ids: readonly string[], at: number, owner?: string): Promise<void> {
    if (ids.length === 0) return;
    const { db, filter } = this.partitionFor(at);
    const value = owner === undefined ? at : `${at}|${owner}`;
    for (const id of ids) {
      this.pending.set(id, at);
      filter.add(id);
    }
    await this.root.transaction(() => {
      for (const id of ids) void db.put(id, value);
    });
    for (const id of ids) if (this.pending.get(id) === at) this.pending.delete(id);
  }

  release(ids: readonly string[], at: number): Promise<void> {
    for (const id of ids) if (this.pending.get(id) === at) this.pending.delete(id);
    return Promise.resolve();
  }

  /** One node: nobody else can have counted a journaled id. */
  async markReplayed(entries: readonly (readonly [string, number])[]): Promise<boolean[]> {
    await this.mark(entries);
    return entries.map(() => true);
  }

  async sweep(now: number): Promise<void> {
    const since = now - this.windowMs;
    const old = [...this.partitions.keys()].filter((start) => start + this.spanMs <= since);
    if (old.length === 0) return;
    for (const start of old) {
      const { db } = this.partitions.get(start)!;
      this.partitions.delete(start);
      await db.drop();
    }
    await this.meta.put('partitions', [...this.partitions.keys()].sort((a, b) => a - b));
  }

  /** Ids held in process memory (commits in flight); the rest are on disk. */
  get inMemoryIds(): number {
    return this.pending.size;
  }

  get partitionCount(): number {
    return this.partitions.size;
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.filling;
    await this.root.flushed;
    await this.root.close();
  }
}
