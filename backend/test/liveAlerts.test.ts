/**
 * Open alerts in the live view (the wall's ticker): `LiveSnapshot.alerts` is [] when none,
 * carries a firing alert with its event text while it lasts, and drops it on recovery.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ActiveAlert, AlertEvent } from '@siyu-pulse/alerts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveAlerts } from '../src/alerting/liveAlerts.js';
import type { LiveAlert, LiveSnapshot } from '@siyu-pulse/contracts/live';
import { MINUTE, floorTo } from '../src/time/zone.js';
import { liveSnapshot } from './harness/live.js';
import { READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const W = 10 * MINUTE;
const RULE = `
rules:
  - id: messages_drop
    name: 消息量下跌
    kpi: messages
    window: 10m
    baseline: { type: previous_window }
    thresholds: { fire: 0.15, clear: 0.10, critical: 0.30 }
    direction: down
    pending_for: 1
    cooldown: 0s
`;

describe('open alerts in the live snapshot', () => {
  let pulse: TestPulse;
  let rulesDir: string;
  let T0: number;
  beforeAll(async () => {
    rulesDir = mkdtempSync(path.join(tmpdir(), 'pulse-rules-'));
    writeFileSync(path.join(rulesDir, 'wall.yaml'), RULE);
    // The test drives evaluations itself at chosen instants.
    pulse = await startTestPulse({ env: { PULSE_RULES_DIR: rulesDir, PULSE_ALERT_INTERVAL_SECONDS: '3600', PULSE_LATENESS_SECONDS: '10800' } });
    T0 = floorTo(Date.now(), W) - 5 * W;
  });
  afterAll(async () => {
    await pulse?.stopAndClean();
    rmSync(rulesDir, { recursive: true, force: true });
  });

  const messages = async (k: number, n: number) => {
    const events = Array.from({ length: n }, (_, i) => ({ id: `w${k}-${i}`, type: 'message', channel: 'wecom', ts: T0 + k * W + i * 1000 }));
    const r = await pulse.post(JSON.stringify(events));
    expect(r.json).toEqual({ accepted: n, duplicates: 0, rejected: [] });
  };
  const snapshotAlerts = async () => ((await pulse.get('/api/v1/snapshot')).json as LiveSnapshot).alerts;

  it('is an empty list when nothing is open', async () => {
    expect(await snapshotAlerts()).toEqual([]);
    expect((await liveSnapshot<LiveSnapshot>(pulse.url, READ_TOKEN)).alerts).toEqual([]);
  });

  it('shows a firing alert with its summary, on REST and in the socket snapshot, until it resolves', async () => {
    await messages(0, 100);
    await messages(1, 50);
    await pulse.engine.evaluateOnce(T0 + 2 * W);
    const expected: LiveAlert = {
      alertKey: 'messages_drop|total',
      ruleName: '消息量下跌',
      kpi: 'messages',
      split: null,
      state: 'firing',
      severity: 'critical',
      value: 50,
      baseline: 100,
      change: -0.5,
      since: T0 + 2 * W,
      summary: '消息数环比下降 50.0%',
    };
    expect(await snapshotAlerts()).toEqual([expected]);
    expect((await liveSnapshot<LiveSnapshot>(pulse.url, READ_TOKEN)).alerts).toEqual([expected]);

    await messages(2, 100);
    await pulse.engine.evaluateOnce(T0 + 3 * W);
    expect(await snapshotAlerts()).toEqual([]);
  });
});

describe('live alerts view', () => {
  const active = (over: Partial<ActiveAlert> & { alertKey: string }): ActiveAlert => ({
    ruleId: 'r',
    ruleName: 'rule',
    kpi: 'push_open_rate',
    split: null,
    value: 0.2,
    baseline: 0.25,
    change: -0.2,
    state: 'firing',
    severity: 'warning',
    notEnoughHistory: false,
    lastEvaluatedAt: 1,
    since: 1,
    ...over,
  });
  const event = (alertKey: string, state: AlertEvent['state'], summary: string): AlertEvent => ({
    id: alertKey + state,
    alertKey,
    ruleId: 'r',
    ruleName: 'rule',
    kpi: 'push_open_rate',
    split: null,
    from: 'ok',
    state,
    severity: 'warning',
    ts: 1,
    value: null,
    baseline: null,
    baselineKind: 'previous_window',
    change: null,
    threshold: null,
    summary,
  });

  it('orders critical first, then firing, flapping, pending, newest first; texts from events or a fallback', () => {
    let open: ActiveAlert[] = [
      active({ alertKey: 'pending', state: 'pending', severity: 'warning', since: 9 }),
      active({ alertKey: 'old-warning', since: 1 }),
      active({ alertKey: 'new-warning', since: 5 }),
      active({ alertKey: 'flapping', state: 'flapping', since: 7 }),
      active({ alertKey: 'critical', severity: 'critical', since: 2, split: { dim: 'channel', value: 'sms' } }),
    ];
    const view = createLiveAlerts({ active: () => open, labelOf: () => '推送打开率' });
    view.record([event('new-warning', 'firing', '推送打开率环比下降 20.0%')]);
    const list = view.list();
    expect(list.map((a) => a.alertKey)).toEqual(['critical', 'new-warning', 'old-warning', 'flapping', 'pending']);
    expect(list[0]!.summary).toBe('推送打开率（sms）下降 20.0%');
    expect(list[1]!.summary).toBe('推送打开率环比下降 20.0%');

    // Resolved: gone from the engine, and its text is forgotten.
    view.record([event('new-warning', 'resolved', 'x')]);
    open = open.filter((a) => a.alertKey !== 'new-warning');
    expect(view.list().map((a) => a.alertKey)).not.toContain('new-warning');
    open.push(active({ alertKey: 'new-warning', change: null }));
    expect(view.list().find((a) => a.alertKey === 'new-warning')!.summary).toBe('推送打开率告警中');
  });
});
