/**
 * The weekly report page's logic: values by unit, metric and table views, dates in the
 * business zone, list order, delivery log and the ECharts options of every chart kind —
 * from a hand-made report that covers every section and chart kind, with the awkward
 * values a real week has (missing values, a zero previous week, 万 and 亿 money, hours,
 * text cells, a refused DingTalk delivery).
 */
import { describe, expect, it } from 'vitest';
import { buildReportChartOption, chartHeight, chartIsEmpty, weakestStep } from '../src/reports/chartOption';
import { absoluteLink, cssString, dayLabel, deliveryViews, formatValue, linkKind, metricView, sortSummaries, stamp, tableView } from '../src/reports/present';
import type { ReportChart, ReportSummary, WeeklyReport } from '../src/reports/types';

const H = 3_600_000;
const D = 24 * H;
// Monday 2026-11-16 00:00 Asia/Shanghai = 2026-11-15T16:00:00Z.
const FROM = Date.UTC(2026, 10, 15, 16);
const DAYS = ['11-16', '11-17', '11-18', '11-19', '11-20', '11-21', '11-22'];
const l = (zh: string, en: string) => ({ zh, en });

const FIXTURE: WeeklyReport = {
  id: '2026-W47',
  kind: 'weekly',
  timezone: 'Asia/Shanghai',
  week: { from: FROM, to: FROM + 7 * D, label: '2026-11-16 – 11-22' },
  previousWeek: { from: FROM - 7 * D, to: FROM, label: '2026-11-09 – 11-15' },
  generatedAt: FROM + 7 * D + 9 * H + 5_000, // Monday 2026-11-23 09:00:05, the schedule
  trigger: 'schedule',
  partial: true,
  sections: [
    {
      id: 'scale',
      title: l('用户规模与增长', 'Scale and growth'),
      finding: l('本周净增 1,180 人，较上周多 12.0%。', 'Net growth 1,180, 12.0% more than last week.'),
      metrics: [
        { kpi: 'new_members', label: l('新增成员', 'New members'), unit: 'count', value: 12_345, previous: 11_000, change: 0.12227, tone: 'good' },
        { kpi: 'lost_members', label: l('流失成员', 'Lost members'), unit: 'count', value: 1_200, previous: 1_000, change: 0.2, tone: 'bad' },
        { label: l('净增', 'Net'), unit: 'count', value: -35, previous: 0, change: null, tone: 'neutral' },
      ],
      table: {
        columns: [l('日期', 'Day'), l('新增', 'New'), l('流失', 'Lost')],
        rows: [
          ['2026-11-16', 2_000, 100],
          ['2026-11-17', null, 150],
        ],
        units: ['text', 'count', 'count'],
      },
      chart: {
        kind: 'daily',
        unit: 'count',
        label: l('每日新增与流失', 'Daily joins and leaves'),
        days: DAYS,
        series: [
          { name: l('新增', 'New'), values: [2000, 1800, null, 1700, 1600, 1500, 1745] },
          { name: l('流失', 'Lost'), values: [100, 150, 200, 180, 170, 200, 200] },
        ],
      },
      link: '/trends?kpi=new_members,lost_members&from=1&to=2',
    },
    {
      id: 'interaction',
      title: l('互动深度', 'Interaction depth'),
      finding: l('人均互动 3.10 次，低于目标。', 'Interactions per member 3.10, below target.'),
      metrics: [
        { kpi: 'interactions_per_member', label: l('人均互动', 'Interactions per member'), unit: 'per_member', value: 3.1, previous: 3.3, change: -0.0606, tone: 'bad', target: 12, attained: false },
      ],
      chart: {
        kind: 'daily',
        unit: 'per_member',
        label: l('每日人均互动', 'Daily interactions per member'),
        days: DAYS,
        series: [{ name: l('人均互动', 'Per member'), values: [3, 3.2, 3.1, null, 3, 3.4, 3.0] }],
      },
    },
    {
      id: 'reach',
      title: l('触达效果', 'Reach'),
      finding: l('推送打开率 18.5%，短信最低。', 'Push open rate 18.5%; SMS is lowest.'),
      metrics: [
        { kpi: 'push_open_rate', label: l('推送打开率', 'Push open rate'), unit: 'percent', value: 0.185, previous: 0.2, change: -0.075, tone: 'bad' },
        { kpi: 'push_click_rate', label: l('推送点击率', 'Push click rate'), unit: 'percent', value: null, previous: null, change: null, tone: 'neutral' },
      ],
      table: {
        columns: [l('渠道', 'Channel'), l('打开率', 'Open rate'), l('点击率', 'Click rate')],
        rows: [
          ['企业微信', 0.25, 0.051],
          ['短信', 0.0123, null],
        ],
        units: ['text', 'percent', 'percent'],
      },
    },
    {
      id: 'funnel',
      title: l('转化漏斗', 'Conversion funnel'),
      finding: l('流失最多的一步是 加购→下单（32.0%）。', 'The biggest drop-off is cart → order (32.0%).'),
      metrics: [{ kpi: 'paid_conversion', label: l('支付转化率', 'Paid conversion'), unit: 'percent', value: 0.048, previous: 0.05, change: -0.04, tone: 'bad', target: 0.052, attained: false }],
      chart: {
        kind: 'funnel',
        steps: [
          { label: l('浏览→加购', 'View → cart'), rate: 0.41 },
          { label: l('加购→下单', 'Cart → order'), rate: 0.32 },
          { label: l('下单→支付', 'Order → paid'), rate: 0.9 },
          { label: l('支付→复购', 'Paid → repeat'), rate: null },
        ],
      },
    },
    {
      id: 'value',
      title: l('价值贡献', 'Value'),
      finding: l('GMV ¥123.5万，客单价 ¥256.00。', 'GMV ¥1.23M, AOV ¥256.00.'),
      metrics: [
        { kpi: 'gmv', label: l('GMV', 'GMV'), unit: 'fen', value: 123_456_789, previous: 100_000_000, change: 0.23456789, tone: 'good' },
        { kpi: 'aov', label: l('客单价', 'AOV'), unit: 'fen', value: 25_600, previous: 25_600, change: 0, tone: 'neutral' },
        { kpi: 'roas', label: l('ROAS', 'ROAS'), unit: 'multiple', value: 3.456, previous: 4, change: -0.136, tone: 'bad' },
        { label: l('全年 GMV', 'Year GMV'), unit: 'fen', value: 12_345_678_900, previous: null, change: null, tone: 'neutral' },
      ],
      chart: { kind: 'daily', unit: 'fen', label: l('每日 GMV', 'Daily GMV'), days: DAYS, series: [{ name: l('GMV', 'GMV'), values: [1e7, 2e7, 1.5e7, 2e7, 2.5e7, 2e7, 1.3456789e7] }] },
    },
    {
      id: 'retention',
      title: l('留存与流失', 'Retention and churn'),
      finding: l('7 日留存 86.0%，达标。', '7-day retention 86.0%, on target.'),
      metrics: [{ kpi: 'retention_7d', label: l('7日留存', '7-day retention'), unit: 'percent', value: 0.86, previous: 0.84, change: 0.0238, tone: 'good', target: 0.85, attained: true }],
    },
    {
      id: 'channels',
      title: l('渠道排行', 'Channel ranking'),
      finding: l('小程序 GMV 增长最快，短信下滑最多。', 'Mini-program grew most; SMS fell most.'),
      metrics: [],
      table: {
        columns: [l('渠道', 'Channel'), l('GMV', 'GMV'), l('环比', 'WoW')],
        rows: [
          ['小程序', 50_000_000, 0.3],
          ['短信', 1_000_000, -0.25],
        ],
        units: ['text', 'fen', 'percent'],
      },
      chart: { kind: 'bar', unit: 'fen', label: l('渠道 GMV', 'GMV by channel'), categories: ['小程序', '企业微信', '短信'], values: [50_000_000, 30_000_000, null] },
    },
    {
      id: 'alerts',
      title: l('本周告警', 'Alerts of the week'),
      finding: l('共 5 次告警，最长持续 2.5 小时。', '5 alerts; the longest lasted 2.5 h.'),
      metrics: [
        { label: l('告警次数', 'Alerts'), unit: 'count', value: 5, previous: 2, change: 1.5, tone: 'neutral' },
        { label: l('最长持续', 'Longest'), unit: 'hours', value: 2.5, previous: 0.5, change: 4, tone: 'neutral' },
      ],
      table: {
        columns: [l('规则', 'Rule'), l('次数', 'Count'), l('累计时长', 'Total')],
        rows: [['新增成员骤降', 3, 0.25]],
        units: ['text', 'count', 'hours'],
      },
      link: '/alerts',
    },
    {
      id: 'targets',
      title: l('目标达成', 'Target attainment'),
      finding: l('3 项目标中达成 1 项。', '1 of 3 targets met.'),
      metrics: [],
      table: {
        columns: [l('指标', 'KPI'), l('本周', 'Week'), l('目标', 'Target'), l('达成', 'Status')],
        rows: [
          ['7日留存', 0.86, 0.85, '达标'],
          ['人均互动', 3.1, 12, '未达标'],
        ],
        units: ['text', 'per_member', 'per_member', 'text'],
      },
      link: '/trends?kpi=retention_7d',
    },
  ],
  delivery: [
    { notifier: 'dingtalk', ok: false, code: '310000', message: 'sign not match', at: FROM + 7 * D + 9 * H + 6_000 },
    { notifier: 'wecom', ok: true, code: '0', at: FROM + 7 * D + 9 * H + 7_000 },
  ],
};

