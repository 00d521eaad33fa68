import { afterEach, describe, expect, test } from 'vitest';
import { TRUNCATION_MARKER } from '../../src/notify/bytes.js';
import { formatNotification } from '../../src/notify/format.js';
import { createWeComSender } from '../../src/notify/senders/wecom.js';
import { createWebhookSender } from '../../src/notify/senders/webhook.js';
import type { OutboundMessage } from '../../src/notify/types.js';
import { FakeWeComRobot } from '../fakes/wecomRobot.js';
import { FakeWebhookReceiver } from '../fakes/webhookReceiver.js';
import { openRateDrop } from './helpers.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});

function message(text?: string): OutboundMessage {
  const n = openRateDrop();
  const f = formatNotification(n);
  return { ...f, text: text ?? f.text, kind: 'firing', notifications: [n] };
}

describe('WeCom sender against a fake robot', () => {
  async function wecom() {
    const robot = await FakeWeComRobot.start();
    closers.push(() => robot.close());
    return robot;
  }

  test('sends markdown; a wrong key is 93000, never retried, explained', async () => {
    const robot = await wecom();
    expect(await createWeComSender({ id: 'w', type: 'wecom', webhook: robot.webhook }).send(message())).toEqual({ ok: true });
    expect(robot.messages[0]!.body.markdown!.content).toBe(message().text);

    const wrong = createWeComSender({ id: 'w', type: 'wecom', webhook: robot.webhook.replace('fake-key', 'bad') });
    const r = await wrong.send(message());
    expect(r).toMatchObject({ ok: false, retry: 'never', code: '93000' });
    expect(!r.ok && r.message).toContain('invalid webhook url');
    expect(!r.ok && r.explanation).toContain('invalid webhook URL');
  });

  test('markdown content is cut by bytes to 4096, valid UTF-8, mentions kept', async () => {
    const robot = await wecom();
    const sender = createWeComSender({ id: 'w', type: 'wecom', webhook: robot.webhook, mentionedUserIds: ['zhangsan'] });
    const huge = `### 标题\n${'私域告警📉👍🏽'.repeat(600)}`;
    expect(await sender.send(message(huge))).toEqual({ ok: true });
    const content = robot.messages[0]!.body.markdown!.content;
    const bytes = Buffer.byteLength(content, 'utf8');
    expect(bytes).toBeLessThanOrEqual(4096);
    expect(bytes).toBeGreaterThan(4080);
    expect(content.endsWith(`${TRUNCATION_MARKER}\n\n<@zhangsan>`)).toBe(true);
    expect(content).not.toContain('\uFFFD');
    expect(huge.startsWith(content.slice(0, content.indexOf(TRUNCATION_MARKER)))).toBe(true);
  });

  test('mentioned mobiles switch to a text message (markdown cannot @ by mobile), ≤ 2048 bytes', async () => {
    const robot = await wecom();
    const sender = createWeComSender({ id: 'w', type: 'wecom', webhook: robot.webhook, mentionedMobiles: ['13800000000'] });
    expect(await sender.send(message(`### 标题\n${'长文本'.repeat(1000)}`))).toEqual({ ok: true });
    const text = robot.messages[0]!.body.text!;
    expect(text.mentioned_mobile_list).toEqual(['13800000000']);
    expect(Buffer.byteLength(text.content, 'utf8')).toBeLessThanOrEqual(2048);
    expect(text.content.startsWith('标题\n')).toBe(true);
  });

  test('45009 is throttled; -1 and 500 back off', async () => {
    const robot = await wecom();
    const sender = createWeComSender({ id: 'w', type: 'wecom', webhook: robot.webhook });
    robot.failNext(45009);
    robot.failNext(-1);
    robot.failNext(500);
    expect(await sender.send(message())).toMatchObject({ ok: false, retry: 'throttled', code: '45009' });
    expect(await sender.send(message())).toMatchObject({ ok: false, retry: 'backoff', code: '-1' });
    expect(await sender.send(message())).toMatchObject({ ok: false, retry: 'backoff', code: 'http_500' });
    expect(robot.messages).toHaveLength(0);
  });
});

describe('generic webhook sender against a receiver', () => {
  async function receiver(opts: { secret?: string; retryAfterSeconds?: number } = {}) {
    const r = await FakeWebhookReceiver.start(opts);
    closers.push(() => r.close());
    return r;
  }

  test('signed body verified by the receiver; carries kind, notifications and text', async () => {
    const r = await receiver({ secret: 'hook-secret' });
    const sender = createWebhookSender({ id: 'h', type: 'webhook', url: r.url, secret: 'hook-secret', headers: { 'x-team': 'ops' } });
    expect(await sender.send(message())).toEqual({ ok: true });
    const got = r.messages[0]!;
    expect(got.headers['x-team']).toBe('ops');
    expect(got.headers['x-pulse-signature']).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(got.body.kind).toBe('firing');
    expect(got.body.notifications[0]!.key).toBe(openRateDrop().key);
    expect(got.body.text).toBe(message().text);
  });

  test('a wrong secret is refused (401, never)', async () => {
    const r = await receiver({ secret: 'hook-secret' });
    const sender = createWebhookSender({ id: 'h', type: 'webhook', url: r.url, secret: 'other' });
    const res = await sender.send(message());
    expect(res).toMatchObject({ ok: false, retry: 'never', code: 'http_401' });
    expect(r.messages).toHaveLength(0);
  });

  test('429 is throttled with Retry-After; 500 and hang back off; 400 is never', async () => {
    const r = await receiver({ retryAfterSeconds: 7 });
    const sender = createWebhookSender({ id: 'h', type: 'webhook', url: r.url, timeoutMs: 150 });
    r.failNext(429);
    r.failNext(500);
    r.failNext('hang');
    r.failNext(400);
    expect(await sender.send(message())).toMatchObject({ ok: false, retry: 'throttled', code: 'http_429', retryAfterMs: 7000 });
    expect(await sender.send(message())).toMatchObject({ ok: false, retry: 'backoff', code: 'http_500' });
    expect(await sender.send(message())).toMatchObject({ ok: false, retry: 'backoff', code: 'timeout' });
    expect(await sender.send(message())).toMatchObject({ ok: false, retry: 'never', code: 'http_400' });
    expect(await sender.send(message())).toEqual({ ok: true });
  });
});
