/**
 * Push fatigue (触达频率上限): how many pushes (`push.sent`) each member got per local day,
 * to find the push that takes a member over the daily cap (PULSE_PUSH_CAP_PER_DAY).
 *
 * - Pushes count per member across all channels: the cap protects the member, whichever
 *   channel touches them. The push that crosses it (the cap + 1-th that arrived) decides the
 *   channel and the period the member is counted in (see Collector.add).
 * - Only hashed member ids, only in memory (SECURITY.md, privacy): nothing here is written or
 *   journaled. After a restart the counts start again at 0, so a member pushed before and
 *   after it may cross unseen; the day's stored over-cap count stays as a floor (distinct.ts).
 * - A push counts in the local day of its timestamp. "The crossing push" is the cap + 1-th
 *   to arrive: a late push can change which channel that is, never whether the member is
 *   over the cap, nor the day.
 *
 * Memory is bounded: one entry per member pushed that day (the same members, and the same
 * id strings, that the day's push_reached set already holds), each a small integer that
 * stops growing at cap + 1. A day is dropped once it ended more than the lateness window
 * ago, when no event can be accepted for it any more, so at most two days are held (three
 * only with the maximum 24 h lateness).
 */
import { DAY } from '../time/zone.js';

export class PushCapCounter {
  /** Local day start → hashed member → pushes that day (saturating at cap + 1). */
  private readonly days = new Map<number, Map<string, number>>();

  constructor(
    /** Pushes a member may get per day; the next one is over the cap. */
    readonly cap: number,
    private readonly latenessMs: number,
    /** Start of the local day holding `ts` (the collector's time zone). */
    private readonly dayStartOf: (ts: number) => number,
  ) {
    if (!Number.isInteger(cap) || cap < 1) throw new RangeError(`push cap must be a positive integer, got ${cap}`);
  }

  /** Counts one push. True when it is the member's cap + 1-th push of that day: the crossing. */
  count(ts: number, member: string): boolean {
    const day = this.dayStartOf(ts);
    let counts = this.days.get(day);
    if (!counts) {
      counts = new Map();
      this.days.set(day, counts);
    }
    const before = counts.get(member) ?? 0;
    if (before > this.cap) return false; // already over: crossed once, counted once
    counts.set(member, before + 1);
    return before === this.cap;
  }

  /** Drops days that ended more than the lateness window before `now`. */
  evict(now: number): void {
    for (const day of this.days.keys()) if (day + DAY + this.latenessMs < now) this.days.delete(day);
  }

  /** Members held across all days (tests, and a bound anyone can check). */
  get size(): number {
    let n = 0;
    for (const counts of this.days.values()) n += counts.size;
    return n;
  }
}
