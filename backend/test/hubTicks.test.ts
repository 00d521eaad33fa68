/**
 * The wall's ticks: a heartbeat every second, and after new events an early tick `pushMs`
 * after the previous one (many events in between: one tick), so an event reaches the wall
 * within about pushMs instead of waiting up to a second (issue 18: p99 < 500 ms).
 */
import { createServer } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveHub } from '../src/live/hub.js';
import type { SnapshotService } from '../src/live/snapshot.js';

describe('LiveHub ticks', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  function hub(pushMs?: number) {
    const at: number[] = [];
    const snapshots = { tick: () => (at.push(Date.now()), { seq: at.length }) } as unknown as SnapshotService;
    const h = new LiveHub(createServer(), { snapshots, authorize: () => ({ ok: true, displayId: null }), onClientCount: () => {}, ...(pushMs ? { pushMs } : {}) });
    return { h, at };
  }

  it('ticks every second, and 250 ms after the last tick once events were counted', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const t0 = Date.UTC(2026, 11, 7, 12, 0, 0);
    vi.setSystemTime(t0);
    const { h, at } = hub();
    h.changed(); // before start: nothing
    h.start();
    await vi.advanceTimersByTimeAsync(2_000);
    expect(at).toEqual([t0 + 1_000, t0 + 2_000]);
    // Events 100 ms after a tick: the next tick at +250, not at +1000; more events meanwhile change nothing.
    await vi.advanceTimersByTimeAsync(100);
    h.changed();
    await vi.advanceTimersByTimeAsync(50);
    h.changed();
    h.changed();
    await vi.advanceTimersByTimeAsync(100);
    expect(at).toEqual([t0 + 1_000, t0 + 2_000, t0 + 2_250]);
    // Events long after the last tick: a tick at once.
    await vi.advanceTimersByTimeAsync(600);
    h.changed();
    await vi.advanceTimersByTimeAsync(0);
    expect(at.at(-1)).toBe(t0 + 2_850);
    // Quiet again: back to the heartbeat.
    await vi.advanceTimersByTimeAsync(2_000);
    expect(at.slice(4)).toEqual([t0 + 3_850, t0 + 4_850]);
    await h.close();
    const n = at.length;
    h.changed();
    await vi.advanceTimersByTimeAsync(3_000);
    expect(at).toHaveLength(n);
  });

  it('a steady stream of events costs 1000 / pushMs ticks a second', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(Date.UTC(2026, 11, 7, 12, 0, 0));
    const { h, at } = hub(200);
    h.start();
    for (let i = 0; i < 1_000; i++) {
      h.changed();
      await vi.advanceTimersByTimeAsync(10);
    }
    await h.close();
    // The first events tick at once (no tick yet), then one tick every 200 ms over the 10 s.
    expect(at).toHaveLength(51);
    expect(new Set(at.slice(1).map((t, i) => t - at[i]!))).toEqual(new Set([200]));
  });
});
