/**
 * Small deterministic randomness toolkit for the simulator: a seeded PRNG, an integer
 * hash for per-member decisions, and the distributions the traffic model needs.
 */

/** A uniform generator on [0, 1). */
export type Rng = () => number;

/** mulberry32: 32-bit state, fast, good enough for synthetic traffic (not for secrets). */
export function mulberry32(seed: number): Rng {
  return new Mulberry32(seed).next;
}

/** A mulberry32 whose state can be reset: one instance serves every flow without allocating. */
export class Mulberry32 {
  private state: number;

  constructor(seed = 0) {
    this.state = seed >>> 0;
  }

  reseed(seed: number): void {
    this.state = seed >>> 0;
  }

  /** The whole generator state: store it to resume the sequence later with reseed(). */
  get current(): number {
    return this.state;
  }

  readonly next: Rng = () => {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function uint32(rng: Rng): number {
  return Math.floor(rng() * 4294967296) >>> 0;
}

/** murmur3 finaliser over a few integers: a stateless, well-mixed hash. */
export function hash32(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x >>> 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0;
}

/** hash32 mapped to [0, 1). */
export function hash01(...xs: number[]): number {
  return hash32(...xs) / 4294967296;
}

/** Exp(1): the unit of "intensity mass" between two Poisson arrivals. */
export function exp1(rng: Rng): number {
  return -Math.log(1 - rng());
}

/** Standard normal (Box–Muller; the second value is discarded to keep draws per call fixed). */
export function normal(rng: Rng): number {
  const u = 1 - rng(); // (0, 1]: log(0) would be -Infinity
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Lognormal given its median and log-space sigma, capped at `max` (bounded delays keep state bounded). */
export function lognormal(rng: Rng, median: number, sigma: number, max = Infinity): number {
  return Math.min(max, median * Math.exp(sigma * normal(rng)));
}

/** Categorical sampling from fixed weights via a cumulative table and binary search. */
export class WeightedTable<T> {
  private readonly cumulative: Float64Array;
  readonly total: number;

  constructor(
    readonly items: readonly T[],
    weights: readonly number[],
  ) {
    if (items.length === 0 || items.length !== weights.length) throw new RangeError('WeightedTable: items and weights must be non-empty and the same length');
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    weights.forEach((w, i) => {
      if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`WeightedTable: bad weight ${w}`);
      sum += w;
      this.cumulative[i] = sum;
    });
    if (sum <= 0) throw new RangeError('WeightedTable: weights sum to 0');
    this.total = sum;
  }

  /** Index for a uniform draw u ∈ [0, 1). */
  index(u: number): number {
    const target = u * this.total;
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.cumulative[mid] ?? 0) > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  pick(u: number): T {
    return this.items[this.index(u)] as T;
  }
}
