/**
 * Applies import batches through the producers' path (validation, dedup, journal, collector:
 * IngestService, fed with back-pressure by the BulkFeeder) exactly once per (import,
 * batch), with the ledger. Used by the import
 * endpoint (the `npm run import` CLI) and by the demo's history fill.
 */
import type { BulkFeeder } from '../ingest/bulk.js';
import type { IngestResult } from '../ingest/service.js';

/**
 * The aggregated path (IngestService.acceptHistory bound to the store's applyAdditive): the
 * batch applied with its mark in one store transaction, or null when it must take the
 * producers' path (recent events, a conflict with what the collector holds, or a store without it).
 */
export type HistoryAccept = (items: readonly unknown[], parseErrors: ReadonlyMap<number, string>, batchMark: string) => Promise<(IngestResult & { applied: boolean }) | null>;
import type { ImportLedger } from './ledger.js';

export const IMPORT_ID = /^[0-9a-f]{16,64}$/;

/**
 * Events per import batch at most: big, so HTTP is not what limits an import (the CLI sends
 * 20,000), and bounded by the server's heap: 100,000-event batches of sparse history (the
 * CLI keeps three in flight) ran the 256 MiB heap out, 50,000 did not (measured;
 * docs/dev-notes/2026-12-07c/h12imp.md).
 */
export const MAX_IMPORT_EVENTS = 50_000;

export interface BatchOutcome extends IngestResult {
  seq: number;
  /** false: the ledger already had this batch; nothing was counted now. */
  applied: boolean;
}

export class ImportService {
  /** Batches being applied: a concurrent retry of one waits for it instead of counting it again. */
  private readonly inFlight = new Map<string, Promise<BatchOutcome>>();

  /** Batches applied on the aggregated path / through the feeder (tests, the bench). */
  readonly paths = { aggregated: 0, producers: 0 };

  constructor(
    private readonly feeder: Pick<BulkFeeder, 'feed' | 'finish'>,
    readonly ledger: ImportLedger,
    private readonly history?: HistoryAccept,
  ) {}

  /** Registers the import (its batch size) or returns why it cannot be. */
  begin(importId: string, batchLines: number, name: string): string | null {
    if (!IMPORT_ID.test(importId)) return 'import id must be 16–64 lowercase hex characters (the file content hash)';
    if (!Number.isInteger(batchLines) || batchLines < 1) return 'lines per batch must be a positive integer';
    return this.ledger.register(importId, batchLines, name);
  }

  /** Flushes what is held; resolves once the store has every counted event. */
  finish(): Promise<void> {
    return this.feeder.finish();
  }

  async apply(importId: string, seq: number, items: readonly unknown[], parseErrors?: ReadonlyMap<number, string>): Promise<BatchOutcome> {
    const key = `${importId}/${seq}`;
    const running = this.inFlight.get(key);
    if (running) {
      const r = await running.catch(() => undefined);
      if (r) return { ...r, applied: false };
    }
    const done = this.ledger.get(importId)?.batches.get(seq);
    if (done) return { seq, applied: false, accepted: done.accepted, duplicates: done.duplicates, rejected: done.rejected };
    const p = (async (): Promise<BatchOutcome> => {
      const h = this.history ? await this.history(items, parseErrors ?? new Map(), key) : null;
      if (h) {
        // Committed with its mark in the store (or found there: a retry after a crash whose
        // ledger line was lost); the ledger line follows, as after the journal below.
        const { applied, ...r } = h;
        if (!this.ledger.isDone(importId, seq)) this.ledger.recordBatch(importId, { seq, accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected, at: Date.now() });
        if (applied) this.paths.aggregated++;
        return { seq, applied, ...r };
      }
      this.paths.producers++;
      const r = await this.feeder.feed(items, parseErrors, key);
      // The journal holds the batch (with its mark) from here on; the ledger line follows.
      this.ledger.recordBatch(importId, { seq, accepted: r.accepted, duplicates: r.duplicates, rejected: r.rejected, at: Date.now() });
      return { seq, applied: true, ...r };
    })();
    this.inFlight.set(key, p);
    try {
      return await p;
    } finally {
      this.inFlight.delete(key);
    }
  }
}
