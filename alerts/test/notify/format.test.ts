import { describe as group, expect, test } from 'vitest';
import {
  describe,
  formatChange,
  formatCount,
  formatDigest,
  formatDuration,
  formatMoney,
  formatNotification,
  formatPercent,
  formatThreshold,
  formatTime,
  formatValue,
} from '../../src/notify/format.js';
import { openRateDrop, storm, T0 } from './helpers.js';

group('number formatters', () => {
  test('percent values are fractions', () => {
    expect(formatPercent(0.2519)).toBe('25.2%');
    expect(formatPercent(0.312)).toBe('31.2%');
    expect(formatPercent(0)).toBe('0.0%');
    expect(formatPercent(-0.0004)).toBe('0.0%');
    expect(formatPercent(null)).toBe('—');
  });
  test('money is fen, with 万 / 亿', () => {
    expect(formatMoney(987650)).toBe('¥9,876.50');
    expect(formatMoney(1_200_000)).toBe('¥1.2万');
    expect(formatMoney(12_345_678_900)).toBe('¥1.23亿');
    expect(formatMoney(999_999.6)).toBe('¥1.0万'); // ¥9,999.996 rounds into the next step, not "¥10,000.00"
    expect(formatMoney(-250_000)).toBe('-¥2,500.00');
  });
  test('counts with 万 / 亿', () => {
    expect(formatCount(9876)).toBe('9,876');
    expect(formatCount(123_456)).toBe('12.3万');
    expect(formatCount(234_000_000)).toBe('2.34亿');
  });
  test('durations in ms read as 毫秒 / 秒 / 分钟 / 小时', () => {
    expect(formatDuration(850)).toBe('850 毫秒');
    expect(formatDuration(4200)).toBe('4.2 秒');
    expect(formatDuration(42_000)).toBe('42 秒');
    expect(formatDuration(210_000)).toBe('3.5 分钟');
    expect(formatDuration(4_320_000)).toBe('1.2 小时');
  });
  test('by unit, change, threshold, time', () => {
    expect(formatValue(1.256, 'multiple')).toBe('1.26 倍');
    expect(formatValue(2.5, 'per_member')).toBe('2.50 次/人');
    expect(formatChange(-0.16312)).toBe('16.3%');
    expect(formatThreshold(0.15)).toBe('±15%');
    expect(formatThreshold(0.125)).toBe('±12.5%');
    expect(formatTime(T0)).toBe('2026-11-23 20:15'); // Asia/Shanghai, not UTC (12:15)
  });
});

group('messages', () => {
  test('a firing message reads exactly as a manager sees it', () => {
    const n = openRateDrop({
      contributors: [
        { dim: 'community', value: '北京1群', current: 0.205, baseline: 0.31, change: (0.205 - 0.31) / 0.31 },
        { dim: 'community', value: '上海2群', current: 0.24, baseline: 0.29, change: (0.24 - 0.29) / 0.29 },
      ],
    });
    const { title, text } = formatNotification(n);
    expect(title).toBe('【告警】推送打开率（渠道 wecom）环比下降 16.3%');
    expect(text).toBe(
      [
        '### 【告警】推送打开率（渠道 wecom）环比下降 16.3%',
        '- 级别：警告',
        '- KPI：推送打开率',
        '- 范围：渠道 wecom',
        '- 当前值：25.2%',
        '- 基线：30.1%（上一个 60 分钟，环比）',
        '- 变化：下降 16.3%（不利）',
        '- 阈值：±15%',
        '- 时间：2026-11-23 20:15',
        '- 窗口：60 分钟',
        '- 规则：推送打开率下跌',
        '',
        '主要贡献：',
        '1. 社群 北京1群：当前 20.5%，基线 31.0%，下降 33.9%',
        '2. 社群 上海2群：当前 24.0%，基线 29.0%，下降 17.2%',
        '',
        '[查看趋势](https://pulse.example.com/kpi/push_open_rate?channel=wecom)',
      ].join('\n'),
    );
  });

  test('同比 wording, money, a total, and a rise that is bad for the KPI', () => {
    const gmv = openRateDrop({
      split: null,
      severity: 'critical',
      kpi: { id: 'gmv', label: { zh: '成交额', en: 'GMV' }, unit: 'fen', good: 'up' },
      value: 1_234_567_800,
      baseline: 1_523_456_700,
      change: null, // derived from value and baseline
      baselineKind: 'same_window_last_week',
    });
    const m = formatNotification(gmv);
    expect(m.title).toBe('【告警】成交额 较上周同期下降 19.0%');
    expect(m.text).toContain('- 级别：严重');
    expect(m.text).toContain('- 范围：全部渠道');
    expect(m.text).toContain('- 当前值：¥1234.6万');
    expect(m.text).toContain('- 基线：¥1523.5万（上周同期，同比）');

    const churn = openRateDrop({
      kpi: { id: 'churn', label: { zh: '退群率', en: 'Churn' }, unit: 'percent', good: 'down' },
      value: 0.023,
      baseline: 0.018,
      change: (0.023 - 0.018) / 0.018,
      baselineKind: 'same_window_yesterday',
    });
    expect(formatNotification(churn).title).toBe('【告警】退群率（渠道 wecom）较昨日同期上升 27.8%');
    expect(formatNotification(churn).text).toContain('- 变化：上升 27.8%（不利）');
  });

  test('resolved and flapping', () => {
    const resolved = formatNotification(openRateDrop({ kind: 'resolved', value: 0.294, change: null }));
    expect(resolved.title).toBe('【已恢复】推送打开率（渠道 wecom）');
    expect(resolved.text).toContain('- 当前值：29.4%（基线 30.1%，环比下降 2.3%）');
    expect(resolved.text).toContain('- 恢复时间：2026-11-23 20:15');

    const flapping = formatNotification(openRateDrop({ kind: 'flapping' }));
    expect(flapping.title).toBe('【波动频繁】推送打开率（渠道 wecom）');
    expect(flapping.text).toContain('已暂停通知');
  });

  test('a digest lists every notification of the group in one message, the worst first', () => {
    const ns = storm(3);
    ns[1] = { ...ns[1]!, kind: 'resolved' };
    ns[2] = { ...ns[2]!, severity: 'critical' };
    const d = formatDigest(ns);
    expect(d.title).toBe('【告警汇总】3 条告警（规则组 推送）');
    const link = 'https://pulse.example.com/kpi/push_open_rate?channel=wecom';
    expect(d.text).toBe(
      [
        '### 【告警汇总】3 条告警（规则组 推送）',
        '- 概况：严重 1 条，警告 1 条，已恢复 1 条',
        '- 时间：2026-11-23 20:15',
        '',
        `1. 【严重】推送打开率（渠道 c2）环比下降 16.3%：当前 25.2%，基线 30.1% [趋势](${link})`,
        `2. 【警告】推送打开率（渠道 c0）环比下降 16.3%：当前 25.2%，基线 30.1% [趋势](${link})`,
        `3. 【已恢复】推送打开率（渠道 c1）已恢复正常：当前 25.2%，基线 30.1% [趋势](${link})`,
      ].join('\n'),
    );
    for (const n of ns) expect(d.text).toContain(describe(n));
    expect(formatDigest([ns[0]!])).toEqual(formatNotification(ns[0]!));
  });
});
