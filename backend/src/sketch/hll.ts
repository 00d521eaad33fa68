/**
 * HyperLogLog distinct-count sketch (HLL++ layout, Ertl's estimator), mergeable and with a
 * stable, versioned binary form. One sketch per period × member set × channel.
 *
 * Why written here rather than taken from npm: the maintained JS packages we looked at
 * (bloom-filters' HyperLogLog, hyperloglog-lite) have no sparse / exact mode for small sets,
 * no bias-free estimator for mid-range cardinalities, and serialise as ad-hoc JSON of their
 * internals with no version, so a stored sketch could not be read by a later release. What
 * we need is small: ~150 lines, with the format documented below.
 *
 * Input is a *sketch key*, not an id or a hash: `sketchKeyOf(hash)` keeps only what a
 * sketch stores of a member anyway — a 25-bit register index and the rank (position of the
 * first 1-bit) of the remaining 39 bits. The journal stores that key, never the hash.
 *
 * - Sparse mode (p' = 25, 33,554,432 virtual registers): a map index → max rank, exact in
 *   practice for small sets (two of 300 members share an index with probability ~0.13 %,
 *   and the estimator's linear-counting part corrects for it). Becomes dense past
 *   SPARSE_MAX indexes.
 * - Dense mode (p = 16, 65,536 one-byte registers): standard error 1.04 / √65536 = 0.41 %,
 *   so 1 % is ~2.4 standard errors. Ranks ≤ 49 (9 bits of the sparse index + 40).
 *   A sketch may be made with a lower precision (`new Hll(14)`: 16,384 registers, 16 KiB,
 *   0.81 %): per-group active members use it, where hundreds of dense sketches are held and
 *   a ranking needs no better. Sketches of different precisions merge at the lower one (a
 *   register of p folds into p − d exactly as the key would have been placed there), so a
 *   p = 16 sketch stored earlier merges into a p = 14 one without loss beyond p = 14's.
 *   Every precision stays sparse (exact) up to SPARSE_MAX members.
 * - Estimator: Otmar Ertl, "New cardinality estimation algorithms for HyperLogLog sketches"
 *   (2017), the improved raw estimator (also used by Redis ≥ 5): unbiased over the whole
 *   range from the register histogram, so no empirical bias tables are needed.
 * - Merge = register-wise max (sparse ∪ sparse stays sparse while small). Merging is
 *   idempotent, commutative and associative: re-applying a journal entry, merging the same
 *   stored sketch twice or merging the sketches of two nodes never double counts.
 *
 * Serialised form (then deflated, then base64 for text stores), version 1:
 *   byte 0  format version = 1
 *   byte 1  kind: 0 sparse, 1 dense
 *   byte 2  p (16, or 10 … 15 for lower-precision sketches), byte 3 p' (25)
 *   sparse: uint32 LE n, then n varints of the gaps between successive (index << 6 | rank)
 *           entries in ascending order
 *   dense:  2^p bytes (65,536 at p = 16), one register each
 * Version 2 (written for sparse sketches): the same body with byte 0 = 2, NOT deflated,
 * behind a marker byte 0xFF. A raw-deflate stream never starts with 0xFF (block type 11 is
 * reserved), so a reader tells the two forms apart by the first byte. Why: a sparse sketch
 * of history holds a handful of members, and a zlib call per sketch (~50 µs on this box)
 * was most of the cost of an import; a dense sketch (64 KiB of registers) stays deflated.
 * A reader refuses any other version rather than guess.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';

export const HLL_FORMAT_VERSION = 1;
/** Sparse sketches are written in version 2 (uncompressed, after RAW_MARKER). */
export const HLL_RAW_FORMAT_VERSION = 2;
const RAW_MARKER = 0xff;
export const P = 16;
/** The lowest precision a sketch may have (1,024 registers, 3.3 %). */
export const MIN_P = 10;
export const SPARSE_P = 25;
const M = 1 << P;
const SPARSE_M = 2 ** SPARSE_P;
/** Rank bits of a dense register: 64 − p. Register values are 0 … Q + 1. */
const Q = 64 - P;
const SPARSE_Q = 64 - SPARSE_P;
/** Past this many indexes a sparse sketch becomes dense (a Map entry costs ~40 bytes; dense is 64 KiB). */
export const SPARSE_MAX = 1_500;
const LOW_BITS = SPARSE_P - P;
const LOW_MASK = (1 << LOW_BITS) - 1;

