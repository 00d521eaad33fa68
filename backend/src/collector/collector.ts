/**
 * The collector: turns accepted events into 10 s counter buckets (per full tag set, for
 * the store), live rings (per channel, for windows) and distinct-member sketches; every
 * flush interval it hands a snapshot of the dirty rows to the durable spool, which writes
 * them to the MetricStore (and keeps them through a store outage). A snapshot the spool
 * refuses (full, disk error) leaves the rows dirty for the next flush.
 */
import type { Logger } from 'pino';
import { COUNTERS, DIMENSIONS, GRANULARITIES, MEMBER_SET_IDS, type Dimension, type Granularity, type Tags } from '@siyu-pulse/contracts/catalogue';
import type { MetricStore } from '../store/port.js';
import type { JournalEvent, Snapshot } from './snapshot.js';
import { DAY, HOUR, MINUTE, floorTo } from '../time/zone.js';
import { CounterRing, emptyWindow, type WindowSums } from './counterRing.js';
import { applyEvent, fromSums, type CountableEvent, type CounterVector } from './counters.js';
import { sketchKeyOf } from '../sketch/hll.js';
import type { CounterRow, SketchRow } from '../store/port.js';
import { DistinctTracker, type DistinctCounts, type UnloadedPeriod } from './distinct.js';
import { FlushBuckets } from './flushBuckets.js';
import { GroupMembers, GROUP_MEMBER_SET, type GroupGranularity } from './groupMembers.js';
import { PushCapCounter } from './pushCap.js';
import { groupTagsOf } from './tagSets.js';
import { SHANGHAI_DAY_OFFSET_MS, rollsUp, rollupsOf, type Rollup, type RollupOptions } from '../store/rollups.js';

export interface CollectorMetrics {
  flushDuration(seconds: number): void;
  /** Rows handed to the spool (durable; on their way to the store). */
  rowsWritten(kind: 'counters' | 'distinct', n: number): void;
}

/** Where flushed snapshots go (the spool). */
export interface SnapshotSink {
  append(s: Snapshot): Promise<void>;
  /** Sketch rows spooled but maybe not yet in the store (merged before a period is rewritten). */
  pendingSketches?(set: string, granularity: Granularity, start: number, groups?: boolean): SketchRow[];
  /** The counter row spooled for this bucket and tag set, if it has not reached the store yet. */
  pendingCounters?(ts: number, tags: Tags, rollup?: Rollup): CounterRow | undefined;
  /** Periods (`ts\0granularity\0set`) with distinct or sketch rows not yet in the store. */
  pendingPeriods?(): Set<string>;
}

export interface CollectorOptions {
  bucketMs: number;
  latenessMs: number;
  flushMs: number;
  timezone: string;
  /** Pushes a member may get per local day (PULSE_PUSH_CAP_PER_DAY); the next is over the cap. */
  pushCapPerDay: number;
  store: MetricStore;
  sink: SnapshotSink;
  /** Called after a snapshot is durable: journal events up to `lsn` are no longer needed for replay. */
  onFlushed?(lsn: number): void;
  logger: Logger;
  metrics: CollectorMetrics;
  now?: () => number;
  /** This writer's id in the stored sketches (default 'main'; nodes sharing a store need distinct ids). */
  node?: string;
  /** The per-group rollups' day alignment, as the store's (store/rollups.ts; Asia/Shanghai by default). */
  rollups?: RollupOptions;
}

/** Live rings cover this much history: "today" and "yesterday at this time" (26 h). */
const MINUTE_RING_RETENTION = 26 * HOUR + 10 * MINUTE;
/** Sketch rows are written at most this often (and at stop / flushToStore); counts every flush. */
const SKETCH_FLUSH_MS = 10_000;
/**
 * Dense group sketches (per-group active members of a group with hundreds of members; 16 KiB
 * each) written per sketch flush, at most (collector/groupMembers.ts: longest-unwritten first,
 * so 400 of them are all rewritten within ~30 s; sparse ones every flush). ~5 MB of buffers
 * and text while written, instead of ~60 MB for 400 dense p = 16 sketches at once.
 */
const DENSE_GROUP_SKETCHES_PER_FLUSH = 128;
/** Bucket-resolution history: the 5-minute window and the one before it, with margin. */
const BUCKET_RING_RETENTION = 15 * MINUTE;

