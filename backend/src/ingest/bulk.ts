/**
 * Feeding history in bulk (an import of last month, the demo's 30 days): the producers'
 * path — IngestService (validation, history limit, id ledger, journal) into the collector,
 * which adds counters to the stored buckets and merges members into the stored sketches —
 * with back-pressure, so memory stays bounded however fast the source is read:
 *
 * - after a batch, when the collector holds more than `maxHeldRows` bucket rows and distinct
 *   periods, it is flushed (sketches included): what is written and older than the lateness
 *   window then leaves memory (a later event for it reads the stored row back and adds to it);
 * - while the store is behind (rows spooled but not yet written, `backlog`), it waits.
 *
 * Input sorted by time is fastest: a flush then holds a few hours of buckets, and a period
 * is re-read from the store only when the import comes back to it. Batches of 1,000–10,000
 * events suit it (one ledger commit and one journal append per batch).
 *
 *   const feeder = new BulkFeeder({ ingest: pulse.ingest, collector: pulse.collector, backlog: pulse.storeBacklog });
 *   for await (const batch of batches) report(await feeder.feed(batch));
 *   await feeder.finish();   // everything flushed and in the store
 */
import type { IngestResult } from './service.js';

export interface BulkFeederOptions {
  /** Usually the server's IngestService (`PulseHandle.ingest`). */
  ingest: { accept(items: readonly unknown[], parseErrors?: ReadonlyMap<number, string>, scope?: undefined, batchMark?: string): Promise<IngestResult> };
  /** Usually the server's Collector (`PulseHandle.collector`). */
  collector: { heldRows(): number; flush(): Promise<void> };
  /** Rows waiting for the store (`PulseHandle.storeBacklog`); none: the store is not waited for. */
  backlog?: () => number;
  /** Writes every pending row now (`PulseHandle.flushToStore`); used by finish(). */
  flushToStore?: () => Promise<void>;
  /** Flush when the collector holds more than this (default 50,000; ~25 MB of rows and sparse sketches). */
  maxHeldRows?: number;
  /**
   * Wait while more rows than this are on their way to the store (default 10,000: a spooled
   * row waits in memory, ~2 KB each, and the store is slower than ingest in bulk).
   */
  maxBacklogRows?: number;
}

export class BulkFeeder {
  private peak = 0;
  private flushes = 0;
  private readonly maxHeld: number;
  private readonly maxBacklog: number;

  constructor(private readonly o: BulkFeederOptions) {
    this.maxHeld = o.maxHeldRows ?? 50_000;
    this.maxBacklog = o.maxBacklogRows ?? 10_000;
  }

  /**
   * Accepts one batch (any mix of valid and invalid items; the answer says which) and applies back-pressure.
   * `batchMark`: an import batch, journaled as one unit (import/ledger.ts).
   */
  async feed(items: readonly unknown[], parseErrors?: ReadonlyMap<number, string>, batchMark?: string): Promise<IngestResult> {
    const result = await this.o.ingest.accept(items, parseErrors, undefined, batchMark);
    const held = this.o.collector.heldRows();
    if (held > this.peak) this.peak = held;
    if (held > this.maxHeld) {
      await this.o.collector.flush();
      this.flushes++;
    }
    const backlog = this.o.backlog;
    if (backlog) while (backlog() > this.maxBacklog) await new Promise((r) => setTimeout(r, 20));
    return result;
  }

  /** Flushes what is held and, with `flushToStore`, waits until the store has it. */
  async finish(): Promise<void> {
    if (this.o.flushToStore) await this.o.flushToStore();
    else await this.o.collector.flush();
  }

  /** Most rows the collector held after a batch (before its flush): the memory bound in rows. */
  get peakHeldRows(): number {
    return this.peak;
  }

  /** Flushes the feeder forced. */
  get forcedFlushes(): number {
    return this.flushes;
  }
}
