/**
 * Where alert state changes go: the store (`pulse_alerts`, for history and Grafana
 * annotations) and every live client (`alert` socket event). A failed store write is
 * kept and retried with the next publish, so history does not silently lose events.
 */
import type { AlertEvent, AlertSink } from '@siyu-pulse/alerts';
import type { Logger } from 'pino';
import type { AlertRow, MetricStore } from '../store/port.js';

const MAX_PENDING = 10_000;

export function toAlertRow(e: AlertEvent): AlertRow {
  return {
    id: e.id,
    ts: e.ts,
    alertKey: e.alertKey,
    ruleId: e.ruleId,
    ruleName: e.ruleName,
    kpi: e.kpi,
    splitDim: e.split?.dim ?? '',
    splitValue: e.split?.value ?? '',
    from: e.from,
    state: e.state,
    severity: e.severity ?? '',
    value: e.value,
    baseline: e.baseline,
    baselineKind: e.baselineKind ?? '',
    change: e.change,
    threshold: e.threshold,
    summary: e.summary,
  };
}

export function createAlertSink(o: { store: MetricStore; broadcast(events: AlertEvent[]): void; logger: Logger }): AlertSink {
  let pending: AlertRow[] = [];
  return {
    async publish(events) {
      if (events.length) o.broadcast(events);
      const rows = [...pending, ...events.map(toAlertRow)];
      if (!rows.length) return;
      try {
        await o.store.writeAlertEvents(rows);
        pending = [];
      } catch (err) {
        pending = rows.slice(-MAX_PENDING);
        o.logger.error({ err, pending: pending.length }, 'alert events not stored yet; retried with the next evaluation');
      }
    },
  };
}