/** Items in lists by a key, in first-seen order. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

export class Collector {
  readonly bucketMs: number;
  private readonly bucketRing: CounterRing;
  private readonly minuteRing: CounterRing;
  private readonly flushBuckets: FlushBuckets;
  /** The open hour and day of every active group (store/rollups.ts), written like the 10 s rows. */
  private readonly rollupBuckets: FlushBuckets[];
  private readonly distinct: DistinctTracker;
  /** Per-group active members by hour and day (collector/groupMembers.ts). */
  private readonly groupMembers: GroupMembers;
  private readonly pushCap: PushCapCounter;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private lastEventAt: number | null = null;
  private readonly lastEventByChannel = new Map<string, number>();
  private lastFlushError: string | null = null;
  /** Oldest minute restored from the store by seedFromStore (null: nothing was there). */
  private seededFrom: number | null = null;
  private earliestTs: number | null = null;
  /** Journal LSN of the last event added (events are added in LSN order). */
  private appliedLsn = 0;
  /** LSN up to which every member's sketch key is in a spooled sketch (journal segments before it may go). */
  private sketchLsn = 0;
  private lastSketchFlushAt = 0;
  /** Oldest instant the live rings hold (refreshed every flush; older events skip them). */
  private ringHorizon = Number.NEGATIVE_INFINITY;

  constructor(private readonly opts: CollectorOptions) {
    this.bucketMs = opts.bucketMs;
    this.now = opts.now ?? Date.now;
    this.bucketRing = new CounterRing(opts.bucketMs, BUCKET_RING_RETENTION);
    this.minuteRing = new CounterRing(MINUTE, MINUTE_RING_RETENTION);
    this.flushBuckets = new FlushBuckets(opts.bucketMs);
    const rollups = opts.rollups ?? { dayOffsetMs: SHANGHAI_DAY_OFFSET_MS };
    this.rollupBuckets = rollupsOf(rollups).map((r) => {
      const b = r === 'hour' ? new FlushBuckets(HOUR, 0, 'hour') : new FlushBuckets(DAY, rollups.dayOffsetMs ?? 0, 'day');
      // Periods already begun may hold stored rows (before a restart): those rows are loaded
      // and added in before they are written; the next period on is complete in memory.
      b.seededFrom(b.bucketStart(this.now()) + b.bucketMs);
      return b;
    });
    this.distinct = new DistinctTracker(opts.bucketMs, BUCKET_RING_RETENTION, opts.latenessMs, opts.timezone, opts.node ?? 'main', this.now);
    this.groupMembers = new GroupMembers((g, ts) => this.distinct.periodStart(g, ts), opts.node ?? 'main');
    this.pushCap = new PushCapCounter(opts.pushCapPerDay, opts.latenessMs, (ts) => this.distinct.periodStart('day', ts));
  }

  /** Counts one accepted event (already validated, deduplicated, hashed, inside the history limit). */
  add(e: CountableEvent, receivedAt: number): void {
    applyEvent(this.flushBuckets.vectorFor(e.ts, e.tags), e);
    if (rollsUp(e.tags)) {
      const tags = groupTagsOf(e.tags);
      for (const b of this.rollupBuckets) applyEvent(b.vectorFor(e.ts, tags), e);
    }
    // The live rings answer for the last 26 h only: an older (historical) event goes to the
    // store alone, and allocates no ring slot that the next flush would have to evict.
    if (e.ts >= this.ringHorizon) {
      applyEvent(this.bucketRing.vectorAt(e.ts, e.tags.channel), e);
      applyEvent(this.minuteRing.vectorAt(e.ts, e.tags.channel), e);
    }
    const key = e.sketchKey ?? (e.member !== undefined ? sketchKeyOf(e.member) : undefined);
    if (key !== undefined) {
      this.distinct.add(e.type, e.ts, e.tags.channel, key);
      this.groupMembers.add(e.type, e.ts, e.tags.community, key, this.appliedLsn);
      // Push counts per member need the hash, which a journal replay does not have.
      if (e.type === 'push.sent' && e.member !== undefined) this.countPush(e.ts, e.tags.channel, e.member, key);
    }
    this.lastEventAt = receivedAt;
    this.lastEventByChannel.set(e.tags.channel, receivedAt);
    if (this.earliestTs === null || e.ts < this.earliestTs) this.earliestTs = e.ts;
  }

  /**
   * Push fatigue: the member joins push_over_cap on the push that takes them over the daily
   * cap, in that push's channel and period (pushes count per member across channels). The
   * channel's over-cap count is touched on every push so "nobody over the cap" is a stored 0.
   */
  private countPush(ts: number, channel: string, member: string, key: number): void {
    this.distinct.touch('push_over_cap', ts, channel);
    if (this.pushCap.count(ts, member)) this.distinct.addMember('push_over_cap', ts, channel, key);
  }

  /** Adds events that the journal made durable, in journal order. */
  addDurable(events: readonly { event: CountableEvent; receivedAt: number }[], lastLsn: number): void {
    for (const e of events) this.add(e.event, e.receivedAt);
    this.appliedLsn = Math.max(this.appliedLsn, lastLsn);
    if (events.length) this.countedListener?.();
  }

  private countedListener: (() => void) | undefined;

  /** `listener` runs after each group of newly accepted events is counted (the wall's early tick). */
  onCounted(listener: () => void): void {
    this.countedListener = listener;
  }

  /**
   * Replays journal events that no flushed snapshot holds (after a crash): counters, and
   * members through their journaled sketch keys (merged into the stored sketches).
   */
  replay(events: readonly JournalEvent[]): void {
    for (const j of events) this.add(j.event, j.receivedAt);
    if (events.length) this.appliedLsn = Math.max(this.appliedLsn, events[events.length - 1]!.lsn);
  }

  /**
   * Merges the sketch keys of journal events whose counters are already stored (the sketch
   * rows are written less often than counters, so the last ones may not be). Idempotent.
   */
  replaySketchKeys(events: readonly JournalEvent[]): void {
    for (const j of events) {
      if (j.event.sketchKey === undefined) continue;
      this.distinct.add(j.event.type, j.event.ts, j.event.tags.channel, j.event.sketchKey);
      this.groupMembers.add(j.event.type, j.event.ts, j.event.tags.community, j.event.sketchKey, this.appliedLsn);
    }
  }

  /**
   * What memory holds for the store: bucket rows plus distinct periods. Live traffic keeps
   * it small (the lateness window); a burst of history grows it until the next flush writes
   * and evicts them. Bulk feeders (ingest/bulk.ts) flush when it passes their bound.
   */
  heldRows(): number {
    return this.flushBuckets.rowCount + this.rollupBuckets.reduce((n, b) => n + b.rowCount, 0) + this.distinct.periodCount + this.groupMembers.periodCount;
  }

  // ---- the aggregated import path (import/aggregate.ts) ---------------------------------

  /**
   * Events before this instant may be added to the store directly (as additive deltas and
   * merged sketches) without passing through memory: they are older than the live rings
   * (26 h) and than the lateness window. Rows and periods the collector still holds there
   * (a producer's late event) are caught by historyConflict().
   */
  historyCutoff(now: number): number {
    return now - MINUTE_RING_RETENTION - this.opts.latenessMs - this.bucketMs;
  }

  /**
   * Whether any of these bucket rows or periods is held in memory (or assumed complete in
   * memory, or spooled and not yet in the store): its next write here would replace a row
   * that a direct additive write had changed. Called inside the store's write slot, just
   * before such a write; the collector reads a row or period it takes up later from the store, after it.
   */
  historyConflict(
    rows: readonly { ts: number; tags: Tags }[],
    periods: readonly { set: (typeof MEMBER_SET_IDS)[number]; granularity: Granularity; start: number }[],
    groups: readonly { granularity: GroupGranularity; start: number; community: string }[] = [],
  ): boolean {
    // A group's period held here (its sketch is written whole; a spooled one is a pending period below).
    for (const g of groups) if (this.groupMembers.holds(g.granularity, g.start, g.community)) return true;
    for (const r of rows) {
      if (this.flushBuckets.holds(r.ts, r.tags)) return true;
      if (this.opts.sink.pendingCounters?.(r.ts, r.tags)) return true;
      if (!rollsUp(r.tags)) continue;
      // The group's hour and day rows: an import adds to them too (DuckDB applyAdditive).
      const tags = { channel: r.tags.channel, community: r.tags.community, campaign: '' };
      for (const b of this.rollupBuckets) {
        if (b.holds(r.ts, tags)) return true;
        if (this.opts.sink.pendingCounters?.(b.bucketStart(r.ts), tags, b.rollup)) return true;
      }
    }
    if (periods.length === 0 && groups.length === 0) return false;
    const pending = this.opts.sink.pendingPeriods?.() ?? new Set<string>();
    for (const p of periods) {
      if (this.distinct.holds(p.set, p.granularity, p.start)) return true;
      if (pending.has(`${p.start}\u0000${p.granularity}\u0000${p.set}`)) return true;
    }
    // A group sketch still in the spool (keyed by period and set there, whichever group).
    for (const g of groups) if (pending.has(`${g.start}\u0000${g.granularity}\u0000${GROUP_MEMBER_SET}`)) return true;
    return false;
  }

  /** Events counted straight into the store (the aggregated import path): history now reaches back to `ts`. */
  noteHistory(ts: number): void {
    if (this.earliestTs === null || ts < this.earliestTs) this.earliestTs = ts;
  }

  /** Timestamp of the oldest event counted by this process (backfills extend history). */
  get earliestEventTs(): number | null {
    return this.earliestTs;
  }

  // ---- live reads -------------------------------------------------------------------

  /**
   * Σ counters over [from, to), bucket-aligned. Whole minutes come from the minute ring,
   * the edges from the bucket ring (callers keep bucket-precise edges within 15 min).
   */
  windowSums(from: number, to: number): WindowSums {
    const out = emptyWindow();
    const m0 = Math.ceil(from / MINUTE) * MINUTE;
    const m1 = Math.floor(to / MINUTE) * MINUTE;
    if (m0 >= m1) {
      this.bucketRing.sumInto(from, to, out);
      return out;
    }
    this.bucketRing.sumInto(from, m0, out);
    this.minuteRing.sumInto(m0, m1, out);
    this.bucketRing.sumInto(m1, to, out);
    return out;
  }

  /** Distinct members over bucket-aligned [from, to) within the last 15 minutes. */
  distinctWindow(set: (typeof MEMBER_SET_IDS)[number], from: number, to: number): DistinctCounts {
    return this.distinct.window(set, from, to);
  }

  distinctPeriod(set: (typeof MEMBER_SET_IDS)[number], g: Granularity, start: number): DistinctCounts | undefined {
    return this.distinct.periodCounts(set, g, start);
  }

  dayDistinctAtMinute(set: (typeof MEMBER_SET_IDS)[number], minuteStart: number): number | undefined {
    return this.distinct.daySizeAtMinute(set, minuteStart);
  }

  periodStart(g: Granularity, ts: number): number {
    return this.distinct.periodStart(g, ts);
  }

  /** Oldest data restored from the store at start-up, or null. */
  get seededSince(): number | null {
    return this.seededFrom;
  }

  /** How far back the live windows answer (older windows must come from the store). */
  liveHorizon(): number {
    return this.minuteRing.horizon(this.now());
  }

  freshness(): { lastEventAt: number | null; byChannel: Record<string, number> } {
    return { lastEventAt: this.lastEventAt, byChannel: Object.fromEntries(this.lastEventByChannel) };
  }

  get lastError(): string | null {
    return this.lastFlushError;
  }

  // ---- flushing ---------------------------------------------------------------------

  start(): void {
    this.timer = setInterval(() => void this.flushOnce(false), this.opts.flushMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Writes every dirty bucket and distinct period, sketches included. Concurrent calls share one flush. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flushOnce(true));
    return this.flushOnce(true);
  }

  private flushOnce(forceSketches = false): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.doFlush(forceSketches).finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async doFlush(forceSketches: boolean): Promise<void> {
    const started = performance.now();
    const now = this.now();
    let error: string | null = null;
    // Rows of buckets that memory does not hold (late / historical events) get the stored
    // counters added first, and periods touched before their stored sketches were read get
    // them merged in, so the write below never replaces a bigger row or sketch. Without the
    // counters nothing can be written consistently with the journal's LSN, so a failure here
    // skips this flush (retried on the next). Events keep arriving during these reads (a bulk
    // import): the loads repeat until every dirty row is loaded, and the LSN is taken only
    // then, in the same synchronous step as the snapshot.
    let heldBack: number;
    for (let round = 0; ; round++) {
      try {
        await this.loadStoredCounters();
      } catch (err) {
        const message = `reading stored buckets for late events failed: ${(err as Error).message}`;
        if (message !== this.lastFlushError) this.opts.logger.error({ err: message }, 'flush postponed');
        this.lastFlushError = message;
        this.opts.metrics.flushDuration((performance.now() - started) / 1000);
        return;
      }
      heldBack = await this.loadStoredSketches().catch((err: unknown) => {
        error = `reading stored sketches failed: ${(err as Error).message}`;
        return -1;
      });
      const groupsHeldBack = await this.loadGroupSketches().catch((err: unknown) => {
        error = `reading stored group sketches failed: ${(err as Error).message}`;
        return -1;
      });
      if (heldBack === 0 && groupsHeldBack !== 0) heldBack = groupsHeldBack;
      if (!this.flushBuckets.hasUnloaded() && !this.rollupBuckets.some((b) => b.hasUnloaded())) break;
      // Still behind after a few rounds: the next flush continues (rows stay in memory, dirty).
      if (round >= 4) {
        this.opts.metrics.flushDuration((performance.now() - started) / 1000);
        return;
      }
    }
    const lsn = this.appliedLsn;
    if (heldBack === 0 && this.distinct.hasUnloaded()) heldBack = 1;
    // Sketches (tens of KB each when dense) go out every SKETCH_FLUSH_MS, counts every flush.
    const withSketches = forceSketches || now - this.lastSketchFlushAt >= SKETCH_FLUSH_MS;
    const counters = this.flushBuckets.takeDirty();
    const rolled = this.rollupBuckets.map((b) => b.takeDirty());
    const distinct = this.distinct.takeDirty(now, withSketches);
    const groupSketches = withSketches ? this.groupMembers.takeDirty(forceSketches ? Number.POSITIVE_INFINITY : DENSE_GROUP_SKETCHES_PER_FLUSH, lsn) : null;
    try {
      // `lsn` covers the counters (replayed only past it). Sketch keys are replayed from the
      // whole retained journal (merging is idempotent), so the journal is released only up
      // to the last flush that wrote every sketch — one with no period still unloaded.
      const rows = rolled.length ? [...counters.rows, ...rolled.flatMap((r) => r.rows)] : counters.rows;
      const sketches = groupSketches?.sketches.length ? [...distinct.sketches, ...groupSketches.sketches] : distinct.sketches;
      await this.opts.sink.append({ lsn, counters: rows, distinct: distinct.rows, sketches });
      counters.commit();
      for (const r of rolled) r.commit();
      distinct.commit();
      groupSketches?.commit();
      if (counters.rows.length) this.opts.metrics.rowsWritten('counters', counters.rows.length);
      if (distinct.rows.length) this.opts.metrics.rowsWritten('distinct', distinct.rows.length);
      if (withSketches) {
        this.lastSketchFlushAt = now;
        if (heldBack === 0) this.sketchLsn = lsn;
      }
      // Group sketches not yet written (a budget per flush) keep their journal events.
      this.opts.onFlushed?.(Math.min(lsn, this.sketchLsn, this.groupMembers.unwrittenSince() ?? lsn));
    } catch (err) {
      error = `flush to the spool failed: ${(err as Error).message}`;
    }
    if (error && error !== this.lastFlushError) this.opts.logger.error({ err: error }, 'rows kept in memory and retried on the next flush');
    if (!error && this.lastFlushError) this.opts.logger.info('flushes recovered');
    this.lastFlushError = error;
    const horizon = now - this.opts.latenessMs - this.bucketMs;
    const keptDirty = this.flushBuckets.evict(horizon);
    for (const b of this.rollupBuckets) b.evict(horizon);
    if (keptDirty > 0 && !error) this.opts.logger.warn({ keptDirty }, 'dirty buckets past the lateness window kept for retry');
    this.bucketRing.evict(now);
    this.minuteRing.evict(now);
    this.ringHorizon = this.minuteRing.horizon(now);
    this.distinct.evict(now);
    this.groupMembers.evict(now, this.opts.latenessMs);
    this.pushCap.evict(now);
    this.opts.metrics.flushDuration((performance.now() - started) / 1000);
  }

  /** Adds the stored counters (the spool's pending row when newer) to rows of buckets not held in memory. */
  private async loadStoredCounters(): Promise<void> {
    await this.loadStoredRows(this.flushBuckets);
    for (const b of this.rollupBuckets) await this.loadStoredRows(b);
  }

  /** Adds the stored row (the spool's pending one when newer) to each unloaded row of one set of buckets. */
  private async loadStoredRows(buckets: FlushBuckets): Promise<void> {
    const rows = buckets.unloaded();
    if (rows.length === 0) return;
    const rollup = buckets.rollup;
    // The spool's pending rows are read BEFORE the store: a row the drainer writes (and drops
    // from its pending set) while the store is read would otherwise be missed by both.
    const spooled = rows.map((r) => this.opts.sink.pendingCounters?.(r.ts, r.tags, rollup));
    const tagKey = (t: Partial<Tags>) => `${t.channel ?? ''}\u0000${t.community ?? ''}\u0000${t.campaign ?? ''}`;
    const starts = [...new Set(rows.map((r) => r.ts))].sort((a, b) => a - b);
    const stored = new Map<string, CounterVector>();
    let i = 0;
    while (i < starts.length) {
      let j = i;
      while (j + 1 < starts.length && starts[j + 1]! - starts[i]! < DAY) j++;
      // Own rows only: in a cluster each node rewrites its own rows (the others' add up at read time).
      const q = { from: starts[i]!, to: starts[j]! + buckets.bucketMs, stepMs: buckets.bucketMs, offsetMs: buckets.offsetMs % buckets.bucketMs, counters: COUNTERS, ownRowsOnly: true };
      const found = rollup
        ? await this.opts.store.queryCounters({ ...q, by: ['channel', 'community'], filter: {}, source: rollup })
        : await this.opts.store.queryCounters({ ...q, by: DIMENSIONS, filter: {}, source: 'raw' });
      for (const series of found) {
        for (const p of series.points) stored.set(`${p.ts}\u0000${tagKey(series.tags)}`, fromSums(p.sums));
      }
      i = j + 1;
    }
    rows.forEach((r, i) => {
      const pending = spooled[i];
      const v = pending ? fromSums(pending.counters) : stored.get(`${r.ts}\u0000${tagKey(r.tags)}`);
      if (v) r.addStored(v);
      r.markLoaded();
    });
  }

  /**
   * Merges the stored sketches (store + rows still in the spool) into every period that
   * has not seen them yet. Returns how many such periods remain (0 = all loaded).
   */
  private async loadStoredSketches(): Promise<number> {
    const wanted = this.distinct.unloaded();
    if (wanted.length === 0) return 0;
    for (const list of groupBy(wanted, (w) => `${w.set}\u0000${w.granularity}`).values()) await this.loadPeriods(list);
    return this.distinct.unloaded().length;
  }

  /** Loads the stored sketches of periods of one set and granularity (one query per contiguous range). */
  private async loadPeriods(list: readonly UnloadedPeriod[]): Promise<void> {
    const { set, granularity } = list[0]!;
    const step = GRANULARITIES[granularity];
    const starts = [...new Set(list.map((w) => w.start))].sort((a, b) => a - b);
    // Ranges of periods no more than a day's worth of steps apart share a query.
    let i = 0;
    while (i < starts.length) {
      let j = i;
      while (j + 1 < starts.length && starts[j + 1]! - starts[i]! <= Math.max(DAY, step * 48)) j++;
      // Pending before stored, as for counters (merging both is idempotent).
      const spooledByStart = new Map<number, SketchRow[]>();
      for (let k = i; k <= j; k++) spooledByStart.set(starts[k]!, this.opts.sink.pendingSketches?.(set, granularity, starts[k]!) ?? []);
      const rows = await this.opts.store.querySketches({ from: starts[i]!, to: starts[j]! + step, granularity, set });
      const byStart = new Map<number, SketchRow[]>();
      for (const r of rows) {
        const list = byStart.get(r.ts);
        if (list) list.push(r);
        else byStart.set(r.ts, [r]);
      }
      for (let k = i; k <= j; k++) {
        const start = starts[k]!;
        this.distinct.mergeStored(set, granularity, start, [...(byStart.get(start) ?? []), ...spooledByStart.get(start)!]);
      }
      i = j + 1;
    }
  }

  /**
   * Merges the stored group sketches (store + spool) into every group period taken up since
   * the last flush: one read per period start, every group of it. Returns how many remain.
   */
  private async loadGroupSketches(): Promise<number> {
    const wanted = this.groupMembers.unloaded();
    if (wanted.length === 0) return 0;
    for (const list of groupBy(wanted, (w) => `${w.granularity}\u0000${w.start}`).values()) {
      const { granularity, start } = list[0]!;
      // Pending before stored, as for counters (merging both is idempotent).
      const pending = this.opts.sink.pendingSketches?.(GROUP_MEMBER_SET, granularity, start, true) ?? [];
      const community = list.length === 1 ? list[0]!.community : true;
      const stored = await this.opts.store.querySketches({ from: start, to: start + GRANULARITIES[granularity], granularity, set: GROUP_MEMBER_SET, community });
      const rows = groupBy(
        [...stored, ...pending].filter((r) => r.ts === start && r.community !== undefined),
        (r) => r.community!,
      );
      for (const w of list) this.groupMembers.mergeStored(granularity, start, w.community, rows.get(w.community) ?? []);
    }
    return this.groupMembers.unloaded().length;
  }

  // ---- restart ----------------------------------------------------------------------

  /**
   * Restores live state from the store after a restart: the rings (so "today" survives),
   * the buckets still inside the lateness window (so a late event rewrites the full row
   * rather than replacing it with itself), and the stored sketches of open periods.
   * `replayFrom`: the oldest event time about to be replayed from the journal; its buckets
   * are seeded too even when older than the lateness window (a long downtime).
   */
  async seedFromStore(replayFrom?: number): Promise<void> {
    const now = this.now();
    const store = this.opts.store;
    const channelOnly: Dimension[] = ['channel'];
    const minuteFrom = floorTo(now - MINUTE_RING_RETENTION, MINUTE) + MINUTE;
    const minuteTo = floorTo(now, MINUTE) + MINUTE;
    for (const s of await store.queryCounters({ from: minuteFrom, to: minuteTo, stepMs: MINUTE, offsetMs: 0, counters: COUNTERS, by: channelOnly, filter: {} })) {
      for (const p of s.points) {
        this.minuteRing.vectorAt(p.ts, s.tags.channel ?? '').set(fromSums(p.sums));
        this.seededFrom = Math.min(this.seededFrom ?? p.ts, p.ts);
      }
    }
    const bucketTo = floorTo(now, this.bucketMs) + this.bucketMs;
    const bucketFrom = floorTo(now - BUCKET_RING_RETENTION, this.bucketMs) + this.bucketMs;
    for (const s of await store.queryCounters({ from: bucketFrom, to: bucketTo, stepMs: this.bucketMs, offsetMs: 0, counters: COUNTERS, by: channelOnly, filter: {} })) {
      for (const p of s.points) this.bucketRing.vectorAt(p.ts, s.tags.channel ?? '').set(fromSums(p.sums));
    }
    const lateFrom = floorTo(Math.min(now - this.opts.latenessMs, replayFrom ?? Infinity), this.bucketMs) - this.bucketMs;
    for (const s of await store.queryCounters({ from: lateFrom, to: bucketTo, stepMs: this.bucketMs, offsetMs: 0, counters: COUNTERS, by: ['channel', 'community', 'campaign'], filter: {}, ownRowsOnly: true })) {
      const tags = { channel: s.tags.channel ?? '', community: s.tags.community ?? '', campaign: s.tags.campaign ?? '' };
      for (const p of s.points) this.flushBuckets.seed(p.ts, tags, fromSums(p.sums));
    }
    this.flushBuckets.seededFrom(lateFrom);
    // The open periods' sketches (and the minutes the wall's trend shows), merged into memory
    // so "today" continues from the stored members rather than from zero.
    const spans: [Granularity, number][] = [
      ['minute', now - this.opts.latenessMs - 70 * MINUTE],
      ['hour', now - this.opts.latenessMs - HOUR],
      ['day', now - this.opts.latenessMs - DAY],
    ];
    for (const set of MEMBER_SET_IDS) {
      for (const [granularity, since] of spans) {
        const from = this.periodStart(granularity, since);
        const byStart = new Map<number, SketchRow[]>();
        for (const r of await store.querySketches({ from, to: now + 1, granularity, set })) byStart.set(r.ts, [...(byStart.get(r.ts) ?? []), r]);
        for (const [start, rows] of byStart) this.distinct.mergeStored(set, granularity, start, rows);
      }
    }
  }
}
