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
 */
export class LmdbIdLedger implements IdLedger {
  readonly windowMs: number;
  private readonly spanMs: number;
  private readonly root: RootDatabase;
  private readonly meta: Database<number[], string>;
  /** Value: arrival time, or `<arrival time>|<owner>` for ids an import batch confirmed. */
  private readonly partitions = new Map<number, Database<number | string, string>>();
  /** Ids reserved by a claim or whose commit is in flight (LMDB shows a write to readers once committed). */
  private readonly pending = new Map<string, number>();

  private constructor(o: LmdbIdLedgerOptions) {
    this.windowMs = o.windowMs;
    this.spanMs = Math.max(1, Math.floor(o.windowMs / 2));
    mkdirSync(o.dir, { recursive: true });
    this.root = open({ path: o.dir, maxDbs: 64, noSync: !o.fsync, compression: false });
    this.meta = this.root.openDB<number[], string>({ name: 'meta' });
    for (const start of this.meta.get('partitions') ?? []) this.partitions.set(start, this.openPartition(start));
  }

  static open(o: LmdbIdLedgerOptions): LmdbIdLedger {
    return new LmdbIdLedger(o);
  }

  private openPartition(start: number): Database<number | string, string> {
    return this.root.openDB<number | string, string>({ name: `ids-${start}` });
  }

  private partitionFor(at: number): Database<number | string, string> {
    const start = Math.floor(at / this.spanMs) * this.spanMs;
    let db = this.partitions.get(start);
    if (!db) {
      db = this.openPartition(start);
      this.partitions.set(start, db);
      void this.meta.put('partitions', [...this.partitions.keys()].sort((a, b) => a - b));
    }
    return db;
  }

  /** Whether `id` was seen within the window before/at `at` by anyone but `owner`. */
  private seen(id: string, at: number, owner: string | undefined): boolean {
    const since = at - this.windowMs;
    const p = this.pending.get(id);
    if (p !== undefined && p >= since) return true;
    for (const [start, db] of this.partitions) {
      if (start + this.spanMs <= since) continue;
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
    const targets = entries.map(([id, at]) => [this.partitionFor(at), id, owner === undefined ? at : `${at}|${owner}`] as const);
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

  confirm(ids: readonly string[], at: number, owner?: string): Promise<void> {
    return this.mark(ids.map((id) => [id, at] as const), owner);
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
      const db = this.partitions.get(start)!;
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
    await this.root.flushed;
    await this.root.close();
  }
}
