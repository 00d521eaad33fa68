/**
 * Distinct members per member set as mergeable sketches (sketch/hll.ts): per 10 s bucket for
 * the live windows, and per minute / hour / day for the store. Distinct counts do not add
 * up, so each granularity keeps its own sketches; sketches merge, so nothing starts over.
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
import type { DistinctRow, SketchRow } from '../store/port.js';
import { MINUTE, alignmentOffset, floorTo } from '../time/zone.js';

interface Sketches {
  total: Hll;
  byChannel: Map<string, Hll>;
}
interface Bucket extends Sketches {
  /** Bumped when a member is added (live-window answers are cached until a bucket changes). */
  changes: number;
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
  private readonly buckets = new Map<MemberSetId, Map<number, Bucket>>();
  /** Last answer of window() per set and range, with the bucket changes it saw. */
  private readonly windowCache = new Map<string, { changes: number; counts: DistinctCounts }>();
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
      this.buckets.set(id, new Map());
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
    const bStart = Math.floor(ts / this.bucketMs) * this.bucketMs;
    // Live-window buckets only for recent events (an import of last month needs none).
    if (bStart >= this.now() - this.bucketRetentionMs) {
      const buckets = this.buckets.get(id)!;
      let b = buckets.get(bStart);
      if (!b) {
        b = { ...newSketches(), changes: 0 };
        buckets.set(bStart, b);
      }
      if (addTo(b, channel, key)) b.changes++;
    }
    const periods = this.periods.get(id)!;
    for (const g of GRANS) {
      const p = this.period(periods[g], this.periodStart(g, ts), false);
      if (addTo(p, channel, key)) p.version++;
    }
  }

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

  /** Distinct members over bucket-aligned [from, to) inside the bucket retention. */
  window(set: MemberSetId, from: number, to: number): DistinctCounts {
    const buckets = this.buckets.get(set)!;
    // The wall asks every second for windows of closed buckets: merge only when one changed.
    let changes = 0;
    for (let t = from; t < to; t += this.bucketMs) changes += (buckets.get(t)?.changes ?? 0) + (buckets.has(t) ? 1 : 0);
    const cacheKey = `${set}:${from}:${to}`;
    const cached = this.windowCache.get(cacheKey);
    if (cached && cached.changes === changes) return cached.counts;
    const union = newSketches();
    for (let t = from; t < to; t += this.bucketMs) {
      const b = buckets.get(t);
      if (!b) continue;
      union.total.merge(b.total);
      for (const [ch, s] of b.byChannel) {
        let u = union.byChannel.get(ch);
        if (!u) {
          u = new Hll();
          union.byChannel.set(ch, u);
        }
        u.merge(s);
      }
    }
    const counts = { total: union.total.estimate(), byChannel: new Map([...union.byChannel].map(([ch, s]) => [ch, s.estimate()])) };
    if (this.windowCache.size > 64) this.windowCache.clear();
    this.windowCache.set(cacheKey, { changes, counts });
    return counts;
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
    for (const set of MEMBER_SET_IDS) {
      const buckets = this.buckets.get(set)!;
      for (const start of buckets.keys()) if (start < now - this.bucketRetentionMs) buckets.delete(start);
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
