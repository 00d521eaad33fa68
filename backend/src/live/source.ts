/**
 * What the wall's live view (live/snapshot.ts) reads: counter sums over windows, distinct
 * members per window / period, and when data last arrived. A single node answers from its
 * collector's memory (the Collector has these methods); a cluster node answers from the
 * store, where every node's rows add up (cluster/storeLiveSource.ts), so walls connected to
 * different nodes show the same numbers.
 */
import type { Granularity, MemberSetId } from '@siyu-pulse/contracts/catalogue';
import type { WindowSums } from '../collector/counterRing.js';
import type { DistinctCounts } from '../collector/distinct.js';

export interface LiveSource {
  readonly bucketMs: number;
  /** Σ counters over bucket-aligned [from, to). */
  windowSums(from: number, to: number): WindowSums;
  /** Distinct members over bucket-aligned [from, to) within the last 15 minutes. */
  distinctWindow(set: MemberSetId, from: number, to: number): DistinctCounts;
  distinctPeriod(set: MemberSetId, g: Granularity, start: number): DistinctCounts | undefined;
  /** The day's distinct count as it stood at the end of a minute (yesterday at this time). */
  dayDistinctAtMinute(set: MemberSetId, minuteStart: number): number | undefined;
  freshness(): { lastEventAt: number | null; byChannel: Record<string, number> };
}
