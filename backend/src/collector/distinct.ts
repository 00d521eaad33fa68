/**
 * Distinct members per member set as mergeable sketches (sketch/hll.ts): per minute / hour /
 * day for the store, and one sliding-window sketch per channel (sketch/slidingHll.ts) for
 * the wall's live windows. Distinct counts do not add up, so each granularity keeps its own
 * sketches; sketches merge, so nothing starts over.
 *
 * Live windows. The sliding sketch answers any window [from, boundary) of the last 15
 * minutes that ends at the closed boundary (the start of the open 10 s bucket), with HLL's
 * error bound. A window ending earlier — the wall's previous 5 minutes — is answered as it
 * stood when it was current: at every boundary the last LAST_WINDOW_MS window is computed
 * and kept (`memo`) for 2 × LAST_WINDOW_MS. So a late event (inside the lateness window)
 * counts in the current window but not in a previous window already closed. (Until this
 * design, 90 sketches of 10 s buckets per member set and channel were kept: 45 MiB per
 * member set at a busy ingest, the largest part of the server's memory in issue 12's
 * 10-million-member benchmark.)
 *
 * Every period's sketch is persisted (pulse_sketch) and, before it is written, merged with
 * what the store (and the spool) already holds for it: at start-up for the open periods
 * (`seed`), and lazily for any other period an event touches — a late event, a journal
 * replay, a period evicted from memory. A stored sketch is therefore only ever merged into,
 * never replaced by a smaller one and never floored. The count written to pulse_distinct is
 * the estimate of that merged sketch.
 *
 * Members arrive as sketch keys (25-bit register index + rank), never as ids or hashes.
 */
import { GRANULARITIES, MEMBER_SET_IDS, MEMBER_SETS, type EventType, type Granularity, type MemberSetId } from '@siyu-pulse/contracts/catalogue';
import { Hll } from '../sketch/hll.js';
import { SlidingHll } from '../sketch/slidingHll.js';
import type { DistinctRow, SketchRow } from '../store/port.js';
import { MINUTE, alignmentOffset, floorTo } from '../time/zone.js';

interface Sketches {
  total: Hll;
  byChannel: Map<string, Hll>;
}
/** The live windows' sketches of one member set. */
interface Live {
  total: SlidingHll;
  byChannel: Map<string, SlidingHll>;
}
interface Period extends Sketches {
  version: number;
  /** Version whose count row was last written (pulse_distinct, every flush). */
  written: number;
  /** Version whose sketch rows were last written (pulse_sketch, every sketch flush). */
  sketchWritten: number;
  /** The stored sketches of this period have been merged in (or there were none). */
  loaded: boolean;
}

const newSketches = (): Sketches => ({ total: new Hll(), byChannel: new Map() });

/** The wall's short window (last 5 minutes, and the 5 before it: live/snapshot.ts). */
export const LAST_WINDOW_MS = 5 * MINUTE;
/** Expired entries of the sliding sketches are swept this often. */
const SWEEP_MS = MINUTE;

function countsOf(s: Sketches): DistinctCounts {
  const byChannel = new Map<string, number>();
  for (const [ch, h] of s.byChannel) byChannel.set(ch, h.estimate());
  return { total: s.total.estimate(), byChannel };
}

function addTo(s: Sketches, channel: string, key: number): boolean {
  const a = s.total.add(key);
  let c = s.byChannel.get(channel);
  if (!c) {
    c = new Hll();
    s.byChannel.set(channel, c);
  }
  return c.add(key) || a;
}

const SETS_BY_TYPE = new Map<EventType, MemberSetId[]>();
for (const id of MEMBER_SET_IDS) {
  for (const type of MEMBER_SETS[id]) SETS_BY_TYPE.set(type, [...(SETS_BY_TYPE.get(type) ?? []), id]);
}
const GRANS = Object.keys(GRANULARITIES) as Granularity[];

/**
 * How long the counts of each granularity's periods stay in memory after they end (besides
 * lateness): minutes feed the wall's trend. Their sketches leave memory once the period is
 * past lateness and written (a later event reloads them from the store): a minute's sketches
 * are up to 64 KiB per channel, so 70 minutes of them were ~35 MiB per member set at a
 * steady ingest — the largest part of the server's memory that grew with time.
 */
const KEEP_AFTER: Record<Granularity, number> = { minute: 70 * MINUTE, hour: 0, day: 0 };

export interface DistinctCounts {
  total: number;
  byChannel: Map<string, number>;
}

export interface PendingDistinctWrite {
  rows: DistinctRow[];
  sketches: SketchRow[];
  commit(): void;
}

/** A period whose stored sketches must be merged in before it is written. */
export interface UnloadedPeriod {
  set: MemberSetId;
  granularity: Granularity;
  start: number;
}

