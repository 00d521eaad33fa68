/**
 * Exact distinct members (hashed ids) per member set: per bucket for the live windows,
 * and per minute / hour / day for the store. Distinct counts do not add up, so each
 * granularity keeps its own sets and writes its own counts.
 *
 * After a restart the sets start empty while the store already holds counts for the
 * current periods; those counts become a floor (we write max(floor, |set|)) so a stored
 * count never goes down. The union cannot be rebuilt without the ids, which we never keep.
 */
import { GRANULARITIES, MEMBER_SET_IDS, MEMBER_SETS, type EventType, type Granularity, type MemberSetId } from '../catalogue/events.js';
import type { DistinctRow } from '../store/port.js';
import { MINUTE, alignmentOffset, floorTo } from '../time/zone.js';

interface Sets {
  total: Set<string>;
  byChannel: Map<string, Set<string>>;
}
interface Period extends Sets {
  floorTotal: number;
  floorByChannel: Map<string, number>;
  version: number;
  written: number;
}

const newSets = (): Sets => ({ total: new Set(), byChannel: new Map() });

function addTo(sets: Sets, channel: string, member: string): boolean {
  const before = sets.total.size;
  sets.total.add(member);
  let c = sets.byChannel.get(channel);
  if (!c) {
    c = new Set();
    sets.byChannel.set(channel, c);
  }
  const cBefore = c.size;
  c.add(member);
  return sets.total.size !== before || c.size !== cBefore;
}

const SETS_BY_TYPE = new Map<EventType, MemberSetId[]>();
for (const id of MEMBER_SET_IDS) {
  for (const type of MEMBER_SETS[id]) SETS_BY_TYPE.set(type, [...(SETS_BY_TYPE.get(type) ?? []), id]);
}

/** How long each granularity's periods stay in memory after they end (besides lateness). */
const KEEP_AFTER: Record<Granularity, number> = { minute: 70 * MINUTE, hour: 0, day: 0 };

export interface DistinctCounts {
  total: number;
  byChannel: Map<string, number>;
}

export interface PendingDistinctWrite {
  rows: DistinctRow[];
  commit(): void;
}

export class DistinctTracker {
  private readonly buckets = new Map<MemberSetId, Map<number, Sets>>();
  private readonly periods = new Map<MemberSetId, Record<Granularity, Map<number, Period>>>();
  /** Size of the day set at the end of each minute (for "yesterday at this time"). */
  private readonly daySizeAt = new Map<MemberSetId, Map<number, number>>();

  constructor(
    private readonly bucketMs: number,
    private readonly bucketRetentionMs: number,
    private readonly latenessMs: number,
    private readonly timezone: string,
  ) {
    for (const id of MEMBER_SET_IDS) {
      this.buckets.set(id, new Map());
      this.periods.set(id, { minute: new Map(), hour: new Map(), day: new Map() });
      this.daySizeAt.set(id, new Map());
    }
  }

  periodStart(g: Granularity, ts: number): number {
    const step = GRANULARITIES[g];
    return floorTo(ts, step, alignmentOffset(step, this.timezone, ts));
  }

  add(type: EventType, ts: number, channel: string, member: string): void {
    const sets = SETS_BY_TYPE.get(type);
    if (!sets) return;
    for (const id of sets) this.addMember(id, ts, channel, member);
  }

  /** Adds a member to one set directly (sets that no event type feeds, e.g. push_over_cap). */
  addMember(id: MemberSetId, ts: number, channel: string, member: string): void {
    const bStart = Math.floor(ts / this.bucketMs) * this.bucketMs;
    const buckets = this.buckets.get(id)!;
    let b = buckets.get(bStart);
    if (!b) {
      b = newSets();
      buckets.set(bStart, b);
    }
    addTo(b, channel, member);
    const periods = this.periods.get(id)!;
    for (const g of Object.keys(GRANULARITIES) as Granularity[]) {
      const p = this.period(periods[g], this.periodStart(g, ts));
      if (addTo(p, channel, member)) p.version++;
    }
  }

  /**
   * Makes the periods at `ts` hold `channel`, possibly with nobody in it, so a count of 0
   * is written for them. push_over_cap uses it wherever a push went out: "nobody over the
   * cap" is then a stored 0 (Grafana draws it) rather than a missing row.
   */
  touch(id: MemberSetId, ts: number, channel: string): void {
    const periods = this.periods.get(id)!;
    for (const g of Object.keys(GRANULARITIES) as Granularity[]) {
      const p = this.period(periods[g], this.periodStart(g, ts));
      if (p.byChannel.has(channel)) continue;
      p.byChannel.set(channel, new Set());
      p.version++;
    }
  }

