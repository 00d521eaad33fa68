/**
 * The engine end to end over an in-memory KpiSource: push batches in given minutes,
 * evaluations at given instants (no wall clock).
 *
 * Batches at T−20m (baseline) and T−5m (current) mean every evaluation in (T−5m, T+10m]
 * compares exactly those two batches with a 15-minute previous-window rule.
 */
import { describe, expect, it } from 'vitest';
import { changeRule, DAY, makeEngine, MemorySource, MIN, T } from './fakes.js';

const openRule = (over: Record<string, unknown> = {}) =>
  changeRule({
    id: 'open_rate',
    name: '推送打开率波动',
    group: 'push',
    kpi: 'push_open_rate',
    by: 'channel',
    window: '15m',
    baseline: { type: 'previous_window' },
    min_sample: 200,
    ...over,
  });

/** [delivered, opened] for the baseline batch (T−20m) and the current batch (T−5m). */
function batches(src: MemorySource, channel: string, before: [number, number], now: [number, number]): void {
  src.put(T - 20 * MIN, channel, { push_delivered: before[0], push_open: before[1] });
  src.put(T - 5 * MIN, channel, { push_delivered: now[0], push_open: now[1] });
}

describe('change rules', () => {
  it('a 16% drop in one channel fires after pending_for evaluations, with exact numbers', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [2000, 600], [2000, 504]); // 30% → 25.2%
    batches(src, 'app_push', [1000, 300], [1000, 300]);
    const h = makeEngine(src, [openRule()]);

    await h.at(T);
    expect(h.sink.events.map((e) => `${e.alertKey}:${e.from}→${e.state}`)).toEqual(['open_rate|channel=wecom:ok→pending']);
    expect(h.outlet.all).toHaveLength(0);

    await h.at(T + 10_000);
    const fired = h.sink.events[1];
    expect(fired).toMatchObject({
      alertKey: 'open_rate|channel=wecom',
      ruleId: 'open_rate',
      ruleName: '推送打开率波动',
      kpi: 'push_open_rate',
      split: { dim: 'channel', value: 'wecom' },
      from: 'pending',
      state: 'firing',
      severity: 'warning',
      ts: T + 10_000,
      value: 0.252,
      baseline: 0.3,
      baselineKind: 'previous_window',
      threshold: 0.15,
      summary: '推送打开率（渠道 wecom）环比下降 16.0%',
    });
    expect(fired?.change).toBeCloseTo(-0.16, 12);

    expect(h.outlet.batches).toHaveLength(1);
    const n = h.outlet.batches[0]?.[0];
    expect(n).toMatchObject({
      kind: 'firing',
      ruleId: 'open_rate',
      group: 'push',
      severity: 'warning',
      kpi: { id: 'push_open_rate', label: { zh: '推送打开率', en: 'Push open rate' }, unit: 'percent', good: 'up' },
      split: { dim: 'channel', value: 'wecom' },
      value: 0.252,
      baseline: 0.3,
      baselineKind: 'previous_window',
      threshold: 0.15,
      windowMinutes: 15,
      ts: T + 10_000,
      targets: ['dingtalk'],
    });
    expect(n?.change).toBeCloseTo(-0.16, 12);
    expect(n?.link).toBe(`https://pulse.example/trend/push_open_rate?channel=wecom&from=${T + 10_000 - 3_600_000}&to=${T + 10_000}`);
    expect(n?.contributors).toBeUndefined();

    const splits = h.engine.status().rules[0]?.splits ?? [];
    expect(splits.map((s) => [s.split?.value, s.state])).toEqual([
      ['app_push', 'ok'],
      ['wecom', 'firing'],
    ]);
    expect(h.engine.active().map((a) => a.alertKey)).toEqual(['open_rate|channel=wecom']);
  });

  it('a 14% drop does not fire', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [2000, 600], [2000, 516]); // 30% → 25.8%
    const h = makeEngine(src, [openRule()]);
    for (let i = 0; i < 5; i++) await h.at(T + i * 10_000);
    expect(h.sink.events).toHaveLength(0);
    expect(h.outlet.all).toHaveLength(0);
    const s = h.engine.status().rules[0]?.splits[0];
    expect(s?.state).toBe('ok');
    expect(s?.change).toBeCloseTo(-0.14, 12);
  });

  it('a 40% drop on a sample below min_sample does not fire', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'sms', [50, 15], [50, 9]); // 30% → 18% on 50 deliveries
    const h = makeEngine(src, [openRule()]);
    for (let i = 0; i < 5; i++) await h.at(T + i * 10_000);
    expect(h.sink.events).toHaveLength(0);
    const s = h.engine.status().rules[0]?.splits[0];
    expect(s?.change).toBeCloseTo(-0.4, 12);
    expect(s?.reason).toMatch(/min_sample 200/);
  });

  it('min_abs_change holds back a relative swing that is small in absolute terms', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [2000, 600], [2000, 504]); // −4.8 points
    const h = makeEngine(src, [openRule({ min_abs_change: 0.05, pending_for: 1 })]);
    await h.at(T);
    expect(h.sink.events).toHaveLength(0);
    expect(h.engine.status().rules[0]?.splits[0]?.reason).toMatch(/min_abs_change/);
  });

  it('severity is critical from the critical threshold', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [2000, 600], [2000, 390]); // −35%
    const h = makeEngine(src, [openRule({ thresholds: { fire: 0.15, clear: 0.1, critical: 0.3 }, pending_for: 1 })]);
    await h.at(T);
    expect(h.sink.events[0]).toMatchObject({ state: 'firing', severity: 'critical', threshold: 0.3 });
    expect(h.outlet.all[0]).toMatchObject({ kind: 'firing', severity: 'critical' });
  });

  it('recovery sends exactly one resolved notification, in the evaluation that clears', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [2000, 600], [2000, 504]);
    src.put(T + 10 * MIN, 'wecom', { push_delivered: 2000, push_open: 600 }); // back to 30%
    const h = makeEngine(src, [openRule({ direction: 'down' })]);
    await h.at(T);
    await h.at(T + 10_000);
    expect(h.outlet.kinds()).toEqual(['firing:wecom']);

    // At T+11m the current window holds the recovered batch and the baseline the dip.
    const r = await h.at(T + 11 * MIN);
    expect(r.events.map((e) => `${e.from}→${e.state}`)).toEqual(['firing→resolved']);
    expect(r.notifications).toHaveLength(1);
    expect(r.notifications[0]?.[0]).toMatchObject({ kind: 'resolved', severity: 'info', threshold: 0.1, value: 0.3, baseline: 0.252 });
    expect(r.events[0]?.summary).toBe('推送打开率（渠道 wecom）已恢复（环比上升 19.0%）');

    await h.at(T + 11 * MIN + 10_000);
    await h.at(T + 12 * MIN);
    await h.at(T + 40 * MIN);
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom']);
    expect(h.sink.events.map((e) => e.state)).toEqual(['pending', 'firing', 'resolved', 'ok']);
  });

  it('all notifications of one rule in one evaluation go out in one enqueue, one group', async () => {
    const src = new MemorySource(T - 2 * DAY);
    for (const ch of ['wecom', 'app_push', 'sms']) batches(src, ch, [1000, 300], [1000, 240]);
    batches(src, 'miniprogram', [1000, 300], [1000, 300]);
    const h = makeEngine(src, [openRule({ pending_for: 1 })]);
    await h.at(T);
    expect(h.outlet.batches).toHaveLength(1);
    expect(h.outlet.batches[0]?.map((n) => n.split?.value).sort()).toEqual(['app_push', 'sms', 'wecom']);
    expect(new Set(h.outlet.batches[0]?.map((n) => n.group))).toEqual(new Set(['push']));
  });

  it('a swing in the total names the top channels by contribution', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [2000, 600], [2000, 300]); // 30% → 15%
    batches(src, 'app_push', [1000, 300], [1000, 290]);
    batches(src, 'sms', [1000, 300], [1000, 300]); // did not move: no contribution
    const h = makeEngine(src, [openRule({ by: undefined, pending_for: 1 })]);
    await h.at(T);
    const n = h.outlet.all[0];
    expect(n?.split).toBeNull();
    expect(n?.value).toBeCloseTo(890 / 4000, 12);
    expect(n?.baseline).toBeCloseTo(0.3, 12);
    expect(n?.contributors?.map((c) => c.value)).toEqual(['wecom', 'app_push']);
    expect(n?.contributors?.[0]).toMatchObject({ dim: 'channel', current: 0.15, baseline: 0.3, change: -0.5 });
  });

  it('a baseline before the start of history is "not enough history", never an alert', async () => {
    const src = new MemorySource(T - 20 * MIN); // the baseline window [T−30m, T−15m) starts before
    src.put(T - 5 * MIN, 'wecom', { push_delivered: 2000, push_open: 100 });
    const h = makeEngine(src, [openRule({ pending_for: 1 })]);
    for (let i = 0; i < 3; i++) await h.at(T + i * 10_000);
    expect(h.sink.events).toHaveLength(0);
    expect(h.outlet.all).toHaveLength(0);
    const rule = h.engine.status().rules[0];
    expect(rule?.notEnoughHistory).toBe(true);
    expect(rule?.splits[0]).toMatchObject({ split: { dim: 'channel', value: 'wecom' }, value: 0.05, notEnoughHistory: true, state: 'ok' });
  });

  it('a split absent from the baseline is "not enough history" for that split only', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [2000, 600], [2000, 504]);
    src.put(T - 5 * MIN, 'douyin', { push_delivered: 2000, push_open: 20 }); // new channel
    const h = makeEngine(src, [openRule({ pending_for: 1 })]);
    await h.at(T);
    const byValue = new Map(h.engine.status().rules[0]?.splits.map((s) => [s.split?.value, s]));
    expect(byValue.get('douyin')).toMatchObject({ notEnoughHistory: true, state: 'ok', baseline: null });
    expect(byValue.get('wecom')).toMatchObject({ notEnoughHistory: false, state: 'firing' });
    expect(h.engine.status().rules[0]?.notEnoughHistory).toBe(false);
  });

  it('significance: the same −40% fires on 100 deliveries (p ≈ 0.004) but not on 20 (p ≈ 0.197)', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [100, 50], [100, 30]);
    batches(src, 'sms', [20, 10], [20, 6]);
    const h = makeEngine(src, [openRule({ min_sample: 0, significance: { p: 0.05 }, pending_for: 1 })]);
    await h.at(T);
    expect(h.outlet.kinds()).toEqual(['firing:wecom']);
    const byValue = new Map(h.engine.status().rules[0]?.splits.map((s) => [s.split?.value, s]));
    expect(byValue.get('wecom')?.significance?.p).toBeCloseTo(0.00389, 4);
    expect(byValue.get('sms')?.significance?.z).toBeCloseTo(-1.291, 3);
    expect(byValue.get('sms')?.significance?.p).toBeCloseTo(0.1967, 3);
    expect(byValue.get('sms')?.reason).toMatch(/not significant/);
  });

  it('aligns now to the second, and distinct-count KPIs to the minute', async () => {
    const src = new MemorySource(T - 2 * DAY);
    const active = changeRule({ id: 'active', name: '活跃', kpi: 'active_members', by: 'channel', window: '1h', baseline: { type: 'same_window_yesterday' } });
    const h = makeEngine(src, [openRule(), active]);
    await h.at(T + 37_654);
    const spans = (kpi: string) => src.calls.filter((c) => c.kpi === kpi).map((c) => [c.from - T, c.to - T]);
    expect(spans('push_open_rate')).toEqual([
      [37_000 - 15 * MIN, 37_000],
      [37_000 - 30 * MIN, 37_000 - 15 * MIN],
    ]);
    expect(spans('active_members')).toEqual([
      [-60 * MIN, 0],
      [-60 * MIN - DAY, -DAY],
    ]);
  });

  it('alignMs puts window edges on the collector buckets', async () => {
    const src = new MemorySource(T - 2 * DAY);
    const h = makeEngine(src, [openRule()], { alignMs: 10_000 });
    await h.at(T + 37_654);
    expect(src.calls.map((c) => c.to - T)).toEqual([30_000, 30_000 - 15 * MIN]);
  });

  it('trailing_mean pools the N previous windows as a ratio of sums', async () => {
    const src = new MemorySource(T - 2 * DAY);
    src.put(T - 20 * MIN, 'wecom', { push_delivered: 1000, push_open: 300 });
    src.put(T - 35 * MIN, 'wecom', { push_delivered: 1000, push_open: 200 });
    src.put(T - 50 * MIN, 'wecom', { push_delivered: 2000, push_open: 800 });
    // the 4th window [T−75m, T−60m) had no push at all
    src.put(T - 5 * MIN, 'wecom', { push_delivered: 1000, push_open: 260 });
    const h = makeEngine(src, [openRule({ baseline: { type: 'trailing_mean', windows: 4 }, pending_for: 1 })]);
    await h.at(T);
    expect(src.calls.map((c) => (T - c.from) / MIN)).toEqual([15, 30, 45, 60, 75]);
    const s = h.engine.status().rules[0]?.splits[0];
    expect(s?.baseline).toBeCloseTo(1300 / 4000, 12); // not the mean of 0.3, 0.2, 0.4
    expect(s?.change).toBeCloseTo(-0.2, 12);
    expect(s?.state).toBe('firing'); // pooled sample = 4000 / 4 windows = 1000 ≥ 200
    expect(h.sink.events[0]?.summary).toBe('推送打开率（渠道 wecom）较前 4 个窗口均值下降 20.0%');
  });

  it('an evaluation error in one rule is reported and does not stop the others', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [2000, 600], [2000, 504]);
    src.failKpi = 'gmv';
    const gmv = changeRule({ id: 'gmv', name: 'GMV', kpi: 'gmv', window: '1h', baseline: { type: 'same_window_yesterday' } });
    const h = makeEngine(src, [gmv, openRule({ pending_for: 1 })]);
    await h.at(T);
    expect(h.outlet.kinds()).toEqual(['firing:wecom']);
    const [g, o] = h.engine.status().rules;
    expect(g?.error).toBe('store down for gmv');
    expect(o?.error).toBeUndefined();
  });

  it('a collapse of a sum to zero fires although the current sample is 0', async () => {
    const src = new MemorySource(T - 2 * DAY);
    src.fill(T - HOURS(1) - DAY, T - DAY, 'douyin', { order_paid_fen: 10_000 }); // ¥6,000 yesterday this hour
    src.fill(T - HOURS(1) - DAY, T - DAY, 'wecom', { order_paid_fen: 10_000 });
    src.fill(T - HOURS(1), T, 'wecom', { order_paid_fen: 10_000 }); // douyin sold nothing today
    const gmv = changeRule({ id: 'gmv', name: 'GMV', kpi: 'gmv', by: 'channel', window: '1h', baseline: { type: 'same_window_yesterday' }, min_sample: 200_000, pending_for: 1 });
    const h = makeEngine(src, [gmv]);
    await h.at(T);
    expect(h.outlet.kinds()).toEqual(['firing:douyin']);
    expect(h.outlet.all[0]).toMatchObject({ value: 0, baseline: 600_000, change: -1 });
  });
  it('a firing message carries the rule direction; its link opens the hour around the swing', async () => {
    const src = new MemorySource(T - 2 * DAY);
    // Baseline [T−2h, T−1h) and current [T−1h, T): the link spans both, not four windows.
    src.put(T - 80 * MIN, 'wecom', { push_delivered: 2000, push_open: 600 });
    src.put(T - 5 * MIN, 'wecom', { push_delivered: 2000, push_open: 504 });
    const h = makeEngine(src, [openRule({ pending_for: 1, direction: 'down', window: '1h' })]);
    await h.at(T);
    const n = h.outlet.all.find((x) => x.kind === 'firing');
    expect(n?.direction).toBe('down');
    expect(n?.link).toBe(`https://pulse.example/trend/push_open_rate?channel=wecom&from=${T - 2 * HOURS(1)}&to=${T}`);
  });
});

