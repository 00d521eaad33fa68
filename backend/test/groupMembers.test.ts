/**
 * The per-group active-member tracker's budgeted writes (collector/groupMembers.ts): every
 * changed sparse sketch each flush, at most N dense ones, longest-unwritten first, and the
 * journal LSN before the oldest unwritten change (what the journal must keep) — so a brand's
 * hundreds of dense group sketches are written in turn without losing what a restart replays.
 */
import { describe, expect, it } from 'vitest';
import { GroupMembers } from '../src/collector/groupMembers.js';
import { Hll } from '../src/sketch/hll.js';
import { HOUR } from '../src/time/zone.js';

const DAY_START = Date.UTC(2026, 11, 7) - 8 * HOUR;
const TS = DAY_START + 10 * HOUR + 5_000;
const periodStart = (g: 'hour' | 'day', ts: number) => (g === 'hour' ? Math.floor(ts / HOUR) * HOUR : DAY_START);
/** Distinct sketch keys (index × 64 + rank) of member m of group g. */
const key = (g: number, m: number) => ((g * 100_003 + m * 7_919) % 2 ** 25) * 64 + 1 + (m % 5);
/** A key that raises its dense register at any precision (index with all low bits 0, the top rank). */
const BIG_RANK_KEY = (5 << 11) * 64 + 40;

function tracker(dense: number, sparse: number, lsn: number): GroupMembers {
  const t = new GroupMembers(periodStart, 'n1');
  for (let g = 0; g < dense + sparse; g++) {
    const members = g < dense ? 2_000 : 30;
    for (let m = 0; m < members; m++) t.add('message', TS, `g${g}`, key(g, m), lsn);
  }
  for (const w of t.unloaded()) t.mergeStored(w.granularity, w.start, w.community, []);
  return t;
}

describe('GroupMembers writes', () => {
  it('writes every sparse sketch and at most N dense ones per flush, until all are written once', () => {
    const t = tracker(10, 30, 7);
    expect(t.unwrittenSince()).toBe(7);
    const written = new Map<string, number>();
    let flushes = 0;
    for (;;) {
      const w = t.takeDirty(4, 9);
      if (w.sketches.length === 0) break;
      flushes++;
      const dense = w.sketches.filter((r) => Hll.fromBase64(r.sketch).isDense).length;
      expect(dense).toBeLessThanOrEqual(4);
      for (const r of w.sketches) written.set(`${r.granularity}/${r.community}`, (written.get(`${r.granularity}/${r.community}`) ?? 0) + 1);
      w.commit();
      // Until the last dense sketch is written, the journal must keep events after LSN 7.
      expect(t.unwrittenSince()).toBe(written.size === 80 ? null : 7);
    }
    // 20 dense group periods (10 groups × hour and day) at 4 a flush; the 60 sparse ones in the first.
    expect(flushes).toBe(5);
    expect(written.size).toBe(80);
    expect([...written.values()].every((n) => n === 1)).toBe(true);
    expect(t.takeDirty(Infinity, 9).sketches).toEqual([]);
  });

  it('takes the longest-unwritten dense sketches first, and one changed while written stays unwritten from then', () => {
    const t = tracker(3, 0, 1);
    const first = t.takeDirty(2, 5);
    const firstKeys = first.sketches.map((r) => `${r.granularity}/${r.community}`);
    // A member of a group being written arrives before the write is confirmed (after LSN 5).
    const changed = first.sketches[0]!;
    t.add('message', TS, changed.community!, BIG_RANK_KEY, 6);
    first.commit();
    // 4 of the 6 periods are still unwritten since LSN 1 (the 2 not taken, and the changed ones from 5 on).
    expect(t.unwrittenSince()).toBe(1);
    const second = t.takeDirty(2, 8);
    const secondKeys = second.sketches.map((r) => `${r.granularity}/${r.community}`);
    // The four never written come before the two written a moment ago.
    expect(secondKeys.some((k) => firstKeys.includes(k))).toBe(false);
    second.commit();
    const third = t.takeDirty(2, 8);
    expect(third.sketches.map((r) => `${r.granularity}/${r.community}`).some((k) => k === firstKeys[0])).toBe(false);
    third.commit();
    // Left: the period changed during its write, unwritten since LSN 5 (not 1, not 8).
    expect(t.unwrittenSince()).toBe(5);
    const last = t.takeDirty(2, 8);
    expect(last.sketches.map((r) => `${r.granularity}/${r.community}`)).toEqual([firstKeys[0]]);
    expect(Hll.fromBase64(last.sketches[0]!.sketch).estimate()).toBeGreaterThan(Hll.fromBase64(changed.sketch).estimate());
    last.commit();
    expect(t.unwrittenSince()).toBe(null);
  });
});