/**
 * The sketch key of a member hash (base64url of ≥ 8 bytes, as memberHash makes it):
 * index (25 bits) × 64 + rank (1 … 40). A number < 2^31, safe to journal as JSON.
 */
export function sketchKeyOf(hash: string): number {
  let hi: number;
  let lo: number;
  const first = firstBits(hash);
  if (first) [hi, lo] = first;
  else {
    const b = Buffer.from(hash, 'base64url');
    hi = b.readUInt32BE(0);
    lo = b.readUInt32BE(4);
  }
  const index = hi >>> (32 - SPARSE_P);
  // The 39 remaining bits: 7 from hi, 32 from lo.
  const restHi = hi & ((1 << (32 - SPARSE_P)) - 1);
  let rank: number;
  if (restHi !== 0) rank = Math.clz32(restHi) - SPARSE_P + 1;
  else if (lo !== 0) rank = 32 - SPARSE_P + Math.clz32(lo) + 1;
  else rank = SPARSE_Q + 1;
  return index * 64 + rank;
}

/** Six-bit values of base64 / base64url characters (both alphabets, as Buffer reads base64url); -1: not one. */
const SIX_BITS = (() => {
  const t = new Int8Array(128).fill(-1);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  for (let i = 0; i < alphabet.length; i++) t[alphabet.charCodeAt(i)] = i;
  t['-'.charCodeAt(0)] = t['+'.charCodeAt(0)] = 62;
  t['_'.charCodeAt(0)] = t['/'.charCodeAt(0)] = 63;
  return t;
})();

const sixBits = (s: string, i: number): number => {
  const c = s.charCodeAt(i);
  return c < 128 ? SIX_BITS[c]! : -1;
};

/**
 * The first 64 bits of base64url text as two uint32s, read from its first 11 characters
 * without a Buffer (one per event was a measurable share of ingest); null when those are
 * not all base64 characters (Buffer's reading, which skips them, then decides).
 */
function firstBits(text: string): [number, number] | null {
  if (text.length < 11) return null;
  let a = 0;
  let b = 0;
  let d = 0;
  for (let i = 0; i < 4; i++) {
    const x = sixBits(text, i);
    const y = sixBits(text, i + 4);
    if (x < 0 || y < 0) return null;
    a = (a << 6) | x;
    b = (b << 6) | y;
  }
  for (let i = 8; i < 11; i++) {
    const x = sixBits(text, i);
    if (x < 0) return null;
    d = (d << 6) | x;
  }
  // a: bits 0–23, b: bits 24–47, d: bits 48–65.
  return [((a << 8) | (b >>> 16)) >>> 0, (((b & 0xffff) << 16) | (d >>> 2)) >>> 0];
}

/** Dense register index and rank of a sketch key (p = 16). */
export function toDense(key: number): [number, number] {
  const index = Math.floor(key / 64);
  const rank = key % 64;
  const low = index & LOW_MASK;
  const r = low !== 0 ? Math.clz32(low) - (32 - LOW_BITS) + 1 : LOW_BITS + rank;
  return [index >>> LOW_BITS, r];
}

/** Dense register of a sketch key at precision p (toDense for any p; no array per call). */
function registerOf(key: number, p: number): number {
  return Math.floor(key / 64) >>> (SPARSE_P - p);
}

/** Dense rank of a sketch key at precision p. */
function rankOf(key: number, p: number): number {
  const lowBits = SPARSE_P - p;
  const low = Math.floor(key / 64) & ((1 << lowBits) - 1);
  return low !== 0 ? Math.clz32(low) - (32 - lowBits) + 1 : lowBits + (key % 64);
}

