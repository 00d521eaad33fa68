/**
 * Month-level KPI values for the wall's "today" tiles. They are unions of up to 60 stored day
 * sketches (query/span.ts), too heavy to compute on every 1 s tick, and a 30-day figure
 * hardly moves within a minute: recomputed every MONTH_REFRESH_MS (and at start) from the
 * store, which the collector rewrites every few seconds, and served from memory in between.
 */
import { KPIS, isSpan } from '@siyu-pulse/contracts/catalogue';
import { SpanReader } from '../query/span.js';
import type { MetricStore } from '../store/port.js';
import { DAY, dayStart } from '../time/zone.js';

/** Today's sketch is rewritten every ~10 s; a minute keeps the tiles current at a few hundred ms of work. */
export const MONTH_REFRESH_MS = 60_000;
/** Recomputed at least this often even without new events (late rows of other writers, a new day). */
export const MONTH_FORCE_MS = 15 * 60_000;
/**
 * Per-channel values cost one union per channel (~1 s for 7 dense channels on DuckDB, 2 s on
 * influxd, measured) and no built-in board shows them: refreshed this often, totals every run.
 */
export const MONTH_CHANNELS_MS = 10 * 60_000;

type Values = Record<string, number | null>;

/** Milliseconds to the next multiple of MONTH_REFRESH_MS since the epoch (at least 1). */
export function msToNextTick(now: number): number {
  return MONTH_REFRESH_MS - (now % MONTH_REFRESH_MS);
}

export interface MonthLiveValues {
  /** When the per-channel values were computed (epoch ms; totals may be newer). */
  at: number;
  /** The windows ending with today (so far). */
  today: Values;
  /** The windows ending with yesterday: the comparison. */
  yesterday: Values;
  /** Today per channel. */
  todayByChannel: Record<string, Values>;
}

export class MonthLive {
  private readonly spans: SpanReader;
  private values: MonthLiveValues | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private computedFor: { version: unknown; day: number; at: number } | undefined;

  constructor(
    store: MetricStore,
    private readonly timezone: string,
    private readonly onError: (err: unknown) => void = () => {},
    private readonly now: () => number = Date.now,
    /**
     * Changes when new data may be stored (the collector's last event time): a minute without
     * events skips the recomputation, so an idle server does not read 60 days of sketches a minute.
     */
    private readonly version: () => unknown = () => undefined,
  ) {
    this.spans = new SpanReader(store, timezone);
  }

  current(): MonthLiveValues | undefined {
    return this.values;
  }

  /** Recomputes when data may have changed since the last computation (or `force`). */
  refresh(force = true): Promise<void> {
    const at = this.now();
    const key = { version: this.version(), day: dayStart(at, this.timezone), at };
    const last = this.computedFor;
    if (!force && last && last.version === key.version && last.day === key.day && at - last.at < MONTH_FORCE_MS) return Promise.resolve();
    this.running ??= this.compute(force || !this.values || at - this.values.at >= MONTH_CHANNELS_MS || last?.day !== key.day)
      .then((v) => {
        this.computedFor = key;
        return v;
      })
      .then((v) => {
        this.values = v;
      }, this.onError)
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  private async compute(channels: boolean): Promise<MonthLiveValues> {
    const at = this.now();
    const today = dayStart(at, this.timezone);
    // Keyed by channel ids that come from producers: objects without a prototype, so a channel
    // called `__proto__` is a key like any other and cannot reach Object.prototype.
    const out: MonthLiveValues = { at: channels ? at : this.values!.at, today: {}, yesterday: {}, todayByChannel: channels ? Object.create(null) : this.values!.todayByChannel };
    // One KPI at a time: the store is shared with ingest.
    for (const def of KPIS.filter(isSpan)) {
      const [total] = await this.spans.series(def, { from: today - DAY, to: today + DAY });
      out.yesterday[def.id] = total?.points[0]?.value ?? null;
      out.today[def.id] = total?.points[1]?.value ?? null;
      if (!channels) continue;
      for (const s of await this.spans.series(def, { from: today, to: today + DAY, byChannel: true })) {
        (out.todayByChannel[s.channel] ??= Object.create(null) as Values)[def.id] = s.points[0]?.value ?? null;
      }
    }
    return out;
  }

  start(): void {
    void this.refresh();
    // Ticks on wall-clock minute boundaries, not a minute after this node started: nodes of a
    // cluster then read the same stored sketches at the same moment, so walls on different
    // nodes show the same 月活 instead of differing for up to a minute.
    const tick = () => {
      void this.refresh(false);
      this.timer = setTimeout(tick, msToNextTick(this.now()));
      this.timer.unref();
    };
    this.timer = setTimeout(tick, msToNextTick(this.now()));
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
