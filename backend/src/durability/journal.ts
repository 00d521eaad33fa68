/**
 * The ingest journal: every accepted event is appended here, and fsynced, before its 202
 * is sent, so a SIGKILL loses nothing that was acknowledged. Appends are grouped: one
 * write + fdatasync per group (every `fsyncMs`, e.g. 10 ms), not per request. Events are
 * applied to the collector only once their group is durable, in journal order, so nothing
 * unacknowledged ever reaches the store.
 *
 * Records carry a log sequence number (LSN). The spool remembers the LSN of the last
 * flushed snapshot; on start-up the events after it are replayed. Member ids are NOT
 * journaled, nor their hashes: an event keeps only its member's sketch key (a 25-bit
 * register index and a rank, see sketch/hll.ts), which is all a replay needs to bring the
 * distinct-member sketches up to date.
 *
 * Segments (`<first lsn>.ndjson`) rotate at `segmentBytes` and are deleted once every
 * event in them is in a flushed snapshot and they are older than the lateness window (their
 * ids seed the deduplicator after a restart, so a producer's retry is counted once).
 *
 * Written by hand rather than with a WAL library: the format is one JSON line per event,
 * and what matters (group commit, torn-tail tolerance, ordering with the collector) is the
 * part a generic library would not know.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { CountableEvent } from '../collector/counters.js';
import type { JournalEvent } from '../collector/snapshot.js';
import type { EventType } from '@siyu-pulse/contracts/catalogue';

export type { JournalEvent };

export interface JournalOptions {
  dir: string;
  /** Group-commit interval; 0 writes each group on the next tick. */
  fsyncMs: number;
  /** false: write without fdatasync (measured in the benchmark; not for production). */
  fsync: boolean;
  segmentBytes: number;
  /** Appends are refused (503) beyond this, rather than acknowledging what cannot be kept. */
  maxBytes: number;
}

export class JournalFullError extends Error {
  constructor(bytes: number, max: number) {
    super(`ingest journal is full (${Math.round(bytes / 1048576)} MB of ${Math.round(max / 1048576)} MB): the store has not accepted data for a while; see /readyz`);
    this.name = 'JournalFullError';
  }
}

interface Segment {
  file: string;
  firstLsn: number;
  lastLsn: number;
  maxReceivedAt: number;
  bytes: number;
}

/**
 * What ingest appends: the event as counted and what its line records. The same object is
 * handed to `apply` once durable (no second payload object per event: issue 18's profile had
 * GC at ~11 % of an event).
 */
export interface JournalItem {
  receivedAt: number;
  id: string | undefined;
  event: CountableEvent;
  /** An import batch's mark (`<importId>/<seq>/<count>`). */
  mark?: string;
}

interface Pending<T> {
  lines: string[];
  items: T[];
  lastLsn: number;
  waiters: { resolve: () => void; reject: (err: Error) => void }[];
}

/** A number as JSON.stringify writes it inside an array (a non-finite one is null). */
const num = (n: number | undefined): string => (n === undefined || !Number.isFinite(n) ? 'null' : String(n));

/** `"channel","community","campaign"`, remembered per shared tags object (collector/tagSets.ts). */
const tagsJson = new WeakMap<CountableEvent['tags'], string>();
function tagsPart(t: CountableEvent['tags']): string {
  let j = tagsJson.get(t);
  if (j === undefined) {
    j = `${JSON.stringify(t.channel)},${JSON.stringify(t.community)},${JSON.stringify(t.campaign)}`;
    if (Object.isFrozen(t)) tagsJson.set(t, j);
  }
  return j;
}

/**
 * One journal line: the same text as JSON.stringify of
 * `[lsn, receivedAt, id, type, ts, channel, community, campaign, amount, durationMs, sketchKey(, mark)]`
 * (journal.test.ts compares them), built without the array and with the tags' part
 * written once per tag set (issue 18's profile).
 */
