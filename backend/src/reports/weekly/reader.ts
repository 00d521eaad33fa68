/** The report's reading side: inputs, coverage, and KPI values of the week and the week before through SeriesService. */
import { EVENT_TYPES, countCounterOf } from '@siyu-pulse/contracts/catalogue';
import { KPIS, isSpan, usesDistinct, type KpiDef } from '@siyu-pulse/contracts/catalogue';
import type { SeriesService } from '../../query/series.js';
import type { AlertRow, MetricStore } from '../../store/port.js';
import { HOUR, alignmentOffset } from '../../time/zone.js';
import type { WeeklyReport } from '@siyu-pulse/contracts/reports';
import { addDays, localDate, type Week } from '../week.js';
import type { Pair, Value } from './parts.js';

/** One count per event type: any event shows in one of them (amounts and latencies come with a count). */
export const EVENT_COUNTS = EVENT_TYPES.map(countCounterOf);

export interface WeeklyReportInput {
  series: SeriesService;
  store: MetricStore;
  /** The KPI catalogue with its targets (default: the built-in catalogue). */
  catalogue?: readonly KpiDef[];
  /** Targets that override the catalogue's: KPI id → target in the KPI's unit. */
  targets?: Readonly<Record<string, number>>;
  timezone: string;
  /** Monday 00:00 of the report's week (business time zone), epoch ms. */
  weekStart: number;
  now: number;
  trigger: WeeklyReport['trigger'];
  /** A group's name as people know it (社群 names), or null for its id. */
  communityName?: (id: string) => string | null;
  /** Prefix of the trends links ('' keeps them relative, as the contract says). */
  linkBase?: string;
}

/**
 * A week is partial when it has a run of at least this many hours without a single event:
 * a quiet night of a small business is normal, but six hours of nothing means the system
 * was not collecting (not yet installed, down, producers disconnected).
 */
export const PARTIAL_GAP_HOURS = 6;
/** Alert events read per week (the history API's own maximum). */
export const ALERT_EVENT_LIMIT = 5000;

export interface Coverage {
  hours: number;
  hoursWithData: number;
  longestGapHours: number;
}

/** Reads KPI values for the report's week and the week before through SeriesService. */
export class Reader {
  readonly tz: string;
  private readonly kpis: Map<string, KpiDef>;
  private readonly targetOverrides: Readonly<Record<string, number>>;

  constructor(
    readonly input: WeeklyReportInput,
    readonly week: Week,
    readonly prev: Week,
  ) {
    this.tz = input.timezone;
    this.kpis = new Map((input.catalogue ?? KPIS).map((k) => [k.id, k]));
    this.targetOverrides = input.targets ?? {};
  }

  /** A KPI of the catalogue, or undefined (a catalogue without it: the metric is left out). */
  kpi(id: string): KpiDef | undefined {
    return this.kpis.get(id);
  }

  catalogue(): KpiDef[] {
    return [...this.kpis.values()];
  }

  targetOf(def: KpiDef): number | undefined {
    return Object.prototype.hasOwnProperty.call(this.targetOverrides, def.id) ? this.targetOverrides[def.id] : def.target;
  }

  /** One Σ÷Σ value over the week (step=all), total or per channel. */
  async whole(kpi: string, w: Week): Promise<Value> {
    const res = await this.input.series.series({ kpi, from: String(w.from), to: String(w.to), step: 'all', filter: {} });
    return res.series[0]?.points[0]?.[1] ?? null;
  }

  async wholeByChannel(kpi: string, w: Week): Promise<Map<string, Value>> {
    const res = await this.input.series.series({ kpi, from: String(w.from), to: String(w.to), step: 'all', by: 'channel', filter: {} });
    return new Map(res.series.map((s) => [s.tags.channel ?? '', s.points[0]?.[1] ?? null]));
  }

  /** The seven daily values (step=1d, local days). */
  async daily(kpi: string, w: Week): Promise<Value[]> {
    const res = await this.input.series.series({ kpi, from: String(w.from), to: String(w.to), step: '1d', filter: {} });
    return (res.series[0]?.points ?? []).map(([, v]) => v);
  }

  /**
   * The week's figure for a KPI: Σ÷Σ over the week, or for distinct-based KPIs the mean of
   * the daily values over the days with data (a day without any active member has none).
   */
  async weekValue(def: KpiDef, w: Week): Promise<{ value: Value; days?: number }> {
    if (!usesDistinct(def)) return { value: await this.whole(def.id, w) };
    if (isSpan(def)) {
      // Each day's value covers the days ending with it: the week's is its last day with data.
      const last = (await this.daily(def.id, w)).filter((v): v is number => v !== null).pop();
      return { value: last ?? null };
    }
    const days = (await this.daily(def.id, w)).filter((v): v is number => v !== null && (def.formula.kind !== 'distinct' || v > 0));
    return { value: days.length ? days.reduce((a, b) => a + b, 0) / days.length : null, days: days.length };
  }

  async pair(def: KpiDef): Promise<Pair & { days?: number }> {
    const [cur, before] = await Promise.all([this.weekValue(def, this.week), this.weekValue(def, this.prev)]);
    return { value: cur.value, previous: before.value, ...(cur.days !== undefined ? { days: cur.days } : {}) };
  }

  /** Hours of the week with any counter data, and the longest run of empty hours. */
  async coverage(w: Week): Promise<Coverage> {
    const [series] = await this.input.store.queryCounters({
      from: w.from, to: w.to, stepMs: HOUR, offsetMs: alignmentOffset(HOUR, this.tz, w.from), counters: EVENT_COUNTS, by: [], filter: {},
    });
    const withData = new Set((series?.points ?? []).filter((p) => Object.values(p.sums).some((v) => v > 0)).map((p) => p.ts));
    let longest = 0;
    let run = 0;
    let hours = 0;
    for (let t = w.from; t < w.to; t += HOUR) {
      hours++;
      run = withData.has(t) ? 0 : run + 1;
      longest = Math.max(longest, run);
    }
    return { hours, hoursWithData: withData.size, longestGapHours: longest };
  }

  async alertEvents(w: Week): Promise<AlertRow[]> {
    return this.input.store.queryAlertEvents({ from: w.from, to: w.to, limit: ALERT_EVENT_LIMIT });
  }

  /** `MM-DD` of each day of the report's week. */
  days(): string[] {
    return Array.from({ length: 7 }, (_, i) => {
      const d = localDate(addDays(this.week.from, i, this.tz), this.tz);
      return `${String(d.m).padStart(2, '0')}-${String(d.d).padStart(2, '0')}`;
    });
  }

  /** Trends page deep link for the week, compared with the week before. */
  link(kpis: string[], extra: Record<string, string> = {}): string {
    const q = [`kpi=${kpis.map(encodeURIComponent).join(',')}`, `from=${this.week.from}`, `to=${this.week.to}`, 'compare=prev'];
    for (const [k, v] of Object.entries(extra)) q.push(`${k}=${encodeURIComponent(v)}`);
    return `${this.input.linkBase ?? ''}/trends?${q.join('&')}`;
  }
}
