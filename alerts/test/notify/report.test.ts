/**
 * Messages rendered elsewhere (the weekly report) go through the same dispatcher: passed
 * through untouched, signed and rate-limited like alerts, and their outcome is reported to
 * outcome listeners (delivered, or given up with the robot's errcode).
 */
import { afterEach, describe, expect, test } from 'vitest';
import type { PlainMessage } from '../../src/contract.js';
import { Dispatcher, type DeliveryOutcome } from '../../src/notify/dispatcher.js';
import { formatDigest, formatNotification } from '../../src/notify/format.js';
import { FakeDingTalkRobot } from '../fakes/dingtalkRobot.js';
import { manualClock, openRateDrop, tempDir } from './helpers.js';

const SECRET = 'SECf00dfeedbeef';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const report = (over: Partial<PlainMessage> = {}): PlainMessage => ({
  key: 'report|2026-W47|1',
  kind: 'report',
  group: 'report|2026-W47|1',
  title: '【数据周报】2026-11-16 – 11-22 私域运营中心',
  text: '### 【数据周报】2026-11-16 – 11-22 私域运营中心\n\n#### 用户规模\n新增成员 1,234。',
  links: [],
  targets: ['dingtalk'],
  ts: 1,
  ...over,
});

describe('report messages', () => {
  test('are passed through as rendered; alerts are formatted as before', () => {
    const n = report();
    expect(formatNotification(n)).toEqual({ title: n.title, text: n.text });
    expect(formatDigest([n])).toEqual({ title: n.title, text: n.text });
    // An outbox entry written before plain messages (the report in `markdown`) still goes out as it was.
    const legacy = { key: 'report|old', kind: 'report', group: 'report|old', targets: ['dingtalk'], ts: 1, markdown: { title: 'T', text: '### T' } } as unknown as PlainMessage;
    expect(formatNotification(legacy)).toEqual({ title: 'T', text: '### T' });
    expect(formatNotification(openRateDrop()).title).toMatch(/^【告警】推送打开率/);
  });

  test('are delivered signed, and listeners hear the outcome: delivered, then a refusal', async () => {
    const clock = manualClock();
    const robot = await FakeDingTalkRobot.start({ secret: SECRET, now: clock.now });
    cleanups.push(() => robot.close());
    const { dir, cleanup } = tempDir();
    cleanups.push(cleanup);
    const d = new Dispatcher({ outboxDir: dir, notifiers: [{ id: 'dingtalk', type: 'dingtalk', webhook: robot.webhook, secret: SECRET, timeoutMs: 500 }], now: clock.now });
    cleanups.push(() => d.close());
    const outcomes: DeliveryOutcome[] = [];
    const off = d.onOutcome((o) => outcomes.push(o));

    d.enqueue([report()]);
    await d.tick();
    expect(robot.messages.map((m) => m.body.markdown)).toEqual([{ title: report().title, text: report().text }]);
    expect(outcomes).toEqual([{ notifierId: 'dingtalk', key: 'report|2026-W47|1', kind: 'report', ok: true, at: clock.now() }]);

    robot.failNext(310000);
    d.enqueue([report({ key: 'report|2026-W47|2', group: 'report|2026-W47|2' })]);
    await d.tick();
    expect(outcomes[1]).toMatchObject({ key: 'report|2026-W47|2', ok: false, code: '310000', message: expect.stringContaining('sign not match') });

    off();
    d.enqueue([report({ key: 'report|2026-W47|3', group: 'report|2026-W47|3' })]);
    await d.tick();
    expect(outcomes).toHaveLength(2);
  });
});
