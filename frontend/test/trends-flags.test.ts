import { describe, expect, it } from 'vitest';
import { KPIS, type KpiDef } from '@siyu-pulse/contracts/catalogue';
import { outrunOf } from '@siyu-pulse/contracts/catalogue';
import { buildOption, OUTRUN_COLOUR, type ChartTexts } from '../src/trends/chartOption';
import { buildModel, type KpiResult } from '../src/trends/model';
import { lang } from '../src/i18n';
import { tTrends } from '../src/trends/messages';

// Issue 11, points 4 and 5: a ratio point over 100% (numerator outran denominator) or with too
// few denominator events must not read as a business figure on the trends chart.
const def = KPIS.find((k) => k.id === 'push_open_rate') as KpiDef;
const M = 60_000;
const T0 = Date.UTC(2025, 10, 23, 0, 0); // 08:00 Beijing
const OUT = T0 + 2 * M;
const THIN = T0 + 4 * M;
const values = [0.2, 0.25, 1.5, 0.22, 1 / 3, 0.24];

function model() {
  const r: KpiResult = {
    def,
    current: {
      kpi: def.id,
      unit: def.unit,
      from: T0,
      to: T0 + values.length * M,
      step: M,
      thinBelow: 20,
      outrun: outrunOf(def, 1.5)!,
      series: [{ tags: {}, points: values.map((v, i) => [T0 + i * M, v]), outruns: [OUT], thin: [THIN] }],
    },
    comparison: null,
    shift: 0,
    range: { ok: true, values: new Map([['[null,null,null]', 0.3]]) },
    compareRange: null,
    alerts: [],
  };
  return buildModel([r], { by: null, filter: null, compare: null }, { lang: 'zh', untagged: '（未标注）', compareSuffix: { prev: '上一周期', wow: '上周同期' } });
}

const texts = (l: 'zh' | 'en'): ChartTexts => {
  lang.value = l;
  return { lang: l, timezone: 'Asia/Shanghai', target: '目标', compareSuffix: '上一周期', alertStates: { firing: '触发', resolved: '恢复', flapping: '波动' }, alertsSeries: '告警', rule: '规则', value: '值', thinPoint: tTrends('thinPoint'), outrunPoint: tTrends('outrunPoint') };
};

type Item = { value: [number, number, number]; symbol?: string; itemStyle?: { color?: string; opacity?: number } };
type Mark = { name: string; coord: [number, number]; value: number; symbol: string; itemStyle: { color: string; opacity?: number }; label: { show: boolean; formatter?: string } };
type Line = { id: string; data: (Item | [number, number, number])[]; markPoint?: { data: Mark[]; tooltip: { formatter: (p: unknown) => string } } };

describe('trends chart: outrun and thin points', () => {
  it('draws the outrun point as a ⚠ warning and the thin point hollow and faded, and their tooltips say why', () => {
    const m = model();
    expect(m.series[0]!.outrunTs).toEqual([OUT]);
    expect(m.series[0]!.thinTs).toEqual([THIN]);
    const opt = buildOption(m, texts('zh'));
    const line = (opt.series as Line[])[0]!;

    // Per-point style on the line itself (shown when the line shows its symbols)…
    const out = line.data[2] as Item;
    const thin = line.data[4] as Item;
    expect(out.value[2]).toBe(OUT);
    expect(out.symbol).toBe('triangle');
    expect(out.itemStyle?.color).toBe(OUTRUN_COLOUR);
    expect(thin.value[2]).toBe(THIN);
    expect(thin.symbol).toBe('emptyCircle');
    expect(thin.itemStyle?.opacity).toBeLessThan(1);
    // …plain points stay plain arrays.
    expect(Array.isArray(line.data[0])).toBe(true);
    expect(Array.isArray(line.data[3])).toBe(true);

    // …and markPoints, which show even on a dense line that hides its symbols.
    const marks = line.markPoint!.data;
    expect(marks.map((k) => [k.name, k.value, k.symbol])).toEqual([
      ['outrun', OUT, 'triangle'],
      ['thin', THIN, 'emptyCircle'],
    ]);
    expect(marks[0]!.itemStyle.color).toBe(OUTRUN_COLOUR);
    expect(marks[0]!.label).toMatchObject({ show: true, formatter: '⚠' });
    expect(marks[1]!.itemStyle.opacity).toBeLessThan(1);

    // The marker tooltip names the missing counter / says the point is thin.
    const outTip = line.markPoint!.tooltip.formatter({ value: OUT });
    expect(outTip).toContain('150.0%');
    expect(outTip).toContain('⚠ 打开数多于送达数：缺少送达事件（push.delivered）？');
    expect(line.markPoint!.tooltip.formatter({ value: THIN })).toContain('分母不足 20，仅供参考');

    // The axis tooltip says the same under the value, and nothing under a plain point.
    const axisTip = (opt.tooltip as { formatter: (p: unknown) => string }).formatter;
    const at = (i: number) => axisTip([{ seriesId: line.id, seriesName: '推送打开率', value: (Array.isArray(line.data[i]) ? line.data[i] : (line.data[i] as Item).value) }]);
    expect(at(2)).toContain('缺少送达事件（push.delivered）');
    expect(at(4)).toContain('分母不足 20，仅供参考');
    expect(at(0)).not.toContain('分母不足');
    expect(at(0)).not.toContain('⚠');
  });

  it('says it in English with ?lang=en', () => {
    const opt = buildOption(model(), texts('en'));
    lang.value = 'zh';
    const line = (opt.series as Line[])[0]!;
    expect(line.markPoint!.tooltip.formatter({ value: THIN })).toContain('Denominator below 20: indicative only');
    expect(line.markPoint!.tooltip.formatter({ value: OUT })).toContain('push.delivered events missing?');
  });
});