export const encode = (lsn: number, receivedAt: number, id: string | undefined, e: CountableEvent, mark?: string): string =>
  `[${num(lsn)},${num(receivedAt)},${id === undefined ? 'null' : JSON.stringify(id)},${JSON.stringify(e.type)},${num(e.ts)},${tagsPart(e.tags)},${num(e.amount)},${num(e.durationMs)},${num(e.sketchKey)}${mark === undefined ? '' : `,${JSON.stringify(mark)}`}]`;

function decode(line: string): JournalEvent | null {
  let a: unknown;
  try {
    a = JSON.parse(line);
  } catch {
    return null;
  }
  // 10 fields: written before sketch keys were journaled (no member part to replay).
  // 12 fields: an imported event, with its batch mark.
  if (!Array.isArray(a) || a.length < 10 || a.length > 12 || typeof a[0] !== 'number' || typeof a[4] !== 'number') return null;
  const [lsn, receivedAt, id, type, ts, channel, community, campaign, amount, durationMs, sketchKey, mark] = a as [number, number, string | null, EventType, number, string, string, string, number | null, number | null, number | null | undefined, string | undefined];
  return {
    ...(typeof mark === 'string' ? { mark } : {}),
    lsn,
    receivedAt,
    id: id ?? undefined,
    event: {
      type, ts, tags: { channel, community, campaign }, amount: amount ?? undefined, durationMs: durationMs ?? undefined,
      ...(typeof sketchKey === 'number' ? { sketchKey } : {}),
    },
  };
}

export interface OpenedJournal<T extends JournalItem> {
  journal: Journal<T>;
  /** Events past `minLsn` (no flushed snapshot holds them), in LSN order: replayed into the collector. */
  pending: JournalEvent[];
  /**
   * The retained events at or below `minLsn` (their counters are stored), read again from
   * disk in chunks of `size`, in LSN order. Never all in memory at once: a journal can retain
   * millions of events (a big import, a busy hour) and a 256 MiB heap cannot hold them decoded.
   */
  flushedChunks(size: number): Generator<JournalEvent[]>;
  /** Every retained event in LSN order, all in memory: for tests and small journals. */
  readonly events: JournalEvent[];
  /** Lines that did not parse (a torn write at the tail of the last segment). */
  tornLines: number;
  /** Import batches (`<importId>/<seq>`) whose every event is in the journal. */
  importedBatches: string[];
}

/**
 * Import batches are all-or-nothing: every line of one carries its mark with the batch's
 * event count. A batch cut short by a crash (a torn group) was never acknowledged, so its
 * surviving lines are dropped rather than replayed; complete ones are reported so the
 * import ledger knows them even if the crash came before the ledger's own write.
 */
/** Marks whose every event is in the journal (`<importId>/<seq>/<count>` seen `count` times). */
function completeMarks(seen: ReadonlyMap<string, number>): Set<string> {
  const complete = new Set<string>();
  for (const [mark, n] of seen) if (Number(mark.slice(mark.lastIndexOf('/') + 1)) === n) complete.add(mark);
  return complete;
}

/** The decoded events of segment files, in file order; `undefined` for a line that did not parse. */
function* eventsOf(files: readonly string[]): Generator<JournalEvent | undefined> {
  for (const file of files) {
    for (const line of linesOf(file)) if (line) yield decode(line) ?? undefined;
  }
}

/**
 * @typeParam T the appended items, handed to `apply` as they are once durable (the full event, member included)
 */
export class Journal<T extends JournalItem = JournalItem> {
  private segments: Segment[] = [];
  private handle: FileHandle | undefined;
  private nextLsn: number;
  private pending: Pending<T> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;
  private totalBytes = 0;

  private constructor(
    private readonly opts: JournalOptions,
    private readonly apply: (items: T[], lastLsn: number) => void,
    nextLsn: number,
  ) {
    this.nextLsn = nextLsn;
  }

