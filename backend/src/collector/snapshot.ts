/**
 * What the collector and the durability layer exchange: the rows a flush hands to the spool
 * (with the journal position they reflect) and the journal's events it replays at start-up.
 * Declared here, in the lower layer, so collector/ never imports durability/ (which drives it).
 */
import type { CounterRow, DistinctRow, SketchRow } from '../store/port.js';
import type { CountableEvent } from './counters.js';

export interface Snapshot {
  /** Every journal event up to this LSN is reflected in the rows (0 without a journal). */
  lsn: number;
  counters: readonly CounterRow[];
  distinct: readonly DistinctRow[];
  /** Member sketches (full rows, like the others: a later version replaces an earlier one). */
  sketches?: readonly SketchRow[];
}

/** What is persisted of an accepted event (no member id). */
export interface JournalEvent {
  lsn: number;
  receivedAt: number;
  id: string | undefined;
  event: Omit<CountableEvent, 'member'>;
  /** Import batch this event came in (`<importId>/<seq>/<events in the batch>`), see import/ledger.ts. */
  mark?: string;
}
