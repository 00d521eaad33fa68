/**
 * The distinct-member sketch: exact for small sets, within 1 % at every cardinality
 * tested, merge = union (idempotent), and a stable versioned serialisation.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createMemberHasher } from '../src/ingest/memberHash.js';
import { Hll, sketchKeyOf } from '../src/sketch/hll.js';

const hash = createMemberHasher('test-salt-for-sketches');
const keys = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => sketchKeyOf(hash(`member-${from + i}`)));

function sketchOf(from: number, to: number): Hll {
  const h = new Hll();
  for (let i = from; i < to; i++) h.add(sketchKeyOf(hash(`member-${i}`)));
  return h;
}

describe('Hll sketch', () => {
  it('counts small sets exactly (every n up to 600)', () => {
    const h = new Hll();
    const ks = keys(0, 600);
    ks.forEach((k, i) => {
      h.add(k);
      h.add(k); // a repeat never counts twice
      expect(h.estimate()).toBe(i + 1);
    });
  });

  it.each([1_000, 10_000, 100_000])('is within 1 percent at %i members', (n) => {
    const est = sketchOf(0, n).estimate();
    expect(Math.abs(est - n) / n).toBeLessThanOrEqual(0.01);
  });

  it('merges as a union: 1,000 + 1,000 with 500 shared = 1,500, in any order, any number of times', () => {
    const a = sketchOf(0, 1_000);
    const b = sketchOf(500, 1_500);
    const ab = a.clone();
    ab.merge(b);
    ab.merge(b);
    ab.merge(a);
    const ba = b.clone();
    ba.merge(a);
    expect(ab.estimate()).toBe(1_500);
    expect(ba.estimate()).toBe(1_500);
    expect(ab.serialize().equals(ba.serialize())).toBe(true);
  });

  it('merges dense sketches of overlapping halves within 1 %', () => {
    const a = sketchOf(0, 60_000);
    const b = sketchOf(30_000, 90_000);
    a.merge(b);
    expect(Math.abs(a.estimate() - 90_000) / 90_000).toBeLessThanOrEqual(0.01);
    const small = sketchOf(89_000, 89_100); // sparse into dense
    expect(a.merge(small)).toBe(false);
  });

  it('reads the sketch key from the hash text as a Buffer would', () => {
    const viaBuffer = (h: string) => {
      const b = Buffer.from(h, 'base64url');
      const hi = b.readUInt32BE(0);
      const lo = b.readUInt32BE(4);
      const index = hi >>> 7;
      const restHi = hi & 0x7f;
      const rank = restHi !== 0 ? Math.clz32(restHi) - 24 : lo !== 0 ? 7 + Math.clz32(lo) + 1 : 40;
      return index * 64 + rank;
    };
    const texts = Array.from({ length: 2_000 }, (_, i) => hash(`m-${i}`));
    texts.push('AAAAAAAAAAAAAAAA', '________________', '-_-_-_-_-_-_-_-_', '+/+/+/+/+/+/+/+/', 'AAAAAAAAAAB_____', 'AAAAAAAAAAE=', 'ab.cdefghijklmnop', 'abcdefghij\u00e9klmn');
    for (const t of texts) expect(sketchKeyOf(t)).toBe(viaBuffer(t));
  });

  it('a dense estimate kept up to date through adds, merges and clones equals one counted afresh', () => {
    const fresh = (h: Hll) => Hll.deserialize(h.serialize()).estimate();
    const a = sketchOf(0, 5_000);
    expect(a.isDense).toBe(true);
    expect(a.estimate()).toBe(fresh(a));
    for (const k of keys(5_000, 9_000)) a.add(k); // counted incrementally from here
    expect(a.estimate()).toBe(fresh(a));
    const c = a.clone();
    a.merge(sketchOf(8_000, 20_000));
    expect(a.estimate()).toBe(fresh(a));
    expect(c.estimate()).toBe(fresh(c));
    expect(c.estimate()).toBeLessThan(a.estimate());
    for (const k of keys(20_000, 21_000)) c.add(k);
    expect(c.estimate()).toBe(fresh(c));
  });

  it('writes a sparse sketch byte for byte as the format defines it (version 2: marker, header, sorted entries as varint gaps)', () => {
    // The format written out plainly (what serialize did before it wrote into one buffer).
    const reference = (entries: [number, number][], p: number) => {
      const sorted = entries.map(([i, r]) => i * 64 + r).sort((a, b) => a - b);
      const out: number[] = [];
      let prev = 0;
      for (const e of sorted) {
        let gap = e - prev;
        prev = e;
        while (gap >= 0x80) {
          out.push((gap & 0x7f) | 0x80);
          gap = Math.floor(gap / 128);
        }
        out.push(gap);
      }
      const body = Buffer.alloc(8 + out.length);
      body.writeUInt32LE(sorted.length, 4);
      Buffer.from(out).copy(body, 8);
      body[0] = 2;
      body[1] = 0;
      body[2] = p;
      body[3] = 25;
      return Buffer.concat([Buffer.of(0xff), body]);
    };
    for (const p of [14, 16]) {
      for (const n of [0, 1, 2, 37, 500]) {
        const h = new Hll(p);
        for (const k of keys(n * 7, n * 8)) h.add(k);
        // The highest sparse index too (the largest entry and gap).
        if (n === 37) h.add((2 ** 25 - 1) * 64 + 49);
        const entries = (h as unknown as { sparse: Map<number, number> }).sparse;
        expect(entries, 'still sparse').toBeTruthy();
        expect(h.serialize().equals(reference([...entries], p)), `p ${p}, ${n} members`).toBe(true);
      }
    }
  });

  it('round-trips through the versioned binary form (sparse and dense) and refuses an unknown version', () => {
    for (const n of [0, 7, 1_400, 50_000]) {
      const h = sketchOf(0, n);
      const back = Hll.fromBase64(h.toBase64());
      expect(back.estimate()).toBe(h.estimate());
      expect(back.serialize().equals(h.serialize())).toBe(true);
    }
    // Sparse sketches are written uncompressed (version 2 behind the 0xFF marker), dense ones deflated (version 1).
    const sparse = sketchOf(0, 3).serialize();
    expect(sparse[0]).toBe(0xff);
    expect(sparse[1]).toBe(2);
    expect(inflateRawSync(sketchOf(0, 50_000).serialize())[0]).toBe(1);
    // A sparse sketch stored in version 1 (deflated) by an earlier release still reads the same.
    const v1 = Buffer.from(sparse.subarray(1));
    v1[0] = 1;
    expect(Hll.deserialize(deflateRawSync(v1)).estimate()).toBe(3);
    // Any other version, in either form, is refused.
    const deflated2 = Buffer.from(v1);
    deflated2[0] = 2;
    expect(() => Hll.deserialize(deflateRawSync(deflated2))).toThrow(/version 2 is not supported/);
    const raw1 = Buffer.from(sparse);
    raw1[1] = 1;
    expect(() => Hll.deserialize(raw1)).toThrow(/version 1 is not supported/);
    const raw3 = Buffer.from(sparse);
    raw3[1] = 3;
    expect(() => Hll.deserialize(raw3)).toThrow(/version 3 is not supported/);
  });

  it('at a lower precision (p = 14): folding p = 16 registers gives exactly the p = 14 ones, merges meet at the lower, within 3 %', () => {
    const ks = keys(0, 60_000);
    const low = new Hll(14);
    const high = new Hll();
    for (const k of ks) {
      low.add(k);
      high.add(k);
    }
    expect(low.precision).toBe(14);
    expect(low.isDense && high.isDense).toBe(true);
    // A p = 16 sketch merged into an empty p = 14 one: the same registers as counting at 14.
    const folded = new Hll(14);
    folded.merge(Hll.fromBase64(high.toBase64()));
    expect(folded.toBase64()).toBe(low.toBase64());
    // A p = 14 sketch merged into a p = 16 one lowers it: the union at p = 14.
    const other = sketchOf(30_000, 90_000);
    const lowOther = new Hll(14);
    lowOther.merge(other);
    const union = other.clone();
    union.merge(low);
    expect(union.precision).toBe(14);
    expect(Math.abs(union.estimate() - 90_000) / 90_000).toBeLessThan(0.03);
    expect(Math.abs(low.estimate() - 60_000) / 60_000).toBeLessThan(0.03);
    // Round trip keeps the precision; small sets stay exact (sparse).
    expect(Hll.fromBase64(low.toBase64()).precision).toBe(14);
    const small = new Hll(14);
    for (const k of keys(0, 300)) small.add(k);
    expect(Hll.fromBase64(small.toBase64()).estimate()).toBe(300);
    expect(() => new Hll(9)).toThrow(/precision must be an integer from 10 to 16/);
  });

  it('keeps no member id or hash: a sketch key is a 25-bit index and a rank', () => {
    const k = sketchKeyOf(hash('member-1'));
    expect(Number.isSafeInteger(k)).toBe(true);
    expect(k).toBeLessThan(2 ** 31);
    expect(k % 64).toBeGreaterThanOrEqual(1);
    expect(k % 64).toBeLessThanOrEqual(40);
  });
});