const section = (id: string) => FIXTURE.sections.find((s) => s.id === id)!;
const chartOf = (id: string) => section(id).chart!;
// ECharts options are loosely typed unions; tests read them as plain data.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;
const opt = (c: ReportChart, lang: 'zh' | 'en' = 'zh'): Loose => buildReportChartOption(c, lang);

describe('weekly report fixture', () => {
  it('covers every section kind and every chart kind', () => {
    expect(FIXTURE.sections.map((s) => s.id)).toEqual(['scale', 'interaction', 'reach', 'funnel', 'value', 'retention', 'channels', 'alerts', 'targets']);
    expect(new Set(FIXTURE.sections.flatMap((s) => (s.chart ? [s.chart.kind] : [])))).toEqual(new Set(['daily', 'bar', 'funnel']));
  });
});

describe('report values', () => {
  it('formats each unit like the wall: 万/亿 money from fen, fractions as percent, a real minus, — for missing', () => {
    expect(formatValue(12_345, 'count', 'zh')).toBe('1.2万');
    expect(formatValue(1_200, 'count', 'zh')).toBe('1,200');
    expect(formatValue(-35, 'count', 'zh')).toBe('−35');
    expect(formatValue(123_456_789, 'fen', 'zh')).toBe('¥123.5万');
    expect(formatValue(12_345_678_900, 'fen', 'zh')).toBe('¥1.23亿');
    expect(formatValue(25_600, 'fen', 'zh')).toBe('¥256.00');
    expect(formatValue(123_456_789, 'fen', 'en')).toBe('¥1.23M');
    expect(formatValue(0.185, 'percent', 'zh')).toBe('18.5%');
    expect(formatValue(0.0123, 'percent', 'zh')).toBe('1.2%');
    expect(formatValue(3.1, 'per_member', 'zh')).toBe('3.10 次/人');
    expect(formatValue(3.456, 'multiple', 'zh')).toBe('3.46 倍');
    expect(formatValue(2.5, 'hours', 'zh')).toBe('2.5 小时');
    expect(formatValue(0.25, 'hours', 'zh')).toBe('0.3 小时');
    expect(formatValue(60, 'hours', 'en')).toBe('60.0 h');
    expect(formatValue(null, 'percent', 'zh')).toBe('—');
    expect(formatValue(Number.NaN, 'count', 'zh')).toBe('—');
    expect(formatValue('企业微信', 'text', 'zh')).toBe('企业微信');
    expect(formatValue('', 'text', 'zh')).toBe('—');
    expect(formatValue(1234.5, 'text', 'zh')).toBe('1,234.5');
  });

  it('shows a metric with its change coloured by the report’s tone, and its target', () => {
    const [joins, lost, net] = section('scale').metrics.map((m) => metricView(m, 'zh'));
    expect(joins).toMatchObject({ kpi: 'new_members', label: '新增成员', value: '1.2万', previous: '1.1万', change: '+12.2%', tone: 'good', target: null, attained: null });
    expect(lost).toMatchObject({ value: '1,200', change: '+20.0%', tone: 'bad' });
    // A zero previous week has no change: "—", not "+∞%", and nothing to colour.
    expect(net).toMatchObject({ value: '−35', previous: '0', change: '—', tone: 'neutral', kpi: undefined });

    const inter = metricView(section('interaction').metrics[0]!, 'zh');
    expect(inter).toMatchObject({ value: '3.10 次/人', change: '−6.1%', tone: 'bad', target: '12.00 次/人', attained: false });
    const ret = metricView(section('retention').metrics[0]!, 'en');
    expect(ret).toMatchObject({ label: '7-day retention', value: '86.0%', change: '+2.4%', tone: 'good', target: '85.0%', attained: true });
    const aov = metricView(section('value').metrics[1]!, 'zh');
    expect(aov).toMatchObject({ value: '¥256.00', change: '0.0%', tone: 'neutral' });
  });

  it('claims no attainment for a week without a value, even if the report says missed', () => {
    const m = { ...section('funnel').metrics[0]!, value: null, change: null };
    expect(metricView(m, 'zh')).toMatchObject({ value: '—', change: '—', tone: 'neutral', target: '5.2%', attained: null });
    const missing = metricView(section('reach').metrics[1]!, 'zh');
    expect(missing).toMatchObject({ value: '—', previous: '—', change: '—', tone: 'neutral', target: null });
  });

  it('formats tables by their column units and marks numeric columns', () => {
    const v = tableView(section('channels').table!, 'zh');
    expect(v.columns).toEqual(['渠道', 'GMV', '环比']);
    expect(v.numeric).toEqual([false, true, true]);
    expect(v.rows).toEqual([
      ['小程序', '¥50.0万', '30.0%'],
      ['短信', '¥1.0万', '−25.0%'],
    ]);
    expect(tableView(section('scale').table!, 'en').rows).toEqual([
      ['2026-11-16', '2,000', '100'],
      ['2026-11-17', '—', '150'],
    ]);
    expect(tableView(section('alerts').table!, 'zh').rows).toEqual([['新增成员骤降', '3', '0.3 小时']]);
    expect(tableView(section('targets').table!, 'zh').rows[1]).toEqual(['人均互动', '3.10 次/人', '12.00 次/人', '未达标']);
    // A row shorter than the columns shows "—" in the missing cells rather than shifting.
    expect(tableView({ columns: [{ zh: 'a', en: 'a' }, { zh: 'b', en: 'b' }], rows: [['x']], units: ['text', 'count'] }, 'zh').rows).toEqual([['x', '—']]);
  });
});

