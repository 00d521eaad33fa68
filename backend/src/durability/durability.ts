/**
 * Wires the journal and the spool around a store and a collector: the order of start-up
 * (drain what the spool kept → seed the collector from the store → replay the journal past
 * the spool's LSN) and of shutdown (flush → drain → close) lives here, in one place.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import { COUNTERS } from '@siyu-pulse/contracts/catalogue';
import type { Collector } from '../collector/collector.js';
import type { IdLedger } from '../ingest/idLedger.js';
import type { DurableLog } from '../ingest/service.js';
import type { SpoolMetrics } from './spool.js';
import type { MetricStore } from '../store/port.js';
import { Journal, type JournalEvent } from './journal.js';
import { Spool } from './spool.js';

export interface DurabilityOptions {
  dataDir: string;
  journal: boolean;
  fsync: boolean;
  fsyncMs: number;
  segmentBytes: number;
  journalMaxBytes: number;
  spoolMaxBytes: number;
  latenessMs: number;
}


export interface Durability {
  spool: Spool;
  /** What ingest appends to (the journal, or straight to the collector when it is off). */
  log: DurableLog;
  /** Oldest event time about to be replayed (the collector seeds its buckets), or null. */
  replayFrom: number | null;
  /** Import batches (`<importId>/<seq>`) found complete in the journal (for the import ledger). */
  importedBatches: string[];
  /** Binds the collector: journal events are applied to it once durable; the journal's ids are re-marked in the ledger. */
  attach(collector: Collector, ledger: IdLedger): Promise<{ replayed: number }>;
  /** Called by the collector after a snapshot reached the spool. */
  onFlushed(lsn: number): void;
  state(): DurabilityState;
  /** Problem for /readyz: the store is refusing the spool's rows, or nothing. */
  problem(): string | null;
  close(store: MetricStore): Promise<void>;
}

/** The journal and spool figures /metrics reads at scrape time. */
export interface DurabilityState {
  spoolRows: number;
  spoolBytes: number;
  spoolOldestAt: number | null;
  journalBytes: number;
  journalSegments: number;
}

/**
 * Marks the journaled events' ids in the ledger; answers the events still this node's to count
 * (an id that arrived before the dedup window is nobody's any more: replayed, not marked).
 */
async function markIds(ledger: IdLedger, events: readonly JournalEvent[]): Promise<JournalEvent[]> {
  const since = Date.now() - ledger.windowMs;
  const withId = events.filter((e) => e.id !== undefined && e.receivedAt >= since);
  const owned = await ledger.markReplayed(withId.map((e) => [e.id!, e.receivedAt] as const));
  const skipped = new Set(withId.filter((_, i) => !owned[i]));
  return skipped.size ? events.filter((e) => !skipped.has(e)) : [...events];
}

/** Journal events read into memory at a time when replaying what the store already holds. */
const REPLAY_CHUNK = 20_000;

export async function openDurability(o: DurabilityOptions, store: MetricStore, logger: Logger, metrics: { spool: SpoolMetrics }): Promise<Durability> {
  const spool = Spool.open(
    {
      dir: path.join(o.dataDir, 'spool'),
      maxBytes: o.spoolMaxBytes,
      metrics: metrics.spool,
      onError: (err) => logger.error({ err: err.message, backlog: spool.backlog().rows }, 'store write failed: rows stay in the spool and are retried'),
      onRecovered: () => logger.info('store writes recovered: the spool is draining'),
    },
    COUNTERS,
  );
  const left = spool.backlog().rows;
  if (left > 0) {
    logger.warn({ rows: left }, 'writing rows an earlier run left in the spool');
    // The store must hold them before the collector seeds from it.
    await spool.drainNow(store);
  }

  let collector: Collector | undefined;
  let journal: Journal | undefined;
  let pendingReplay: JournalEvent[] = [];
  /**
   * The retained events whose counters are stored, read in chunks at attach: their sketch keys
   * may not be stored yet (see Collector.replaySketchKeys), and their ids are marked again in
   * the id ledger (its last commits may not have reached the disk).
   */
  let flushedChunks: ((size: number) => Iterable<JournalEvent[]>) | undefined;
  let importedBatches: string[] = [];
  if (o.journal) {
    const opened = Journal.open(
      { dir: path.join(o.dataDir, 'journal'), fsync: o.fsync, fsyncMs: o.fsyncMs, segmentBytes: o.segmentBytes, maxBytes: o.journalMaxBytes },
      (items, lastLsn) => collector!.addDurable(items, lastLsn),
      spool.lsn,
    );
    journal = opened.journal;
    importedBatches = opened.importedBatches;
    if (opened.tornLines) logger.warn({ lines: opened.tornLines }, 'journal: ignored a torn tail (a write cut short by a crash; it was never acknowledged)');
    pendingReplay = opened.pending;
    flushedChunks = opened.flushedChunks;
    if (!o.fsync) logger.warn('PULSE_JOURNAL_FSYNC=off: acknowledged events can be lost on a power cut (a process crash is still covered)');
  } else {
    logger.warn('PULSE_JOURNAL=off: events acknowledged in the last flush interval are lost if the process is killed');
  }

  const direct: DurableLog = {
    append: (items) => {
      collector!.addDurable(items, 0);
      return Promise.resolve();
    },
  };

  return {
    spool,
    log: journal ?? direct,
    importedBatches,
    replayFrom: pendingReplay.reduce<number | null>((m, e) => (m === null || e.event.ts < m ? e.event.ts : m), null),
    async attach(c, ledger) {
      collector = c;
      // The ledger is on disk, but without fsync its last commits may be lost on a power cut:
      // the journal's ids are marked again, so a producer retrying a batch whose 202 it never
      // saw is still counted once. Idempotent.
      for (const chunk of flushedChunks?.(REPLAY_CHUNK) ?? []) {
        c.replaySketchKeys(chunk);
        // Stored already: marked, whatever the answer (stored counters cannot be taken back).
        await markIds(ledger, chunk);
      }
      flushedChunks = undefined;
      // In a cluster, an event whose id another node counted meanwhile (this node died before
      // confirming, the producer's retry went elsewhere) is not replayed: it would count twice.
      const owned = await markIds(ledger, pendingReplay);
      const dropped = pendingReplay.length - owned.length;
      if (dropped) logger.warn({ events: dropped }, 'journal replay: skipped events whose ids another node counted while this one was down (the producer retried there)');
      c.replay(owned);
      const replayed = owned.length;
      pendingReplay = [];
      spool.startDraining(store);
      return { replayed };
    },
    onFlushed(lsn) {
      journal?.release(lsn, Date.now() - o.latenessMs - 60_000);
    },
    state: () => {
      const b = spool.backlog();
      return { spoolRows: b.rows, spoolBytes: b.bytes, spoolOldestAt: b.oldestAt, journalBytes: journal?.bytes ?? 0, journalSegments: journal?.segmentCount ?? 0 };
    },
    problem: () => spool.backlog().lastError,
    async close(s) {
      await journal?.close();
      try {
        await spool.drainNow(s);
      } catch (err) {
        logger.warn({ err: (err as Error).message, rows: spool.backlog().rows }, 'store unreachable at shutdown: rows stay in the spool for the next start');
      }
      await spool.close();
    },
  };
}
