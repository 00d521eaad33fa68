/**
 * Target rules ("below target for N hours"): the KPI misses its target in every one of the
 * last N windows → fire; one window on target → no alert; the newest window back on target
 * → resolved. Targets come from the catalogue (configured, per channel) or the rule.
 */
import { describe, expect, it } from 'vitest';
import type { KpiInfo } from '../../src/contract.js';
import { parseRuleDocument } from '../../src/rules/parse.js';
import type { TargetRule } from '../../src/rules/schema.js';
import { formatNotification } from '../../src/notify/format.js';
import { CATALOGUE } from '../rules/catalogueFixture.js';
import { DAY, HOUR, makeEngine, MemorySource, T } from './fakes.js';

/** The fixture catalogue with the seed's paid-conversion target and an SMS channel target. */
const TARGETED: KpiInfo[] = CATALOGUE.map((k) =>
  k.id === 'paid_conversion' ? { ...k, target: 0.052, channelTargets: { sms: 0.02 } } : k.id === 'churn_rate' ? { ...k, target: 0.15 } : k,
);
const TARGETED_MAP = new Map(TARGETED.map((k) => [k.id, k]));

class TargetedSource extends MemorySource {
  override catalogue(): KpiInfo[] {
    return TARGETED;
  }
}

function targetRule(raw: Record<string, unknown>): TargetRule {
  const { rules, problems } = parseRuleDocument({ rules: [{ kind: 'target', id: 'conv_target', name: '支付转化率低于目标', kpi: 'paid_conversion', for: '3h', ...raw }] }, { file: 't.yaml', catalogue: TARGETED_MAP });
  if (problems.length) throw new Error(problems.map((p) => p.message).join('; '));
  return rules[0] as TargetRule;
}

/** Per hour before T (k = 1 is the newest hour): views and paid orders for a channel. */
function hours(src: MemorySource, channel: string, rates: number[], views = 1000): void {
  rates.forEach((rate, i) => {
    const start = T - (i + 1) * HOUR;
    src.fill(start, start + HOUR, channel, { page_view: views / 60, order_paid: (rate * views) / 60 });
  });
}

describe('target rules', () => {
  it('fires when every one of the last 3 hours is below target, not when one hour met it', async () => {
    const src = new TargetedSource(T - DAY);
    hours(src, 'wecom', [0.04, 0.045, 0.03]); // all below 5.2%
    hours(src, 'douyin', [0.04, 0.06, 0.03]); // the middle hour met the target
    const h = makeEngine(src, [targetRule({ by: 'channel', min_sample: 100 })]);
    await h.at(T);
    expect(h.outlet.kinds()).toEqual(['firing:wecom']);
    const ev = h.sink.events.find((e) => e.alertKey === 'conv_target|channel=wecom')!;
    expect(ev).toMatchObject({ state: 'firing', baselineKind: 'target', baseline: 0.052, threshold: null });
    expect(ev.value).toBeCloseTo(0.04, 9);
    expect(ev.change).toBeCloseTo((0.04 - 0.052) / 0.052, 9);
    expect(ev.summary).toBe('支付转化率（渠道 wecom）连续 3 小时低于目标（差距 23.1%）');
    const douyin = h.engine.status().rules[0]!.splits.find((s) => s.split?.value === 'douyin')!;
    expect(douyin.state).toBe('ok');

    // The DingTalk text names the target, the gap and how long it has lasted.
    const text = formatNotification(h.outlet.all[0]!).text;
    expect(text).toContain('连续 3 小时低于目标');
    expect(text).toContain('- 目标：5.2%');
    expect(text).toMatch(/- 差距：低于目标 23\.1%/);
  });

  it('uses a channel’s own target, and resolves when the newest hour is back on target', async () => {
    const src = new TargetedSource(T - DAY);
    hours(src, 'sms', [0.03, 0.03, 0.03]); // below 5.2% but above the SMS target of 2%
    hours(src, 'wecom', [0.04, 0.04, 0.04]);
    const h = makeEngine(src, [targetRule({ by: 'channel' })]);
    await h.at(T);
    expect(h.outlet.kinds()).toEqual(['firing:wecom']);
    // The next hour wecom converts at 6%: the newest window is on target → resolved.
    src.fill(T, T + HOUR, 'wecom', { page_view: 1000 / 60, order_paid: 60 / 60 });
    await h.at(T + HOUR);
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom']);
  });

  it('less-is-better KPIs miss above the target; thin windows and short history do not fire', async () => {
    const src = new TargetedSource(T - 2 * HOUR); // only two of three hours of history
    hours(src, 'wecom', [0.04, 0.04]);
    const h = makeEngine(src, [targetRule({})]);
    await h.at(T);
    expect(h.outlet.all).toHaveLength(0);
    expect(h.engine.status().rules[0]!.notEnoughHistory).toBe(true);

    const thin = new TargetedSource(T - DAY);
    hours(thin, 'wecom', [0.01, 0.01, 0.01], 60); // 60 views an hour
    const h2 = makeEngine(thin, [targetRule({ min_sample: 100 })]);
    await h2.at(T);
    expect(h2.outlet.all).toHaveLength(0);
    expect(h2.engine.status().rules[0]!.splits[0]!.reason).toMatch(/min_sample 100/);

    const churn = new TargetedSource(T - DAY);
    ['wecom'].forEach((ch) => [1, 2].forEach((k) => churn.fill(T - k * HOUR, T - (k - 1) * HOUR, ch, { member_leave: 20 / 60, active: 100 / 60 })));
    const rule = parseRuleDocument({ rules: [{ kind: 'target', id: 'churn_target', name: '流失率高于目标', kpi: 'churn_rate', window: '1h', for: '2h' }] }, { file: 't.yaml', catalogue: TARGETED_MAP }).rules[0]!;
    const h3 = makeEngine(churn, [rule]);
    await h3.at(T);
    expect(h3.sink.events[0]).toMatchObject({ state: 'firing', baseline: 0.15 });
    expect(h3.sink.events[0]!.summary).toContain('连续 2 小时高于目标');
  });

  it('refuses rules it cannot run, naming the field', () => {
    const parse = (raw: Record<string, unknown>) =>
      parseRuleDocument({ rules: [{ kind: 'target', id: 'x', name: 'x', ...raw }] }, { file: 't.yaml', catalogue: TARGETED_MAP }).problems.map((p) => `${p.field}: ${p.message}`);
    expect(parse({ kpi: 'gmv', for: '3h' })).toEqual([expect.stringMatching(/^target: KPI gmv has no target/)]);
    expect(parse({ kpi: 'paid_conversion', for: '90m' })).toEqual([expect.stringMatching(/^for: for \(90 min\) must be a whole number of windows/)]);
    expect(parse({ kpi: 'paid_conversion', for: '3h', target: 'lots' })).toEqual([expect.stringMatching(/^target: must be a number/)]);
    expect(parse({ kpi: 'gmv', for: '3h', target: 1_000_000 })).toEqual([]);
  });
});
