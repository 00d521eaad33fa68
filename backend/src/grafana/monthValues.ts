/**
 * Month-level KPI values for Grafana (pulse_month on InfluxDB). Grafana reads InfluxDB with
 * InfluxQL, which cannot merge HyperLogLog sketches, so the server writes each span KPI's
 * value per local day (the same numbers /api/v1/series answers, query/span.ts):
 *
 *   pulse_month,kpi=<id>[,channel=<ch>] value=<float>,bound=<float> <day start ms>
 *
 * (no channel tag = all channels). A day's point is rewritten as the day fills up and when
 * late or imported events change the days behind it: today and yesterday every few minutes,
 * the last HISTORY_DAYS days at start-up and every few hours.
 */
import { KPIS, isSpan, type KpiDef } from '@siyu-pulse/contracts/catalogue';
import { SpanReader } from '../query/span.js';
import type { MetricStore } from '../store/port.js';
import { checkTagValue, escapeKey, escapeMeasurement } from '../store/influx/lineProtocol.js';
import { DAY, dayStart } from '../time/zone.js';

export const MONTH_MEASUREMENT = 'pulse_month';
/** Days rewritten at start-up and on every full pass. */
export const HISTORY_DAYS = 60;
const RECENT_EVERY_MS = 5 * 60_000;
const FULL_EVERY_MS = 6 * 3_600_000;

export interface MonthValuesOptions {
  store: MetricStore;
  /** Line-protocol lines to InfluxDB (precision ms). */
  write(lines: string[]): Promise<void>;
  timezone: string;
  onError?: (err: unknown) => void;
  now?: () => number;
}

/** Line protocol with float fields (the store's encoder writes integers only). */
export function monthLine(kpi: string, channel: string, ts: number, value: number, bound: number): string {
  let line = `${escapeMeasurement(MONTH_MEASUREMENT)},`;
  // Tags sorted by key.
  if (channel !== '') {
    checkTagValue('channel', channel);
    line += `channel=${escapeKey(channel)},`;
  }
  line += `kpi=${escapeKey(kpi)}`;
  return `${line} bound=${bound},value=${value} ${ts}`;
}

export class MonthValuesWriter {
  private readonly spans: SpanReader;
  private readonly now: () => number;
  private timers: NodeJS.Timeout[] = [];
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly o: MonthValuesOptions) {
    this.spans = new SpanReader(o.store, o.timezone);
    this.now = o.now ?? Date.now;
  }

  /** Computes and writes every span KPI for the local days [from, to) (day starts), total and per channel. */
  async writeDays(from: number, to: number, kpis: readonly KpiDef[] = KPIS.filter(isSpan)): Promise<number> {
    const lines: string[] = [];
    for (const def of kpis) {
      const [total, split] = await Promise.all([this.spans.series(def, { from, to }), this.spans.series(def, { from, to, byChannel: true })]);
      for (const s of [...total, ...split]) {
        for (const p of s.points) if (p.value !== null && p.ts <= this.now()) lines.push(monthLine(def.id, s.channel, p.ts, p.value, p.bound));
      }
    }
    if (lines.length) await this.o.write(lines);
    return lines.length;
  }

  /** The last `days` local days up to today. */
  pass(days: number): Promise<void> {
    const today = dayStart(this.now(), this.o.timezone);
    // One pass at a time: a slow store must not pile them up.
    this.running = this.running.then(() => this.writeDays(today - (days - 1) * DAY, today + DAY)).then(
      () => undefined,
      (err) => this.o.onError?.(err),
    );
    return this.running;
  }

  start(): void {
    void this.pass(HISTORY_DAYS);
    const recent = setInterval(() => void this.pass(2), RECENT_EVERY_MS);
    const full = setInterval(() => void this.pass(HISTORY_DAYS), FULL_EVERY_MS);
    recent.unref();
    full.unref();
    this.timers = [recent, full];
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    await this.running;
  }
}
