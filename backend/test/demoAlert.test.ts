/**
 * `npm start` shows a real alert within minutes: in demo mode the demo rule
 * (alerts/rules-demo) and a scheduled simulator swing fire demo_messages_drop through the
 * real engine, the alert API and a loopback DingTalk robot, whose message says 演示数据.
 * To keep the test short the swing is scheduled 5 s after start (PULSE_DEMO_ALERT=5) and
 * the minutes before start are backfilled from the same simulator (as an import would),
 * so the baseline window exists at once. Production never loads the demo rule.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FakeDingTalkRobot } from '../../alerts/test/fakes/dingtalkRobot.js';
import { Simulator } from '../src/simulator/simulator.js';
import { MINUTE } from '../src/time/zone.js';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

const SECRET = 'SECdemo0123456789abcdef';
const RATE = 600;

describe('demo: a real alert within minutes of npm start', () => {
  let robot: FakeDingTalkRobot | undefined;
  let pulse: TestPulse | undefined;
  afterAll(async () => {
    await pulse?.stopAndClean();
    await robot?.close();
  });

  it('the scheduled demo swing fires demo_messages_drop: alert API, history, DingTalk (演示数据)', { timeout: 240_000 }, async () => {
    robot = await FakeDingTalkRobot.start({ secret: SECRET });
    const startedAt = Date.now();
    pulse = await startTestPulse({
      env: {
        PULSE_DEMO: 'on',
        PULSE_SIMULATOR: 'on',
        PULSE_SIMULATOR_RATE: String(RATE),
        PULSE_DEMO_ALERT: '5',
        PULSE_LATENESS_SECONDS: '900',
        // The backfill below posts ~200,000 events at once: above the default per-key rate
        // (20,000/s after a 100,000 burst), which would answer 429 on a fast machine.
        PULSE_INGEST_RATE: '10000000',
        PULSE_INGEST_BURST: '100000000',
        // Evaluations are driven below, once the backfill is in (a half-posted backfill would
        // itself look like a drop).
        PULSE_ALERT_INTERVAL_SECONDS: '3600',
        DINGTALK_WEBHOOK: robot.webhook,
        DINGTALK_SECRET: SECRET,
      },
    });
    // The 6 minutes before start, from the same simulator model and rate.
    const backfill = new Simulator(() => {}, { seed: 11, peakEventsPerSecond: RATE }).generate(startedAt - 6 * MINUTE, startedAt - 1000);
    for (let i = 0; i < backfill.length; i += 10_000) {
      const r = await pulse.post(JSON.stringify(backfill.slice(i, i + 10_000).map((e) => ({ ...e, id: `backfill-${e.id}` }))));
      expect(r.status).toBe(202);
      expect((r.json as { rejected: unknown[] }).rejected.slice(0, 3)).toEqual([]);
    }
    const rules = (await pulse.get('/api/v1/rules')).json as { rules: { rule: { id: string } }[] };
    expect(rules.rules.map((r) => r.rule.id)).toContain('demo_messages_drop');

    let firing: { ruleId: string; state: string } | undefined;
    const deadline = Date.now() + 200_000;
    while (!firing && Date.now() < deadline) {
      await pulse.engine.evaluateOnce();
      const active = (await pulse.get('/api/v1/alerts')).json as { alerts: { ruleId: string; state: string }[] };
      firing = active.alerts.find((a) => a.ruleId === 'demo_messages_drop' && a.state === 'firing');
      if (!firing) await new Promise((r) => setTimeout(r, 2000));
    }
    expect(firing, 'demo_messages_drop did not fire').toBeDefined();
    const firedAfterS = Math.round((Date.now() - startedAt) / 1000);
    console.log(`demo alert firing ${firedAfterS} s after start (swing at 5 s)`);

    const until = Date.now() + 15_000;
    while (!robot.messages.some((m) => m.body.markdown?.title.includes('消息数')) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    const msg = robot.messages.find((m) => m.body.markdown?.title.includes('消息数'))!.body.markdown!;
    console.log(`--- DingTalk (demo) ---\n${msg.text}\n---`);
    expect(msg.title).toMatch(/^【演示数据】【告警】消息数 环比下降 \d+\.\d%$/);
    expect(msg.text).toContain('演示数据：由内置模拟器生成');
    expect(msg.text).toContain('- 阈值：−50%（下降超过即告警）');
    const history = (await pulse.get(`/api/v1/alerts/history?from=${startedAt - MINUTE}&to=${Date.now() + 1}&rule=demo_messages_drop`)).json as { events: { state: string; ts: number }[] };
    const fired = history.events.find((e) => e.state === 'firing');
    expect(fired).toBeDefined();
    // The swing caused it: a 50% drop needs most of a 2-minute window inside the 80% drop
    // (≥ 75 s), so nothing fires in the first minute after the swing starts.
    expect(fired!.ts).toBeGreaterThanOrEqual(startedAt + 5_000 + 60_000);
  });

  it('production does not load the demo rule', async () => {
    const prod = await startTestPulse({ env: { PULSE_DEMO_ALERT: '5' } });
    try {
      const rules = (await prod.get('/api/v1/rules')).json as { rules: { rule: { id: string } }[] };
      expect(rules.rules.length).toBeGreaterThan(0);
      expect(rules.rules.map((r) => r.rule.id)).not.toContain('demo_messages_drop');
    } finally {
      await prod.stopAndClean();
    }
  });
});
