/**
 * Sliding-window HyperLogLog: distinct members over any window [from, now) of the last
 * `retention` buckets, from ONE structure per member set and channel instead of one sketch
 * per 10 s bucket (90 dense sketches of 64 KiB for 15 minutes: ~45 MiB per member set at a
 * busy ingest; this is ~1 MiB per channel when dense).
 *
 * Method: Chabchoub & Hébrail, "Sliding HyperLogLog: estimating cardinality in a data
 * stream over a sliding window" (2010). Each register keeps its *list of future possible
 * maxima* (LFPM): (time, rank) pairs, oldest first with strictly decreasing ranks. A hit
 * (t, r) removes the entries with t' ≤ t and r' ≤ r (they can never again be the maximum
 * of a window that holds t) and is dropped itself when a later entry has rank ≥ r. The
 * register value of a window [from, now) is the rank of the first entry with t ≥ from, so
 * the window's register array, and hence its estimate, is exactly the one a plain HLL over
 * the window's members would hold: the error bound is HLL's (sketch/hll.ts: sparse p' = 25
 * exact in practice below a few hundred; dense p = 16, 0.41 % standard error, 1 % ≈ 2.4 σ).
 *
 * Limits, by design:
 * - Windows end at the *closed* boundary: hits of the open bucket (and of future buckets,
 *   within the clock skew) wait in a plain Hll per bucket and are folded in when their
 *   bucket closes (`close`). A window ending earlier (the wall's previous 5 minutes) cannot
 *   be read from the LFPM (a later hit may have removed its maximum); the collector keeps
 *   the answer the window had when it was current (collector/distinct.ts).
 * - A register's list holds at most K = 8 entries. More needs 9 strictly decreasing ranks
 *   inside the retention (simulated: 0.06 % of registers at 180 hits each per retention,
 *   3 % at 1,000); then the OLDEST entry goes, which only lowers windows reaching back to
 *   it (with a 15-minute retention and 5-minute windows usually none).
 * - Times are bucket indexes (integers), stored relative to a base so a packed entry
 *   (time × 64 + rank) stays a small integer.
 *
 * Memory: sparse (a Map per used index) while few indexes are used, then dense: 65,536
 * registers × 8 entries × 2 bytes = 1 MiB, fixed, whatever the traffic.
 */
import { Hll, P, SPARSE_MAX as HLL_SPARSE_MAX, SPARSE_P, estimateFromHistogram, toDense } from './hll.js';

const M = 1 << P;
/** Entries per register in dense mode. */
export const SLIDING_K = 8;
/**
 * Sparse → dense past this many used indexes: a sparse index costs ~40–100 bytes (a Map
 * entry, an array when it holds several entries), so dense (1 MiB) is cheaper beyond this.
 */
const SPARSE_MAX = 10_000;
/**
 * Packed entries hold (time − base) × 64 + rank in 16 bits: times up to 1,024 buckets after the
 * base (2.8 hours of 10 s buckets); past that the entries are moved to a new base (`rebase`,
 * once in ~2.5 hours; entries older than the retention go then).
 */
const MAX_REL_TIME = 2 ** 10;

/** Scratch space of estimate() (one thread: reused, so a wall read allocates nothing). */
const HIST = new Float64Array(64);
const REGISTERS = new Uint8Array(M);

const packed = (t: number, rank: number) => t * 64 + rank;
const timeOf = (e: number) => Math.floor(e / 64);
const rankOf = (e: number) => e % 64;

/**
 * Inserts (t, r) into an LFPM list (packed entries, oldest first, ranks strictly
 * decreasing), in place. Returns whether the list changed.
 */
