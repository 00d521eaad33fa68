/**
 * An alert firing when the server restarts (issue 13): the restarted server sends no second
 * 【告警】 to the DingTalk group for the same firing, and the 【已恢复】 still follows when the
 * KPI recovers. Real server on DuckDB, real ingest, a loopback robot checking DingTalk's 加签.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDingTalkRobot } from '../../alerts/test/fakes/dingtalkRobot.js';
import { MINUTE, floorTo } from '../src/time/zone.js';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

const SECRET = 'SEC0123456789abcdef0123456789abcdef';
const W = 10 * MINUTE;
const RULE = `
rules:
  - id: joins_drop_restart
    name: 新增成员骤降
    kpi: new_members
    window: 10m
    baseline: { type: previous_window }
    thresholds: { fire: 0.15, clear: 0.10 }
    direction: down
    min_sample: 10
    pending_for: 1
    cooldown: 0s
    notify: [dingtalk]
`;

describe('a firing alert across a server restart', () => {
  let robot: FakeDingTalkRobot;
  let pulse: TestPulse;
  let dataDir = '';
  let rulesDir = '';
  /** Windows k = [T0 + k·W, T0 + (k+1)·W), all in the past. */
  const T0 = floorTo(Date.now(), W) - 8 * W;

  const start = () =>
    startTestPulse({
      dataDir,
      env: { PULSE_RULES_DIR: rulesDir, PULSE_ALERT_INTERVAL_SECONDS: '3600', PULSE_LATENESS_SECONDS: '10800', DINGTALK_WEBHOOK: robot.webhook, DINGTALK_SECRET: SECRET },
    });
  async function settled(count: number): Promise<string[]> {
    const until = Date.now() + 15_000;
    while (robot.messages.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500)); // and nothing more arrives
    return robot.messages.map((m) => m.body.markdown?.title ?? '');
  }
  const joins = (k: number, n: number, tag: string) =>
    Array.from({ length: n }, (_, i) => ({ id: `${tag}${i}`, type: 'member.join', ts: T0 + k * W + 1000 + i * Math.floor((W - 2000) / n), member: `${tag}${i}`, channel: 'wecom' }));

  beforeAll(async () => {
    robot = await FakeDingTalkRobot.start({ secret: SECRET });
    dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-restart-'));
    rulesDir = mkdtempSync(path.join(tmpdir(), 'pulse-restart-rules-'));
    writeFileSync(path.join(rulesDir, 'restart.yaml'), RULE);
    pulse = await start();
    // 100 joins, then 20 (−80%) for two windows.
    const r = await pulse.post(JSON.stringify([...joins(0, 100, 'a'), ...joins(1, 20, 'b'), ...joins(2, 20, 'c')]));
    expect(r.status).toBe(202);
    await pulse.flushToStore();
  }, 60_000);
  afterAll(async () => {
    await pulse?.stopAndClean();
    await robot?.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(rulesDir, { recursive: true, force: true });
  });

  it('fires once before the restart, sends no second 【告警】 after it, and sends the 【已恢复】', async () => {
    const fired = await pulse.engine.evaluateOnce(T0 + 2 * W);
    expect(fired.events.map((e) => e.state)).toEqual(['firing']);
    const firingId = fired.events[0]!.id;
    expect(await settled(1)).toEqual([expect.stringMatching(/^【告警】/)]);

    await pulse.close();
    pulse = await start();
    // Still −80%: the firing goes on, with no new event and no message.
    const again = await pulse.engine.evaluateOnce(T0 + 2 * W + MINUTE);
    expect(again.events).toEqual([]);
    expect(pulse.engine.active().map((a) => `${a.alertKey} ${a.state}`)).toEqual(['joins_drop_restart|total firing']);
    // The active list still names the stored firing event (feedback is given on it).
    const active = (await pulse.get('/api/v1/alerts')).json as { alerts: { alertKey: string; eventId?: string }[] };
    expect(active.alerts.map((a) => a.eventId)).toEqual([firingId]);
    expect(await settled(1)).toHaveLength(1);

    // The next window equals the previous one: the alert resolves and the group is told.
    const over = await pulse.engine.evaluateOnce(T0 + 3 * W);
    expect(over.events.map((e) => `${e.from}→${e.state}`)).toEqual(['firing→resolved']);
    const titles = await settled(2);
    expect(titles).toHaveLength(2);
    expect(titles[1]).toMatch(/^【已恢复】/);
  }, 90_000);
});
