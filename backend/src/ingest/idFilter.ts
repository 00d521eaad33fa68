/**
 * A Bloom filter over id strings: "certainly not added" or "perhaps added". The id ledger
 * (idLedger.ts) keeps one per time partition so that a new id — nearly every id — is answered
 * without an LMDB lookup per partition (three B-tree descents were ~2.7 µs of an event in
 * issue 18's profile). A "perhaps" still goes to the disk, so a false positive costs one lookup
 * and is never a wrong answer; only a false negative would be, and a Bloom filter has none.
 *
 * Fixed size: memory does not grow with the ids (the ledger holds no per-id memory). Past its
 * capacity the false-positive rate rises and lookups go back to the disk, gradually: at 1 M
 * ids in a partition ~0.1 % of new ids are looked up, at 4 M ~15 %, at 10 M most.
 *
 * Written here rather than taken from a package: it is 40 lines, and the hot path needs the
 * id's two hashes computed in one pass over the string with no allocation (the packages seen
 * hash through a generic byte hasher per probe).
 */

/** 2^24 bits = 2 MiB per filter. */
const BITS_LOG2 = 24;
const MASK = (1 << BITS_LOG2) - 1;
const PROBES = 4;

/**
 * The last hashed id's two 32-bit hashes (FNV-1a and a multiplicative one, each finalised).
 * Module state rather than a returned pair: the ledger checks up to three partitions' filters
 * per id and hashes it once for all of them, with no allocation.
 */
let h1 = 0;
let h2 = 0;

/** Hashes `id` for the *Hashed methods of any filter (until the next call). */
export function hashId(id: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ id.length;
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  b ^= b >>> 16;
  b = Math.imul(b, 0xc2b2ae35);
  b ^= b >>> 16;
  h1 = a;
  // Odd, so the probes h1 + i·h2 are distinct.
  h2 = b | 1;
}

export class IdFilter {
  private readonly words = new Int32Array(1 << (BITS_LOG2 - 5));

  add(id: string): void {
    hashId(id);
    const w = this.words;
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & MASK;
      w[bit >>> 5] = w[bit >>> 5]! | (1 << (bit & 31));
    }
  }

  /** False: `id` was certainly never added. True: it may have been. */
  mayHave(id: string): boolean {
    hashId(id);
    return this.mayHaveHashed();
  }

  /** mayHave() of the id last given to hashId(). */
  mayHaveHashed(): boolean {
    const w = this.words;
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + Math.imul(i, h2)) & MASK;
      if ((w[bit >>> 5]! & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}
