/**
 * The import ledger: which batches of which import (a file's content hash) are counted, so
 * running the same file again, or resuming after Ctrl-C or a crash, counts nothing twice.
 * The id deduplicator cannot do this: it remembers ids for a day or two, and a month-old
 * file may have no ids at all.
 *
 * Atomic with the batch: a batch's events are journaled as one unit, each line carrying the
 * batch's mark (durability/journal.ts). The ledger line is written right after the journal
 * made the batch durable and before the answer; if the process dies between the two, the
 * journal still holds the complete batch at the next start and `open` records it from
 * there. A batch the journal holds only in part was never acknowledged and is not counted.
 *
 * One append-only NDJSON file under the data dir, fsynced per line (a batch is thousands of
 * events, so one fsync per batch costs nothing measurable).
 */
import { closeSync, fdatasyncSync, mkdirSync, openSync, readFileSync, writeSync, existsSync } from 'node:fs';
import path from 'node:path';
import { syncDir } from '../durability/journal.js';

export interface BatchEntry {
  seq: number;
  accepted: number;
  duplicates: number;
  /** Rejections the server made (index in the batch, reason); capped. */
  rejected: { index: number; error: string }[];
  at: number;
}

export interface ImportInfo {
  importId: string;
  /** Lines of the file per batch: fixed for an import, so seq N always means the same lines. */
  batchLines: number;
  name: string;
  startedAt: number;
  batches: Map<number, BatchEntry>;
}

type Line =
  | { kind: 'import'; importId: string; batchLines: number; name: string; at: number }
  | ({ kind: 'batch'; importId: string } & BatchEntry);

export class ImportLedger {
  private readonly imports = new Map<string, ImportInfo>();
  private fd: number | undefined;

  private constructor(private readonly file: string) {}

  /**
   * @param fromJournal batches (`<importId>/<seq>`) the journal holds complete: recorded here
   *   when the ledger line was lost to a crash.
   */
  static open(dataDir: string, fromJournal: readonly string[] = []): ImportLedger {
    const dir = path.join(dataDir, 'imports');
    mkdirSync(dir, { recursive: true });
    const ledger = new ImportLedger(path.join(dir, 'ledger.ndjson'));
    const created = !existsSync(ledger.file);
    if (!created) {
      for (const line of readFileSync(ledger.file, 'utf8').split('\n')) {
        if (!line) continue;
        let l: Line;
        try {
          l = JSON.parse(line) as Line;
        } catch {
          continue; // a torn last line: its batch, if journaled, comes back from the journal
        }
        ledger.applyLine(l);
      }
    }
    ledger.fd = openSync(ledger.file, 'a');
    if (created) syncDir(dir);
    for (const mark of fromJournal) {
      const slash = mark.lastIndexOf('/');
      const importId = mark.slice(0, slash);
      const seq = Number(mark.slice(slash + 1));
      if (!ledger.isDone(importId, seq)) ledger.recordBatch(importId, { seq, accepted: -1, duplicates: 0, rejected: [], at: Date.now() });
    }
    return ledger;
  }

  private applyLine(l: Line): void {
    if (l.kind === 'import') {
      const known = this.imports.get(l.importId);
      if (!known) this.imports.set(l.importId, { importId: l.importId, batchLines: l.batchLines, name: l.name, startedAt: l.at, batches: new Map() });
      else if (known.batchLines === 0) Object.assign(known, { batchLines: l.batchLines, name: l.name });
      return;
    }
    let info = this.imports.get(l.importId);
    if (!info) {
      // Recovered from the journal before its import line: batch size unknown until the client says.
      info = { importId: l.importId, batchLines: 0, name: '', startedAt: l.at, batches: new Map() };
      this.imports.set(l.importId, info);
    }
    info.batches.set(l.seq, { seq: l.seq, accepted: l.accepted, duplicates: l.duplicates, rejected: l.rejected, at: l.at });
  }

  private write(l: Line): void {
    // Memory first: if the write fails after the batch was journaled, a retry is still
    // answered "done" now, and the journal restores the line at the next start.
    this.applyLine(l);
    if (this.fd === undefined) throw new Error('import ledger closed');
    writeSync(this.fd, `${JSON.stringify(l)}\n`);
    fdatasyncSync(this.fd);
  }

  get(importId: string): ImportInfo | undefined {
    return this.imports.get(importId);
  }

  isDone(importId: string, seq: number): boolean {
    return this.imports.get(importId)?.batches.has(seq) ?? false;
  }

  /** Registers an import (first batch); refuses a different batch size for a known one. */
  register(importId: string, batchLines: number, name: string): string | null {
    const known = this.imports.get(importId);
    if (known && known.batchLines !== 0) {
      return known.batchLines === batchLines ? null : `import ${importId} was started with ${known.batchLines} lines per batch; resume it with the same (got ${batchLines})`;
    }
    this.write({ kind: 'import', importId, batchLines, name, at: Date.now() });
    return null;
  }

  recordBatch(importId: string, entry: BatchEntry): void {
    this.write({ kind: 'batch', importId, ...entry, rejected: entry.rejected.slice(0, 1000) });
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
