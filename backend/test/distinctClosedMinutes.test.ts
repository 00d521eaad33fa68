/**
 * A minute's sketches leave memory once it is past lateness and written; its counts stay for
 * the wall's trend (70 minutes), and a late event for it reloads the stored sketch as before.
 */
import { describe, expect, it } from 'vitest';
import { DistinctTracker } from '../src/collector/distinct.js';
import { Hll } from '../src/sketch/hll.js';

const MIN = 60_000;
const LATENESS = 5 * MIN;
const T0 = Date.UTC(2024, 0, 1, 10, 0);
/** Distinct sketch keys (index × 64 + rank), far apart so none collide. */
const key = (i: number) => (i * 1_000 + 7) * 64 + 1;

describe('DistinctTracker: closed minutes', () => {
  it('keep their counts, not their sketches, and a late event merges the stored sketch', () => {
    let now = T0;
    const t = new DistinctTracker(10_000, 15 * MIN, LATENESS, 'UTC', 'main', () => now);
    for (let i = 0; i < 300; i++) t.add('message', T0 + 1_000, i % 2 ? 'wecom' : 'douyin', key(i));
    // Nothing stored yet (the collector reads the store for new periods).
    for (const u of t.unloaded()) t.mergeStored(u.set, u.granularity, u.start, []);
    const write = t.takeDirty(now);
    const stored = write.sketches.filter((s) => s.granularity === 'minute' && s.set === 'active');
    write.commit();
    const held = t.periodCount;

    // Past the minute's end and lateness: its sketches leave memory (fewer periods held)...
    now = T0 + MIN + LATENESS + 1;
    t.evict(now);
    expect(t.periodCount).toBeLessThan(held);
    expect(t.holds('active', 'minute', T0)).toBe(false);
    // ...and its counts stay for the trend.
    const closed = t.periodCounts('active', 'minute', T0)!;
    expect(closed.total).toBe(300);
    expect(closed.byChannel.get('wecom')).toBe(150);

    // A late event: until the stored sketch is merged in, the trend keeps the closed counts.
    t.add('message', T0 + 2_000, 'wecom', key(1_000));
    expect(t.unloaded()).toContainEqual({ set: 'active', granularity: 'minute', start: T0 });
    expect(t.periodCounts('active', 'minute', T0)!.total).toBe(300);
    t.mergeStored('active', 'minute', T0, stored);
    expect(t.periodCounts('active', 'minute', T0)!.total).toBe(301);
    const rewrite = t.takeDirty(now);
    const total = rewrite.sketches.find((s) => s.granularity === 'minute' && s.set === 'active' && s.channel === '')!;
    expect(Hll.fromBase64(total.sketch).estimate()).toBe(301);
    rewrite.commit();

    // Evicted again with the new count; gone after the trend's 70 minutes.
    t.evict(now + 1);
    expect(t.holds('active', 'minute', T0)).toBe(false);
    expect(t.periodCounts('active', 'minute', T0)!.total).toBe(301);
    now = T0 + MIN + LATENESS + 70 * MIN + 1;
    t.evict(now);
    expect(t.periodCounts('active', 'minute', T0)).toBeUndefined();
  });
});