export class DistinctTracker {
  private readonly live = new Map<MemberSetId, Live>();
  /** First bucket (index) not closed yet in the live sketches: windows end at or before it. */
  private closedBucket: number | null = null;
  private lastSweep = 0;
  /** Window answers per set (`from:to`, ms): the version of the sketches they saw, and the counts. */
  private readonly memo = new Map<MemberSetId, Map<string, { version: number; counts: DistinctCounts }>>();
  private readonly periods = new Map<MemberSetId, Record<Granularity, Map<number, Period>>>();
  /** Counts of written minutes past lateness, kept for the wall's trend without their sketches (KEEP_AFTER). */
  private readonly closedMinutes = new Map<MemberSetId, Map<number, DistinctCounts>>();
  /** Size of the day set at the end of each minute (for "yesterday at this time"). */
  private readonly daySizeAt = new Map<MemberSetId, Map<number, number>>();

  constructor(
    private readonly bucketMs: number,
    private readonly bucketRetentionMs: number,
    private readonly latenessMs: number,
    private readonly timezone: string,
    /** This writer's id in pulse_sketch. */
    private readonly node: string,
    private readonly now: () => number = Date.now,
  ) {
    for (const id of MEMBER_SET_IDS) {
      this.live.set(id, { total: new SlidingHll(this.retentionBuckets), byChannel: new Map() });
      this.memo.set(id, new Map());
      this.periods.set(id, { minute: new Map(), hour: new Map(), day: new Map() });
      this.daySizeAt.set(id, new Map());
      this.closedMinutes.set(id, new Map());
    }
  }

  periodStart(g: Granularity, ts: number): number {
    const step = GRANULARITIES[g];
    return floorTo(ts, step, alignmentOffset(step, this.timezone, ts));
  }

  add(type: EventType, ts: number, channel: string, key: number): void {
    const sets = SETS_BY_TYPE.get(type);
    if (!sets) return;
    for (const id of sets) this.addMember(id, ts, channel, key);
  }

  /** Adds a member (by sketch key) to one set directly (sets no event type feeds, e.g. push_over_cap). */
  addMember(id: MemberSetId, ts: number, channel: string, key: number): void {
    // Live windows only for recent events (an import of last month needs none).
    const now = this.now();
    if (ts >= now - this.bucketRetentionMs) {
      const closed = this.advance(now);
      const live = this.live.get(id)!;
      const b = Math.floor(ts / this.bucketMs);
      live.total.add(b, key, closed);
      let c = live.byChannel.get(channel);
      if (!c) {
        c = new SlidingHll(this.retentionBuckets);
        live.byChannel.set(channel, c);
      }
      c.add(b, key, closed);
    }
    const periods = this.periods.get(id)!;
    const starts = this.periodStartsAt(ts);
    for (let i = 0; i < GRANS.length; i++) {
      const p = this.period(periods[GRANS[i]!], starts[i]!, false);
      if (addTo(p, channel, key)) p.version++;
    }
  }

  /** periodStart of every granularity (GRANS order) at `ts`, remembered for the last `ts` (a live batch shares one). */
  private periodStartsAt(ts: number): readonly number[] {
    if (ts !== this.startsTs) {
      for (let i = 0; i < GRANS.length; i++) this.starts[i] = this.periodStart(GRANS[i]!, ts);
      this.startsTs = ts;
    }
    return this.starts;
  }

  private startsTs = Number.NaN;
  private readonly starts: number[] = GRANS.map(() => 0);

  /**
   * Makes the periods at `ts` hold `channel`, possibly with nobody in it, so a count of 0
   * is written for them. push_over_cap uses it wherever a push went out: "nobody over the
   * cap" is then a stored 0 (Grafana draws it) rather than a missing row.
   */
  touch(id: MemberSetId, ts: number, channel: string): void {
    const periods = this.periods.get(id)!;
    for (const g of GRANS) {
      const p = this.period(periods[g], this.periodStart(g, ts), false);
      if (p.byChannel.has(channel)) continue;
      p.byChannel.set(channel, new Hll());
      p.version++;
    }
  }

  private period(map: Map<number, Period>, start: number, loaded: boolean): Period {
    let p = map.get(start);
    if (!p) {
      p = { ...newSketches(), version: 0, written: 0, sketchWritten: 0, loaded };
      map.set(start, p);
    }
    return p;
  }

  /**
   * Merges stored sketch rows (any node) into the period and marks it loaded. `rows` must be
   * every stored row of the period (an empty list = nothing stored yet).
   */
  mergeStored(set: MemberSetId, g: Granularity, start: number, rows: readonly SketchRow[]): void {
    const map = this.periods.get(set)![g];
    const existed = map.has(start);
    const p = this.period(map, start, true);
    let changed = false;
    for (const r of rows) {
      const h = Hll.fromBase64(r.sketch);
      if (r.channel === '') changed = p.total.merge(h) || changed;
      else {
        let c = p.byChannel.get(r.channel);
        if (!c) {
          c = new Hll();
          p.byChannel.set(r.channel, c);
        }
        changed = c.merge(h) || changed;
      }
    }
    // A period counted here before its stored rows were read is dirty already (its new
    // members); one created by this call holds exactly what is stored: nothing to write.
    if (changed && existed) p.version++;
    p.loaded = true;
  }

