/**
 * The wall's view of open alerts: the engine's active() list, each with the summary text
 * of its latest state-change event (the engine keeps state, not texts, so the summaries
 * are remembered here from the events the sink publishes).
 */
import type { ActiveAlert, AlertEvent } from '@siyu-pulse/alerts';
import type { LiveAlert } from '@siyu-pulse/contracts/live';

const OPEN = new Set(['pending', 'firing', 'flapping']);
// Ticker order: critical before warning, firing before flapping before pending, newest first.
const SEVERITY_RANK: Record<string, number> = { critical: 0, warning: 1 };
const STATE_RANK: Record<string, number> = { firing: 0, flapping: 1, pending: 2 };

export interface LiveAlertsOptions {
  active(): ActiveAlert[];
  /** Chinese KPI label, for a summary when no event text is known. */
  labelOf(kpi: string): string;
}

export interface LiveAlerts {
  /** Feed every published batch of alert events. */
  record(events: readonly Pick<AlertEvent, 'alertKey' | 'state' | 'summary'>[]): void;
  list(): LiveAlert[];
}

function fallbackSummary(a: ActiveAlert, label: string): string {
  const subject = a.split ? `${label}（${a.split.value}）` : label;
  if (a.change === null) return `${subject}告警中`;
  return `${subject}${a.change > 0 ? '上升' : '下降'} ${Math.abs(a.change * 100).toFixed(1)}%`;
}

export function createLiveAlerts(o: LiveAlertsOptions): LiveAlerts {
  const summaries = new Map<string, string>();
  return {
    record(events) {
      for (const e of events) {
        if (OPEN.has(e.state)) summaries.set(e.alertKey, e.summary);
        else summaries.delete(e.alertKey);
      }
    },
    list() {
      const open = o.active().filter((a) => OPEN.has(a.state));
      // Keys that are no longer open: drop their text so the map stays bounded.
      const keys = new Set(open.map((a) => a.alertKey));
      for (const k of summaries.keys()) if (!keys.has(k)) summaries.delete(k);
      return open
        .map(
          (a): LiveAlert => ({
            alertKey: a.alertKey,
            ruleName: a.ruleName,
            kpi: a.kpi,
            split: a.split,
            state: a.state as LiveAlert['state'],
            severity: a.severity,
            value: a.value,
            baseline: a.baseline,
            change: a.change,
            since: a.since,
            summary: summaries.get(a.alertKey) ?? fallbackSummary(a, o.labelOf(a.kpi)),
          }),
        )
        .sort(
          (x, y) =>
            (SEVERITY_RANK[x.severity ?? ''] ?? 2) - (SEVERITY_RANK[y.severity ?? ''] ?? 2) ||
            (STATE_RANK[x.state] ?? 3) - (STATE_RANK[y.state] ?? 3) ||
            y.since - x.since,
        );
    },
  };
}