describe('rules deleted or changed while their alert is open', () => {
  const firingRule = (over: Record<string, unknown> = {}) => openRule({ pending_for: 1, ...over });

  it('deleting a firing rule sends one 规则已删除 resolution and records it', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [2000, 600], [2000, 504]);
    const rules = [firingRule()];
    const h = makeEngine(src, rules);
    await h.at(T);
    expect(h.outlet.kinds()).toEqual(['firing:wecom']);
    rules.splice(0); // the file was deleted
    await h.at(T + 10_000);
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom']);
    const n = h.outlet.all[1]!;
    expect(n).toMatchObject({ kind: 'resolved', reason: 'rule_deleted', ruleId: 'open_rate', group: 'push', targets: ['dingtalk'], value: 0.252, baseline: 0.3 });
    const last = h.sink.events.at(-1)!;
    expect(last).toMatchObject({ alertKey: 'open_rate|channel=wecom', from: 'firing', state: 'resolved', summary: '推送打开率（渠道 wecom）：规则已删除，告警结束' });
    expect(h.engine.active()).toEqual([]);
    await h.at(T + 20_000);
    expect(h.outlet.all).toHaveLength(2); // said once
  });

  it('changing a firing rule sends 规则已修改 and starts over under the new rule', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [2000, 600], [2000, 504]);
    const rules = [firingRule()];
    const h = makeEngine(src, rules);
    await h.at(T);
    rules[0] = firingRule({ thresholds: { fire: 0.3, clear: 0.2 } }); // now a 16% drop is no alert
    await h.at(T + 10_000);
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom']);
    expect(h.outlet.all[1]?.reason).toBe('rule_changed');
    expect(h.sink.events.at(-1)).toMatchObject({ from: 'firing', state: 'resolved', summary: '推送打开率（渠道 wecom）：规则已修改，告警结束' });
    await h.at(T + 20_000);
    expect(h.outlet.all).toHaveLength(2);
  });

  it('a flapping alert whose rule is deleted gets the last word too; an unchanged reload sends nothing', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [2000, 600], [2000, 504]);
    const rules = [firingRule()];
    const h = makeEngine(src, rules);
    await h.at(T);
    rules[0] = firingRule(); // the same rule, re-read from its file
    await h.at(T + 10_000);
    expect(h.outlet.kinds()).toEqual(['firing:wecom']);
    rules.splice(0);
    await h.at(T + 20_000);
    expect(h.outlet.all.at(-1)).toMatchObject({ kind: 'resolved', reason: 'rule_deleted' });
  });
});

