/**
 * Ingest: validates each event, applies the history and future-skew rules, drops
 * duplicate ids (the disk id ledger), hashes member ids and appends the accepted events to the journal, which
 * hands them to the collector once they are on disk. The answer (and so the 202) comes
 * after that. Used by the HTTP route and by the simulator, so demo data takes exactly the
 * producers' path.
 */
import type { CountableEvent } from '../collector/counters.js';
import { TagSets } from '../collector/tagSets.js';
import { sketchKeyOf } from '../sketch/hll.js';
import { slicer, type Pause } from '../time/turns.js';
import { rememberingHasher, type MemberHasher } from './memberHash.js';
import type { IdLedger } from './idLedger.js';
import type { JournalItem } from '../durability/journal.js';
import { describeIssues, plainlyValid, validateEvent, type ValidEvent } from './schema.js';

const DAY_MS = 86_400_000;
import type { TagGuard } from './tagGuard.js';
import type { EventType } from '@siyu-pulse/contracts/catalogue';

/** What the presenting key may send; a refused type is rejected per event, with the reason. */
export interface IngestScope {
  typeProblem(type: EventType): string | null;
}

export interface Rejection {
  index: number;
  error: string;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: Rejection[];
}

/** `scope`: a type the key may not send (a public key's order.paid). */
export type RejectReason = 'parse' | 'invalid' | 'too_late' | 'future' | 'scope';

export interface IngestMetrics {
  accepted(n: number): void;
  duplicate(n: number): void;
  rejected(reason: RejectReason, n: number): void;
}

/** The ingest journal as ingest sees it: durable, then applied to the collector, in order. */
export interface DurableLog {
  append(items: readonly JournalItem[]): Promise<void>;
}

/** 'done': the store already had this batch's mark (a retry after a crash); nothing was counted now. */
export type HistoryApplyOutcome = 'applied' | 'done' | 'conflict';

/** The aggregated path for import batches of history (wired in server.ts; see acceptHistory). */
export interface HistoryPath {
  /** Events at or after this instant take the producers' path (the collector holds their range). */
  cutoff(now: number): number;
  /** Applies the batch's aggregate and its mark in one store transaction. */
  apply(events: readonly CountableEvent[], batchMark: string): Promise<HistoryApplyOutcome>;
}

interface Checked {
  /** The valid events, and their times at the same index (two arrays: no pair object per event). */
  valid: ValidEvent[];
  ts: number[];
  rejections: { index: number; reason: RejectReason; error: string }[];
}

/** The accepted events could not be made durable: nothing of the batch was counted. */
export class IngestUnavailableError extends Error {
  constructor(cause: Error) {
    super(`events not accepted: ${cause.message}`);
    this.name = 'IngestUnavailableError';
  }
}

export interface IngestOptions {
  log: DurableLog;
  hashMember: MemberHasher;
  /** Ids already counted (PULSE_DEDUP_HOURS). */
  ledger: IdLedger;
  tagGuard: TagGuard;
  /** Oldest accepted event (PULSE_HISTORY_DAYS): older is refused as too_late. */
  historyMs: number;
  /** Producers' clocks drift; events up to this far in the future are accepted. */
  futureSkewMs: number;
  metrics: IngestMetrics;
  /**
   * Why the collector cannot take a batch now, or null: a burst of history faster than the
   * store can take it is refused with 503 + Retry-After (nothing counted, nothing marked)
   * rather than held in memory without bound.
   */
  busy?: () => string | null;
  /** A confirmed batch's ids could not be written to the ledger (they stay reserved in memory). */
  onLedgerError?: (err: Error) => void;
  now?: () => number;
}

/** Member hashes an import remembers across its batches: ~20 MB at most (memberHash.ts: two generations of 65,536). */
const HISTORY_HASHES_REMEMBERED = 131_072;
/**
 * Live traffic: members recur (a chat, a browsing session, a campaign's push then its open),
 * and the HMAC was the largest single cost of an event (issue 18's profile). The members of
 * the last minute at most are remembered (the same bound in entries as an import's), held in
 * memory only, as every member hash is, and forgotten wholesale every LIVE_HASHES_MS.
 */
const LIVE_HASHES_REMEMBERED = 65_536;
const LIVE_HASHES_MS = 60_000;

export class IngestService {
  private readonly now: () => number;

  /** Member hashes for import batches, remembered across them (memberHash.ts: rememberingHasher). */
  private readonly historyHash: MemberHasher;

  /** One shared tags object per tag set (collector/tagSets.ts). */
  private readonly tagSets = new TagSets();

  /** Member hashes of live batches and since when (see LIVE_HASHES_MS). */
  private liveHash: MemberHasher | undefined;
  private liveHashSince = 0;

  constructor(private readonly opts: IngestOptions) {
    this.now = opts.now ?? Date.now;
    this.historyHash = rememberingHasher(opts.hashMember, HISTORY_HASHES_REMEMBERED);
  }