  /** Whether memory holds this period (its next write would replace the stored sketch and count). */
  holds(set: MemberSetId, g: Granularity, start: number): boolean {
    return this.periods.get(set)![g].has(start);
  }

  hasUnloaded(): boolean {
    for (const set of MEMBER_SET_IDS) {
      const periods = this.periods.get(set)!;
      for (const g of GRANS) for (const p of periods[g].values()) if (!p.loaded) return true;
    }
    return false;
  }

  /** Dirty periods whose stored sketches have not been merged in yet. */
  unloaded(): UnloadedPeriod[] {
    const out: UnloadedPeriod[] = [];
    for (const set of MEMBER_SET_IDS) {
      const periods = this.periods.get(set)!;
      for (const g of GRANS) for (const [start, p] of periods[g]) if (!p.loaded) out.push({ set, granularity: g, start });
    }
    return out;
  }

  private get retentionBuckets(): number {
    return Math.ceil(this.bucketRetentionMs / this.bucketMs);
  }

  /**
   * Closes the live sketches' buckets up to now's, one boundary at a time, and keeps the last
   * LAST_WINDOW_MS window's counts at each boundary (the later "previous 5 minutes").
   * Returns the first bucket not closed.
   */
  private advance(now: number): number {
    const current = Math.floor(now / this.bucketMs);
    const last = this.closedBucket;
    if (last !== null && current <= last) return last;
    this.closedBucket = current;
    // Boundaries older than the previous window's are never asked for: close them at once.
    const windowBuckets = Math.ceil(LAST_WINDOW_MS / this.bucketMs);
    const first = last === null ? current : Math.max(last + 1, current - 2 * windowBuckets - 1);
    for (const live of this.live.values()) this.closeAll(live, first);
    for (let b = first; b <= current; b++) {
      for (const [set, live] of this.live) {
        this.closeAll(live, b);
        if (live.total.isEmpty) continue;
        this.windowCounts(set, (b - windowBuckets) * this.bucketMs, b * this.bucketMs);
      }
    }
    return current;
  }

  private closeAll(live: Live, closed: number): void {
    live.total.close(closed);
    for (const c of live.byChannel.values()) c.close(closed);
  }

  private liveVersion(live: Live): number {
    let v = live.total.version;
    for (const c of live.byChannel.values()) v += c.version;
    return v;
  }

  /** Counts of [from, to) at the closed boundary `to` (cached until the sketches change). */
  private windowCounts(set: MemberSetId, from: number, to: number): DistinctCounts {
    const live = this.live.get(set)!;
    const memo = this.memo.get(set)!;
    const key = `${from}:${to}`;
    const version = this.liveVersion(live);
    const had = memo.get(key);
    if (had && had.version === version) return had.counts;
    const f = Math.floor(from / this.bucketMs);
    const t = Math.floor(to / this.bucketMs);
    const byChannel = new Map<string, number>();
    for (const [ch, s] of live.byChannel) byChannel.set(ch, s.estimate(f, t));
    const counts = { total: live.total.estimate(f, t), byChannel };
    memo.set(key, { version, counts });
    return counts;
  }

  /**
   * Distinct members over bucket-aligned [from, to) inside the last 15 minutes. Exact to the
   * sketch's bound when `to` is the closed boundary (or later: the open bucket's members
   * merged in); an earlier window as it stood when it was current (see the header).
   */
  window(set: MemberSetId, from: number, to: number): DistinctCounts {
    const closed = this.advance(this.now()) * this.bucketMs;
    if (to === closed) return this.windowCounts(set, from, to);
    const live = this.live.get(set)!;
    const f = Math.floor(from / this.bucketMs);
    const t = Math.floor(to / this.bucketMs);
    if (to < closed) {
      const kept = this.memo.get(set)!.get(`${from}:${to}`);
      if (kept) return kept.counts;
      // Not kept (before this process or the sketches held anything): the members still known,
      // kept from now on (it is read every second until it is a kept window).
      const counts = this.windowCounts(set, from, to);
      return counts;
    }
    const c = t > closed / this.bucketMs ? closed / this.bucketMs : t;
    const read = (s: SlidingHll) => {
      if (to <= closed) return s.estimate(f, c);
      const h = s.window(f, c);
      s.mergePending(h, c, t);
      return h.estimate();
    };
    const byChannel = new Map<string, number>();
    for (const [ch, s] of live.byChannel) byChannel.set(ch, read(s));
    return { total: read(live.total), byChannel };
  }

