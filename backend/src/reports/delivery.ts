/**
 * Sends a weekly report to notifiers through the alert Dispatcher, so its outbox, per-robot
 * limiter, retries, DingTalk 加签, keyword and @mentions apply to reports as to alerts. The
 * message is rendered here, per notifier, to that notifier's size limit (whole sections are
 * left out, the link stays); the dispatcher only passes it through. Outcomes come back from
 * the dispatcher, possibly after a throttle or a restart, and go into the report's
 * delivery log.
 */
import type { DeliveryOutcome, Dispatcher, PlainMessage } from '@siyu-pulse/alerts';
import type { Logger } from 'pino';
import type { WeeklyReport } from '@siyu-pulse/contracts/reports';
import { DINGTALK_BUDGET, WECOM_BUDGET, renderReportMarkdown, type MarkdownBudget } from './markdown.js';
import type { ReportStore } from './store.js';

export interface ReportDeliveryOptions {
  dispatcher: Dispatcher;
  reports: ReportStore;
  businessName: string;
  /** Absolute URL of a report's page (`${PULSE_PUBLIC_URL}/reports/<id>`). */
  reportUrl(id: string): string;
  logger: Logger;
}

const KEY_PREFIX = 'report|';
/** Outbox key of one generation of a report: `report|<id>|<generatedAt>`. */
export const deliveryKey = (r: Pick<WeeklyReport, 'id' | 'generatedAt'>) => `${KEY_PREFIX}${r.id}|${r.generatedAt}`;

const BUDGETS: Record<string, MarkdownBudget | undefined> = { dingtalk: DINGTALK_BUDGET, wecom: WECOM_BUDGET };

export class ReportDelivery {
  private readonly waiters = new Map<string, () => void>();
  private readonly unsubscribe: () => void;

  constructor(private readonly o: ReportDeliveryOptions) {
    this.unsubscribe = o.dispatcher.onOutcome((outcome) => this.record(outcome));
  }

  /** Configured notifier ids and types. */
  notifiers(): { id: string; type: string }[] {
    return this.o.dispatcher.status().map((n) => ({ id: n.id, type: n.type }));
  }

  /**
   * Queues the report for each target (durably, before anything is sent). Resolves when every
   * target has an outcome or after `waitMs`; later outcomes still reach the log.
   */
  async send(report: WeeklyReport, targets: readonly string[], waitMs: number): Promise<void> {
    const types = new Map(this.notifiers().map((n) => [n.id, n.type]));
    const key = deliveryKey(report);
    const url = this.o.reportUrl(report.id);
    const known = targets.filter((t) => types.has(t));
    const unknown = targets.filter((t) => !types.has(t));
    if (unknown.length) {
      const at = Date.now();
      this.o.reports.addDelivery(report.id, unknown.map((notifier) => ({ notifier, ok: false, code: 'unknown_notifier', message: `no notifier "${notifier}" is configured`, at })));
    }
    const notifications = known.map((target): PlainMessage => {
      const budget = BUDGETS[types.get(target) ?? ''];
      const rendered = renderReportMarkdown(report, { businessName: this.o.businessName, reportUrl: url, ...(budget ? { budget } : {}) });
      if (rendered.omitted) this.o.logger.info({ report: report.id, notifier: target, omitted: rendered.omitted }, 'weekly report: sections left out to fit the notifier\'s size limit');
      const message: PlainMessage = {
        key,
        kind: 'report',
        // Its own group: never folded into an alert digest.
        group: key,
        title: rendered.title,
        text: rendered.text,
        links: [{ label: '查看完整周报', url }],
        targets: [target],
        ts: report.generatedAt,
      };
      return message;
    });
    const settled = known.map((t) => new Promise<void>((resolve) => this.waiters.set(`${t}\u0000${key}`, resolve)));
    this.o.dispatcher.enqueue(notifications);
    if (!settled.length) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(settled), new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    for (const t of known) this.waiters.delete(`${t}\u0000${key}`);
  }

  close(): void {
    this.unsubscribe();
    for (const resolve of this.waiters.values()) resolve();
    this.waiters.clear();
  }

  private record(o: DeliveryOutcome): void {
    if (o.kind !== 'report' || !o.key.startsWith(KEY_PREFIX)) return;
    const id = o.key.slice(KEY_PREFIX.length, o.key.lastIndexOf('|'));
    try {
      const entry: WeeklyReport['delivery'][number] = { notifier: o.notifierId, ok: o.ok, at: o.at };
      if (o.code) entry.code = o.code;
      // The explanation says what the robot's answer means and what to do; errmsg is kept in the outbox.
      if (!o.ok) entry.message = o.explanation || o.message || 'delivery failed';
      if (!this.o.reports.addDelivery(id, [entry])) this.o.logger.warn({ report: id }, 'weekly report delivered, but the report is gone');
      if (!o.ok) this.o.logger.warn({ report: id, notifier: o.notifierId, code: o.code, explanation: o.explanation }, 'weekly report: delivery failed');
    } catch (err) {
      this.o.logger.error({ err, report: id }, 'weekly report: could not record the delivery');
    }
    const waiter = this.waiters.get(`${o.notifierId}\u0000${o.key}`);
    waiter?.();
  }
}
