import { describe, expect, it } from 'vitest';
import { dateTime, durationText, pct, rowSplit, splitLabel, stateTone, trendLink } from '../src/alertCenter/present';
import { changeText, changeTone, ruleValueText, sampleText, serverAge } from '../src/alertCenter/kpiText';
import { KPI_BY_ID } from '@siyu-pulse/contracts/catalogue';
import type { KpiDef } from '@siyu-pulse/contracts/catalogue';

describe('alert center presentation', () => {
  it('names splits in Chinese, channels by their wall name, the total as given', () => {
    expect(splitLabel({ dim: 'channel', value: 'wecom' }, 'zh', '整体')).toBe('渠道 · 企业微信');
    expect(splitLabel({ dim: 'community', value: '宝妈群 3' }, 'zh', '整体')).toBe('社群 · 宝妈群 3');
    expect(splitLabel(null, 'zh', '整体')).toBe('整体');
    expect(splitLabel(rowSplit({ splitDim: '', splitValue: '' }), 'en', 'Total')).toBe('Total');
  });

  it('links an alert to its trend: four windows before the moment, one after, never past now', () => {
    const at = 1_700_000_000_000;
    const link = new URL(trendLink('push_open_rate', { dim: 'channel', value: '门店 扫码,A' }, at, 15 * 60_000, at + 60_000), 'http://x');
    expect(link.pathname).toBe('/trends');
    expect(link.searchParams.get('kpi')).toBe('push_open_rate');
    expect(Number(link.searchParams.get('from'))).toBe(at - 60 * 60_000);
    expect(Number(link.searchParams.get('to'))).toBe(at + 60_000);
    expect(link.searchParams.get('channel')).toBe('门店 扫码,A');
  });

  it('colours a change by the KPI’s good direction', () => {
    const up = { good: 'up' } as KpiDef;
    const down = { good: 'down' } as KpiDef;
    expect(changeTone(up, -0.2)).toBe('bad');
    expect(changeTone(down, -0.2)).toBe('good');
    expect(changeTone(up, null)).toBe('neutral');
    expect(changeText(-0.9)).toBe('−90.0%');
    expect(changeText(0.156)).toBe('+15.6%');
  });

  it('formats windows, thresholds, tones and Shanghai times', () => {
    expect(durationText(15 * 60_000, 'zh')).toBe('15 分钟');
    expect(durationText(3_600_000, 'en')).toBe('1 h');
    expect(pct(0.15)).toBe('15%');
    expect(stateTone('firing', 'critical')).toBe('critical');
    expect(stateTone('flapping', 'warning')).toBe('flapping');
    // 2026-11-23T06:59:02Z is 14:59:02 in Shanghai.
    const ts = Date.parse('2026-11-23T06:59:02Z');
    expect(dateTime(ts, 'Asia/Shanghai', ts)).toBe('11-23 14:59:02');
    expect(dateTime(ts, 'Asia/Shanghai', Date.parse('2027-01-02T00:00:00Z'))).toBe('2026-11-23 14:59:02');
  });
});

describe('alert center: units in the rules tab', () => {
  const def = (id: string) => KPI_BY_ID.get(id);
  it("prints min_sample in the unit the engine compares: a ratio's denominator, money as ¥", () => {
    expect(sampleText(def('push_open_rate'), 200, 'zh')).toBe('200 送达数');
    expect(sampleText(def('push_open_rate'), 200, 'en')).toBe('200 deliveries');
    expect(sampleText(def('gmv'), 200_000, 'zh')).toBe('¥2,000.00');
    expect(sampleText(def('roas'), 500_000, 'zh')).toBe('¥5,000.00 投放花费');
    expect(sampleText(def('churn_rate'), 50, 'zh')).toBe('50 活跃成员');
    expect(sampleText(def('active_members'), 30, 'zh')).toBe('30 人');
    expect(sampleText(def('new_members'), 1_200, 'zh')).toBe('1,200');
  });

  it("prints a deadman rule's current value as a silence, not 15633", () => {
    expect(ruleValueText('deadman', undefined, 15_633, 'zh')).toBe('16 秒无数据');
    expect(ruleValueText('deadman', undefined, 4 * 60_000 + 12_000, 'en')).toBe('4.2 min silent');
    expect(ruleValueText('deadman', undefined, null, 'zh')).toBe('—');
    expect(ruleValueText('change', def('push_open_rate'), 0.252, 'zh')).toBe('25.2%');
  });

  it('measures "最近评估 … 前" on the server clock: a browser 20 s fast still reads 3 s', () => {
    const ranAt = 1_000_000;
    // Answered 1 s after the run, received (browser clock 20 s ahead) and read 2 s later.
    expect(serverAge(ranAt, ranAt + 1_000, ranAt + 21_000, ranAt + 23_000)).toBe(3_000);
    expect(serverAge(null, ranAt, ranAt, ranAt)).toBeNull();
    expect(serverAge(ranAt, undefined, null, ranAt + 5_000)).toBe(5_000); // an older server: browser clock
  });
});