  /** The live batches' remembering hasher, started afresh every LIVE_HASHES_MS (also when the clock goes back). */
  private liveHasher(now: number): MemberHasher {
    if (this.liveHash === undefined || now - this.liveHashSince >= LIVE_HASHES_MS || now < this.liveHashSince) {
      this.liveHash = rememberingHasher(this.opts.hashMember, LIVE_HASHES_REMEMBERED);
      this.liveHashSince = now;
    }
    return this.liveHash;
  }

  /** Validation, scope and the history / future rules for one batch: no side effects. */
  private check(items: readonly unknown[], parseErrors: ReadonlyMap<number, string>, scope: IngestScope | undefined, now: number): Checked {
    const out: Checked = { valid: [], ts: [], rejections: [] };
    for (let index = 0; index < items.length; index++) this.checkOne(items[index], index, parseErrors, scope, now, out);
    return out;
  }

  /** check() in slices: the event loop gets a turn whenever `pause` says (an import batch). */
  private async checkSliced(items: readonly unknown[], parseErrors: ReadonlyMap<number, string>, now: number, pause: Pause): Promise<Checked> {
    const out: Checked = { valid: [], ts: [], rejections: [] };
    for (let index = 0; index < items.length; index++) {
      this.checkOne(items[index], index, parseErrors, undefined, now, out);
      const p = pause();
      if (p) await p;
    }
    return out;
  }

  private checkOne(item: unknown, index: number, parseErrors: ReadonlyMap<number, string>, scope: IngestScope | undefined, now: number, out: Checked): void {
    const { historyMs, futureSkewMs } = this.opts;
    const reject = (reason: RejectReason, error: string) => void out.rejections.push({ index, reason, error });
    const parseError = parseErrors.get(index);
    if (parseError !== undefined) return reject('parse', parseError);
    let e: ValidEvent;
    // The common case without validateEvent's result object (one allocation per event fewer).
    if (plainlyValid(item)) e = item;
    else {
      const parsed = validateEvent(item);
      if (!parsed.success) return reject('invalid', describeIssues(parsed.error));
      e = parsed.data;
    }
    const outOfScope = scope?.typeProblem(e.type);
    if (outOfScope) return reject('scope', outOfScope);
    const ts = e.ts === undefined ? now : typeof e.ts === 'number' ? e.ts : Date.parse(e.ts);
    if (ts < now - historyMs) {
      return reject('too_late', `ts ${new Date(ts).toISOString()} is older than the history limit of ${historyMs / DAY_MS} days (PULSE_HISTORY_DAYS); events this old are not counted`);
    }
    if (ts > now + futureSkewMs) return reject('future', `ts ${new Date(ts).toISOString()} is more than ${futureSkewMs / 1000} s in the future (check the producer's clock)`);
    out.valid.push(e);
    out.ts.push(ts);
  }

  /** The event as counted: admitted tags, hashed member (remembered) and its sketch key. */
  private countable(e: ValidEvent, ts: number, hashOnce: (member: string) => string): CountableEvent {
    const { tagGuard } = this.opts;
    const tags = this.tagSets.of(tagGuard.admit('channel', e.channel), tagGuard.admit('community', e.community ?? ''), tagGuard.admit('campaign', e.campaign ?? ''));
    // Built without spreading a parts object: two allocations per event fewer.
    if (e.member === undefined) return { type: e.type, ts, tags, amount: e.amount, durationMs: e.duration_ms };
    const member = hashOnce(e.member);
    return { type: e.type, ts, tags, member, sketchKey: sketchKeyOf(member), amount: e.amount, durationMs: e.duration_ms };
  }

