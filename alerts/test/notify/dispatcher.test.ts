import { rmSync } from 'node:fs';
import { afterEach, describe, expect, test, vi } from 'vitest';
import type { AlertNotification as Notification, PlainMessage } from '../../src/contract.js';
import { Dispatcher, type DeliveryMetrics, type DispatcherOptions } from '../../src/notify/dispatcher.js';
import { describe as describeNotification } from '../../src/notify/format.js';
import type { DingTalkConfig, NotifierConfig } from '../../src/notify/types.js';
import { FakeDingTalkRobot, type FakeDingTalkOptions } from '../fakes/dingtalkRobot.js';
import { FakeWeComRobot } from '../fakes/wecomRobot.js';
import { manualClock, openRateDrop, storm, tempDir } from './helpers.js';

const SECRET = 'SECf00dfeedbeef';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function recordingMetrics() {
  const calls = { sent: [] as [string, number][], failed: [] as [string, string][], throttled: [] as string[] };
  const metrics: DeliveryMetrics = {
    sent: (id, n) => calls.sent.push([id, n]),
    failed: (id, code) => calls.failed.push([id, code]),
    throttled: (id) => calls.throttled.push(id),
  };
  return { calls, metrics };
}

/** A fake robot and a dispatcher sharing a manual clock; ticks are driven by the test. */
async function rig(opts: { fake?: FakeDingTalkOptions; notifier?: Partial<DingTalkConfig>; dispatcher?: Partial<DispatcherOptions> } = {}) {
  const clock = manualClock();
  const robot = await FakeDingTalkRobot.start({ secret: SECRET, now: clock.now, ...opts.fake });
  cleanups.push(() => robot.close());
  const { dir, cleanup } = tempDir();
  cleanups.push(cleanup);
  const { calls, metrics } = recordingMetrics();
  // 2 s: a loopback answer on a loaded CI box can take longer than 200 ms, and a timeout would
  // be retried and change what the test sees. The hang test sets its own short timeout.
  const notifier: NotifierConfig = { id: 'dingtalk', type: 'dingtalk', webhook: robot.webhook, secret: SECRET, timeoutMs: 2_000, ...opts.notifier };
  const d = new Dispatcher({ outboxDir: dir, notifiers: [notifier], now: clock.now, random: () => 0.5, backoffBaseMs: 1000, metrics, ...opts.dispatcher });
  cleanups.push(() => d.close());
  const status = () => d.status()[0]!;
  return { clock, robot, d, dir, calls, status };
}

const texts = (robot: FakeDingTalkRobot) => robot.messages.map((m) => m.body.markdown!.text);
/** How often `n` shows up across everything the robot accepted. */
const deliveries = (robot: FakeDingTalkRobot, n: Notification) => texts(robot).join('\n').split(describeNotification(n)).length - 1;

