/** Section 本周告警: firings, the longest episode, the most frequent rule. */
import type { AlertRow } from '../../store/port.js';
import { HOUR } from '../../time/zone.js';
import type { ReportMetric, ReportSection, ReportTable } from '@siyu-pulse/contracts/reports';
import { formatKpi as formatValue } from '@siyu-pulse/contracts/format';
import { ALERT_EVENT_LIMIT, type Reader } from './reader.js';
import { lbl, relativeChange, toneOf } from './parts.js';

export interface AlertStats {
  /** Transitions into firing during the week. */
  fired: number;
  /** Longest firing episode that started in the week: fired → resolved (or the week's end). */
  longest: { ruleId: string; ruleName: string; alertKey: string; scope: string; hours: number; ongoing: boolean } | null;
  /** Rules by firings, most first. */
  byRule: { ruleId: string; ruleName: string; fired: number; hours: number }[];
}

/**
 * Firing episodes from a week's alert events: each transition into `firing` (not a repeat
 * from `flapping`) lasts until the next `resolved` / `ok` of the same alert, or the week's end.
 */
export function alertStats(events: readonly AlertRow[], weekEnd: number): AlertStats {
  const sorted = [...events].sort((a, b) => a.ts - b.ts || a.id.localeCompare(b.id));
  const byRule = new Map<string, { ruleId: string; ruleName: string; fired: number; hours: number }>();
  let longest: AlertStats['longest'] = null;
  let fired = 0;
  for (const [i, e] of sorted.entries()) {
    if (e.state !== 'firing' || e.from === 'firing' || e.from === 'flapping') continue;
    fired++;
    const end = sorted.slice(i + 1).find((x) => x.alertKey === e.alertKey && (x.state === 'resolved' || x.state === 'ok'));
    const hours = ((end?.ts ?? weekEnd) - e.ts) / HOUR;
    const rule = byRule.get(e.ruleId) ?? { ruleId: e.ruleId, ruleName: e.ruleName, fired: 0, hours: 0 };
    rule.fired++;
    rule.hours += hours;
    byRule.set(e.ruleId, rule);
    if (!longest || hours > longest.hours) {
      const scope = e.splitDim ? `${e.splitDim}=${e.splitValue}` : '';
      longest = { ruleId: e.ruleId, ruleName: e.ruleName, alertKey: e.alertKey, scope, hours, ongoing: !end };
    }
  }
  return { fired, longest, byRule: [...byRule.values()].sort((a, b) => b.fired - a.fired || b.hours - a.hours || a.ruleId.localeCompare(b.ruleId)) };
}

export const DIM_ZH: Record<string, string> = { channel: '渠道', community: '社群', campaign: '活动' };

export async function alerts(r: Reader): Promise<ReportSection> {
  const [now, before] = await Promise.all([r.alertEvents(r.week), r.alertEvents(r.prev)]);
  const cur = alertStats(now, r.week.to);
  const prevStats = alertStats(before, r.prev.to);
  const countChange = relativeChange(cur.fired, prevStats.fired);
  const metrics: ReportMetric[] = [
    { label: lbl('告警触发次数', 'Alerts fired'), unit: 'count', value: cur.fired, previous: prevStats.fired, change: countChange, tone: toneOf('down', countChange) },
  ];
  const top = cur.byRule[0];
  const l = cur.longest;
  if (l) metrics.push({ label: lbl(`最长告警：${l.ruleName}`, `Longest alert: ${l.ruleName}`), unit: 'hours', value: l.hours, previous: null, change: null, tone: 'neutral' });
  if (top) metrics.push({ label: lbl(`触发最多：${top.ruleName}`, `Most frequent: ${top.ruleName}`), unit: 'count', value: top.fired, previous: null, change: null, tone: 'neutral' });
  const [dim = '', value = ''] = l?.scope ? [l.scope.slice(0, l.scope.indexOf('=')), l.scope.slice(l.scope.indexOf('=') + 1)] : [];
  const truncated = now.length >= ALERT_EVENT_LIMIT;
  const zh = cur.fired === 0
    ? `本周没有告警触发（上周 ${prevStats.fired} 次）。`
    : `本周告警触发 ${cur.fired} 次（上周 ${prevStats.fired} 次）。` +
      (l ? `持续最久：${l.ruleName}（${dim ? `${DIM_ZH[dim] ?? dim} ${value}` : '全部渠道'}）${formatValue(l.hours, 'hours', 'zh')}${l.ongoing ? '，到周末仍未恢复' : ''}。` : '') +
      (top ? `触发最多的规则：${top.ruleName}，${top.fired} 次。` : '') +
      (truncated ? `（告警事件超过 ${ALERT_EVENT_LIMIT} 条，只统计了最近的部分。）` : '');
  const en = cur.fired === 0
    ? `No alerts fired this week (${prevStats.fired} the week before).`
    : `${cur.fired} alerts fired this week (${prevStats.fired} the week before).` +
      (l ? ` Longest: ${l.ruleName}${dim ? ` (${dim} ${value})` : ''}, ${formatValue(l.hours, 'hours', 'en')}${l.ongoing ? ', still firing at the end of the week' : ''}.` : '') +
      (top ? ` Most frequent rule: ${top.ruleName}, ${top.fired} times.` : '') +
      (truncated ? ` (More than ${ALERT_EVENT_LIMIT} alert events: only the latest were counted.)` : '');
  return {
    id: 'alerts',
    title: lbl('本周告警', 'Alerts of the week'),
    finding: lbl(zh, en),
    metrics,
    ...(cur.byRule.length
      ? {
          table: {
            columns: [lbl('规则', 'Rule'), lbl('触发次数', 'Fired'), lbl('累计告警时长', 'Hours firing')],
            units: ['text', 'count', 'hours'],
            rows: cur.byRule.slice(0, 10).map((x) => [x.ruleName, x.fired, x.hours]),
          } satisfies ReportTable,
        }
      : {}),
    link: `${r.input.linkBase ?? ''}/alerts`,
  };
}
