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
 * Writes are budgeted (`takeDirty(maxDense)`): every changed sparse sketch, and of the dense
 * ones those changed longest ago, up to a number per flush. Why: at a brand's scale hundreds of groups' hour and day
 * sketches are dense, and serialising all of them at once every sketch flush was a ~70 MiB
 * burst of buffers and strings at p = 16 (issue 12's memory benchmark: peak RSS 479 MiB at
 * 10 M members, 392 without group sketches). A shop's few sparse groups all fit
 * in one flush; a brand's dense ones are written in turn. Durability is unchanged: each period
 * remembers the journal LSN before its first unwritten change (`unwrittenSince`), and the
 * journal is released only up to the oldest of those, so a restart replays what was not written.
 *
 * Memory: one sparse sketch per active group and open hour / day (a quiet group's holds a
 * few members in a few bytes); periods leave once past lateness and written. Periods are
 * found through nested maps (granularity → period start → group) so counting an event
 * builds no key string (this runs twice per event with a group).
 */
import { GRANULARITIES, MEMBER_SETS, type EventType } from '@siyu-pulse/contracts/catalogue';
import { Hll } from '../sketch/hll.js';
import type { SketchRow } from '../store/port.js';

/** The granularities kept per group. */
export const GROUP_GRANULARITIES = ['hour', 'day'] as const;
export type GroupGranularity = (typeof GROUP_GRANULARITIES)[number];
/** The member set counted per group. */
export const GROUP_MEMBER_SET = 'active' as const;
/**
 * Group sketches' dense precision: 2^14 registers (16 KiB, ±0.81 % standard error) instead of
 * the KPI sketches' 2^16 (64 KiB, ±0.41 %). A brand holds hundreds of dense group sketches
 * (a big group's hour and day) and ranks groups on them, where 0.8 % changes no decision;
 * at 200 groups × hour and day that is 6.4 MiB held instead of 25.6 (issue 12's memory
 * benchmark). Rows stored at p = 16 earlier merge in at 14 (sketch/hll.ts).
 */
export const GROUP_SKETCH_PRECISION = 14;

const ACTIVE_TYPES = new Set<EventType>(MEMBER_SETS[GROUP_MEMBER_SET]);

interface Period {
  granularity: GroupGranularity;
  start: number;
  community: string;
  sketch: Hll;
  version: number;
  written: number;
  loaded: boolean;
  /** Journal LSN before this period's first change not yet written (null: nothing unwritten from the journal). */
  dirtySince: number | null;
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
  private readonly periods: Record<GroupGranularity, Map<number, Map<string, Period>>> = { hour: new Map(), day: new Map() };
  private held = 0;

  constructor(
    /** The period start of a granularity at `ts` (the DistinctTracker's: the zone's hours and days). */
    private readonly periodStart: (g: GroupGranularity, ts: number) => number,
    /** This writer's id in the sketch rows. */
    private readonly node: string,
  ) {}

  /**
   * Counts a member (sketch key) of an event in a group; other event types and '' are ignored.
   * `lsnBefore`: the journal LSN up to which events were counted before this one.
   */
  add(type: EventType, ts: number, community: string, key: number, lsnBefore: number): void {
    if (community === '' || !ACTIVE_TYPES.has(type)) return;
    for (const g of GROUP_GRANULARITIES) {
      const p = this.period(g, this.periodStart(g, ts), community);
      if (p.sketch.add(key)) {
        p.version++;
        p.dirtySince ??= lsnBefore;
      }
    }
  }

  private period(granularity: GroupGranularity, start: number, community: string): Period {
    let groups = this.periods[granularity].get(start);
    if (!groups) this.periods[granularity].set(start, (groups = new Map()));
    let p = groups.get(community);
    if (!p) {
      p = { granularity, start, community, sketch: new Hll(GROUP_SKETCH_PRECISION), version: 0, written: 0, loaded: false, dirtySince: null };
      groups.set(community, p);
      this.held++;
    }
    return p;
  }

  private find(granularity: GroupGranularity, start: number, community: string): Period | undefined {
    return this.periods[granularity].get(start)?.get(community);
  }

  private *all(): Generator<Period> {
    for (const g of GROUP_GRANULARITIES) for (const groups of this.periods[g].values()) yield* groups.values();
  }

  /** Dirty periods whose stored rows have not been merged in yet. */
  unloaded(): UnloadedGroupPeriod[] {
    const out: UnloadedGroupPeriod[] = [];
    for (const p of this.all()) if (!p.loaded) out.push({ granularity: p.granularity, start: p.start, community: p.community });
    return out;
  }

  hasUnloaded(): boolean {
    for (const p of this.all()) if (!p.loaded) return true;
    return false;
  }

  /** Merges every stored row (any node) of one group period into it and marks it loaded. */
  mergeStored(granularity: GroupGranularity, start: number, community: string, rows: readonly SketchRow[]): void {
    const p = this.find(granularity, start, community);
    if (!p) return;
    for (const r of rows) if (p.sketch.merge(Hll.fromBase64(r.sketch))) p.version++;
    p.loaded = true;
  }

  /** Whether memory holds this group period. */
  holds(granularity: GroupGranularity, start: number, community: string): boolean {
    return this.find(granularity, start, community) !== undefined;
  }

  /**
   * Sketch rows of loaded periods changed since their last write, the longest-unwritten first:
   * every sparse one (a few bytes each) and at most `maxDense` dense ones (16 KiB of registers,
   * ~40 KB of buffers and text while written). `lsn`: the journal LSN counted so far (every
   * change taken is at or before it); a period changed again before `commit` is unwritten from there.
   */
  takeDirty(maxDense: number, lsn: number): PendingGroupSketches {
    const dirty: Period[] = [];
    for (const p of this.all()) if (p.loaded && p.version !== p.written) dirty.push(p);
    if (Number.isFinite(maxDense)) dirty.sort((a, b) => (a.dirtySince ?? Number.MAX_SAFE_INTEGER) - (b.dirtySince ?? Number.MAX_SAFE_INTEGER));
    const sketches: SketchRow[] = [];
    const marks: [Period, number][] = [];
    let dense = 0;
    for (const p of dirty) {
      if (p.sketch.isDense && ++dense > maxDense) continue;
      sketches.push({ ts: p.start, granularity: p.granularity, set: GROUP_MEMBER_SET, channel: '', node: this.node, sketch: p.sketch.toBase64(), community: p.community });
      marks.push([p, p.version]);
    }
    return {
      sketches,
      commit: () => {
        for (const [p, v] of marks) {
          p.written = Math.max(p.written, v);
          p.dirtySince = p.version === p.written ? null : lsn;
        }
      },
    };
  }

  /** The oldest journal LSN before a change not yet written (null: every counted change is written). */
  unwrittenSince(): number | null {
    let min: number | null = null;
    for (const p of this.all()) if (p.dirtySince !== null && (min === null || p.dirtySince < min)) min = p.dirtySince;
    return min;
  }

  /** Written, loaded periods past their end + lateness leave memory (a later event reloads them). */
  evict(now: number, latenessMs: number): void {
    for (const g of GROUP_GRANULARITIES) {
      const byStart = this.periods[g];
      for (const [start, groups] of byStart) {
        if (start + GRANULARITIES[g] + latenessMs >= now) continue;
        for (const [community, p] of groups) {
          if (p.version !== p.written || !p.loaded) continue;
          groups.delete(community);
          this.held--;
        }
        if (groups.size === 0) byStart.delete(start);
      }
    }
  }

  /** Group periods held (one sketch each). */
  get periodCount(): number {
    return this.held;
  }
}