export class Hll {
  private sparse: Map<number, number> | null = new Map();
  private dense: Uint8Array | null = null;
  /**
   * Dense: how many registers hold each value, kept up to date by every register change
   * (null until first needed), so an estimate is a pass over ~50 counts, not 65,536
   * registers (the wall re-estimates changing day sketches several times a second).
   */
  private hist: Float64Array | null = null;
  /** The last estimate, until the sketch changes (the wall reads day sketches every second). */
  private cached: number | null = null;
  /** Dense precision (registers = 2^p); lowered by merging a sketch of a lower one. */
  private p: number;

  constructor(precision: number = P) {
    if (!Number.isInteger(precision) || precision < MIN_P || precision > P) throw new Error(`sketch precision must be an integer from ${MIN_P} to ${P}, got ${precision}`);
    this.p = precision;
  }

  /** Dense precision p (2^p registers, standard error 1.04 / √2^p). */
  get precision(): number {
    return this.p;
  }

  /** Adds a member by its sketch key. Returns true when the sketch changed. */
  add(key: number): boolean {
    if (this.sparse) {
      const index = Math.floor(key / 64);
      const rank = key % 64;
      const had = this.sparse.get(index);
      if (had !== undefined && had >= rank) return false;
      this.sparse.set(index, rank);
      this.cached = null;
      if (this.sparse.size > SPARSE_MAX) this.densify();
      return true;
    }
    let i: number;
    let r: number;
    if (this.p === P) [i, r] = toDense(key);
    else {
      i = registerOf(key, this.p);
      r = rankOf(key, this.p);
    }
    const was = this.dense![i]!;
    if (was >= r) return false;
    this.dense![i] = r;
    if (this.hist) {
      this.hist[was]!--;
      this.hist[r]!++;
    }
    this.cached = null;
    return true;
  }

  /** Merges `other` into this sketch (register-wise max). Returns true when this changed. */
  merge(other: Hll): boolean {
    let changed = false;
    if (other.sparse) {
      for (const [index, rank] of other.sparse) changed = this.add(index * 64 + rank) || changed;
      return changed;
    }
    if (this.sparse) this.densify();
    if (other.p < this.p) this.lowerTo(other.p);
    if (other.p > this.p) return this.mergeFolded(other.dense!, other.p) || changed;
    const a = this.dense!;
    const b = other.dense!;
    const hist = this.hist;
    const m = 1 << this.p;
    for (let i = 0; i < m; i++) {
      if (b[i]! > a[i]!) {
        if (hist) {
          hist[a[i]!]!--;
          hist[b[i]!]!++;
        }
        a[i] = b[i]!;
        changed = true;
      }
    }
    if (changed) this.cached = null;
    return changed;
  }

  /**
   * Merges dense registers of a higher precision `from`: register i's rank r lands in
   * register i >> d (d = from − p) with the rank the key would have had there: the position
   * of the first 1 in i's low d bits, or d + r when they are all 0.
   */
  private mergeFolded(registers: Uint8Array, from: number): boolean {
    const d = from - this.p;
    const mask = (1 << d) - 1;
    const a = this.dense!;
    let changed = false;
    for (let i = 0; i < registers.length; i++) {
      const rank = registers[i]!;
      if (rank === 0) continue;
      const low = i & mask;
      const r = low !== 0 ? Math.clz32(low) - (32 - d) + 1 : d + rank;
      const j = i >>> d;
      if (r > a[j]!) {
        a[j] = r;
        changed = true;
      }
    }
    if (changed) {
      this.hist = null;
      this.cached = null;
    }
    return changed;
  }

  /** Lowers this dense sketch's precision to `p` (folding its registers). */
  private lowerTo(p: number): void {
    const old = this.dense!;
    const from = this.p;
    this.p = p;
    this.dense = new Uint8Array(1 << p);
    this.mergeFolded(old, from);
    this.hist = null;
    this.cached = null;
  }

