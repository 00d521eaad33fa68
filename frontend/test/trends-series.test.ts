import { describe, expect, it } from 'vitest';
import { KPIS, type KpiDef } from '@siyu-pulse/contracts/catalogue';
import type { AlertRow } from '@siyu-pulse/contracts/alerts';
import { buildOption, needsSymbols } from '../src/trends/chartOption';
import { buildModel, csvColumns, TOP_N, type KpiResult, type ModelTexts } from '../src/trends/model';
import {
  additiveValues,
  alignComparison,
  changeSummary,
  formatChange,
  relativeChange,
  tagKey,
  topSeries,
  wholeWindowValues,
  type SeriesAnswer,
} from '../src/trends/series';

const def = (id: string): KpiDef => KPIS.find((k) => k.id === id)!;
const H = 3_600_000;
const T0 = Date.UTC(2025, 10, 23, 0, 0); // 08:00 Beijing
const texts: ModelTexts = { lang: 'zh', untagged: '（未标注）', compareSuffix: { prev: '上一周期', wow: '上周同期' } };

function answer(kpi: string, series: SeriesAnswer['series'], from = T0, step = H, n = 3): SeriesAnswer {
  return { kpi, unit: def(kpi).unit, from, to: from + n * step, step, series };
}
const pts = (from: number, step: number, values: (number | null)[]) => values.map((v, i) => [from + i * step, v] as [number, number | null]);

describe('comparison alignment and change', () => {
  it('draws the value at ts − shift at ts, null where the comparison has no step', () => {
    const cur = pts(T0, H, [1, 2, 3]);
    const cmp = pts(T0 - 3 * H, H, [10, null]);
    expect(alignComparison(cur, cmp, 3 * H)).toEqual([
      [T0, 10, T0 - 3 * H],
      [T0 + H, null, T0 - 2 * H],
      [T0 + 2 * H, null, T0 - H],
    ]);
    expect(alignComparison(cur, undefined, 3 * H).map((p) => p[1])).toEqual([null, null, null]);
  });

  it('computes (cur − base) / |base| and colours by the KPI’s good direction', () => {
    expect(relativeChange(110, 100)).toBeCloseTo(0.1);
    expect(relativeChange(1, 0)).toBeNull();
    expect(relativeChange(null, 1)).toBeNull();
    expect(formatChange(0.1234)).toBe('+12.3%');
    expect(formatChange(-0.04)).toBe('−4.0%');
    expect(formatChange(0.00001)).toBe('0.0%');
    expect(changeSummary(90, 100, 'up')).toMatchObject({ text: '−10.0%', tone: 'bad' });
    expect(changeSummary(90, 100, 'down')).toMatchObject({ text: '−10.0%', tone: 'good' }); // churn falling is good
    expect(changeSummary(120, 100, 'neutral').tone).toBe('neutral');
  });
});

describe('range values: ratios of sums, never means of step ratios', () => {
  it('sums additive KPIs (counts, money) per series', () => {
    const a = answer('gmv', [{ tags: { channel: 'wecom' }, points: pts(T0, H, [100, null, 250]) }]);
    const r = additiveValues(a);
    expect(r.ok && r.values.get(tagKey({ channel: 'wecom' }))).toBe(350);
  });

  it('accepts the whole-window answer only when it covers exactly the window', () => {
    const whole = answer('push_open_rate', [{ tags: {}, points: [[T0, 0.3]] }], T0, 3 * H, 1);
    const ok = wholeWindowValues(whole, T0, T0 + 3 * H);
    expect(ok.ok && ok.values.get(tagKey({}))).toBe(0.3);
    expect(wholeWindowValues(whole, T0 - H, T0 + 2 * H)).toEqual({ ok: false, why: 'unaligned' });
    const two = { ...whole, to: T0 + 6 * H, series: [{ tags: {}, points: [[T0, 0.3], [T0 + 3 * H, 0.1]] as [number, number | null][] }] };
    expect(wholeWindowValues(two, T0, T0 + 6 * H)).toEqual({ ok: false, why: 'unaligned' });
  });
});