  /**
   * Opens the journal directory (creating it), reads every retained segment and returns
   * the events for replay. `minLsn`: LSNs continue after max(this, the journal's last).
   */
  static open<T extends JournalItem = JournalItem>(opts: JournalOptions, apply: (items: T[], lastLsn: number) => void, minLsn: number): OpenedJournal<T> {
    mkdirSync(opts.dir, { recursive: true });
    const files = readdirSync(opts.dir)
      .filter((f) => /^\d{16}\.ndjson$/.test(f))
      .sort();
    // One pass keeps only what is small: segment bounds, import marks, and the events no
    // flushed snapshot holds (a flush interval's worth). The rest is read again on demand.
    const pending: JournalEvent[] = [];
    const segments: Segment[] = [];
    const marks = new Map<string, number>();
    let tornLines = 0;
    let last = 0;
    for (const f of files) {
      const file = path.join(opts.dir, f);
      const seg: Segment = { file, firstLsn: Number(f.slice(0, 16)), lastLsn: 0, maxReceivedAt: 0, bytes: statSync(file).size };
      for (const e of eventsOf([file])) {
        if (!e) {
          tornLines++;
          continue;
        }
        if (e.mark !== undefined) marks.set(e.mark, (marks.get(e.mark) ?? 0) + 1);
        if (e.lsn > minLsn) pending.push(e);
        seg.lastLsn = Math.max(seg.lastLsn, e.lsn);
        seg.maxReceivedAt = Math.max(seg.maxReceivedAt, e.receivedAt);
        last = Math.max(last, e.lsn);
      }
      segments.push(seg);
    }
    const journal = new Journal<T>(opts, apply, Math.max(last, minLsn) + 1);
    journal.segments = segments;
    journal.totalBytes = segments.reduce((s, x) => s + x.bytes, 0);
    const complete = completeMarks(marks);
    const kept = (e: JournalEvent) => e.mark === undefined || complete.has(e.mark);
    const paths = segments.map((x) => x.file);
    function* flushedChunks(size: number): Generator<JournalEvent[]> {
      let chunk: JournalEvent[] = [];
      for (const e of eventsOf(paths)) {
        if (!e || e.lsn > minLsn || !kept(e)) continue;
        chunk.push(e);
        if (chunk.length >= size) {
          yield chunk.sort((a, b) => a.lsn - b.lsn);
          chunk = [];
        }
      }
      if (chunk.length) yield chunk.sort((a, b) => a.lsn - b.lsn);
    }
    const replay = pending.filter(kept).sort((a, b) => a.lsn - b.lsn);
    return {
      journal,
      pending: replay,
      flushedChunks,
      get events() {
        return [...[...flushedChunks(10_000)].flat(), ...replay];
      },
      tornLines,
      importedBatches: [...complete].map((m) => m.slice(0, m.lastIndexOf('/'))),
    };
  }

