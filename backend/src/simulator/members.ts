/**
 * The simulated member pool: ids `u_000123`, Zipf-like activity (a few members are far
 * more active than the tail) and a stable home community per member. Fixed-size tables,
 * so memory does not grow with time.
 */
import { COMMUNITIES } from './model.js';
import { WeightedTable, hash01 } from './random.js';

/**
 * Pushes go to an audience list far larger than the members active on a given day (a
 * campaign reaches dormant members too), drawn uniformly: with the simulated push volume
 * (~250k a day at the default rate) that is under one push per member a day on average,
 * so about 2% of pushed members pass the default cap of 3 — the share push fatigue
 * watches. Drawing pushes by activity instead put 78% of pushed members over the cap.
 */
const AUDIENCE_FACTOR = 15;

/** Zipf–Mandelbrot weights 1/(rank + Q)^S: the top member does ~0.5% of all activity, the top 1% ~23%, the tail is ~400× quieter than the top. */
const ZIPF_S = 0.8;
const ZIPF_Q = 10;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

export class MemberPool {
  private readonly byActivity: WeightedTable<number>;
  private readonly communityTable = new WeightedTable(COMMUNITIES.map((c) => c.name), COMMUNITIES.map((c) => c.weight));
  private readonly ids: string[];
  private readonly home: Uint8Array;
  /** Activity rank → member index by a fixed permutation, so u_000000 is not the most active. */
  private readonly stride: number;

  constructor(
    readonly size: number,
    private readonly salt: number,
  ) {
    if (!Number.isInteger(size) || size < 1 || size > 1_000_000) throw new RangeError(`member pool size must be an integer in 1..1,000,000, got ${size}`);
    const ranks = Array.from({ length: size }, (_, i) => i);
    this.byActivity = new WeightedTable(ranks, ranks.map((r) => 1 / Math.pow(r + 1 + ZIPF_Q, ZIPF_S)));
    let stride = 7919;
    while (gcd(stride, size) !== 1) stride += 2;
    this.stride = stride % size || 1;
    const width = Math.max(6, String(size - 1).length);
    this.ids = ranks.map((i) => `u_${String(i).padStart(width, '0')}`);
    this.home = new Uint8Array(size);
    for (let i = 0; i < size; i++) this.home[i] = this.communityTable.index(hash01(salt, i, 0x636f6d));
  }

  /** A member weighted by activity. */
  active(u: number): number {
    return (this.byActivity.index(u) * this.stride) % this.size;
  }

  /** A member uniformly (joins and leaves come from the whole pool). */
  uniform(u: number): number {
    return Math.min(this.size - 1, Math.floor(u * this.size));
  }

  /** A push recipient: uniform over the audience (the pool and dormant members beyond it). */
  audience(u: number): number {
    const n = this.size * AUDIENCE_FACTOR;
    return Math.min(n - 1, Math.floor(u * n));
  }

  /** Copy 0 is the member; copies ≥ 1 are stand-ins used when a swing multiplies active members. */
  id(index: number, copy = 0): string {
    const base = this.ids[index] ?? `u_${String(index).padStart(6, '0')}`;
    return copy === 0 ? base : `${base}_s${copy}`;
  }

  homeCommunity(index: number): string {
    // Audience members beyond the pool get a home community from the same hash.
    const i = index < this.size ? this.home[index]! : this.communityTable.index(hash01(this.salt, index, 0x636f6d));
    return this.communityTable.items[i]!;
  }
}