describe('top N', () => {
  it('ranks additive series by |total| and hides the rest', () => {
    const series = Array.from({ length: TOP_N + 2 }, (_, i) => ({ tags: { channel: `c${i}` }, points: pts(T0, H, [i, i]) }));
    const { shown, hidden } = topSeries(answer('gmv', series), true, TOP_N);
    expect(shown.map((s) => s.tags.channel)).toEqual(['c9', 'c8', 'c7', 'c6', 'c5', 'c4', 'c3', 'c2']);
    expect(hidden.map((s) => s.tags.channel)).toEqual(['c1', 'c0']);
  });
  it('ranks ratio series by steps with data, not by a 1-of-1 100% rate', () => {
    const a = answer('push_open_rate', [
      { tags: { channel: 'tiny' }, points: pts(T0, H, [1, null, null]) },
      { tags: { channel: 'busy' }, points: pts(T0, H, [0.2, 0.3, 0.25]) },
    ]);
    expect(topSeries(a, false, 1).shown[0]!.tags.channel).toBe('busy');
  });
});

describe('display model', () => {
  const alert = (over: Partial<AlertRow>): AlertRow => ({
    id: 'x', ts: T0 + H, alertKey: 'k', ruleId: 'r', ruleName: '打开率骤降', kpi: 'push_open_rate', splitDim: 'channel', splitValue: 'wecom', from: 'ok',
    state: 'firing', severity: 'warning', value: 0.1, baseline: 0.2, baselineKind: 'previous_window', change: -0.5, threshold: 0.15, summary: 's', ...over,
  });

  it('names series by KPI and split value, pairs the comparison by tags, and puts alerts, targets and axes in', () => {
    const cur = answer('paid_conversion', [
      { tags: { channel: 'wecom' }, points: pts(T0, H, [0.05, 0.06, 0.07]) },
      { tags: { channel: 'Store A, "VIP"' }, points: pts(T0, H, [0.01, 0.02, 0.03]) },
    ]);
    const cmp = answer('paid_conversion', [{ tags: { channel: 'wecom' }, points: pts(T0 - 3 * H, H, [0.04, 0.04, 0.04]) }], T0 - 3 * H);
    const r: KpiResult = {
      def: def('paid_conversion'),
      current: cur,
      comparison: cmp,
      shift: 3 * H,
      range: { ok: true, values: new Map([[tagKey({ channel: 'wecom' }), 0.062], [tagKey({ channel: 'Store A, "VIP"' }), 0.02]]) },
      compareRange: { ok: true, values: new Map([[tagKey({ channel: 'wecom' }), 0.04]]) },
      alerts: [alert({ kpi: 'paid_conversion' }), alert({ kpi: 'paid_conversion', state: 'resolved', ts: T0 + 2 * H }), alert({ kpi: 'paid_conversion', state: 'pending' }), alert({ kpi: 'paid_conversion', ts: T0 - H })],
    };
    const gmv: KpiResult = { def: def('gmv'), current: answer('gmv', [{ tags: { channel: 'wecom' }, points: pts(T0, H, [100, 200, 300]) }]), comparison: null, shift: 0, range: { ok: false, why: 'unaligned' }, compareRange: null, alerts: [] };
    const m = buildModel([r, gmv], { by: 'channel', filter: null, compare: 'prev' }, texts);
    expect(m.series.map((s) => s.name)).toEqual(['支付转化率 · 企业微信', '支付转化率 · Store A, "VIP"', '成交额 GMV · 企业微信']);
    expect(m.units).toEqual(['percent', 'fen']);
    expect(m.series.map((s) => s.axis)).toEqual([0, 0, 1]);
    const wecom = m.series[0]!;
    expect(wecom.value).toBe(0.062); // the whole-window answer, not the mean 0.06 of the steps
    expect(wecom.change).toMatchObject({ text: '+55.0%', tone: 'good' });
    expect(wecom.comparison!.map((p) => p[1])).toEqual([0.04, 0.04, 0.04]);
    expect(m.series[1]!.compareValue).toBeNull(); // no comparison series for that channel
    expect(m.series[2]!.value).toBe(600); // additive: summed even though range said unaligned
    expect(m.targets).toEqual([{ kpi: 'paid_conversion', axis: 0, value: 0.052, seriesId: wecom.id }]);
    expect(m.alerts.map((a) => a.state)).toEqual(['firing', 'resolved']); // pending and out-of-window dropped
    expect(m.empty).toBe(false);
    expect(m.compareWindow).toEqual({ from: T0 - 3 * H, to: T0 });

    const cols = csvColumns(m, texts, 'prev');
    expect(cols.map((c) => c.header)).toEqual([
      '支付转化率 · 企业微信（%）',
      '支付转化率 · 企业微信（%） · 上一周期',
      '支付转化率 · Store A, "VIP"（%）',
      '支付转化率 · Store A, "VIP"（%） · 上一周期',
      '成交额 GMV · 企业微信（元）',
    ]);
    expect(cols[1]!.values.get(T0)).toBe(0.04);

    const opt = buildOption(m, { lang: 'zh', timezone: 'Asia/Shanghai', target: '目标', compareSuffix: '上一周期', alertStates: { firing: '触发', resolved: '恢复', flapping: '波动' }, alertsSeries: '告警', rule: '规则', value: '值' });
    const series = opt.series as { id: string; lineStyle?: { type?: string }; markLine?: { data: unknown[] } }[];
    expect(series.map((s) => s.id)).toEqual([wecom.id, `${wecom.id}|cmp`, m.series[1]!.id, `${m.series[1]!.id}|cmp`, m.series[2]!.id, 'alerts']);
    expect(series[1]!.lineStyle?.type).toBe('dashed');
    expect((series[1] as { name?: string }).name).toBe(wecom.name); // one legend entry for both
    expect(series[0]!.markLine?.data).toEqual([{ yAxis: 0.052 }]);
    expect(series[5]!.markLine?.data).toHaveLength(2);
    expect((opt.yAxis as unknown[]).length).toBe(2);
  });

  it('keeps only the filtered value’s (and the total’s) alerts when filtered, and says empty when all is zero', () => {
    const r: KpiResult = {
      def: def('gmv'),
      current: answer('gmv', [{ tags: {}, points: pts(T0, H, [0, 0, null]) }]),
      comparison: null,
      shift: 0,
      range: { ok: true, values: new Map() },
      compareRange: null,
      alerts: [alert({ kpi: 'gmv', splitValue: 'sms' }), alert({ kpi: 'gmv', splitDim: '', splitValue: '' }), alert({ kpi: 'gmv' })],
    };
    const m = buildModel([r], { by: null, filter: { dim: 'channel', value: 'wecom' }, compare: null }, texts);
    expect(m.series[0]!.name).toBe('成交额 GMV · 企业微信');
    expect(m.alerts).toHaveLength(2);
    expect(m.empty).toBe(true);
  });
});