function insert(list: number[], t: number, r: number, cap: number): boolean {
  let j = 0;
  while (j < list.length && timeOf(list[j]!) < t) j++;
  // A later (or same-time) entry with a rank as high covers every window that holds t.
  if (j < list.length && rankOf(list[j]!) >= r) return false;
  // Earlier entries of rank ≤ r are a suffix of [0, j) (ranks decrease); a same-time entry
  // (rank < r, else covered above) goes too.
  let k = j;
  while (k > 0 && rankOf(list[k - 1]!) <= r) k--;
  const end = j < list.length && timeOf(list[j]!) === t ? j + 1 : j;
  list.splice(k, end - k, packed(t, r));
  if (list.length > cap) list.shift();
  return true;
}

/** Rank of the window [from, to) in a list: its first entry at or after `from` if before `to`. */
function rankIn(list: ArrayLike<number>, n: number, from: number, to: number): number {
  for (let i = 0; i < n; i++) {
    const t = timeOf(list[i]!);
    if (t >= from) return t < to ? rankOf(list[i]!) : 0;
  }
  return 0;
}

export class SlidingHll {
  /** Time origin of the packed entries (bucket index). */
  private base: number | null = null;
  /** Sparse: index (p' = 25) → one packed entry, or a list of them. */
  private sparse: Map<number, number | number[]> | null = new Map();
  /** Dense: SLIDING_K packed entries per register (0 = empty), and each register's length. */
  private entries: Uint16Array | null = null;
  private lengths: Uint8Array | null = null;
  /** Hits of buckets not closed yet (bucket index → sketch). */
  private readonly pending = new Map<number, Hll>();
  private scratch: number[] = [];
  /** Bumped whenever the closed part changes (callers cache window answers on it). */
  version = 0;

  constructor(
    /** Buckets a window may reach back from the closed boundary. */
    private readonly retention: number,
  ) {}

  /** Adds a member (sketch key) seen in bucket `t`; `closed`: the first bucket not closed yet. */
  add(t: number, key: number, closed: number): boolean {
    if (t >= closed) {
      let h = this.pending.get(t);
      if (!h) {
        h = new Hll();
        this.pending.set(t, h);
      }
      return h.add(key);
    }
    if (t < closed - this.retention) return false;
    return this.addClosed(t, key);
  }

  /** Folds pending buckets before `closed` into the windows. */
  close(closed: number): void {
    for (const [t, h] of this.pending) {
      if (t >= closed) continue;
      this.pending.delete(t);
      if (t < closed - this.retention) continue;
      h.forEachEntry(
        (key) => this.addClosed(t, key),
        (register, rank) => this.addDense(t, register, rank),
      );
    }
  }

  /** Pending bucket indexes, oldest first (the collector closes them one boundary at a time). */
  pendingBuckets(): number[] {
    return [...this.pending.keys()].sort((a, b) => a - b);
  }

  private rel(t: number): number {
    if (this.base === null) this.base = t - this.retention - 1;
    let r = t - this.base;
    if (r < 0 || r >= MAX_REL_TIME) {
      this.rebase(t - this.retention - 1);
      r = t - this.base;
    }
    return r;
  }

  private addClosed(t: number, key: number): boolean {
    if (this.sparse) {
      const index = Math.floor(key / 64);
      const changed = this.insertSparse(index, this.rel(t), key % 64);
      if (changed) this.version++;
      if (this.sparse && this.sparse.size > SPARSE_MAX) this.densify();
      return changed;
    }
    const [register, rank] = toDense(key);
    return this.addDense(t, register, rank);
  }

  private insertSparse(index: number, rt: number, rank: number): boolean {
    const had = this.sparse!.get(index);
    if (had === undefined) {
      this.sparse!.set(index, packed(rt, rank));
      return true;
    }
    const list = typeof had === 'number' ? [had] : had;
    const changed = insert(list, rt, rank, Infinity);
    if (changed) this.sparse!.set(index, list.length === 1 ? list[0]! : list);
    return changed;
  }