  /**
   * Calls `sparse` with each sparse entry's key (index × 64 + rank), or `dense` with each
   * non-zero dense register and its rank (sketch/slidingHll.ts folds a bucket with it).
   */
  forEachEntry(sparse: (key: number) => void, dense: (register: number, rank: number) => void): void {
    if (this.sparse) {
      for (const [index, rank] of this.sparse) sparse(index * 64 + rank);
      return;
    }
    if (this.p !== P) throw new Error(`forEachEntry reads p = ${P} sketches, this one has p = ${this.p}`);
    const d = this.dense!;
    for (let i = 0; i < M; i++) if (d[i]! > 0) dense(i, d[i]!);
  }

  /** A dense sketch holding these registers (p = 16: 65,536 of them; the array is taken, not copied). */
  static fromDenseRegisters(registers: Uint8Array): Hll {
    if (registers.length !== M) throw new Error(`a dense sketch has ${M} registers, got ${registers.length}`);
    const h = new Hll();
    h.sparse = null;
    h.dense = registers;
    return h;
  }

  private densify(): void {
    const d = new Uint8Array(1 << this.p);
    for (const [index, rank] of this.sparse!) {
      const key = index * 64 + rank;
      const i = registerOf(key, this.p);
      const r = rankOf(key, this.p);
      if (d[i]! < r) d[i] = r;
    }
    this.sparse = null;
    this.dense = d;
    this.cached = null;
  }

  /** Dense registers (2^p; p = 16: ±0.41 % standard error); false while sparse (exact but for index collisions). */
  get isDense(): boolean {
    return this.dense !== null;
  }

  get isEmpty(): boolean {
    return this.sparse !== null && this.sparse.size === 0;
  }

  /** Bytes this sketch holds in memory, roughly (for the memory budget). */
  get bytes(): number {
    return this.sparse ? 64 + this.sparse.size * 40 : (1 << this.p) + 64;
  }

  /** Estimated number of distinct members, rounded. */
  estimate(): number {
    this.cached ??= this.computeEstimate();
    return this.cached;
  }

  private computeEstimate(): number {
    if (this.sparse) {
      const hist = new Float64Array(SPARSE_Q + 2);
      hist[0] = SPARSE_M - this.sparse.size;
      for (const r of this.sparse.values()) hist[r]!++;
      return Math.round(ertl(hist, SPARSE_M, SPARSE_Q));
    }
    const m = 1 << this.p;
    const q = 64 - this.p;
    if (!this.hist) {
      this.hist = new Float64Array(q + 2);
      for (let i = 0; i < m; i++) this.hist[this.dense![i]!]!++;
    }
    return Math.round(ertl(this.hist, m, q));
  }

  clone(): Hll {
    const c = new Hll(this.p);
    c.sparse = this.sparse ? new Map(this.sparse) : null;
    c.dense = this.dense ? this.dense.slice() : null;
    c.hist = this.hist ? this.hist.slice() : null;
    return c;
  }

  serialize(): Buffer {
    if (this.sparse) return this.serializeSparse(this.sparse);
    const m = 1 << this.p;
    const body = Buffer.alloc(4 + m);
    Buffer.from(this.dense!.buffer, this.dense!.byteOffset, m).copy(body, 4);
    body[1] = 1;
    body[2] = this.p;
    body[3] = SPARSE_P;
    body[0] = HLL_FORMAT_VERSION;
    // Level 1: 4–6× faster than zlib's default on 64 KiB of registers (1.6 vs 10 ms measured
    // at 50,000 members) for ~10 % more bytes; any level reads back the same.
    return deflateRawSync(body, { level: 1 });
  }

