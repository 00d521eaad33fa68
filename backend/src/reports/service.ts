/**
 * Weekly reports as one operation for the API and the schedule: generate a week's report
 * from the store, keep it (replacing that week's earlier one) and send it to the configured
 * notifiers. Generations run one at a time, so two requests for the same week cannot
 * interleave their writes.
 */
import type { Logger } from 'pino';
import { EVENT_TYPES, countCounterOf } from '@siyu-pulse/contracts/catalogue';
import type { KpiDef } from '@siyu-pulse/contracts/catalogue';
import type { SeriesService } from '../query/series.js';
import type { MetricStore } from '../store/port.js';
import type { WeeklyReport } from '@siyu-pulse/contracts/reports';
import type { ReportDelivery } from './delivery.js';
import type { ReportStore } from './store.js';
import { generateWeeklyReport } from './weekly.js';
import { weekId, type Week } from './week.js';

/** One count per event type: any event shows in one of them. */
const EVENT_COUNTS = EVENT_TYPES.map(countCounterOf);

export interface ReportServiceOptions {
  series: SeriesService;
  store: MetricStore;
  reports: ReportStore;
  delivery: ReportDelivery;
  timezone: string;
  /** The KPI catalogue with the configured targets (read at each generation). */
  catalogue?: () => readonly KpiDef[];
  /** A group's name (社群 names) for the 社群健康 section; ids when absent. */
  communityName?: (id: string) => string | null;
  /** Notifier ids a report goes to ([]: the page only). */
  notify: readonly string[];
  /** How long a request waits for the robots' answers before it returns the report. */
  deliveryWaitMs?: number;
  logger: Logger;
  now?: () => number;
}

/**
 * Where reports go: the configured ids (each must be a configured notifier), or by default
 * the DingTalk robot when there is one. Throws with the setting's name otherwise.
 */
export function reportTargets(configured: readonly string[] | null, notifierIds: readonly string[]): string[] {
  if (configured === null) return notifierIds.includes('dingtalk') ? ['dingtalk'] : [];
  const unknown = configured.filter((id) => !notifierIds.includes(id));
  if (unknown.length) {
    throw new Error(`PULSE_WEEKLY_REPORT_NOTIFY: no notifier ${unknown.map((id) => JSON.stringify(id)).join(', ')} is configured (configured: ${notifierIds.join(', ') || 'none'}); use none for the report page only`);
  }
  return [...configured];
}

export class ReportService {
  private queue: Promise<unknown> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly o: ReportServiceOptions) {
    this.now = o.now ?? Date.now;
  }

  get timezone(): string {
    return this.o.timezone;
  }

  get notifyTargets(): readonly string[] {
    return this.o.notify;
  }

  idOf(week: Week): string {
    return weekId(week.from, this.o.timezone);
  }

  get(id: string): WeeklyReport | null {
    return this.o.reports.get(id);
  }

  /** Whether the store holds any data for the week (a fresh install has nothing to report). */
  async hasData(week: Week): Promise<boolean> {
    const step = week.to - week.from;
    const [series] = await this.o.store.queryCounters({ from: week.from, to: week.to, stepMs: step, offsetMs: week.from % step, counters: EVENT_COUNTS, by: [], filter: {} });
    return (series?.points ?? []).some((p) => Object.values(p.sums).some((v) => v > 0));
  }

  /** Resolves when no generation is running (shutdown waits for one in progress). */
  async idle(): Promise<void> {
    await this.queue;
  }

  /** Generates, keeps and (when `notify`) sends the report of `week`. */
  generate(week: Week, opts: { trigger: WeeklyReport['trigger']; notify: boolean }): Promise<WeeklyReport> {
    const run = this.queue.then(() => this.generateNow(week, opts));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async generateNow(week: Week, opts: { trigger: WeeklyReport['trigger']; notify: boolean }): Promise<WeeklyReport> {
    const started = this.now();
    const report = await generateWeeklyReport({
      series: this.o.series,
      store: this.o.store,
      ...(this.o.catalogue ? { catalogue: this.o.catalogue() } : {}),
      ...(this.o.communityName ? { communityName: this.o.communityName } : {}),
      timezone: this.o.timezone,
      weekStart: week.from,
      now: started,
      trigger: opts.trigger,
    });
    const saved = this.o.reports.save(report);
    // A cluster's report is in Redis before it is announced or sent.
    await this.o.reports.persisted();
    const targets = opts.notify ? this.o.notify : [];
    this.o.logger.info({ report: saved.id, trigger: opts.trigger, partial: saved.partial, notify: targets, ms: this.now() - started }, 'weekly report generated');
    if (!targets.length) return saved;
    await this.o.delivery.send(saved, targets, this.o.deliveryWaitMs ?? 15_000);
    return this.o.reports.get(saved.id) ?? saved;
  }
}