describe('report dates and lists', () => {
  it('writes the generation time in the business zone and names chart days with their weekday', () => {
    expect(stamp(FIXTURE.generatedAt, 'Asia/Shanghai')).toBe('2026-11-23 09:00');
    expect(dayLabel('2026-11-16', 0, 'zh')).toBe('11-16 周一');
    expect(dayLabel('2026-11-22', 6, 'en')).toBe('Sun 11-22');
    // The report's own form: MM-DD, Monday first.
    expect(dayLabel('11-16', 0, 'zh')).toBe('11-16 周一');
    expect(dayLabel('11-22', 6, 'zh')).toBe('11-22 周日');
    expect(dayLabel('周一', 0, 'zh')).toBe('周一');
  });

  it('lists the newest week first, a regenerated week by its newest generation', () => {
    const s = (id: string, from: number, generatedAt: number): ReportSummary => ({ id, week: { from, to: from + 1, label: id }, generatedAt, trigger: 'manual', partial: false });
    const sorted = sortSummaries([s('a', 1, 10), s('c', 3, 5), s('b', 2, 1), s('c2', 3, 9)]);
    expect(sorted.map((x) => x.id)).toEqual(['c2', 'c', 'b', 'a']);
  });

  it('explains a refused delivery with its errcode and says nothing more for a delivered one', () => {
    const v = deliveryViews(FIXTURE, (n) => (n === 'dingtalk' ? '钉钉群机器人' : n), (c) => `错误码 ${c}`);
    expect(v).toEqual([
      { notifier: '钉钉群机器人', ok: false, detail: '错误码 310000 · sign not match', at: FIXTURE.delivery[0]!.at },
      { notifier: 'wecom', ok: true, detail: '', at: FIXTURE.delivery[1]!.at },
    ]);
  });

  it('quotes running-header text as a CSS string that text from the server cannot break out of', () => {
    expect(cssString('私域数据周报 · 2026-W47')).toBe('"私域数据周报 · 2026-W47"');
    expect(cssString('a"b\\c\nd')).toBe('"a\\"b\\\\c d"');
  });

  it('prints links as absolute URLs and names the page they open', () => {
    expect(absoluteLink('/trends?kpi=retention_7d', 'https://pulse.example.cn')).toBe('https://pulse.example.cn/trends?kpi=retention_7d');
    expect(linkKind('/trends?kpi=gmv&from=1')).toBe('trends');
    expect(linkKind('/alerts')).toBe('alerts');
    expect(linkKind('https://pulse.example.cn/trends?kpi=gmv')).toBe('trends');
    expect(linkKind('/')).toBe('other');
  });
});