  private period(map: Map<number, Period>, start: number): Period {
    let p = map.get(start);
    if (!p) {
      p = { ...newSets(), floorTotal: 0, floorByChannel: new Map(), version: 0, written: 0 };
      map.set(start, p);
    }
    return p;
  }

  /** Restores stored counts as floors after a restart. */
  seedFloor(set: MemberSetId, g: Granularity, start: number, channel: string, value: number): void {
    const p = this.period(this.periods.get(set)![g], start);
    if (channel === '') p.floorTotal = Math.max(p.floorTotal, value);
    else p.floorByChannel.set(channel, Math.max(p.floorByChannel.get(channel) ?? 0, value));
  }

  /** Distinct members over bucket-aligned [from, to) inside the bucket retention. */
  window(set: MemberSetId, from: number, to: number): DistinctCounts {
    const union = newSets();
    const buckets = this.buckets.get(set)!;
    for (let t = from; t < to; t += this.bucketMs) {
      const b = buckets.get(t);
      if (!b) continue;
      for (const m of b.total) union.total.add(m);
      for (const [ch, s] of b.byChannel) {
        let u = union.byChannel.get(ch);
        if (!u) {
          u = new Set();
          union.byChannel.set(ch, u);
        }
        for (const m of s) u.add(m);
      }
    }
    return { total: union.total.size, byChannel: new Map([...union.byChannel].map(([ch, s]) => [ch, s.size])) };
  }

  /** Distinct members of the period starting at `start`, or undefined when it is not in memory. */
  periodCounts(set: MemberSetId, g: Granularity, start: number): DistinctCounts | undefined {
    const p = this.periods.get(set)![g].get(start);
    if (!p) return undefined;
    const byChannel = new Map<string, number>();
    for (const [ch, s] of p.byChannel) byChannel.set(ch, Math.max(s.size, p.floorByChannel.get(ch) ?? 0));
    for (const [ch, f] of p.floorByChannel) if (!byChannel.has(ch)) byChannel.set(ch, f);
    return { total: Math.max(p.total.size, p.floorTotal), byChannel };
  }

  /** The day count as it stood at the end of minute `minuteStart` (yesterday-at-this-time comparisons). */
  daySizeAtMinute(set: MemberSetId, minuteStart: number): number | undefined {
    return this.daySizeAt.get(set)!.get(minuteStart);
  }

  /** Rows for every period whose count changed since its last successful write. */
  takeDirty(now: number): PendingDistinctWrite {
    const rows: DistinctRow[] = [];
    const marks: [Period, number][] = [];
    for (const set of MEMBER_SET_IDS) {
      const periods = this.periods.get(set)!;
      const today = periods.day.get(this.periodStart('day', now));
      if (today) {
        this.daySizeAt.get(set)!.set(floorTo(now, MINUTE), Math.max(today.total.size, today.floorTotal));
      }
      for (const g of Object.keys(GRANULARITIES) as Granularity[]) {
        for (const [ts, p] of periods[g]) {
          if (p.version === p.written) continue;
          const counts = this.periodCounts(set, g, ts)!;
          rows.push({ ts, granularity: g, set, channel: '', value: counts.total });
          for (const [channel, value] of counts.byChannel) rows.push({ ts, granularity: g, set, channel, value });
          marks.push([p, p.version]);
        }
      }
    }
    return {
      rows,
      commit: () => {
        for (const [p, v] of marks) p.written = Math.max(p.written, v);
      },
    };
  }

  evict(now: number): void {
    for (const set of MEMBER_SET_IDS) {
      const buckets = this.buckets.get(set)!;
      for (const start of buckets.keys()) if (start < now - this.bucketRetentionMs) buckets.delete(start);
      const periods = this.periods.get(set)!;
      for (const g of Object.keys(GRANULARITIES) as Granularity[]) {
        const step = GRANULARITIES[g];
        for (const [start, p] of periods[g]) {
          const end = start + step;
          // Keep yesterday's day set while "yesterday" is still within lateness.
          if (end + this.latenessMs + KEEP_AFTER[g] < now && p.version === p.written) periods[g].delete(start);
        }
      }
      const sizes = this.daySizeAt.get(set)!;
      for (const minute of sizes.keys()) if (minute < now - 26 * 3_600_000) sizes.delete(minute);
    }
  }
}
