/**
 * The wall's live numbers in a cluster, read from the store where every node's rows add up.
 *
 * Each node's collector only sees the events that node took, so a wall fed from memory shows
 * its node's share of the traffic. Every node writes its counter rows each flush (1 s) and its
 * sketches every 10 s into InfluxDB, tagged by node, and every query sums / merges over nodes.
 * This source keeps the same rings the collector keeps, filled from those queries: walls on
 * different nodes read the same rows, so they show the same numbers (within one refresh).
 *
 * Why the store and not a Redis channel of per-node deltas: the store already holds exactly
 * what each node counted (late events, replays after a crash and imports included), so there is
 * no second copy to keep consistent, and a node that joins or restarts reads the same truth.
 *
 * - Counters: the last ~20 minutes per 10 s bucket, re-read every second from the lateness
 *   horizon on (late events and other nodes' flushes change those buckets); older minutes per
 *   minute from yesterday's start, re-read every 5 minutes (a late event hours old shows then).
 * - Distinct members: today's day sketches and the last hour's minute sketches, merged over
 *   nodes, re-read every 5 s (nodes write sketches every 10 s, so these lag by up to ~15 s).
 *   The 5-minute windows are counted over the whole minutes they touch (only minute sketches
 *   are stored), and "yesterday at this minute" of a distinct count is not answered.
 */
import { COUNTERS, MEMBER_SET_IDS, type Granularity, type MemberSetId } from '@siyu-pulse/contracts/catalogue';
import { CounterRing, addSlotInto, emptyWindow, type WindowSums } from '../collector/counterRing.js';
import { addInto, fromSums, type CounterVector } from '../collector/counters.js';
import type { DistinctCounts } from '../collector/distinct.js';
import type { LiveSource } from '../live/source.js';
import { Hll } from '../sketch/hll.js';
import type { MetricStore, SketchRow } from '../store/port.js';
import { DAY, MINUTE, dayStart, floorTo } from '../time/zone.js';

/** Bucket-resolution span kept (the snapshot's 5-minute windows and their previous 5 minutes). */
const BUCKET_SPAN_MS = 20 * MINUTE;
const RECENT_EVERY_MS = 1_000;
const MINUTES_EVERY_MS = 5 * MINUTE;
const SKETCHES_EVERY_MS = 5_000;
/** Minute sketches kept for the wall's trend (the snapshot draws the last 60 minutes). */
const TREND_MS = 61 * MINUTE;

interface Sketches {
  total: Hll;
  byChannel: Map<string, Hll>;
}

type Slots = Map<number, Map<string, CounterVector>>;

export interface StoreLiveSourceOptions {
  store: MetricStore;
  bucketMs: number;
  latenessMs: number;
  timezone: string;
  /** This node's own view, for freshness at event resolution. */
  local: Pick<LiveSource, 'freshness'>;
  onError?: (err: unknown, what: string) => void;
  now?: () => number;
}

function mergeRows(rows: readonly SketchRow[]): Map<number, Sketches> {
  const byStart = new Map<number, Sketches>();
  for (const r of rows) {
    let s = byStart.get(r.ts);
    if (!s) {
      s = { total: new Hll(), byChannel: new Map() };
      byStart.set(r.ts, s);
    }
    const sketch = Hll.fromBase64(r.sketch);
    if (r.channel === '') s.total.merge(sketch);
    else {
      const c = s.byChannel.get(r.channel);
      if (c) c.merge(sketch);
      else s.byChannel.set(r.channel, sketch);
    }
  }
  return byStart;
}

const countsOf = (s: Sketches): DistinctCounts => ({ total: s.total.estimate(), byChannel: new Map([...s.byChannel].map(([ch, h]) => [ch, h.estimate()])) });

