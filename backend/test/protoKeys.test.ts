/**
 * Producer-chosen ids never reach Object.prototype: a channel called `__proto__` (or
 * `constructor`) is an ordinary key in the wall's per-channel values, including the
 * month-level values the server computes from stored sketches. The fuzz test found the
 * month values writing `active_members_30d` onto Object.prototype through such a channel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtest, parseRuleYaml } from '@siyu-pulse/alerts';
import { createKpiSource } from '../src/alerting/kpiSource.js';
import { channelLabel } from '@siyu-pulse/contracts/catalogue';
import { COUNTERS } from '@siyu-pulse/contracts/catalogue';
import { parseChannelNames } from '../src/config/channelNames.js';
import type { CounterRow } from '../src/store/port.js';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

const MIN = 60_000;
const SPLIT_RULE = `rules:
  - id: joins_drop
    name: 新增成员骤降
    kpi: new_members
    by: channel
    window: 15m
    baseline: { type: previous_window }
    thresholds: { fire: 0.3, clear: 0.15 }
    direction: down
    min_sample: 20
    pending_for: 1
    cooldown: 0s
`;

describe('producer-chosen keys', () => {
  let pulse: TestPulse;
  beforeAll(async () => {
    pulse = await startTestPulse({});
  });
  afterAll(async () => {
    await pulse?.stopAndClean();
  });

  it('a channel named __proto__ or constructor is counted as a channel and pollutes nothing', async () => {
    const now = Date.now();
    const events = ['__proto__', 'constructor', 'wecom'].flatMap((channel, c) =>
      Array.from({ length: 3 }, (_, i) => ({ id: `p-${c}-${i}`, type: 'message', ts: now - 1000, channel, member: `m-${c}-${i}` })),
    );
    const res = await pulse.post(JSON.stringify(events));
    expect(res.status).toBe(202);
    // Stores the rows and recomputes the month-level values per channel from the sketches.
    await pulse.flushToStore();
    const probe: Record<string, unknown> = {};
    expect(probe.active_members_30d).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'active_members_30d')).toBe(false);
    const snap = (await pulse.get('/api/v1/snapshot')).json as { windows: Record<string, { byChannel: Record<string, Record<string, number | null>> }> };
    const today = snap.windows.today!;
    expect(Object.keys(today.byChannel).sort()).toEqual(['__proto__', 'constructor', 'wecom']);
    expect(today.byChannel['wecom']!.messages).toBe(3);
  });

  it('an alert split by channel judges channels named __proto__, constructor and toString like any other', async () => {
    // Three hours of 10 joins a minute on four channels; two of them drop to 3 a minute in the last hour.
    const end = Math.floor((Date.now() - 10 * MIN) / (15 * MIN)) * 15 * MIN;
    const start = end - 3 * 60 * MIN;
    const channels = ['__proto__', 'constructor', 'toString', 'wecom'];
    const dropping = new Set(['__proto__', 'constructor']);
    const rows: CounterRow[] = [];
    for (const channel of channels) {
      for (let ts = start; ts < end; ts += MIN) {
        const counters: Record<string, number> = Object.fromEntries(COUNTERS.map((c) => [c, 0]));
        counters.member_join = dropping.has(channel) && ts >= end - 60 * MIN ? 3 : 10;
        rows.push({ ts, tags: { channel, community: '', campaign: '' }, counters });
      }
    }
    await pulse.store.writeCounters(rows);
    const source = createKpiSource({ store: pulse.store, timezone: 'Asia/Shanghai', historySince: () => start });
    const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
    const { rules } = parseRuleYaml(SPLIT_RULE, { catalogue });
    const run = await backtest({ rules, source, from: start + 60 * MIN, to: end, stepMs: 15 * MIN, alignMs: 10_000, timezone: 'Asia/Shanghai' });
    const fired = [...new Set(run.firings.map((f) => f.split.value))].sort();
    expect(fired).toEqual(['__proto__', 'constructor']);
    const first = run.firings.find((f) => f.split.value === '__proto__')!;
    expect(first.value).toBe(45);
    expect(first.baseline).toBe(150);
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'value')).toBe(false);
  });

  it('channel names: ids such as constructor are named and labelled as themselves', () => {
    expect(channelLabel('constructor')).toEqual({ zh: 'constructor', en: 'constructor' });
    expect(channelLabel('toString')).toEqual({ zh: 'toString', en: 'toString' });
    expect(channelLabel('wecom').zh).toBe('企业微信');
    const parsed = parseChannelNames('constructor=构造渠道, __proto__=原型渠道');
    expect(parsed.problems).toEqual([]);
    expect(Object.keys(parsed.names).sort()).toEqual(['__proto__', 'constructor']);
    expect(parsed.names['constructor']!.zh).toBe('构造渠道');
    expect(parseChannelNames('{"constructor": "构造渠道"}').names['constructor']).toEqual({ zh: '构造渠道', en: '构造渠道' });
  });
});
