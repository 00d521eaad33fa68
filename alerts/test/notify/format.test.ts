import { describe as group, expect, test } from 'vitest';
import { formatChangeMagnitude as formatChange, formatCount, formatDuration, formatKpi, formatMoney, formatPercent } from '@siyu-pulse/contracts/format';
import { describe, formatDigest, formatNotification, formatThreshold, formatTime, formatValue } from '../../src/notify/format.js';
import { openRateDrop, storm, T0 } from './helpers.js';

// The messages use the one formatting module the wall and the weekly report use.
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
    expect(formatMoney(-250_000)).toBe('−¥2,500.00'); // U+2212, as on the wall (was an ASCII '-')
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
  test('a message writes every value exactly as the wall does', () => {
    const units = ['count', 'percent', 'fen', 'ms', 'multiple', 'per_member'] as const;
    const values = [-123_456_789, -250_000, -1.5, -0.0123, 0, 0.052, 2.5, 9_999, 999_999.6, 123_456, 99_999_999, 12_345_678_900, null];
    for (const unit of units) for (const v of values) expect(formatValue(v, unit)).toBe(formatKpi(v, unit, 'zh'));
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

group('names, directions, demo, rule retirement', () => {
  const names = { splitName: (dim: string, value: string) => (dim === 'channel' ? ({ wecom: '企业微信', app_push: 'App推送' }[value] ?? value) : value) };

  test('channels are named as on the wall, in the title, the scope and the contributors', () => {
    const n = openRateDrop({
      contributors: [{ dim: 'channel', value: 'app_push', current: 0.2, baseline: 0.3, change: -1 / 3 }],
    });
    const m = formatNotification(n, names);
    expect(m.title).toBe('【告警】推送打开率（渠道 企业微信）环比下降 16.3%');
    expect(m.text).toContain('- 范围：渠道 企业微信');
    expect(m.text).toContain('1. 渠道 App推送：当前 20.0%');
    // Only the link (a URL parameter) still carries the id.
    expect(m.text.split('\n').filter((l) => !l.startsWith('[查看趋势]')).join('\n')).not.toMatch(/wecom|app_push/);
    // An id nobody named is shown as is.
    expect(formatNotification(openRateDrop({ split: { dim: 'channel', value: 'my_live' } }), names).title).toContain('（渠道 my_live）');
    expect(formatDigest(storm(2, { split: { dim: 'channel', value: 'wecom' } }), names).text).toContain('推送打开率（渠道 企业微信）');
  });

  test('the threshold is ±15% only for a rule that watches both directions', () => {
    expect(formatNotification(openRateDrop({ direction: 'both' })).text).toContain('- 阈值：±15%');
    expect(formatNotification(openRateDrop({ direction: 'down' })).text).toContain('- 阈值：−15%（下降超过即告警）');
    expect(formatNotification(openRateDrop({ direction: 'up', change: 0.2 })).text).toContain('- 阈值：+15%（上升超过即告警）');
    expect(formatThreshold(0.15, 'down')).toBe('−15%（下降超过即告警）');
  });

  test('in demo mode every message says 演示数据: alerts, digests, tests, reports', () => {
    const demo = { ...names, demo: true };
    const one = formatNotification(openRateDrop(), demo);
    expect(one.title).toBe('【演示数据】【告警】推送打开率（渠道 企业微信）环比下降 16.3%');
    expect(one.text.split('\n').slice(0, 2)).toEqual(['### 【演示数据】【告警】推送打开率（渠道 企业微信）环比下降 16.3%', '> 演示数据：由内置模拟器生成，不是真实业务数据']);
    expect(formatDigest(storm(3), demo).title).toMatch(/^【演示数据】【告警汇总】/);
    expect(formatNotification({ key: 't', kind: 'test', group: 'test', title: '【测试】私域脉搏告警通道', text: '### 【测试】私域脉搏告警通道\n测试', links: [], targets: ['dingtalk'], ts: 1 }, demo).text).toContain('演示数据');
    const report = formatNotification({ key: 'r', kind: 'report', group: 'r', title: '数据周报 2026-W47', text: '## 数据周报 2026-W47\n正文', links: [], targets: ['dingtalk'], ts: 1 }, demo);
    expect(report.title).toBe('【演示数据】数据周报 2026-W47');
    expect(report.text).toContain('## 【演示数据】数据周报 2026-W47');
    expect(formatNotification(openRateDrop(), names).text).not.toContain('演示数据');
  });

  test('a rule deleted or changed while firing ends the alert in words', () => {
    const deleted = formatNotification(openRateDrop({ kind: 'resolved', reason: 'rule_deleted' }), names);
    expect(deleted.title).toBe('【规则已删除】推送打开率（渠道 企业微信）');
    expect(deleted.text).toContain('告警规则已被删除，该告警不再评估，视为结束。');
    const changed = formatNotification(openRateDrop({ kind: 'resolved', reason: 'rule_changed' }), names);
    expect(changed.title).toBe('【规则已修改】推送打开率（渠道 企业微信）');
    expect(changed.text).toContain('新规则从现在起重新评估');
    expect(describe(openRateDrop({ kind: 'resolved', reason: 'rule_deleted' }))).toBe('推送打开率（渠道 wecom）规则已删除，告警结束');
  });
});