describe('Dispatcher', () => {
  test('the delivery log survives a restart, and each row says which alert or report it carried', async () => {
    const { robot, d, dir, clock } = await rig();
    const logFile = `${dir}/../${dir.split('/').pop()}-notifier-log.json`;
    cleanups.push(() => rmSync(logFile, { force: true }));
    const first = new Dispatcher({ outboxDir: `${dir}/a`, notifiers: [{ id: 'dingtalk', type: 'dingtalk', webhook: robot.webhook, secret: SECRET, timeoutMs: 2_000 }], now: clock.now, logFile });
    await d.close();
    const alert = openRateDrop({ ruleId: 'push_open_drop', split: { dim: 'channel', value: 'wecom' } });
    const report: PlainMessage = { key: 'report|2026-W47', kind: 'report', group: 'report', title: '数据周报 2026-W47', text: '## 数据周报 2026-W47', links: [], targets: ['dingtalk'], ts: clock.now() };
    first.enqueue([alert, report]);
    await first.tick();
    robot.failNext(310000);
    await first.testSend('dingtalk');
    await first.close();

    const again = new Dispatcher({ outboxDir: `${dir}/a`, notifiers: [{ id: 'dingtalk', type: 'dingtalk', webhook: robot.webhook, secret: SECRET, timeoutMs: 2_000 }], now: clock.now, logFile });
    cleanups.push(() => again.close());
    const log = again.status()[0]!.log;
    expect(log.map((a) => [a.ok, a.test, a.title])).toEqual([
      [false, true, '【测试】私域脉搏告警通道'],
      [true, false, '数据周报 2026-W47'],
      [true, false, '【告警】推送打开率（渠道 wecom）环比下降 16.3%'],
    ]);
    expect(log[0]?.code).toBe('310000');
    expect(log[1]?.carried).toEqual([{ key: 'report|2026-W47', kind: 'report', ruleId: 'weekly_report', ruleName: '数据周报 2026-W47' }]);
    expect(log[2]?.carried).toEqual([{ key: alert.key, kind: 'firing', ruleId: 'push_open_drop', ruleName: '推送打开率下跌', alertKey: 'push_open_drop|channel=wecom' }]);
  });

  test('delivers each notification once, singly, and counts it', async () => {
    const { robot, d, calls, status } = await rig();
    // Different rule groups: one message each (one group due together would be one message).
    const ns = storm(3).map((n, i) => ({ ...n, group: `g${i}` }));
    expect(d.enqueue(ns)).toEqual({ queued: 3, duplicates: 0, unknownTargets: [] });
    await d.tick();
    await d.tick();
    expect(robot.messages.map((m) => m.body.markdown!.title)).toEqual(ns.map((n) => `【告警】${describeNotification(n)}`));
    expect(d.enqueue(ns).duplicates).toBe(3); // idempotent on (key, notifier)
    await d.tick();
    expect(robot.messages).toHaveLength(3);
    expect(calls.sent).toEqual([['dingtalk', 1], ['dingtalk', 1], ['dingtalk', 1]]);
    expect(status()).toMatchObject({ pending: 0, failed: 0, counters: { attempts: 3, messagesSent: 3, notificationsSent: 3 } });
    expect(status().target).not.toContain('access_token');
  });

  test('notifications of one rule group due together go out as ONE message listing them all', async () => {
    const { robot, d, calls } = await rig();
    const ns = storm(5);
    d.enqueue(ns);
    await d.tick();
    await d.tick();
    expect(robot.messages).toHaveLength(1);
    const text = robot.messages[0]!.body.markdown!.text;
    for (const n of ns) expect(text).toContain(`渠道 ${n.split!.value}`);
    expect(calls.sent).toEqual([['dingtalk', 5]]);
  });

  test('a throttled robot gets nothing until the window passes, then ONE digest of what piled up', async () => {
    const { clock, robot, d, calls, status } = await rig();
    robot.failNext(130101);
    const [first, ...rest] = storm(4);
    d.enqueue([first!]);
    await d.tick();
    expect(robot.answers).toEqual([130101]);
    expect(status().throttledUntil).toBe(clock.now() + 600_000);
    expect(status().lastError).toMatchObject({ code: '130101', retry: 'throttled' });

    d.enqueue(rest);
    for (let i = 0; i < 9; i++) {
      clock.advance(60_000);
      await d.tick();
      expect(await d.testSend('dingtalk')).toMatchObject({ ok: false, retry: 'throttled' }); // not even a test
    }
    expect(robot.answers).toHaveLength(1); // nothing reached the robot during the 10 minutes

    clock.advance(60_000);
    await d.tick();
    expect(robot.messages).toHaveLength(1);
    const digest = robot.messages[0]!.body.markdown!;
    expect(digest.title).toBe('【告警汇总】4 条告警（规则组 推送）');
    for (const n of [first!, ...rest]) expect(deliveries(robot, n)).toBe(1);
    expect(calls.throttled).toEqual(['dingtalk']);
    expect(calls.sent).toEqual([['dingtalk', 4]]);

    // Recovered: the next one goes out on its own again.
    d.enqueue([openRateDrop({ key: 'later' })]);
    await d.tick();
    expect(robot.messages[1]!.body.markdown!.title).toMatch(/^【告警】/);
  });

  test('a storm of 40 in one rule group arrives as one digest within 20,000 bytes', async () => {
    const { robot, d, status } = await rig();
    const ns = storm(40);
    d.enqueue(ns);
    await d.tick();
    expect(robot.messages).toHaveLength(1);
    expect(robot.messages[0]!.body.markdown!.title).toBe('【告警汇总】40 条告警（规则组 推送）');
    expect(robot.messages[0]!.bytes).toBeLessThanOrEqual(20_000);
    for (const n of ns) expect(deliveries(robot, n)).toBe(1);
    expect(status()).toMatchObject({ pending: 0, counters: { messagesSent: 1, notificationsSent: 40 } });
  });

  test('a storm across 10 rule groups never exceeds the limiter and is delivered exactly once', async () => {
    const { clock, robot, d, status } = await rig();
    const ns = storm(40).map((n, i) => ({ ...n, group: `g${i % 10}` }));
    // Arrives in waves, one tick a second.
    for (let wave = 0; wave < 8; wave++) {
      d.enqueue(ns.slice(wave * 5, wave * 5 + 5));
      await d.tick();
      clock.advance(1000);
    }
    for (let s = 0; s < 240 && status().pending > 0; s++) {
      await d.tick();
      clock.advance(1000);
    }
    expect(robot.answers).not.toContain(130101);
    const times = robot.messages.map((m) => m.receivedAt);
    const worstMinute = Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 60_000).length));
    expect(worstMinute).toBeLessThanOrEqual(18);
    for (const n of ns) expect(deliveries(robot, n)).toBe(1);
    expect(robot.messages.some((m) => m.body.markdown!.title.startsWith('【告警汇总】'))).toBe(true);
    expect(robot.messages.length).toBeLessThan(40);
  });

  test('310000 is not retried and shows in status() with errmsg and explanation', async () => {
    const { clock, robot, d, calls, status } = await rig({ notifier: { secret: 'SECwrong' } });
    d.enqueue([openRateDrop()]);
    await d.tick();
    clock.advance(3600_000);
    await d.tick();
    expect(robot.answers).toEqual([310000]);
    const s = status();
    expect(s).toMatchObject({ pending: 0, failed: 1 });
    expect(s.failures[0]).toMatchObject({ key: openRateDrop().key, code: '310000', explanation: '签名不匹配 / signature does not match: check DINGTALK_SECRET' });
    expect(s.failures[0]!.message).toContain('sign not match');
    expect(s.log[0]).toMatchObject({ ok: false, retry: 'never', code: '310000' });
    expect(calls.failed).toEqual([['dingtalk', '310000']]);
    expect(calls.sent).toEqual([]);
  });

  test('-1, HTTP 500 and a hang are retried with growing backoff and finally delivered', async () => {
    const { clock, robot, d, status } = await rig({ notifier: { timeoutMs: 300 } });
    robot.failNext(-1);
    robot.failNext(500);
    robot.failNext('hang');
    d.enqueue([openRateDrop()]);
    const waits: number[] = [];
    for (let i = 0; i < 3; i++) {
      await d.tick();
      const until = status().backoffUntil!;
      waits.push(until - clock.now());
      await d.tick(); // still backing off: nothing sent
      clock.advance(until - clock.now());
    }
    expect(robot.answers).toEqual([-1, 'http_500', 'hang']);
    expect(waits).toEqual([750, 1500, 3000]); // base 1 s doubling, equal jitter at random() = 0.5
    await d.tick();
    expect(robot.messages).toHaveLength(1);
    expect(status().log.map((a) => a.code ?? 'ok')).toEqual(['ok', 'timeout', 'http_500', '-1']);
    expect(status()).toMatchObject({ pending: 0, failed: 0, backoffUntil: null });
  });

  test('deliveries still failing after giveUpAfterMs are given up as expired', async () => {
    const { clock, robot, d, status } = await rig({ dispatcher: { giveUpAfterMs: 10_000 } });
    robot.failNext(500, 100);
    d.enqueue([openRateDrop()]);
    for (let i = 0; i < 20; i++) {
      await d.tick();
      clock.advance(1000);
    }
    expect(status()).toMatchObject({ pending: 0, failed: 1 });
    expect(status().failures[0]!.code).toBe('expired');
  });

  test('closed during an outage, a new Dispatcher on the same outbox delivers every owed message exactly once', async () => {
    const robot = await FakeDingTalkRobot.start({ secret: SECRET });
    cleanups.push(() => robot.close());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const options: DispatcherOptions = {
      outboxDir: dir,
      notifiers: [{ id: 'dingtalk', type: 'dingtalk', webhook: robot.webhook, secret: SECRET, timeoutMs: 500 }],
      tickMs: 5,
      backoffBaseMs: 10,
      backoffCapMs: 40,
    };
    robot.failNext(500, 1000);
    const first = new Dispatcher(options);
    first.start();
    const ns = [openRateDrop({ key: 'a', group: 'ga', split: { dim: 'channel', value: 'sms' } }), openRateDrop({ key: 'b', group: 'gb', split: { dim: 'channel', value: 'app_push' } })];
    first.enqueue(ns);
    await vi.waitFor(() => expect(robot.answers.length).toBeGreaterThanOrEqual(3), { timeout: 5000, interval: 5 });
    await first.close();
    expect(robot.messages).toHaveLength(0);

    robot.recover();
    const second = new Dispatcher(options);
    cleanups.push(() => second.close());
    expect(second.status()[0]!.pending).toBe(2);
    expect(second.enqueue(ns).duplicates).toBe(2); // still owed, not queued twice
    second.start();
    await vi.waitFor(() => expect(robot.messages).toHaveLength(2), { timeout: 5000, interval: 5 });
    await new Promise((r) => setTimeout(r, 100)); // more ticks: nothing further goes out
    expect(robot.messages).toHaveLength(2);
    for (const n of ns) expect(deliveries(robot, n)).toBe(1);
    await second.close();

    const third = new Dispatcher(options); // and nothing is owed any more
    expect(third.status()[0]!.pending).toBe(0);
    await third.close();
  });

  test('testSend answers with the classified result and the plain-words explanation', async () => {
    const { robot, d } = await rig();
    expect(await d.testSend('dingtalk')).toEqual({ ok: true });
    expect(robot.messages[0]!.body.markdown!.title).toBe('【测试】私域脉搏告警通道');
    robot.failNext(310000);
    expect(await d.testSend('dingtalk')).toMatchObject({ ok: false, retry: 'never', code: '310000', explanation: '签名不匹配 / signature does not match: check DINGTALK_SECRET' });
    expect(await d.testSend('nope')).toMatchObject({ ok: false, code: 'unknown_notifier' });
    expect(d.status()[0]!.log[0]).toMatchObject({ test: true, code: '310000' });
  });

  test('one notification to two robots; a failing robot does not hold up the other', async () => {
    const clock = manualClock();
    const ding = await FakeDingTalkRobot.start({ now: clock.now });
    const wecom = await FakeWeComRobot.start({ now: clock.now });
    cleanups.push(() => ding.close(), () => wecom.close());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const d = new Dispatcher({
      outboxDir: dir,
      notifiers: [
        { id: 'dingtalk', type: 'dingtalk', webhook: ding.webhook, timeoutMs: 200 },
        { id: 'wecom', type: 'wecom', webhook: wecom.webhook },
      ],
      now: clock.now,
    });
    cleanups.push(() => d.close());
    ding.failNext('hang');
    expect(d.enqueue([openRateDrop({ targets: ['dingtalk', 'wecom', 'email'] })])).toEqual({ queued: 2, duplicates: 0, unknownTargets: ['email'] });
    await d.tick();
    expect(wecom.messages).toHaveLength(1);
    expect(ding.messages).toHaveLength(0);
    clock.advance(10_000);
    await d.tick();
    expect(ding.messages).toHaveLength(1);
  });
});
