/**
 * `pulse_alerts`: alert state changes as points (tags rule, kpi, state, severity,
 * split_dim, split_value; string fields for ids and text; float fields for numbers), so
 * Grafana can draw them as annotations straight from InfluxQL.
 */
import type { AlertQuery, AlertRow } from '../port.js';
import { StoreError } from '../port.js';
import type { InfluxSeries } from './client.js';
import { ms, quoteString } from './influxql.js';
import { checkTagValue, escapeKey, escapeMeasurement } from './lineProtocol.js';

export const ALERTS_MEASUREMENT = 'pulse_alerts';

/** String field values: double quotes and backslashes escaped; newlines are not portable. */
function stringField(v: string): string {
  return `"${v.replace(/[\r\n]+/g, ' ').replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function encodeAlert(a: AlertRow): string {
  if (!Number.isSafeInteger(a.ts)) throw new StoreError(`alert timestamp ${a.ts} is not an integer of milliseconds`, false);
  const tags: Record<string, string> = {
    kpi: a.kpi,
    rule: a.ruleId,
    severity: a.severity,
    split_dim: a.splitDim,
    split_value: a.splitValue,
    state: a.state,
  };
  let line = escapeMeasurement(ALERTS_MEASUREMENT);
  for (const key of Object.keys(tags).sort()) {
    const value = tags[key]!;
    if (value === '') continue;
    checkTagValue(key, value);
    line += `,${escapeKey(key)}=${escapeKey(value)}`;
  }
  const fields = [
    `event_id=${stringField(a.id)}`,
    `alert_key=${stringField(a.alertKey)}`,
    `rule_name=${stringField(a.ruleName)}`,
    `from_state=${stringField(a.from)}`,
    `baseline_kind=${stringField(a.baselineKind)}`,
    `summary=${stringField(a.summary)}`,
  ];
  for (const [k, v] of [['value', a.value], ['baseline', a.baseline], ['change', a.change], ['threshold', a.threshold]] as const) {
    if (v !== null && Number.isFinite(v)) fields.push(`${k}=${v}`);
  }
  return `${line} ${fields.join(',')} ${a.ts}`;
}

export function alertQuery(q: AlertQuery): string {
  const where = [`time >= ${ms(q.from, 'from')}`, `time < ${ms(q.to, 'to')}`];
  if (q.ruleId !== undefined) where.push(`"rule" = ${quoteString(q.ruleId)}`);
  if (q.kpi !== undefined) where.push(`"kpi" = ${quoteString(q.kpi)}`);
  if (q.state !== undefined) where.push(`"state" = ${quoteString(q.state)}`);
  // The event id is a string field, not a tag: a field filter scans the time range given.
  if (q.id !== undefined) where.push(`"event_id" = ${quoteString(q.id)}`);
  if (!Number.isInteger(q.limit)) throw new StoreError(`limit must be an integer, got ${q.limit}`, false);
  const limit = Math.max(1, Math.min(10_000, q.limit));
  return `SELECT * FROM "${ALERTS_MEASUREMENT}" WHERE ${where.join(' AND ')} ORDER BY time DESC LIMIT ${limit}`;
}

export function decodeAlerts(series: InfluxSeries[]): AlertRow[] {
  const out: AlertRow[] = [];
  for (const s of series) {
    const idx = new Map(s.columns.map((c, i) => [c, i]));
    const get = (row: unknown[], c: string) => row[idx.get(c) ?? -1];
    const str = (row: unknown[], c: string) => {
      const v = get(row, c);
      return typeof v === 'string' ? v : '';
    };
    const num = (row: unknown[], c: string) => {
      const v = get(row, c);
      return typeof v === 'number' ? v : null;
    };
    for (const row of s.values) {
      out.push({
        id: str(row, 'event_id'),
        ts: Number(get(row, 'time')),
        alertKey: str(row, 'alert_key'),
        ruleId: str(row, 'rule'),
        ruleName: str(row, 'rule_name'),
        kpi: str(row, 'kpi'),
        splitDim: str(row, 'split_dim'),
        splitValue: str(row, 'split_value'),
        from: str(row, 'from_state'),
        state: str(row, 'state'),
        severity: str(row, 'severity'),
        value: num(row, 'value'),
        baseline: num(row, 'baseline'),
        baselineKind: str(row, 'baseline_kind'),
        change: num(row, 'change'),
        threshold: num(row, 'threshold'),
        summary: str(row, 'summary'),
      });
    }
  }
  return out.sort((a, b) => b.ts - a.ts);
}