  /** Bytes on disk (all retained segments). */
  get bytes(): number {
    return this.totalBytes;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** The LSN the next event will get. */
  get nextSequence(): number {
    return this.nextLsn;
  }

  /**
   * Queues events for the next group commit. Resolves once they are on disk and applied;
   * rejects (and applies nothing) when the write or fsync fails or the journal is full.
   */
  append(items: readonly T[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error('journal closed'));
    if (items.length === 0) return Promise.resolve();
    if (this.totalBytes >= this.opts.maxBytes) return Promise.reject(new JournalFullError(this.totalBytes, this.opts.maxBytes));
    const group = (this.pending ??= { lines: [], items: [], lastLsn: 0, waiters: [] });
    for (const it of items) {
      const lsn = this.nextLsn++;
      group.lines.push(encode(lsn, it.receivedAt, it.id, it.event, it.mark));
      group.items.push(it);
      group.lastLsn = lsn;
    }
    const done = new Promise<void>((resolve, reject) => group.waiters.push({ resolve, reject }));
    this.timer ??= setTimeout(() => this.commitGroup(), this.opts.fsyncMs);
    return done;
  }

  private commitGroup(): void {
    this.timer = undefined;
    const group = this.pending;
    this.pending = undefined;
    if (!group) return;
    // Groups are written one after another, so application order is journal order.
    this.writing = this.writing.then(async () => {
      let handle: FileHandle | undefined;
      let sizeBefore = 0;
      try {
        const data = Buffer.from(`${group.lines.join('\n')}\n`, 'utf8');
        handle = await this.segmentFor(data.length, group);
        sizeBefore = this.segments[this.segments.length - 1]!.bytes;
        await handle.write(data);
        if (this.opts.fsync) await handle.datasync();
        const seg = this.segments[this.segments.length - 1]!;
        seg.bytes += data.length;
        seg.lastLsn = group.lastLsn;
        seg.maxReceivedAt = Math.max(seg.maxReceivedAt, Date.now());
        this.totalBytes += data.length;
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        const error = new Error(`ingest journal write failed (${e.code ?? e.message}): ${e.message}`);
        for (const w of group.waiters) w.reject(error);
        // Take back what was written of the refused group (it was not acknowledged, so it
        // must not be replayed), then start a fresh segment for the next group.
        await handle?.truncate(sizeBefore).then(() => handle?.datasync()).catch(() => undefined);
        await this.closeHandle();
        return;
      }
      this.apply(group.items, group.lastLsn);
      for (const w of group.waiters) w.resolve();
    });
  }

  private async segmentFor(bytes: number, group: Pending<T>): Promise<FileHandle> {
    const current = this.segments[this.segments.length - 1];
    if (this.handle && current && current.bytes + bytes <= this.opts.segmentBytes) return this.handle;
    await this.closeHandle();
    const firstLsn = group.lastLsn - group.lines.length + 1;
    const file = path.join(this.opts.dir, `${String(firstLsn).padStart(16, '0')}.ndjson`);
    this.handle = await open(file, 'a');
    // The new file's directory entry must survive a crash too.
    syncDir(this.opts.dir);
    this.segments.push({ file, firstLsn, lastLsn: firstLsn - 1, maxReceivedAt: 0, bytes: 0 });
    return this.handle;
  }

  private async closeHandle(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close().catch(() => undefined);
  }

  /**
   * Deletes segments whose every event is in a flushed snapshot (`flushedLsn`) and whose
   * newest event arrived before `before` (the lateness window). The segment being written
   * is kept.
   */
  release(flushedLsn: number, before: number): number {
    let removed = 0;
    while (this.segments.length > 1) {
      const seg = this.segments[0]!;
      if (seg.lastLsn > flushedLsn || seg.maxReceivedAt >= before) break;
      try {
        unlinkSync(seg.file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      this.totalBytes -= seg.bytes;
      this.segments.shift();
      removed++;
    }
    return removed;
  }

  /** Commits what is queued and closes the file. */
  async close(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.commitGroup();
    }
    this.closed = true;
    await this.writing;
    await this.closeHandle();
  }
}

/** fsync of a directory, so a created or renamed file's entry is durable. */
export function syncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on directories; the file's own fsync still holds.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The lines of a segment, read in 1 MiB chunks: a whole 64 MiB segment read as one string
 * and split held two copies of it at once, which a 256 MiB heap cannot afford at start-up
 * after a large import. A line is the text between newlines, the last one possibly torn.
 */
function* linesOf(file: string): Generator<string> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    // Released since it was listed: every event in it was flushed and is no longer needed.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const chunk = Buffer.allocUnsafe(1 << 20);
    // Bytes after the last newline so far, kept as bytes: a cut inside a multi-byte
    // character (community names are Chinese) must not be decoded until it is whole.
    let carry: Buffer = Buffer.alloc(0);
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      const bytes = carry.length ? Buffer.concat([carry, chunk.subarray(0, n)]) : chunk.subarray(0, n);
      const lastNl = bytes.lastIndexOf(0x0a);
      if (lastNl < 0) {
        carry = Buffer.from(bytes);
        continue;
      }
      const text = bytes.toString('utf8', 0, lastNl);
      carry = Buffer.from(bytes.subarray(lastNl + 1));
      yield* text.split('\n');
    }
    if (carry.length) yield carry.toString('utf8');
  } finally {
    closeSync(fd);
  }
}
