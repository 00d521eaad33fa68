/**
 * Ratios over 100% and thin ratio points, through the real server (DuckDB store):
 *  - 3 deliveries and 9 opens on WeCom: push_open_rate is 300% — counted as it came, but the
 *    snapshot and the series answer flag it, naming the missing counter (push.delivered);
 *  - a plain ratio (AOV) and a share under 100% carry no flag;
 *  - auto step for a ratio over one hour is 1 min, not 10 s; a point with fewer than 30
 *    deliveries is listed as thin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveSnapshot } from '@siyu-pulse/contracts/live';
import type { SeriesResult } from '../src/query/series.js';
import { KPI_BY_ID } from '@siyu-pulse/contracts/catalogue';
import { outrunOf } from '@siyu-pulse/contracts/catalogue';
import { startTestPulse, type TestPulse } from './harness/pulse.js';
import { sectionBlock } from '../src/reports/markdown.js';
import type { ReportMetric } from '@siyu-pulse/contracts/reports';

describe('catalogue: share ratios over 100%', () => {
  it('names the missing counter of each share KPI, and leaves other ratios alone', () => {
    expect(outrunOf(KPI_BY_ID.get('push_open_rate'), 1.5)).toEqual({
      kpi: 'push_open_rate',
      missing: 'push.delivered',
      note: { zh: '打开数多于送达数：缺少送达事件（push.delivered）？', en: 'More opens than deliveries: push.delivered events missing?' },
      short: { zh: '缺少送达事件？', en: 'push.delivered missing?' },
    });
    expect(outrunOf(KPI_BY_ID.get('paid_conversion'), 4.575)?.note.zh).toBe('支付数多于浏览数：缺少浏览事件（page.view）？');
    expect(outrunOf(KPI_BY_ID.get('view_to_cart_rate'), 5.9)?.missing).toBe('page.view');
    expect(outrunOf(KPI_BY_ID.get('push_over_cap_share'), 1.2)?.note.zh).toBe('超频成员多于触达成员：缺少推送事件（push.sent）？');
    expect(outrunOf(KPI_BY_ID.get('push_open_rate'), 1)).toBeNull(); // 100% is possible
    expect(outrunOf(KPI_BY_ID.get('push_open_rate'), 0.4)).toBeNull();
    expect(outrunOf(KPI_BY_ID.get('aov'), 19_900)).toBeNull(); // fen per order: not a share
    expect(outrunOf(KPI_BY_ID.get('interactions_per_active'), 3)).toBeNull();
    expect(outrunOf(KPI_BY_ID.get('roas'), 4)).toBeNull();
  });
});

describe('server: ratios over 100% are flagged, ratio steps have samples', () => {
  let pulse: TestPulse;
  let now = 0;
  beforeAll(async () => {
    pulse = await startTestPulse();
    now = Date.now();
    const ev: Record<string, unknown>[] = [];
    for (let i = 0; i < 3; i++) ev.push({ type: 'push.delivered', channel: 'wecom', member: `d${i}`, ts: now - 1_000 });
    for (let i = 0; i < 9; i++) ev.push({ type: 'push.open', channel: 'wecom', member: `o${i}`, ts: now - 1_000 });
    for (let i = 0; i < 10; i++) ev.push({ type: 'push.delivered', channel: 'sms', member: `s${i}`, ts: now - 1_000 });
    for (let i = 0; i < 2; i++) ev.push({ type: 'push.open', channel: 'sms', member: `s${i}`, ts: now - 1_000 });
    expect((await pulse.post(JSON.stringify(ev))).status).toBe(202);
    await pulse.flushToStore();
  });
  afterAll(() => pulse?.stopAndClean());

  it('snapshot: the value is what the data says, with the flag overall and per channel', async () => {
    const s = (await pulse.get('/api/v1/snapshot')).json as LiveSnapshot;
    const today = s.windows.today;
    expect(today.kpis.push_open_rate?.value).toBeCloseTo(11 / 13, 10); // 85%: overall not over
    expect(today.kpis.push_open_rate?.outrun).toBeUndefined();
    expect(today.byChannel.wecom?.push_open_rate).toBe(3); // 9 / 3
    expect(today.outruns).toEqual([expect.objectContaining({ kpi: 'push_open_rate', channel: 'wecom', missing: 'push.delivered' })]);
    expect(today.byChannel.sms?.push_open_rate).toBeCloseTo(0.2, 10);
  });

  it('series: 1 h of a ratio on auto is 1-minute steps; outruns and thin points are listed', async () => {
    const r = (await pulse.get(`/api/v1/series?kpi=push_open_rate&from=${now - 3_600_000}&to=${now}&by=channel`)).json as SeriesResult;
    expect(r.step).toBe(60_000);
    expect(r.thinBelow).toBe(30);
    expect(r.outrun?.missing).toBe('push.delivered');
    const wecom = r.series.find((x) => x.tags.channel === 'wecom')!;
    const sms = r.series.find((x) => x.tags.channel === 'sms')!;
    const point = wecom.points.find(([, v]) => v !== null)!;
    expect(point[1]).toBe(3);
    expect(wecom.outruns).toEqual([point[0]]);
    expect(wecom.thin).toEqual([point[0]]); // 3 deliveries
    expect(sms.outruns).toBeUndefined();
    expect(sms.thin).toHaveLength(1); // 10 deliveries < 30
    // A count KPI keeps the fine step and has no ratio fields.
    const m = (await pulse.get(`/api/v1/series?kpi=messages&from=${now - 3_600_000}&to=${now}`)).json as SeriesResult;
    expect(m.step).toBe(10_000);
    expect(m.thinBelow).toBeUndefined();
  });
});

describe('weekly report: a share over 100% is not a target verdict', () => {
  it('the robot text names the missing counter instead of 达成 / 未达成', () => {
    const def = KPI_BY_ID.get('paid_conversion')!;
    const outrun = outrunOf(def, 4.575)!;
    const m: ReportMetric = { kpi: def.id, label: def.label, unit: 'percent', value: 4.575, previous: null, change: null, tone: 'neutral', target: 0.052, outrun };
    const targets = sectionBlock({ id: 'targets', title: { zh: '目标达成', en: 'Targets' }, finding: { zh: '…', en: '…' }, metrics: [m] });
    // The one metric line: the figure and the gap, no "目标 5.2%，达成 / 未达成" verdict.
    expect(targets.split('\n').filter((l) => l.startsWith('- '))).toEqual(['- 支付转化率：457.5%，⚠ 支付数多于浏览数：缺少浏览事件（page.view）？']);
    const funnel = sectionBlock({ id: 'funnel', title: { zh: '转化漏斗', en: 'Funnel' }, finding: { zh: '…', en: '…' }, metrics: [m] });
    expect(funnel).toContain('⚠ 支付转化率 457.5%：支付数多于浏览数：缺少浏览事件（page.view）？');
  });
});
