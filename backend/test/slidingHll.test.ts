/**
 * The live windows' sliding sketch (sketch/slidingHll.ts): a window's registers are the ones
 * a plain HLL of the window's members holds (so its error bound is HLL's), exact for small
 * windows, within 1 % of the exact count at every cardinality tested; and the tracker's
 * previous window is the one that was current 5 minutes before.
 */
import { describe, expect, it } from 'vitest';
import { DistinctTracker, LAST_WINDOW_MS } from '../src/collector/distinct.js';
import { Hll } from '../src/sketch/hll.js';
import { SlidingHll } from '../src/sketch/slidingHll.js';
import { hash32 } from '../src/simulator/random.js';

/** A member's sketch key (25-bit index × 64 + rank of 39 more bits), from two 32-bit hashes. */
function keyOf(member: number): number {
  const hi = hash32(0x5eed, member);
  const lo = hash32(member, 0xbeef);
  const index = hi >>> 7;
  const rest = hi & 0x7f;
  const rank = rest !== 0 ? Math.clz32(rest) - 25 + 1 : lo !== 0 ? 7 + Math.clz32(lo) + 1 : 40;
  return index * 64 + rank;
}

const RETENTION = 90;

describe('SlidingHll', () => {
  it('holds, for every window start, the registers of a plain HLL of the window (sparse and dense)', () => {
    for (const perBucket of [40, 2_000]) {
      const s = new SlidingHll(RETENTION);
      const buckets: number[][] = [];
      const B = 1_000;
      // Members recur across buckets (a member active for minutes), late hits land in closed buckets.
      for (let b = B - 60; b < B; b++) {
        const members = Array.from({ length: perBucket }, (_, i) => (b * 7 + i * 13) % (perBucket * 12));
        buckets.push(members);
        for (const m of members) s.add(b, keyOf(m), b);
        s.close(b + 1);
      }
      const late = 5_000_000;
      s.add(B - 30, keyOf(late), B);
      buckets[30]!.push(late);
      expect(s.isDense).toBe(perBucket > 40);
      for (const from of [B - 60, B - 45, B - 30, B - 29, B - 1]) {
        const plain = new Hll();
        for (let b = from; b < B; b++) for (const m of buckets[b - (B - 60)]!) plain.add(keyOf(m));
        const w = s.window(from, B);
        expect(w.serialize().equals(plain.serialize()), `window from ${from} at ${perBucket}/bucket`).toBe(true);
        // The wall's allocation-free read gives the same answer.
        expect(s.estimate(from, B)).toBe(plain.estimate());
      }
    }
  });

  it('is exact below a few hundred and within 1 % of the exact count at every cardinality', () => {
    const rows: string[] = [];
    for (const n of [1, 50, 300, 10_000, 100_000, 1_000_000]) {
      const s = new SlidingHll(RETENTION);
      // n distinct members in the window [100, 170), each seen three times in different buckets,
      // plus n older members outside the window.
      for (let i = 0; i < n; i++) s.add(100 + (i % 30), keyOf(n * 10 + i), 170);
      for (let i = 0; i < n; i++) s.add(140 + (i % 30), keyOf(n * 10 + i), 170);
      for (let i = 0; i < n; i++) s.add(99, keyOf(n * 10 + n + i), 170);
      for (let i = 0; i < n; i++) s.add(129 - (i % 3), keyOf(n * 10 + i), 170);
      const est = s.estimate(100, 170);
      expect(s.window(100, 170).estimate()).toBe(est);
      rows.push(`${n}: ${est}`);
      if (n <= 300) expect(est, `n = ${n}`).toBe(n);
      else expect(Math.abs(est - n) / n, `n = ${n}: ${est}`).toBeLessThanOrEqual(0.01);
    }
    console.log(`sliding window estimates (true: reported): ${rows.join(', ')}`);
  });

  it('moves its 16-bit entries to a new base past 1,024 buckets and keeps every window', () => {
    const s = new SlidingHll(RETENTION);
    const members = (step: number) => Array.from({ length: 15_000 }, (_, i) => step * 100_000 + i);
    let b = 0;
    for (let step = 0; step < 40; step++) {
      b = step * 30;
      for (const m of members(step)) s.add(b, keyOf(m), b);
      s.close(b + 1);
      // Around the move (bucket 933 here): a window from the previous step's bucket holds it, one from the bucket after does not.
      if (step >= 30 && step <= 33) {
        for (const [from, steps] of [[b - 30, [step - 1, step]], [b - 29, [step]]] as const) {
          const plain = new Hll();
          for (const st of steps) for (const m of members(st)) plain.add(keyOf(m));
          expect(s.estimate(from, b + 1), `step ${step} from ${from}`).toBe(plain.estimate());
        }
      }
    }
    expect(s.isDense).toBe(true);
    // Buckets 1,110, 1,140 and 1,170: past the 16-bit range of the first base.
    for (const [from, steps] of [[b - 89, [37, 38, 39]], [b - 30, [38, 39]], [b, [39]]] as const) {
      const plain = new Hll();
      for (const st of steps) for (const m of members(st)) plain.add(keyOf(m));
      expect(s.window(from, b + 1).serialize().equals(plain.serialize()), `from ${from}`).toBe(true);
      expect(s.estimate(from, b + 1)).toBe(plain.estimate());
    }
  });

  it('waits for a bucket to close, forgets what is past the retention, and becomes sparse again when empty', () => {
    const s = new SlidingHll(RETENTION);
    for (let i = 0; i < 30_000; i++) s.add(10, keyOf(i), 10);
    // Bucket 10 is open: no window holds it yet, the pending sketch does.
    expect(s.window(0, 10).estimate()).toBe(0);
    const open = new Hll();
    s.mergePending(open, 10, 11);
    expect(Math.abs(open.estimate() - 30_000) / 30_000).toBeLessThanOrEqual(0.01);
    s.close(11);
    expect(s.isDense).toBe(true);
    expect(Math.abs(s.window(0, 11).estimate() - 30_000) / 30_000).toBeLessThanOrEqual(0.01);
    s.expire(11 + RETENTION);
    expect(s.window(11, 11 + RETENTION).estimate()).toBe(0);
    expect(s.isDense).toBe(false);
    expect(s.isEmpty).toBe(true);
    s.add(500, keyOf(1), 501);
    expect(s.window(400, 501).estimate()).toBe(1);
  });
});