function HOURS(n: number): number {
  return n * 3_600_000;
}

describe('status: when a rule last ran', () => {
  it('dates the run by the engine clock, not by the aligned data instant ("最近评估 17–21 秒前" on a 10 s loop)', async () => {
    const src = new MemorySource(T - 2 * DAY);
    batches(src, 'wecom', [2000, 600], [2000, 600]);
    // Bucket-aligned to 10 s, and the active-members KPI minute-aligned: the data instant
    // trails the run by up to a minute, which the page showed as the evaluation's age.
    const h = makeEngine(src, [openRule()], { alignMs: 10_000, intervalMs: 10_000, minuteAligned: () => true });
    expect(h.engine.status()).toMatchObject({ lastRunAt: null, intervalMs: 10_000 });
    const ran = T + 47_300;
    await h.at(ran);
    h.clock.t = ran + 2_000; // asked 2 s later
    const st = h.engine.status();
    expect(st.rules[0]?.lastEvaluatedAt).toBe(T); // the data instant (minute-aligned)
    expect(st.rules[0]?.lastRunAt).toBe(ran);
    expect(st.lastRunAt).toBe(ran);
    expect(st.now).toBe(ran + 2_000);
    expect(st.now - st.rules[0]!.lastRunAt!).toBe(2_000); // what the page shows: 2 秒前, not 49
  });
});
