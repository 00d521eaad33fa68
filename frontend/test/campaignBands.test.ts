/** Campaign bands on the trends chart and the wall: clipped to the range, named (with channels on the trends page), in Beijing time. */
import { describe, expect, it } from 'vitest';
import { campaignSeries, visibleBands, type CampaignBand } from '../src/campaigns/bands';
import { buildOption } from '../src/trends/chartOption';
import type { TrendsModel } from '../src/trends/model';

const H = 3_600_000;
const T0 = Date.parse('2026-11-10T00:00:00+08:00');
const d11: CampaignBand = { id: 'double11-2026', name: '双11', start: Date.parse('2026-10-20T20:00:00+08:00'), end: Date.parse('2026-11-12T00:00:00+08:00') };
const day: CampaignBand = { id: 'member-day', name: '会员日', start: T0 + 10 * H, end: T0 + 14 * H, channels: ['wecom', 'miniprogram'] };
const later: CampaignBand = { id: 'later', name: '年终', start: T0 + 100 * H, end: T0 + 120 * H };

describe('campaign bands', () => {
  it('keeps the bands overlapping the range, clipped to it, earliest first', () => {
    expect(visibleBands([later, day, d11], T0, T0 + 24 * H)).toEqual([
      { ...d11, start: T0, end: T0 + 24 * H },
      day,
    ]);
    expect(visibleBands([day], T0 + 14 * H, T0 + 20 * H)).toEqual([]); // end is exclusive
  });

  it('draws each band as a named markArea on a data-less helper series', () => {
    const s = campaignSeries([day], (ts) => ts + 8 * H, { fill: 'rgba(0,0,0,0.1)', text: '#000', fontSize: 18 });
    expect(s.data).toEqual([]);
    expect(s.markArea?.data).toEqual([[{ name: '会员日', xAxis: day.start + 8 * H, label: { position: 'insideTopLeft', offset: [0, 0] } }, { xAxis: day.end + 8 * H }]]);
    // In the right half of the chart a label grows leftwards from the band's end; neighbours take turns on two rows.
    const right = campaignSeries([day, later], (ts) => ts, { fill: '', text: '', fontSize: 12 }, undefined, { from: T0, to: T0 + 30 * H });
    const labels = (right.markArea?.data as [{ label: unknown }, unknown][]).map(([a]) => a.label);
    expect(labels).toEqual([{ position: 'insideTopLeft', offset: [0, 0] }, { position: 'insideTopRight', offset: [0, 20] }]);
  });

  it('puts them on the trends chart in Beijing wall-clock time, with the channels in the name', () => {
    const model: TrendsModel = {
      series: [{ id: 's', name: '消息数', kpi: 'messages', unit: 'count', axis: 0, color: '#2563eb', points: [[T0, 1], [T0 + 23 * H, 2]], value: 3, compareValue: null, change: null } as unknown as TrendsModel['series'][number]],
      hidden: 0,
      units: ['count'],
      from: T0,
      to: T0 + 24 * H,
      targets: [],
      alerts: [],
      empty: false,
      compareWindow: null,
    } as unknown as TrendsModel;
    const texts = { lang: 'zh' as const, timezone: 'Asia/Shanghai', target: '目标', compareSuffix: '上一周期', alertStates: { firing: '触发', resolved: '恢复', flapping: '波动' }, alertsSeries: '告警', rule: '规则', value: '值' };
    const opt = buildOption(model, texts, [d11, day, later]);
    const series = opt.series as { id: string; markArea?: { data: [{ name: string; xAxis: number }, { xAxis: number }][] } }[];
    expect(series.map((x) => x.id)).toEqual(['campaigns', 's']);
    const bands = series[0]!.markArea!.data;
    expect(bands.map(([a]) => a.name)).toEqual(['双11', '会员日（企业微信、小程序）']);
    // x values are wall-clock time as UTC: Beijing 10:00 reads as 10:00 on the axis.
    expect(new Date(bands[1]![0].xAxis).toISOString()).toBe('2026-11-10T10:00:00.000Z');
    expect(new Date(bands[0]![1].xAxis).toISOString()).toBe('2026-11-10T23:00:00.000Z'); // clipped to the last point
    expect((buildOption(model, texts, []).series as { id: string }[]).map((x) => x.id)).toEqual(['s']);
  });
});