  /** Distinct members of the period starting at `start`, or undefined when it is not in memory. */
  periodCounts(set: MemberSetId, g: Granularity, start: number): DistinctCounts | undefined {
    const p = this.periods.get(set)![g].get(start);
    // A closed minute that a late event brought back holds only the new members until its
    // stored sketches are merged in: until then the counts it closed with are the better answer.
    const closed = g === 'minute' ? this.closedMinutes.get(set)!.get(start) : undefined;
    if (!p || (!p.loaded && closed)) return closed;
    return countsOf(p);
  }

  /** The day count as it stood at the end of minute `minuteStart` (yesterday-at-this-time comparisons). */
  daySizeAtMinute(set: MemberSetId, minuteStart: number): number | undefined {
    return this.daySizeAt.get(set)!.get(minuteStart);
  }

  /**
   * Count rows for every loaded period that changed since its last successful write, and
   * with `withSketches` its sketch rows too (sketches are tens of KB, so they are written
   * less often than counts; the journal keeps their keys meanwhile).
   */
  takeDirty(now: number, withSketches = true): PendingDistinctWrite {
    const rows: DistinctRow[] = [];
    const sketches: SketchRow[] = [];
    const marks: [Period, number, boolean][] = [];
    for (const set of MEMBER_SET_IDS) {
      const periods = this.periods.get(set)!;
      const today = periods.day.get(this.periodStart('day', now));
      if (today) this.daySizeAt.get(set)!.set(floorTo(now, MINUTE), today.total.estimate());
      for (const g of GRANS) {
        for (const [ts, p] of periods[g]) {
          if (!p.loaded) continue;
          const rowDirty = p.version !== p.written;
          const sketchDirty = withSketches && p.version !== p.sketchWritten;
          if (!rowDirty && !sketchDirty) continue;
          if (rowDirty) {
            rows.push({ ts, granularity: g, set, channel: '', value: p.total.estimate() });
            for (const [channel, s] of p.byChannel) rows.push({ ts, granularity: g, set, channel, value: s.estimate() });
          }
          if (sketchDirty) {
            sketches.push({ ts, granularity: g, set, channel: '', node: this.node, sketch: p.total.toBase64() });
            for (const [channel, s] of p.byChannel) sketches.push({ ts, granularity: g, set, channel, node: this.node, sketch: s.toBase64() });
          }
          marks.push([p, p.version, sketchDirty]);
        }
      }
    }
    return {
      rows,
      sketches,
      commit: () => {
        for (const [p, v, sketch] of marks) {
          p.written = Math.max(p.written, v);
          if (sketch) p.sketchWritten = Math.max(p.sketchWritten, v);
        }
      },
    };
  }

  /** Periods (set × granularity × start) held in memory, each with a sketch per channel. */
  get periodCount(): number {
    let n = 0;
    for (const set of MEMBER_SET_IDS) for (const g of GRANS) n += this.periods.get(set)![g].size;
    return n;
  }

  evict(now: number): void {
    const closedBucket = this.advance(now);
    const sweep = now - this.lastSweep >= SWEEP_MS;
    if (sweep) this.lastSweep = now;
    for (const set of MEMBER_SET_IDS) {
      const live = this.live.get(set)!;
      if (sweep) {
        live.total.expire(closedBucket);
        for (const [ch, c] of live.byChannel) {
          c.expire(closedBucket);
          if (c.isEmpty) live.byChannel.delete(ch);
        }
      }
      const memo = this.memo.get(set)!;
      for (const key of memo.keys()) if (Number(key.slice(key.indexOf(':') + 1)) < now - 2 * LAST_WINDOW_MS - 2 * this.bucketMs) memo.delete(key);
      const periods = this.periods.get(set)!;
      for (const g of GRANS) {
        const step = GRANULARITIES[g];
        for (const [start, p] of periods[g]) {
          const end = start + step;
          // Written periods past lateness leave memory; a later event for one reloads it from
          // the store. A minute's counts stay for the wall's trend (closedMinutes).
          if (end + this.latenessMs >= now || p.version !== p.written || p.version !== p.sketchWritten || !p.loaded) continue;
          if (g === 'minute' && end + this.latenessMs + KEEP_AFTER.minute >= now) this.closedMinutes.get(set)!.set(start, countsOf(p));
          periods[g].delete(start);
        }
      }
      const closed = this.closedMinutes.get(set)!;
      for (const start of closed.keys()) if (start + MINUTE + this.latenessMs + KEEP_AFTER.minute < now) closed.delete(start);
      const sizes = this.daySizeAt.get(set)!;
      for (const minute of sizes.keys()) if (minute < now - 26 * 3_600_000) sizes.delete(minute);
    }
  }
}