  /**
   * A sparse sketch (format version 2, uncompressed): RAW_MARKER, then version, kind 0, p,
   * SPARSE_P, the entry count (u32 LE) and the sorted entries (index × 64 + rank) as varint
   * gaps. Written into one buffer from a sorted typed array: an import writes a sketch per
   * minute, member set and channel, and the arrays of pairs, the sort callback and the
   * buffer copies of a plainer version were a tenth of an import's main thread (h12imp6's
   * note). hll.test.ts checks the bytes against that plainer version.
   */
  private serializeSparse(sparse: Map<number, number>): Buffer {
    const entries = new Uint32Array(sparse.size);
    let n = 0;
    for (const [i, r] of sparse) entries[n++] = i * 64 + r; // < 2^31: index < 2^25, rank < 64
    entries.sort();
    // A gap takes at most 5 varint bytes (< 2^32).
    const out = Buffer.allocUnsafe(9 + 5 * n);
    out[0] = RAW_MARKER;
    out[1] = HLL_RAW_FORMAT_VERSION;
    out[2] = 0;
    out[3] = this.p;
    out[4] = SPARSE_P;
    out.writeUInt32LE(n, 5);
    let pos = 9;
    let prev = 0;
    for (let k = 0; k < n; k++) {
      const e = entries[k]!;
      let gap = e - prev;
      prev = e;
      while (gap >= 0x80) {
        out[pos++] = (gap & 0x7f) | 0x80;
        gap = Math.floor(gap / 128);
      }
      out[pos++] = gap;
    }
    return out.subarray(0, pos);
  }

  static deserialize(data: Buffer): Hll {
    const raw = data[0] === RAW_MARKER;
    const b = raw ? data.subarray(1) : inflateRawSync(data);
    const expected = raw ? HLL_RAW_FORMAT_VERSION : HLL_FORMAT_VERSION;
    if (b[0] !== expected) throw new Error(`sketch format version ${b[0]} is not supported (this release reads versions ${HLL_FORMAT_VERSION} and ${HLL_RAW_FORMAT_VERSION})`);
    if (b[2]! < MIN_P || b[2]! > P || b[3] !== SPARSE_P) throw new Error(`sketch precision ${b[2]}/${b[3]} is not supported (expected ${MIN_P}…${P}/${SPARSE_P})`);
    const h = new Hll(b[2]);
    if (b[1] === 1) {
      const m = 1 << b[2]!;
      if (b.length !== 4 + m) throw new Error('dense sketch has the wrong length');
      h.sparse = null;
      h.dense = new Uint8Array(b.subarray(4, 4 + m));
      return h;
    }
    if (b[1] !== 0) throw new Error(`unknown sketch kind ${b[1]}`);
    const n = b.readUInt32LE(4);
    let pos = 8;
    let prev = 0;
    for (let k = 0; k < n; k++) {
      let gap = 0;
      let mul = 1;
      for (;;) {
        if (pos >= b.length) throw new Error('sparse sketch is truncated');
        const byte = b[pos++]!;
        gap += (byte & 0x7f) * mul;
        if (byte < 0x80) break;
        mul *= 128;
      }
      prev += gap;
      h.add(prev);
    }
    return h;
  }

  toBase64(): string {
    return this.serialize().toString('base64');
  }

  static fromBase64(s: string): Hll {
    return Hll.deserialize(Buffer.from(s, 'base64'));
  }
}

/**
 * The estimate an Hll would give from a register histogram (hist[k] = registers holding k):
 * of 65,536 dense registers, or with `sparse` of the 2^25 sparse indexes. For callers that
 * build the histogram themselves (sketch/slidingHll.ts), allocation-free.
 */
export function estimateFromHistogram(hist: Float64Array, sparse: boolean): number {
  return Math.round(sparse ? ertl(hist, SPARSE_M, SPARSE_Q) : ertl(hist, M, Q));
}

/** Ertl's improved raw estimator from the register histogram (hist[k] = registers with value k). */
function ertl(hist: Float64Array, m: number, q: number): number {
  let z = m * tau(1 - hist[q + 1]! / m);
  for (let k = q; k >= 1; k--) z = 0.5 * (z + hist[k]!);
  z += m * sigma(hist[0]! / m);
  return (m * m) / (2 * Math.LN2) / z;
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  for (;;) {
    x *= x;
    const zPrev = z;
    z += x * y;
    y += y;
    if (z === zPrev) return z;
  }
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  for (;;) {
    x = Math.sqrt(x);
    const zPrev = z;
    y *= 0.5;
    z -= (1 - x) ** 2 * y;
    if (z === zPrev) return z / 3;
  }
}