describe('DistinctTracker live windows', () => {
  const T0 = Date.UTC(2024, 0, 1, 10, 0);
  const BUCKET = 10_000;

  it("answers the previous 5 minutes as they stood when current, and the current window with late events", () => {
    let now = T0;
    const t = new DistinctTracker(BUCKET, 15 * 60_000, 5 * 60_000, 'UTC', 'main', () => now);
    let member = 0;
    // 10 minutes: 25 new members per bucket on two channels, plus 5 who come back every bucket.
    for (let b = 0; b < 60; b++) {
      now = T0 + b * BUCKET + 1;
      for (let i = 0; i < 25; i++) t.add('message', now, i % 2 ? 'wecom' : 'douyin', keyOf(member++));
      for (let i = 0; i < 5; i++) t.add('message', now, 'wecom', keyOf(1_000_000 + i));
      t.evict(now);
    }
    now = T0 + 60 * BUCKET + 1;
    const closed = T0 + 60 * BUCKET;
    const current = t.window('active', closed - LAST_WINDOW_MS, closed);
    expect(current.total).toBe(30 * 25 + 5);
    expect(current.byChannel.get('wecom')).toBe(30 * 12 + 5);
    const previous = t.window('active', closed - 2 * LAST_WINDOW_MS, closed - LAST_WINDOW_MS);
    expect(previous.total).toBe(30 * 25 + 5);
    // A late event in the current window counts at once; the previous window stays as it closed.
    t.add('message', closed - BUCKET + 5, 'sms', keyOf(9_999_999));
    expect(t.window('active', closed - LAST_WINDOW_MS, closed).total).toBe(30 * 25 + 6);
    expect(t.window('active', closed - LAST_WINDOW_MS, closed).byChannel.get('sms')).toBe(1);
    // Five minutes on (no traffic), the window that was current is the previous one, unchanged.
    now = closed + LAST_WINDOW_MS + 1;
    t.evict(now);
    expect(t.window('active', closed - LAST_WINDOW_MS, closed).total).toBe(30 * 25 + 6);
    expect(t.window('active', closed, closed + LAST_WINDOW_MS).total).toBe(0);
  });
});
