import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { TRUNCATION_MARKER } from '../../src/notify/bytes.js';
import { formatNotification } from '../../src/notify/format.js';
import { createDingTalkSender, signDingTalkUrl } from '../../src/notify/senders/dingtalk.js';
import type { DingTalkConfig, OutboundMessage } from '../../src/notify/types.js';
import { FakeDingTalkRobot, type FakeDingTalkOptions } from '../fakes/dingtalkRobot.js';
import { openRateDrop } from './helpers.js';

const SECRET = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab';
let robot: FakeDingTalkRobot | undefined;
afterEach(async () => {
  await robot?.close();
  robot = undefined;
});

async function setup(fake: FakeDingTalkOptions, config: Partial<DingTalkConfig> = {}) {
  robot = await FakeDingTalkRobot.start(fake);
  const cfg: DingTalkConfig = { id: 'dingtalk', type: 'dingtalk', webhook: robot.webhook, ...config };
  return { robot, cfg, sender: createDingTalkSender(cfg) };
}

function message(text?: string): OutboundMessage {
  const n = openRateDrop();
  const f = formatNotification(n);
  return { ...f, text: text ?? f.text, kind: 'firing', notifications: [n] };
}

describe('DingTalk sender against a fake robot', () => {
  test('加签: the fake verifies the signature; the stored webhook is never modified', async () => {
    const { robot, cfg, sender } = await setup({ secret: SECRET }, { secret: SECRET });
    const before = cfg.webhook;
    for (let i = 0; i < 3; i++) expect(await sender.send(message())).toEqual({ ok: true });
    expect(cfg.webhook).toBe(before);
    expect(robot.messages).toHaveLength(3);
    const m = robot.messages[0]!.body;
    expect(m.msgtype).toBe('markdown');
    expect(m.markdown?.title).toBe('【告警】推送打开率（渠道 wecom）环比下降 16.3%');
  });

  test('the sign is URL-encoded exactly once (base64 "+", "/" and "=" survive)', () => {
    // Pick a timestamp whose signature has '+' and '/', the characters that missing or double encoding breaks.
    let ts = 1_700_000_000_000;
    const raw = (t: number) => createHmac('sha256', SECRET).update(`${t}\n${SECRET}`).digest('base64');
    while (!/[+]/.test(raw(ts)) || !/[/]/.test(raw(ts))) ts++;
    const url = new URL(signDingTalkUrl('https://oapi.dingtalk.com/robot/send?access_token=t', SECRET, ts));
    expect(url.searchParams.get('access_token')).toBe('t');
    expect(url.searchParams.get('timestamp')).toBe(String(ts));
    expect(url.searchParams.get('sign')).toBe(raw(ts));
    expect(url.search).not.toMatch(/sign=[^&]*[+/=]/);
  });

  test('a wrong secret gets 310000, not retried, explained in plain words', async () => {
    const { robot, sender } = await setup({ secret: SECRET }, { secret: `${SECRET}x` });
    const r = await sender.send(message());
    expect(r).toMatchObject({ ok: false, retry: 'never', code: '310000' });
    if (r.ok) throw new Error('unreachable');
    expect(r.message).toContain('sign not match');
    expect(r.explanation).toBe('签名不匹配 / signature does not match: check DINGTALK_SECRET');
    expect(robot.messages).toHaveLength(0);
  });

  test('a robot with 加签 but no secret configured is explained as such', async () => {
    const { sender } = await setup({ secret: SECRET });
    const r = await sender.send(message());
    expect(r).toMatchObject({ ok: false, retry: 'never', code: '310000' });
    expect(!r.ok && r.explanation).toContain('no secret is configured');
  });

  test('a timestamp more than 1 hour off is explained as clock skew', async () => {
    const { sender } = await setup({ secret: SECRET, now: () => Date.now() + 2 * 3600_000 }, { secret: SECRET });
    const r = await sender.send(message());
    expect(r).toMatchObject({ ok: false, retry: 'never', code: '310000' });
    expect(!r.ok && r.explanation).toContain('clock');
  });

  test('keyword: injected when absent, and its absence is explained', async () => {
    const { robot, sender } = await setup({ keyword: '脉搏' }, { keyword: '脉搏' });
    expect(await sender.send(message())).toEqual({ ok: true });
    const body = robot.messages[0]!.body;
    expect(body.markdown?.text.startsWith('### 脉搏 【告警】')).toBe(true);
    expect(body.markdown?.title).toBe('脉搏 【告警】推送打开率（渠道 wecom）环比下降 16.3%');

    const bare = createDingTalkSender({ id: 'd', type: 'dingtalk', webhook: robot.webhook });
    const r = await bare.send(message());
    expect(r).toMatchObject({ ok: false, retry: 'never', code: '310000' });
    expect(!r.ok && r.explanation).toMatch(/^关键词不匹配 \/ keyword missing: the robot requires a keyword the message does not contain/);
  });

  test('a keyword the text already contains is not added twice', async () => {
    const { robot, sender } = await setup({ keyword: '告警' }, { keyword: '告警' });
    await sender.send(message());
    expect(robot.messages[0]!.body.markdown?.text.startsWith('### 【告警】')).toBe(true);
  });

  test('@mobiles go into `at` and into the text', async () => {
    const { robot, sender } = await setup({}, { atMobiles: ['13800000000', '13900000001'], atUserIds: ['manager01'] });
    await sender.send(message());
    const body = robot.messages[0]!.body;
    expect(body.at).toEqual({ atMobiles: ['13800000000', '13900000001'], atUserIds: ['manager01'], isAtAll: false });
    expect(body.markdown?.text.endsWith('\n\n@13800000000 @13900000001 @manager01')).toBe(true);
  });

  test('a huge message (Chinese, emoji, escapes) is cut by bytes to fit 20,000 and stays valid UTF-8', async () => {
    const { robot, sender } = await setup({ secret: SECRET }, { secret: SECRET, atMobiles: ['13800000000'] });
    const huge = `### 标题\n${'渠道"引号"告警📉👨‍👩‍👧\n'.repeat(2000)}`;
    expect(await sender.send(message(huge))).toEqual({ ok: true });
    const got = robot.messages[0]!;
    expect(got.bytes).toBeLessThanOrEqual(20_000);
    expect(got.bytes).toBeGreaterThan(19_900); // not cut more than needed
    const text = got.body.markdown!.text;
    expect(text).toContain(`${TRUNCATION_MARKER}\n\n@13800000000`);
    expect(text).not.toContain('\uFFFD'); // no broken character
    // The cut falls between whole graphemes: the part before the marker is a prefix of the original.
    expect(huge.startsWith(text.slice(0, text.indexOf(TRUNCATION_MARKER)))).toBe(true);
    expect(Buffer.from(text, 'utf8').toString('utf8')).toBe(text);
  });

  test.each([
    [130101, 'throttled'],
    [-1, 'backoff'],
    [500, 'backoff'],
    [302, 'throttled'],
  ] as const)('fault %s is classified %s', async (fault, retry) => {
    const { robot, sender } = await setup({});
    robot.failNext(fault);
    const r = await sender.send(message());
    expect(r).toMatchObject({ ok: false, retry });
    expect(robot.messages).toHaveLength(0);
  });

  test('a hanging robot times out (backoff), an unreachable one is a network error (backoff)', async () => {
    const { robot: fake, sender } = await setup({}, { timeoutMs: 150 });
    fake.failNext('hang');
    expect(await sender.send(message())).toMatchObject({ ok: false, retry: 'backoff', code: 'timeout' });
    const webhook = fake.webhook;
    await fake.close();
    robot = undefined;
    const gone = createDingTalkSender({ id: 'd', type: 'dingtalk', webhook, timeoutMs: 1000 });
    const r = await gone.send(message());
    expect(r).toMatchObject({ ok: false, retry: 'backoff', code: 'network' });
    expect(!r.ok && r.message).not.toContain('access_token');
  });

  test('a wrong access token is explained', async () => {
    const { robot } = await setup({});
    const sender = createDingTalkSender({ id: 'd', type: 'dingtalk', webhook: robot.webhook.replace('fake-token', 'nope') });
    const r = await sender.send(message());
    expect(r).toMatchObject({ ok: false, retry: 'never', code: '300005' });
    expect(!r.ok && r.explanation).toContain('access token does not exist');
  });

  test('the fake rejects bodies over 20,000 bytes with 460101 (never retried)', async () => {
    const { robot } = await setup({});
    const res = await fetch(robot.webhook, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ msgtype: 'markdown', markdown: { title: 't', text: '长'.repeat(7000) } }),
    });
    expect(await res.json()).toEqual({ errcode: 460101, errmsg: 'message too long, exceed 20000 bytes' });
  });
});
