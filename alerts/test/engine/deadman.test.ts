/** Deadman rules: a split value that was sending and went silent for `after`. */
import { describe, expect, it } from 'vitest';
import { DAY, deadmanRule, makeEngine, MemorySource, MIN, T } from './fakes.js';

const silent = (over: Record<string, unknown> = {}) =>
  deadmanRule({ id: 'silent', name: '渠道数据断流', kind: 'deadman', by: 'channel', after: '15m', ...over });

describe('deadman', () => {
  it('fires for a channel silent for `after`, ignores long-gone ones, and resolves when it sends again', async () => {
    const src = new MemorySource(T - 2 * DAY);
    src.seen = { wecom: T - 20 * MIN, sms: T - MIN, retired: T - 2 * DAY };
    const h = makeEngine(src, [silent()]);

    await h.at(T);
    expect(h.sink.events).toHaveLength(1);
    expect(h.sink.events[0]).toMatchObject({
      alertKey: 'silent|channel=wecom',
      from: 'ok',
      state: 'firing',
      kpi: 'data_arrival',
      value: 20 * MIN,
      baseline: null,
      baselineKind: 'deadman',
      change: null,
      threshold: null,
      summary: '渠道 wecom 已 20 分钟无数据（阈值 15 分钟）',
    });
    expect(h.outlet.all[0]).toMatchObject({
      kind: 'firing',
      kpi: { id: 'data_arrival', unit: 'ms' },
      split: { dim: 'channel', value: 'wecom' },
      windowMinutes: 15,
      baselineKind: 'deadman',
    });
    expect(h.engine.status().rules[0]?.splits.map((s) => s.split?.value)).toEqual(['sms', 'wecom']);

    await h.at(T + MIN); // still silent: nothing new
    expect(h.outlet.all).toHaveLength(1);

    src.seen = { ...src.seen, wecom: T + MIN + 30_000 };
    await h.at(T + 2 * MIN);
    expect(h.outlet.kinds()).toEqual(['firing:wecom', 'resolved:wecom']);
    expect(h.sink.events.at(-1)?.summary).toBe('渠道 wecom 已恢复上报');
  });

  it('a channel just under `after` does not fire; `values` restricts a rule to some channels', async () => {
    const src = new MemorySource(T - 2 * DAY);
    src.seen = { wecom: T - 15 * MIN + 1000, sms: T - 30 * MIN };
    const h = makeEngine(src, [silent({ id: 'silent_wecom', values: ['wecom'] })]);
    await h.at(T);
    expect(h.sink.events).toHaveLength(0);
    expect(h.engine.status().rules[0]?.splits.map((s) => s.split?.value)).toEqual(['wecom']);
  });
});