  /**
   * An import batch of history on the aggregated path (import/aggregate.ts): the same
   * checks, refusals and id rules as accept(), but instead of journaling each event the
   * batch is applied to the store as one aggregate together with its ledger mark, in one
   * store transaction (`history.apply`), which is what makes it durable and counted once.
   *
   * Returns null, having counted and marked nothing, when the batch cannot take this path:
   * an event inside `history.cutoff` (the live rings' and open periods' range), or
   * `history.apply` answered 'conflict' (a row or period the collector holds or the spool
   * has pending). The caller then sends the batch through accept() with the same mark.
   *
   * Ids: claimed with the batch mark as their owner and confirmed (on disk) BEFORE the
   * store commit. A crash between the two leaves ids marked by a batch that was never
   * acknowledged; its retry (same mark) does not take them for duplicates, so it is counted
   * exactly once. The other order would let a crash after the commit forget the ids, and a
   * producer re-sending one within the window would be counted twice.
   */
  async acceptHistory(items: readonly unknown[], parseErrors: ReadonlyMap<number, string>, batchMark: string, history: HistoryPath): Promise<(IngestResult & { applied: boolean }) | null> {
    const now = this.now();
    // An import batch is tens of thousands of events: its per-event work runs in slices so
    // reads and the wall are served during a big import or the demo's fill (time/turns.ts).
    const pause = slicer();
    const { valid, ts: times, rejections } = await this.checkSliced(items, parseErrors, now, pause);
    const cutoff = history.cutoff(now);
    for (const ts of times) if (ts >= cutoff) return null;
    const { ledger } = this.opts;
    const ids = valid.flatMap((e) => (e.id === undefined ? [] : [e.id]));
    let seen: boolean[];
    try {
      seen = ids.length ? await ledger.claim(ids, now, batchMark) : [];
    } catch (err) {
      throw new IngestUnavailableError(err as Error);
    }
    const claimed: string[] = [];
    const events: CountableEvent[] = [];
    let duplicates = 0;
    let k = 0;
    for (let i = 0; i < valid.length; i++) {
      const e = valid[i]!;
      if (e.id !== undefined) {
        if (seen[k++]) {
          duplicates++;
          continue;
        }
        claimed.push(e.id);
      }
      events.push(this.countable(e, times[i]!, this.historyHash));
      const p = pause();
      if (p) await p;
    }
    let outcome: HistoryApplyOutcome;
    try {
      if (claimed.length) await ledger.confirm(claimed, now, batchMark);
      outcome = await history.apply(events, batchMark);
    } catch (err) {
      // Not acknowledged: the ids stay marked with this batch as owner, so its retry counts them.
      throw new IngestUnavailableError(err as Error);
    }
    if (outcome === 'conflict') {
      // Owned by this mark: the same batch through accept() still counts them.
      return null;
    }
    const result = { accepted: events.length, duplicates, rejected: rejections.map((r) => ({ index: r.index, error: r.error })), applied: outcome === 'applied' };
    if (outcome === 'applied') {
      for (const r of rejections) this.opts.metrics.rejected(r.reason, 1);
      this.opts.metrics.accepted(result.accepted);
      if (duplicates) this.opts.metrics.duplicate(duplicates);
    }
    return result;
  }

  /**
   * @param items parsed JSON values, `undefined` at positions that did not parse
   * @param parseErrors index → reason for those positions
   * @param scope limits of the presenting key (public keys); none: every type
   * @param batchMark an import batch (`<importId>/<seq>`): its accepted events are journaled
   *   as one all-or-nothing unit carrying the mark (see import/ledger.ts)
   */
  async accept(items: readonly unknown[], parseErrors: ReadonlyMap<number, string> = new Map(), scope?: IngestScope, batchMark?: string): Promise<IngestResult> {
    const now = this.now();
    const busy = this.opts.busy?.();
    if (busy) throw new IngestUnavailableError(new Error(busy));
    const { valid, ts: times, rejections } = this.check(items, parseErrors, scope, now);
    const result: IngestResult = { accepted: 0, duplicates: 0, rejected: [] };
    for (const r of rejections) {
      result.rejected.push({ index: r.index, error: r.error });
      this.opts.metrics.rejected(r.reason, 1);
    }
    const { log, ledger } = this.opts;
    // One ledger round trip per batch (one disk commit; one pipeline for a shared ledger).
    const ids: string[] = [];
    for (const e of valid) if (e.id !== undefined) ids.push(e.id);
    let seen: boolean[];
    try {
      seen = ids.length ? await ledger.claim(ids, now, batchMark) : [];
    } catch (err) {
      throw new IngestUnavailableError(err as Error);
    }
    const durable: JournalItem[] = [];
    const claimed: string[] = [];
    const hashOnce = this.liveHasher(now);
    let k = 0;
    for (let i = 0; i < valid.length; i++) {
      const e = valid[i]!;
      if (e.id !== undefined) {
        if (seen[k++]) {
          result.duplicates++;
          continue;
        }
        claimed.push(e.id);
      }
      const event = this.countable(e, times[i]!, hashOnce);
      // One object per event: the journal hands this same item to the collector once durable.
      durable.push({ receivedAt: now, id: e.id, event });
      result.accepted++;
    }
    if (batchMark !== undefined) for (const d of durable) d.mark = `${batchMark}/${durable.length}`;
    try {
      await log.append(durable);
    } catch (err) {
      // Not acknowledged, so a retry must not be taken for a duplicate.
      if (claimed.length) await ledger.release(claimed, now);
      throw new IngestUnavailableError(err as Error);
    }
    // Journaled: now the marks are made durable (a crash before this re-marks them from the
    // journal at start-up). Not awaited: the 202 does not depend on it, and a failed commit
    // leaves the ids reserved in memory.
    if (claimed.length) ledger.confirm(claimed, now, batchMark).catch((err: unknown) => this.opts.onLedgerError?.(err as Error));
    this.opts.metrics.accepted(result.accepted);
    if (result.duplicates) this.opts.metrics.duplicate(result.duplicates);
    return result;
  }
}