describe('report charts', () => {
  it('draws daily counts as grouped bars with a legend, day labels and gaps for missing days', () => {
    const o = opt(chartOf('scale'));
    expect(o.animation).toBe(false);
    expect(o.series.map((s: Loose) => [s.type, s.name])).toEqual([
      ['bar', '新增'],
      ['bar', '流失'],
    ]);
    expect(o.legend).toBeDefined();
    expect(o.xAxis.data[0]).toBe('11-16 周一');
    expect(o.series[0].data).toEqual([2000, 1800, '-', 1700, 1600, 1500, 1745]);
    expect(o.yAxis.axisLabel.formatter(20000)).toBe('2.0万');
    const tip = o.tooltip.formatter([
      { name: '11-18 周三', seriesName: '新增', marker: '', value: '-' },
      { name: '11-18 周三', seriesName: '流失<b>', marker: '', value: 200 },
    ]);
    expect(tip).toBe('11-18 周三<br/>新增：—<br/>流失&#60;b&#62;：200');
  });

  it('draws daily rates and per-member values as lines (they do not add up), money as bars with ¥ axes', () => {
    const inter = opt(chartOf('interaction'), 'en');
    expect(inter.series).toHaveLength(1);
    expect(inter.series[0].type).toBe('line');
    expect(inter.legend).toBeUndefined();
    expect(inter.xAxis.data[6]).toBe('Sun 11-22');
    const gmv = opt(chartOf('value'));
    expect(gmv.series[0].type).toBe('bar');
    expect(gmv.yAxis.axisLabel.formatter(20_000_000)).toBe('¥20.0万');
    // Below ¥1万 ticks are whole yuan: no cents crowding the axis.
    expect(gmv.yAxis.axisLabel.formatter(300_000)).toBe('¥3,000');
    expect(gmv.yAxis.axisLabel.formatter(0)).toBe('¥0');
    expect(gmv.yAxis.axisLabel.formatter(1_000_000)).toBe('¥1.0万');
  });

  it('draws a ranking as horizontal bars, first at the top, with values written and — for a missing one', () => {
    const o = opt(chartOf('channels'));
    expect(o.yAxis).toMatchObject({ type: 'category', inverse: true, data: ['小程序', '企业微信', '短信'] });
    expect(o.xAxis.type).toBe('value');
    const data = o.series[0].data;
    expect(data[0].value).toBe(50_000_000);
    expect(o.series[0].label.formatter({ value: 50_000_000 })).toBe('¥50.0万');
    expect(data[2]).toMatchObject({ value: 0, label: { show: true, formatter: '—' } });
    expect(o.tooltip.formatter({ name: '短信', dataIndex: 2 })).toBe('短信：—');
  });

  it('draws the funnel as rate bars on a 0–100% axis with the weakest step highlighted', () => {
    const c = chartOf('funnel');
    expect(c.kind).toBe('funnel');
    const o = opt(c);
    expect(o.yAxis.data).toEqual(['浏览→加购', '加购→下单', '下单→支付', '支付→复购']);
    expect(o.xAxis.max).toBe(1);
    expect(o.series[0].label.formatter({ value: 0.32 })).toBe('32.0%');
    const colours = o.series[0].data.map((d: Loose) => d.itemStyle.color);
    expect(colours[1]).not.toBe(colours[0]);
    expect(colours[2]).toBe(colours[0]);
    expect(o.series[0].data[3].label.formatter).toBe('—');
    expect(weakestStep(c.kind === 'funnel' ? c.steps : [])).toBe(1);
    expect(weakestStep([{ rate: 0.5 }, { rate: null }])).toBe(-1);
  });

  it('knows a chart with nothing to draw (the page says "no data" instead of empty axes)', () => {
    expect(chartIsEmpty(chartOf('scale'))).toBe(false);
    expect(chartIsEmpty(chartOf('funnel'))).toBe(false);
    expect(chartIsEmpty(chartOf('channels'))).toBe(false);
    const l = { zh: '', en: '' };
    expect(chartIsEmpty({ kind: 'daily', unit: 'count', label: l, days: ['11-16'], series: [{ name: l, values: [null] }] })).toBe(true);
    expect(chartIsEmpty({ kind: 'daily', unit: 'count', label: l, days: ['11-16'], series: [{ name: l, values: [0] }] })).toBe(false);
    expect(chartIsEmpty({ kind: 'bar', unit: 'fen', label: l, categories: [], values: [] })).toBe(true);
    expect(chartIsEmpty({ kind: 'funnel', steps: [{ label: l, rate: null }] })).toBe(true);
    // Whole units only on count axes.
    expect(opt(chartOf('scale')).yAxis.minInterval).toBe(1);
    expect(opt(chartOf('interaction')).yAxis.minInterval).toBeUndefined();
  });

  it('sizes rankings and funnels by their rows', () => {
    expect(chartHeight(chartOf('scale'))).toBe(260);
    expect(chartHeight(chartOf('channels'))).toBe(146);
    expect(chartHeight({ kind: 'bar', unit: 'count', label: { zh: '', en: '' }, categories: Array.from({ length: 20 }, (_, i) => String(i)), values: [] })).toBe(656);
    expect(chartHeight(chartOf('funnel'))).toBe(200);
    // Flatter on paper.
    expect(chartHeight(chartOf('scale'), true)).toBe(150);
    expect(chartHeight(chartOf('channels'), true)).toBe(106);
    expect(chartHeight(chartOf('funnel'), true)).toBe(138);
  });
});
