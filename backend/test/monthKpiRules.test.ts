/**
 * A rule over a window its KPI is not answered over is refused when it is loaded, naming the
 * KPI and the windows it supports (issue 13): a month-level KPI (月活, 30 日留存率) exists per
 * day only, so a 1h rule on it used to pass the schema and fail at every evaluation.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseRuleDocument, templatesOf } from '@siyu-pulse/alerts';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createKpiSource } from '../src/alerting/kpiSource.js';
import type { MetricStore } from '../src/store/port.js';

// The catalogue needs no store: nothing is read.
const source = createKpiSource({ store: {} as MetricStore, timezone: 'Asia/Shanghai', historySince: () => 0 });
const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
const rule = (kpi: string, window: string, extra: object = {}) => ({
  rules: [{ id: 'r', name: '规则', kpi, window, baseline: { type: 'previous_window' }, ...extra }],
});
const problems = (doc: object) => parseRuleDocument(doc, { file: 'month.yaml', catalogue }).problems.map((p) => p.message);

describe('month-level KPIs in alert rules', () => {
  it('the catalogue says which windows each distinct count is answered over', () => {
    expect(catalogue.get('retention_30d')?.windows).toEqual([86_400_000]);
    expect(catalogue.get('active_members_30d')?.windows).toEqual([86_400_000]);
    expect(catalogue.get('active_members')?.windows).toEqual([60_000, 3_600_000, 86_400_000]);
    expect(catalogue.get('messages')?.windows).toBeUndefined();
  });

  it('a 1h window on retention_30d / active_members_30d is refused with the KPI and its windows', () => {
    for (const kpi of ['retention_30d', 'active_members_30d']) {
      const msgs = problems(rule(kpi, '1h'));
      expect(msgs).toHaveLength(1);
      expect(msgs[0]).toContain(kpi);
      expect(msgs[0]).toContain('answered only over 1d');
      expect(msgs[0]).toContain('window 1h is not one of them');
      // A target rule too.
      expect(problems({ rules: [{ id: 't', name: '目标', kind: 'target', kpi, window: '1h', for: '1h' }] }).join(' ')).toContain('answered only over 1d');
    }
  });

  it('the same rules over 1d load; a plain distinct count keeps 1m / 1h / 1d; sums take any window', () => {
    expect(problems(rule('retention_30d', '1d'))).toEqual([]);
    expect(problems(rule('active_members_30d', '1d'))).toEqual([]);
    expect(problems(rule('active_members', '1h'))).toEqual([]);
    expect(problems(rule('active_members', '15m')).join(' ')).toMatch(/active_members counts distinct members and is answered only over 1m, 1h, 1d .*window 15m is not one of them/);
    expect(problems(rule('messages', '15m'))).toEqual([]);
  });

  it("a seasonal rule's extra windows must be answerable too", () => {
    const seasonal = { baseline: { type: 'seasonal', period: '1d', periods: 3 }, band: { quantile: 0.99, k: 1.2 }, short_window: '15m' };
    const msgs = problems(rule('active_members', '1h', seasonal));
    expect(msgs.join(' ')).toContain('short_window 15m is not one of them');
    expect(problems(rule('messages', '1h', seasonal))).toEqual([]);
  });
});

describe('the shipped rules against the real catalogue', () => {
  it('default.yaml loads without problems (every window is one its KPI is answered over)', () => {
    const dir = path.resolve(import.meta.dirname, '../../alerts/rules');
    const templates = templatesOf(parse(readFileSync(path.join(dir, 'generic.yaml'), 'utf8')));
    const doc = parse(readFileSync(path.join(dir, 'default.yaml'), 'utf8'));
    const r = parseRuleDocument(doc, { file: 'default.yaml', catalogue, templates });
    expect(r.problems).toEqual([]);
    expect(r.rules.length).toBeGreaterThan(5);
  });
});
