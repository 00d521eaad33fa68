/**
 * store/backgroundReads.ts: the alert engine's store reads run one at a time, in call order,
 * and a failed one does not stop the next; everything else reaches the store as it is.
 */
import { describe, expect, it } from 'vitest';
import { oneReadAtATime } from '../src/store/backgroundReads.js';
import type { MetricStore } from '../src/store/port.js';

describe('background reads', () => {
  it('one read at a time, in call order; a failure does not stop the next; other calls pass through', async () => {
    let running = 0;
    let most = 0;
    const order: string[] = [];
    const read = (name: string, fail = false) => async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      order.push(name);
      running--;
      if (fail) throw new Error(`${name} failed`);
      return [];
    };
    const writes: unknown[] = [];
    const store = {
      kind: 'duckdb',
      queryCounters: read('counters'),
      queryDistinct: read('distinct', true),
      querySketches: read('sketches'),
      writeCounters: async (rows: unknown) => void writes.push(rows),
    } as unknown as MetricStore;
    const bg = oneReadAtATime(store);
    expect(bg.kind).toBe('duckdb');
    const q = { from: 0, to: 1 } as never;
    const results = await Promise.allSettled([bg.queryCounters(q), bg.queryDistinct(q), bg.querySketches(q), bg.queryCounters(q)]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(order).toEqual(['counters', 'distinct', 'sketches', 'counters']);
    expect(most).toBe(1);
    // Without the wrapper the same reads overlap (so the test can tell).
    most = 0;
    await Promise.all([store.queryCounters(q), store.querySketches(q)]);
    expect(most).toBe(2);
    await bg.writeCounters([]);
    expect(writes).toEqual([[]]);
  });
});
