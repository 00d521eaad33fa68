/**
 * The collector: turns accepted events into 10 s counter buckets (per full tag set, for
 * the store), live rings (per channel, for windows) and exact distinct-member sets; every
 * flush interval it hands a snapshot of the dirty rows to the durable spool, which writes
 * them to the MetricStore (and keeps them through a store outage). A snapshot the spool
 * refuses (full, disk error) leaves the rows dirty for the next flush.
 */
import type { Logger } from 'pino';
import { COUNTERS, MEMBER_SET_IDS, type Dimension, type Granularity } from '../catalogue/events.js';
import type { MetricStore } from '../store/port.js';
import type { Snapshot } from '../durability/spool.js';
import type { JournalEvent } from '../durability/journal.js';
import { DAY, HOUR, MINUTE, floorTo } from '../time/zone.js';
import { CounterRing, emptyWindow, type WindowSums } from './counterRing.js';
import { applyEvent, fromSums, type CountableEvent } from './counters.js';
import { DistinctTracker, type DistinctCounts } from './distinct.js';
import { FlushBuckets } from './flushBuckets.js';
import { PushCapCounter } from './pushCap.js';

export interface CollectorMetrics {
  flushDuration(seconds: number): void;
  /** Rows handed to the spool (durable; on their way to the store). */
  rowsWritten(kind: 'counters' | 'distinct', n: number): void;
}

/** Where flushed snapshots go (the spool). */
export interface SnapshotSink {
  append(s: Snapshot): Promise<void>;
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
}

/** Live rings cover this much history: "today" and "yesterday at this time" (26 h). */
const MINUTE_RING_RETENTION = 26 * HOUR + 10 * MINUTE;
/** Bucket-resolution history: the 5-minute window and the one before it, with margin. */
const BUCKET_RING_RETENTION = 15 * MINUTE;

export class Collector {
  readonly bucketMs: number;
  private readonly bucketRing: CounterRing;
  private readonly minuteRing: CounterRing;
  private readonly flushBuckets: FlushBuckets;
  private readonly distinct: DistinctTracker;
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

  constructor(private readonly opts: CollectorOptions) {
    this.bucketMs = opts.bucketMs;
    this.now = opts.now ?? Date.now;
    this.bucketRing = new CounterRing(opts.bucketMs, BUCKET_RING_RETENTION);
    this.minuteRing = new CounterRing(MINUTE, MINUTE_RING_RETENTION);
    this.flushBuckets = new FlushBuckets(opts.bucketMs);
    this.distinct = new DistinctTracker(opts.bucketMs, BUCKET_RING_RETENTION, opts.latenessMs, opts.timezone);
    this.pushCap = new PushCapCounter(opts.pushCapPerDay, opts.latenessMs, (ts) => this.distinct.periodStart('day', ts));
  }

  /** Counts one accepted event (already validated, deduplicated, hashed, inside lateness). */
  add(e: CountableEvent, receivedAt: number): void {
    applyEvent(this.flushBuckets.vectorFor(e.ts, e.tags), e);
    applyEvent(this.bucketRing.vectorAt(e.ts, e.tags.channel), e);
    applyEvent(this.minuteRing.vectorAt(e.ts, e.tags.channel), e);
    if (e.member !== undefined) {
      this.distinct.add(e.type, e.ts, e.tags.channel, e.member);
      if (e.type === 'push.sent') this.countPush(e.ts, e.tags.channel, e.member);
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
  private countPush(ts: number, channel: string, member: string): void {
    this.distinct.touch('push_over_cap', ts, channel);
    if (this.pushCap.count(ts, member)) this.distinct.addMember('push_over_cap', ts, channel, member);
  }

  /** Adds events that the journal made durable, in journal order. */
  addDurable(events: readonly { event: CountableEvent; receivedAt: number }[], lastLsn: number): void {
    for (const e of events) this.add(e.event, e.receivedAt);
    this.appliedLsn = Math.max(this.appliedLsn, lastLsn);
  }

  /**
   * Replays journal events that no flushed snapshot holds (after a crash). Member ids are
   * not journaled, so only counters are restored; distinct counts keep their stored floors.
   */
  replay(events: readonly JournalEvent[]): void {
    for (const j of events) this.add(j.event, j.receivedAt);
    if (events.length) this.appliedLsn = Math.max(this.appliedLsn, events[events.length - 1]!.lsn);
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
    this.timer = setInterval(() => void this.flush(), this.opts.flushMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Writes every dirty bucket and distinct period. Concurrent calls share one flush. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing.then(() => this.flushOnce());
    return this.flushOnce();
  }

  private flushOnce(): Promise<void> {
    if (this.flushing) return this.flushing;
    this.flushing = this.doFlush().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async doFlush(): Promise<void> {
    const started = performance.now();
    const now = this.now();
    const lsn = this.appliedLsn;
    const counters = this.flushBuckets.takeDirty();
    const distinct = this.distinct.takeDirty(now);
    let error: string | null = null;
    try {
      await this.opts.sink.append({ lsn, counters: counters.rows, distinct: distinct.rows });
      counters.commit();
      distinct.commit();
      if (counters.rows.length) this.opts.metrics.rowsWritten('counters', counters.rows.length);
      if (distinct.rows.length) this.opts.metrics.rowsWritten('distinct', distinct.rows.length);
      this.opts.onFlushed?.(lsn);
    } catch (err) {
      error = `flush to the spool failed: ${(err as Error).message}`;
    }
    if (error && error !== this.lastFlushError) this.opts.logger.error({ err: error }, 'rows kept in memory and retried on the next flush');
    if (!error && this.lastFlushError) this.opts.logger.info('flushes recovered');
    this.lastFlushError = error;
    const horizon = now - this.opts.latenessMs - this.bucketMs;
    const keptDirty = this.flushBuckets.evict(horizon);
    if (keptDirty > 0 && !error) this.opts.logger.warn({ keptDirty }, 'dirty buckets past the lateness window kept for retry');
    this.bucketRing.evict(now);
    this.minuteRing.evict(now);
    this.distinct.evict(now);
    this.pushCap.evict(now);
    this.opts.metrics.flushDuration((performance.now() - started) / 1000);
  }

  // ---- restart ----------------------------------------------------------------------

  /**
   * Restores live state from the store after a restart: the rings (so "today" survives),
   * the buckets still inside the lateness window (so a late event rewrites the full row
   * rather than replacing it with itself), and distinct floors for open periods.
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
    for (const s of await store.queryCounters({ from: lateFrom, to: bucketTo, stepMs: this.bucketMs, offsetMs: 0, counters: COUNTERS, by: ['channel', 'community', 'campaign'], filter: {} })) {
      const tags = { channel: s.tags.channel ?? '', community: s.tags.community ?? '', campaign: s.tags.campaign ?? '' };
      for (const p of s.points) this.flushBuckets.seed(p.ts, tags, fromSums(p.sums));
    }
    const spans: [Granularity, number][] = [
      ['minute', now - this.opts.latenessMs - MINUTE],
      ['hour', now - this.opts.latenessMs - HOUR],
      ['day', now - this.opts.latenessMs - DAY],
    ];
    for (const set of MEMBER_SET_IDS) {
      for (const [granularity, since] of spans) {
        const from = this.periodStart(granularity, since);
        for (const byChannel of [false, true]) {
          for (const s of await store.queryDistinct({ from, to: now + 1, granularity, set, byChannel })) {
            for (const p of s.points) this.distinct.seedFloor(set, granularity, p.ts, s.channel ?? '', p.value);
          }
        }
      }
    }
  }
}
