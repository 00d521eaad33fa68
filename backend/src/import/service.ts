/**
 * Applies import batches through the producers' path (validation, dedup, journal, collector:
 * IngestService, fed with back-pressure by the BulkFeeder) exactly once per (import,
 * batch), with the ledger. Used by the import
 * endpoint (the `npm run import` CLI) and by the demo's history fill.
 */
import type { BulkFeeder } from '../ingest/bulk.js';
import type { IngestResult } from '../ingest/service.js';
import type { ImportLedger } from './ledger.js';

export const IMPORT_ID = /^[0-9a-f]{16,64}$/;

export interface BatchOutcome extends IngestResult {
  seq: number;
  /** false: the ledger already had this batch; nothing was counted now. */
  applied: boolean;
}

export class ImportService {
  /** Batches being applied: a concurrent retry of one waits for it instead of counting it again. */
  private readonly inFlight = new Map<string, Promise<BatchOutcome>>();

  constructor(
    private readonly feeder: Pick<BulkFeeder, 'feed' | 'finish'>,
    readonly ledger: ImportLedger,
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