  private addDense(t: number, register: number, rank: number): boolean {
    if (this.sparse) this.densify();
    const rt = this.rel(t);
    const e = this.entries!;
    const n = this.lengths![register]!;
    const at = register * SLIDING_K;
    const list = this.scratch;
    list.length = n;
    for (let i = 0; i < n; i++) list[i] = e[at + i]!;
    if (!insert(list, rt, rank, SLIDING_K)) return false;
    for (let i = 0; i < list.length; i++) e[at + i] = list[i]!;
    this.lengths![register] = list.length;
    this.version++;
    return true;
  }

  private densify(): void {
    const entries = new Uint16Array(M * SLIDING_K);
    const lengths = new Uint8Array(M);
    const sparse = this.sparse!;
    this.sparse = null;
    this.entries = entries;
    this.lengths = lengths;
    // Entries go in time order, so each insert appends or prunes like a live hit would.
    const all: [number, number, number][] = [];
    for (const [index, v] of sparse) {
      for (const p of typeof v === 'number' ? [v] : v) {
        const [register, rank] = toDense(index * 64 + rankOf(p));
        all.push([timeOf(p), register, rank]);
      }
    }
    all.sort((a, b) => a[0] - b[0]);
    const base = this.base!;
    for (const [rt, register, rank] of all) this.addDense(base + rt, register, rank);
  }

  private rebase(newBase: number): void {
    const shift = newBase - this.base!;
    const move = (p: number) => {
      const t = timeOf(p) - shift;
      return t <= 0 ? null : packed(t, rankOf(p));
    };
    this.base = newBase;
    if (this.sparse) {
      for (const [index, v] of this.sparse) {
        const kept = (typeof v === 'number' ? [v] : v).map(move).filter((p): p is number => p !== null);
        if (kept.length === 0) this.sparse.delete(index);
        else this.sparse.set(index, kept.length === 1 ? kept[0]! : kept);
      }
      return;
    }
    const e = this.entries!;
    for (let reg = 0; reg < M; reg++) {
      const at = reg * SLIDING_K;
      let w = 0;
      for (let i = 0; i < this.lengths![reg]!; i++) {
        const p = move(e[at + i]!);
        if (p !== null) e[at + w++] = p;
      }
      for (let i = w; i < SLIDING_K; i++) e[at + i] = 0;
      this.lengths![reg] = w;
    }
  }

  /**
   * Drops entries older than the retention before `closed`; an empty dense structure
   * becomes sparse again (exact small counts, little memory). Call now and then.
   */
  expire(closed: number): void {
    for (const t of this.pending.keys()) if (t < closed - this.retention) this.pending.delete(t);
    if (this.base === null) return;
    const horizon = closed - this.retention - this.base;
    if (this.sparse) {
      for (const [index, v] of this.sparse) {
        const list = typeof v === 'number' ? [v] : v;
        const kept = list.filter((p) => timeOf(p) >= horizon);
        if (kept.length === list.length) continue;
        if (kept.length === 0) this.sparse.delete(index);
        else this.sparse.set(index, kept.length === 1 ? kept[0]! : kept);
      }
      if (this.sparse.size === 0) this.base = null;
      return;
    }
    const e = this.entries!;
    const lengths = this.lengths!;
    let left = 0;
    for (let reg = 0; reg < M; reg++) {
      const n = lengths[reg]!;
      if (n === 0) continue;
      const at = reg * SLIDING_K;
      let drop = 0;
      while (drop < n && timeOf(e[at + drop]!) < horizon) drop++;
      if (drop > 0) {
        e.copyWithin(at, at + drop, at + n);
        e.fill(0, at + n - drop, at + n);
        lengths[reg] = n - drop;
      }
      left += n - drop;
    }
    if (left === 0) {
      this.entries = null;
      this.lengths = null;
      this.sparse = new Map();
      this.base = null;
      this.version++;
    }
  }

