/**
 * The wall's month tiles are recomputed on wall-clock minute boundaries, so the nodes of a
 * cluster read the stored sketches at the same moment and their walls agree (they differed for
 * up to a minute when each node ticked a minute after its own start).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MONTH_REFRESH_MS, MonthLive, msToNextTick } from '../src/live/monthLive.js';
import type { MetricStore } from '../src/store/port.js';

describe('MonthLive ticks', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('msToNextTick counts to the next whole minute', () => {
    expect(msToNextTick(Date.UTC(2026, 11, 7, 12, 0, 37, 500))).toBe(22_500);
    expect(msToNextTick(Date.UTC(2026, 11, 7, 12, 1, 0, 0))).toBe(MONTH_REFRESH_MS);
  });

  it('two nodes started 37 s apart refresh at the same instants', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2026, 11, 7, 12, 0, 3));
    const at: Record<'a' | 'b', number[]> = { a: [], b: [] };
    const node = (name: 'a' | 'b') => {
      const live = new MonthLive({} as MetricStore, 'Asia/Shanghai', () => {}, () => Date.now());
      live.refresh = () => {
        at[name].push(Date.now());
        return Promise.resolve();
      };
      live.start();
      return live;
    };
    const a = node('a');
    await vi.advanceTimersByTimeAsync(37_000);
    const b = node('b');
    await vi.advanceTimersByTimeAsync(3 * MONTH_REFRESH_MS);
    await Promise.all([a.stop(), b.stop()]);
    const minute = (m: number) => Date.UTC(2026, 11, 7, 12, m, 0);
    // Each: a refresh at start, then on every minute boundary.
    expect(at.a).toEqual([Date.UTC(2026, 11, 7, 12, 0, 3), minute(1), minute(2), minute(3)]);
    expect(at.b).toEqual([Date.UTC(2026, 11, 7, 12, 0, 40), minute(1), minute(2), minute(3)]);
  });
});