describe('chart dots', () => {
  it('draws dots for few values or values between gaps, not for a dense line', () => {
    const dense = pts(T0, H, Array.from({ length: 100 }, (_, i) => i));
    const alternating = pts(T0, H, Array.from({ length: 100 }, (_, i) => (i % 2 ? null : 0.3)));
    expect(needsSymbols(dense)).toBe(false);
    expect(needsSymbols(alternating)).toBe(true);
    expect(needsSymbols(pts(T0, H, [1, 2, 3]))).toBe(true);
  });
});

describe('ratios over 100% and thin points on the trends page', () => {
  it('flags a share over 100% with the missing counter and counts thin points', () => {
    const r: KpiResult = {
      def: def('push_open_rate'),
      current: {
        ...answer('push_open_rate', [
          { tags: { channel: 'wecom' }, points: pts(T0, H, [3, 0.5, null]), thin: [T0, T0 + H], outruns: [T0] },
          { tags: { channel: 'sms' }, points: pts(T0, H, [0.2, 0.25, null]), thin: [] },
        ]),
        thinBelow: 30,
        outrun: { kpi: 'push_open_rate', missing: 'push.delivered', note: { zh: '打开数多于送达数：缺少送达事件（push.delivered）？', en: 'x' }, short: { zh: 'y', en: 'y' } },
      },
      comparison: null,
      shift: 0,
      range: { ok: true, values: new Map([[tagKey({ channel: 'wecom' }), 1.4], [tagKey({ channel: 'sms' }), 0.22]]) },
      compareRange: null,
      alerts: [],
    };
    const m = buildModel([r], { by: 'channel', filter: null, compare: null }, texts);
    const wecom = m.series.find((s) => s.tags.channel === 'wecom')!;
    const sms = m.series.find((s) => s.tags.channel === 'sms')!;
    expect(wecom.outrun?.note.zh).toBe('打开数多于送达数：缺少送达事件（push.delivered）？');
    expect(wecom.outrunPoints).toBe(1);
    expect(wecom.thinPoints).toBe(2);
    expect(wecom.thinBelow).toBe(30);
    expect(sms.outrun).toBeNull();
    expect(sms.thinPoints).toBe(0);
  });
});
