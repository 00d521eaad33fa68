/**
 * Yesterday up to this minute, from the store: the "today vs yesterday at the same time"
 * comparison of the wall's tiles when memory does not reach back to yesterday's midnight.
 * The collector's minute ring keeps about a day, so a server started after ~02:00 (every
 * deploy) would otherwise show 无昨日数据可比 on every tile for the rest of the day even though
 * yesterday is in the store. Counters only: a distinct count at yesterday's same minute is not
 * stored (only whole periods are), so those tiles still say so.
 *
 * One store query per minute (a day of rows summed by channel), run in the background and
 * served from memory, because the snapshot is built synchronously once a second.
 */
import { COUNTERS } from '@siyu-pulse/contracts/catalogue';
import { emptyWindow, type WindowSums } from '../collector/counterRing.js';
import { addInto, fromSums, newVector } from '../collector/counters.js';
import type { MetricStore } from '../store/port.js';
import { DAY, MINUTE, dayStart, floorTo } from '../time/zone.js';

const CHECK_MS = 5_000;

export class YesterdaySoFar {
  private cached: { from: number; to: number; sums: WindowSums } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: MetricStore,
    private readonly timezone: string,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly now: () => number = Date.now,
  ) {}

  /** The window [yesterday's start, the same minute yesterday), if read for that minute or the one before. */
  sums(from: number, to: number): WindowSums | undefined {
    const c = this.cached;
    // Just after a minute turns the newest read is one minute short until the next refresh.
    return c && c.from === from && to - c.to <= MINUTE && to >= c.to ? c.sums : undefined;
  }

  /** Reads the window for the current minute unless already read. */
  refresh(): Promise<void> {
    const now = this.now();
    const from = dayStart(now, this.timezone) - DAY;
    const to = floorTo(now, MINUTE) - DAY;
    if (this.cached?.from === from && this.cached.to === to) return Promise.resolve();
    this.running ??= this.read(from, to)
      .catch(this.onError)
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async read(from: number, to: number): Promise<void> {
    const sums = emptyWindow();
    if (to > from) {
      // One bucket spanning the window: the store sums it, per channel.
      const series = await this.store.queryCounters({ from, to, stepMs: to - from, offsetMs: from % (to - from), counters: COUNTERS, by: ['channel'], filter: {} });
      for (const s of series) {
        const vector = newVector();
        for (const p of s.points) addInto(vector, fromSums(p.sums));
        addInto(sums.total, vector);
        sums.byChannel.set(s.tags.channel ?? '', vector);
      }
    }
    this.cached = { from, to, sums };
  }

  start(): void {
    void this.refresh();
    this.timer = setInterval(() => void this.refresh(), CHECK_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }
}