export class StoreLiveSource implements LiveSource {
  readonly bucketMs: number;
  private readonly now: () => number;
  private minutes = new CounterRing(MINUTE, 2 * DAY + 2 * MINUTE);
  /** Minute slots before this come from `minutes`, from here on from `buckets`. */
  private bucketFrom = 0;
  private buckets: Slots = new Map();
  /** Start of the oldest loaded minute (yesterday's start at the last full read). */
  private loadedFrom = Number.POSITIVE_INFINITY;
  private days = new Map<MemberSetId, { start: number; counts: DistinctCounts }>();
  private minuteSketches = new Map<MemberSetId, Map<number, Sketches>>();
  /** Estimates are read on every tick: computed once per read of the sketches, not per tick. */
  private minuteCounts = new Map<MemberSetId, Map<number, DistinctCounts>>();
  private windowCounts = new Map<string, DistinctCounts>();
  /** Last bucket with data per channel (its end), on any node: kept past the bucket span for deadman rules. */
  private readonly seen = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly o: StoreLiveSourceOptions) {
    this.bucketMs = o.bucketMs;
    this.now = o.now ?? Date.now;
  }

  /** Oldest instant the counters answer for (the snapshot's comparisons need yesterday's start). */
  get coverageSince(): number {
    return this.loadedFrom;
  }

  /** Reads everything once (so the first wall frame is whole), then keeps it fresh. */
  async start(): Promise<void> {
    await this.readMinutes();
    await Promise.all([this.readRecent(), this.readSketches()]);
    const every = (ms: number, what: string, run: () => Promise<void>) => {
      const t = setInterval(() => void this.once(what, run), ms);
      t.unref();
      this.timers.push(t);
    };
    every(RECENT_EVERY_MS, 'recent counters', () => this.readRecent());
    every(MINUTES_EVERY_MS, 'counters since yesterday', () => this.readMinutes());
    every(SKETCHES_EVERY_MS, 'distinct sketches', () => this.readSketches());
  }

  /** Reads everything now (after the timers' reads in flight): tests, and a flush before a check. */
  async refresh(): Promise<void> {
    // Reads already running may have started before what the caller just wrote: wait, then read anew.
    while (this.running.size) await Promise.all(this.running.values());
    await this.track('counters since yesterday', this.readMinutes());
    await Promise.all([this.track('recent counters', this.readRecent()), this.track('distinct sketches', this.readSketches())]);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await Promise.all(this.running.values());
  }

  /** One read of a kind at a time: a slow store skips ticks rather than piling reads up. */
  private once(what: string, run: () => Promise<void>): Promise<void> {
    return this.running.get(what) ?? this.track(what, run());
  }

  private track(what: string, read: Promise<void>): Promise<void> {
    const p = read.catch((err: unknown) => this.o.onError?.(err, what)).finally(() => this.running.delete(what));
    this.running.set(what, p);
    return p;
  }

  private async sumsByChannel(from: number, to: number, stepMs: number): Promise<Slots> {
    const slots: Slots = new Map();
    if (to <= from) return slots;
    for (const s of await this.o.store.queryCounters({ from, to, stepMs, offsetMs: 0, counters: COUNTERS, by: ['channel'], filter: {} })) {
      const channel = s.tags.channel ?? '';
      for (const p of s.points) {
        let slot = slots.get(p.ts);
        if (!slot) {
          slot = new Map();
          slots.set(p.ts, slot);
        }
        slot.set(channel, fromSums(p.sums));
      }
    }
    return slots;
  }

  private noteSeen(slots: Slots, slotMs: number): void {
    const now = this.now();
    for (const [start, slot] of slots) {
      const at = Math.min(now, start + slotMs);
      for (const ch of slot.keys()) if ((this.seen.get(ch) ?? 0) < at) this.seen.set(ch, at);
    }
  }

  /** Yesterday's start up to the bucket span, per minute: a fresh ring replaces the old one. */
  private async readMinutes(): Promise<void> {
    const now = this.now();
    const from = dayStart(now, this.o.timezone) - DAY;
    const to = this.bucketFrom > 0 ? this.bucketFrom : floorTo(now - BUCKET_SPAN_MS, MINUTE);
    const slots = await this.sumsByChannel(from, to, MINUTE);
    this.noteSeen(slots, MINUTE);
    const ring = new CounterRing(MINUTE, 2 * DAY + 2 * MINUTE);
    for (const [start, byChannel] of slots) for (const [ch, v] of byChannel) addInto(ring.vectorAt(start, ch), v);
    // Minutes folded in from the bucket span while this read ran.
    for (let t = to; t < this.bucketFrom; t += MINUTE) {
      const w = emptyWindow();
      this.minutes.sumInto(t, t + MINUTE, w);
      for (const [ch, v] of w.byChannel) addInto(ring.vectorAt(t, ch), v);
    }
    this.minutes = ring;
    this.loadedFrom = from;
    if (this.bucketFrom === 0) this.bucketFrom = to;
  }

  /** Re-reads the buckets the lateness window can still change; folds minutes leaving the span. */
  private async readRecent(): Promise<void> {
    const now = this.now();
    const spanFrom = floorTo(now - BUCKET_SPAN_MS, MINUTE);
    // On the first read the whole span; then from the lateness horizon (and a bucket's margin).
    const from = this.buckets.size === 0 ? this.bucketFrom : Math.max(this.bucketFrom, floorTo(now - this.o.latenessMs - 2 * this.bucketMs, this.bucketMs));
    const fresh = await this.sumsByChannel(from, floorTo(now, this.bucketMs) + this.bucketMs, this.bucketMs);
    this.noteSeen(fresh, this.bucketMs);
    for (const start of [...this.buckets.keys()]) if (start >= from) this.buckets.delete(start);
    for (const [start, slot] of fresh) this.buckets.set(start, slot);
    // Whole minutes older than the span move to the minute ring.
    for (let t = this.bucketFrom; t < spanFrom; t += MINUTE) {
      for (let b = t; b < t + MINUTE; b += this.bucketMs) {
        const slot = this.buckets.get(b);
        if (!slot) continue;
        for (const [ch, v] of slot) addInto(this.minutes.vectorAt(t, ch), v);
        this.buckets.delete(b);
      }
    }
    this.bucketFrom = Math.max(this.bucketFrom, spanFrom);
    this.minutes.evict(now);
  }

  private async readSketches(): Promise<void> {
    const now = this.now();
    const today = dayStart(now, this.o.timezone);
    const minuteFrom = floorTo(now - TREND_MS, MINUTE);
    const days = new Map<MemberSetId, { start: number; counts: DistinctCounts }>();
    const minutes = new Map<MemberSetId, Map<number, Sketches>>();
    await Promise.all(
      MEMBER_SET_IDS.map(async (set) => {
        const [day, recent] = await Promise.all([
          this.o.store.querySketches({ from: today, to: today + 1, granularity: 'day', set }),
          this.o.store.querySketches({ from: minuteFrom, to: now + 1, granularity: 'minute', set }),
        ]);
        const merged = mergeRows(day).get(today);
        days.set(set, { start: today, counts: merged ? countsOf(merged) : { total: 0, byChannel: new Map() } });
        minutes.set(set, mergeRows(recent));
      }),
    );
    this.days = days;
    this.minuteSketches = minutes;
    this.minuteCounts = new Map([...minutes].map(([set, byMinute]) => [set, new Map([...byMinute].map(([t, sk]) => [t, countsOf(sk)]))]));
    this.windowCounts = new Map();
  }

  // ---- LiveSource ---------------------------------------------------------------------

  private sumBuckets(from: number, to: number, into: WindowSums): void {
    for (let t = from; t < to; t += this.bucketMs) {
      const slot = this.buckets.get(t);
      if (slot) addSlotInto(slot, into);
    }
  }

  windowSums(from: number, to: number): WindowSums {
    const out = emptyWindow();
    const m0 = Math.ceil(from / MINUTE) * MINUTE;
    const m1 = Math.floor(to / MINUTE) * MINUTE;
    if (m0 >= m1) {
      this.sumBuckets(from, to, out);
      return out;
    }
    this.sumBuckets(from, m0, out);
    const split = Math.min(Math.max(this.bucketFrom, m0), m1);
    this.minutes.sumInto(m0, split, out);
    this.sumBuckets(split, to, out);
    return out;
  }

  distinctWindow(set: MemberSetId, from: number, to: number): DistinctCounts {
    const key = `${set}:${floorTo(from, MINUTE)}:${to}`;
    const cached = this.windowCounts.get(key);
    if (cached) return cached;
    const union: Sketches = { total: new Hll(), byChannel: new Map() };
    const minutes = this.minuteSketches.get(set);
    for (let t = floorTo(from, MINUTE); t < to; t += MINUTE) {
      const s = minutes?.get(t);
      if (!s) continue;
      union.total.merge(s.total);
      for (const [ch, h] of s.byChannel) {
        const u = union.byChannel.get(ch);
        if (u) u.merge(h);
        else union.byChannel.set(ch, h.clone());
      }
    }
    const counts = countsOf(union);
    this.windowCounts.set(key, counts);
    return counts;
  }

  distinctPeriod(set: MemberSetId, g: Granularity, start: number): DistinctCounts | undefined {
    if (g === 'day') {
      const d = this.days.get(set);
      return d?.start === start ? d.counts : undefined;
    }
    if (g === 'minute') return this.minuteCounts.get(set)?.get(start);
    return undefined;
  }

  dayDistinctAtMinute(): number | undefined {
    return undefined;
  }

  freshness(): { lastEventAt: number | null; byChannel: Record<string, number> } {
    const local = this.o.local.freshness();
    // Channel ids come from producers: no prototype, so `__proto__` is an ordinary key.
    const byChannel: Record<string, number> = Object.assign(Object.create(null) as Record<string, number>, local.byChannel);
    let last = local.lastEventAt;
    // Other nodes' arrivals, at bucket resolution (the end of the newest bucket with data).
    for (const [ch, at] of this.seen) {
      if (!(Object.hasOwn(byChannel, ch) && byChannel[ch]! >= at)) byChannel[ch] = at;
      if (last === null || at > last) last = at;
    }
    return { lastEventAt: last, byChannel };
  }
}