  /**
   * The HLL of the window [from, to) of closed buckets. Exact (the register array a plain
   * HLL of the window would hold) when `to` is the closed boundary; for an earlier `to`
   * a lower bound (a hit after `to` may have removed a maximum).
   */
  window(from: number, to: number): Hll {
    const h = new Hll();
    if (this.base === null) return h;
    const f = from - this.base;
    const tt = to - this.base;
    if (this.sparse) {
      for (const [index, v] of this.sparse) {
        const r = typeof v === 'number' ? rankIn([v], 1, f, tt) : rankIn(v, v.length, f, tt);
        if (r > 0) h.add(index * 64 + r);
      }
      return h;
    }
    const regs = new Uint8Array(M);
    const e = this.entries!;
    for (let reg = 0; reg < M; reg++) {
      const n = this.lengths![reg]!;
      if (n === 0) continue;
      const at = reg * SLIDING_K;
      for (let i = 0; i < n; i++) {
        const p = e[at + i]!;
        const t = timeOf(p);
        if (t >= f) {
          if (t < tt) regs[reg] = rankOf(p);
          break;
        }
      }
    }
    return Hll.fromDenseRegisters(regs);
  }

  /**
   * window(from, to).estimate(), without building the window's sketch: what the wall reads
   * every second. Same answer (a test checks it), no 64 KiB of garbage per read.
   */
  estimate(from: number, to: number): number {
    HIST.fill(0);
    if (this.base === null) return 0;
    const f = from - this.base;
    const tt = to - this.base;
    if (this.sparse) {
      let n = 0;
      for (const v of this.sparse.values()) if ((typeof v === 'number' ? rankIn([v], 1, f, tt) : rankIn(v, v.length, f, tt)) > 0) n++;
      if (n <= HLL_SPARSE_MAX) {
        // As a sparse Hll of the window holds it: its indexes and ranks.
        HIST[0] = 2 ** SPARSE_P - n;
        for (const v of this.sparse.values()) {
          const r = typeof v === 'number' ? rankIn([v], 1, f, tt) : rankIn(v, v.length, f, tt);
          if (r > 0) HIST[r]!++;
        }
        return estimateFromHistogram(HIST, true);
      }
      // A window past the sparse limit is dense in an Hll too: fold the indexes to registers.
      REGISTERS.fill(0);
      for (const [index, v] of this.sparse) {
        const r = typeof v === 'number' ? rankIn([v], 1, f, tt) : rankIn(v, v.length, f, tt);
        if (r === 0) continue;
        const [reg, rank] = toDense(index * 64 + r);
        if (REGISTERS[reg]! < rank) REGISTERS[reg] = rank;
      }
      for (let reg = 0; reg < M; reg++) HIST[REGISTERS[reg]!]!++;
      return estimateFromHistogram(HIST, false);
    }
    const e = this.entries!;
    const lengths = this.lengths!;
    for (let reg = 0; reg < M; reg++) {
      const n = lengths[reg]!;
      let r = 0;
      const at = reg * SLIDING_K;
      for (let i = 0; i < n; i++) {
        const p = e[at + i]!;
        const t = timeOf(p);
        if (t >= f) {
          if (t < tt) r = rankOf(p);
          break;
        }
      }
      HIST[r]!++;
    }
    return estimateFromHistogram(HIST, false);
  }

  /** Hits of pending buckets in [from, to) merged into `into`. */
  mergePending(into: Hll, from: number, to: number): void {
    for (const [t, h] of this.pending) if (t >= from && t < to) into.merge(h);
  }

  /** Nothing closed or pending is held. */
  get isEmpty(): boolean {
    return this.pending.size === 0 && this.sparse !== null && this.sparse.size === 0;
  }

  get isDense(): boolean {
    return this.sparse === null;
  }

  /** Bytes held, roughly (dense: the fixed arrays; sparse: ~48 bytes an entry). */
  get bytes(): number {
    let pending = 0;
    for (const h of this.pending.values()) pending += h.bytes;
    if (this.sparse) return 64 + this.sparse.size * 48 + pending;
    return M * SLIDING_K * 2 + M + pending;
  }
}

