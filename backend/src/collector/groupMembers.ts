/**
 * Per-group active members (issue 17 point 1): for every 社群, the distinct members of the
 * `active` set (MEMBER_SETS.active: a message, an interaction, a join, …) seen in it per hour
 * and per local day, over all channels, as mergeable sketches (sketch/hll.ts) — never ids.
 * Written as group sketch rows (SketchRow.community; the store keeps them apart from the
 * channel sketches) through the spool with the other sketches, and read back merged per
 * group and period (communities/activeMembers.ts).
 *
 * Like DistinctTracker's periods: every period taken up (a new hour, a period begun before
 * this process, one that left memory and an event came back to) has the stored rows merged
 * in before it is first written (`unloaded` → `mergeStored`; one read per period start for
 * all its groups), so a stored sketch is only ever merged into, never replaced by a smaller one.
 *
 * Memory: one sparse sketch per active group and open hour / day (a quiet group's holds a
 * few members in a few bytes); periods leave once past lateness and written.
 */
import { GRANULARITIES, MEMBER_SETS, type EventType } from '@siyu-pulse/contracts/catalogue';
import { Hll } from '../sketch/hll.js';
import type { SketchRow } from '../store/port.js';

/** The granularities kept per group. */
export const GROUP_GRANULARITIES = ['hour', 'day'] as const;
export type GroupGranularity = (typeof GROUP_GRANULARITIES)[number];
/** The member set counted per group. */
export const GROUP_MEMBER_SET = 'active' as const;

const ACTIVE_TYPES = new Set<EventType>(MEMBER_SETS[GROUP_MEMBER_SET]);

interface Period {
  granularity: GroupGranularity;
  start: number;
  community: string;
  sketch: Hll;
  version: number;
  written: number;
  loaded: boolean;
}

/** A group period whose stored rows must be merged in before it is written. */
export interface UnloadedGroupPeriod {
  granularity: GroupGranularity;
  start: number;
  community: string;
}

export interface PendingGroupSketches {
  sketches: SketchRow[];
  commit(): void;
}

export class GroupMembers {
  private readonly periods = new Map<string, Period>();

  constructor(
    /** The period start of a granularity at `ts` (the DistinctTracker's: the zone's hours and days). */
    private readonly periodStart: (g: GroupGranularity, ts: number) => number,
    /** This writer's id in the sketch rows. */
    private readonly node: string,
  ) {}

  /** Counts a member (sketch key) of an event in a group; other event types and '' are ignored. */
  add(type: EventType, ts: number, community: string, key: number): void {
    if (community === '' || !ACTIVE_TYPES.has(type)) return;
    for (const g of GROUP_GRANULARITIES) {
      const p = this.period(g, this.periodStart(g, ts), community);
      if (p.sketch.add(key)) p.version++;
    }
  }

  private period(granularity: GroupGranularity, start: number, community: string): Period {
    const k = `${granularity}\u0000${start}\u0000${community}`;
    let p = this.periods.get(k);
    if (!p) {
      p = { granularity, start, community, sketch: new Hll(), version: 0, written: 0, loaded: false };
      this.periods.set(k, p);
    }
    return p;
  }

  /** Dirty periods whose stored rows have not been merged in yet. */
  unloaded(): UnloadedGroupPeriod[] {
    const out: UnloadedGroupPeriod[] = [];
    for (const p of this.periods.values()) if (!p.loaded) out.push({ granularity: p.granularity, start: p.start, community: p.community });
    return out;
  }

  hasUnloaded(): boolean {
    for (const p of this.periods.values()) if (!p.loaded) return true;
    return false;
  }

  /** Merges every stored row (any node) of one group period into it and marks it loaded. */
  mergeStored(granularity: GroupGranularity, start: number, community: string, rows: readonly SketchRow[]): void {
    const p = this.periods.get(`${granularity}\u0000${start}\u0000${community}`);
    if (!p) return;
    for (const r of rows) if (p.sketch.merge(Hll.fromBase64(r.sketch))) p.version++;
    p.loaded = true;
  }

  /** Whether memory holds this group period. */
  holds(granularity: GroupGranularity, start: number, community: string): boolean {
    return this.periods.has(`${granularity}\u0000${start}\u0000${community}`);
  }

  /** Sketch rows of every loaded period that changed since its last write. */
  takeDirty(): PendingGroupSketches {
    const sketches: SketchRow[] = [];
    const marks: [Period, number][] = [];
    for (const p of this.periods.values()) {
      if (!p.loaded || p.version === p.written) continue;
      sketches.push({ ts: p.start, granularity: p.granularity, set: GROUP_MEMBER_SET, channel: '', node: this.node, sketch: p.sketch.toBase64(), community: p.community });
      marks.push([p, p.version]);
    }
    return {
      sketches,
      commit: () => {
        for (const [p, v] of marks) p.written = Math.max(p.written, v);
      },
    };
  }

  /** Written, loaded periods past their end + lateness leave memory (a later event reloads them). */
  evict(now: number, latenessMs: number): void {
    for (const [k, p] of this.periods) {
      if (p.start + GRANULARITIES[p.granularity] + latenessMs >= now || p.version !== p.written || !p.loaded) continue;
      this.periods.delete(k);
    }
  }

  /** Group periods held (one sketch each). */
  get periodCount(): number {
    return this.periods.size;
  }
}
