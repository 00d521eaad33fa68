/**
 * Alerts end to end: simulator traffic with injected swings → the real HTTP ingest →
 * collector → alert engine → dispatcher → a loopback robot that checks DingTalk's 加签
 * signature exactly. Asserts the numbers in the message against /api/v1/series.
 *
 * The windows are built so the baseline and the current window hold the SAME simulated
 * deliveries (one seed, generated twice: once plain, once with swings), so a channel's
 * change is exactly the swing's binomial thinning of opens — deterministic for the seed —
 * and channels without a swing change by exactly 0.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDingTalkRobot } from '../../alerts/test/fakes/dingtalkRobot.js';
import { Simulator, type RawEvent } from '../src/simulator/simulator.js';
import { MINUTE, floorTo } from '../src/time/zone.js';
import { io } from 'socket.io-client';
import type { AlertEvent } from '@siyu-pulse/alerts';
import { ADMIN_TOKEN, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const SECRET = 'SEC0123456789abcdef0123456789abcdef';
const W = 10 * MINUTE;
/** A 10-minute slice of the evening peak, replayed at different times. */
const SOURCE_FROM = Date.parse('2026-11-20T20:00:00+08:00');
const KEPT = new Set(['push.delivered', 'push.open']);
const CHANNELS = new Set(['wecom', 'app_push', 'sms']);

const RULE = `
rules:
  - id: open_rate_e2e
    name: 推送打开率波动（分渠道）
    group: push
    kpi: push_open_rate
    by: channel
    window: 10m
    baseline: { type: previous_window }
    thresholds: { fire: 0.15, clear: 0.10 }
    direction: down
    min_sample: 20000
    pending_for: 1
    cooldown: 0s
    flapping: { max_flips: 2, within: 2h }
    notify: [dingtalk]
`;

function slice(swings: { channel: string; factor: number }[]): RawEvent[] {
  const sim = new Simulator(() => {}, { seed: 7, peakEventsPerSecond: 2000 });
  for (const s of swings) sim.injectSwing({ kpi: 'push_open_rate', channel: s.channel, factor: s.factor, startAt: SOURCE_FROM });
  return sim.generate(SOURCE_FROM, SOURCE_FROM + W).filter((e) => KEPT.has(e.type) && CHANNELS.has(e.channel));
}

const plain = slice([]);
const swung = slice([
  { channel: 'wecom', factor: 0.84 }, // a 16% drop: fires
  { channel: 'app_push', factor: 0.86 }, // a 14% drop: does not
  { channel: 'sms', factor: 0.6 }, // a 40% drop on fewer deliveries than min_sample: does not
]);

describe('alerts end to end: simulator swing → engine → DingTalk robot', () => {
  let robot: FakeDingTalkRobot;
  let pulse: TestPulse;
  let rulesDir: string;
  /** Windows: k-th slice covers [T0 + k·W, T0 + (k+1)·W); all in the past. */
  let T0: number;
  let batch = 0;

  beforeAll(async () => {
    robot = await FakeDingTalkRobot.start({ secret: SECRET });
    rulesDir = mkdtempSync(path.join(tmpdir(), 'pulse-rules-'));
    writeFileSync(path.join(rulesDir, 'e2e.yaml'), RULE);
    pulse = await startTestPulse({
      env: {
        PULSE_LATENESS_SECONDS: '10800',
        PULSE_RULES_DIR: rulesDir,
        // The test drives evaluations itself at chosen instants.
        PULSE_ALERT_INTERVAL_SECONDS: '3600',
        DINGTALK_WEBHOOK: robot.webhook,
        DINGTALK_SECRET: SECRET,
        PULSE_INGEST_RATE: '10000000',
        PULSE_INGEST_BURST: '100000000',
      },
    });
    T0 = floorTo(Date.now(), W) - 8 * W;
  });
  afterAll(async () => {
    // The messages as a manager's DingTalk group received them, for people to read.
    const artifacts = path.resolve(import.meta.dirname, '../../test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    writeFileSync(path.join(artifacts, 'dingtalk-messages.md'), (robot?.messages ?? []).map((m) => `<!-- ${m.body.markdown?.title} -->\n${m.body.markdown?.text}\n`).join('\n---\n\n'));
    await pulse?.stopAndClean();
    await robot?.close();
    rmSync(rulesDir, { recursive: true, force: true });
  });

  /** Replays a slice into window k through the real ingest API. */
  async function replay(events: RawEvent[], k: number): Promise<void> {
    const shift = T0 + k * W - SOURCE_FROM;
    const tag = `w${k}-${++batch}`;
    for (let i = 0; i < events.length; i += 10_000) {
      const body = JSON.stringify(events.slice(i, i + 10_000).map((e) => ({ ...e, id: `${tag}-${e.id}`, ts: e.ts + shift })));
      const r = await pulse.post(body);
      expect(r.status).toBe(202);
      expect((r.json as { rejected: unknown[] }).rejected).toEqual([]);
    }
  }

  const evaluateAt = (k: number) => pulse.engine.evaluateOnce(T0 + k * W);

  async function openRates(k: number): Promise<Record<string, [number, number]>> {
    await pulse.flushToStore();
    const r = await pulse.get(`/api/v1/series?kpi=push_open_rate&from=${T0 + (k - 2) * W}&to=${T0 + k * W}&step=10m&by=channel`);
    const out: Record<string, [number, number]> = {};
    for (const s of (r.json as { series: { tags: { channel: string }; points: [number, number][] }[] }).series) {
      out[s.tags.channel] = [s.points[0]![1], s.points[1]![1]];
    }
    return out;
  }

  async function messagesSettled(count: number): Promise<void> {
    const until = Date.now() + 15_000;
    while (robot.messages.length < count && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 1500)); // and nothing more arrives
  }

  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;

  it('a 16% drop fires one signed DingTalk message with the right numbers; 14% and a small 40% do not', async () => {
    await replay(plain, 0);
    await replay(swung, 1);
    const rates = await openRates(2);
    const change = (ch: string) => rates[ch]![1] / rates[ch]![0] - 1;
    // The swings as measured by the history API (deterministic for the seed).
    expect(change('wecom')).toBeLessThan(-0.15);
    expect(change('wecom')).toBeGreaterThan(-0.18);
    expect(change('app_push')).toBeGreaterThan(-0.15);
    expect(change('app_push')).toBeLessThan(-0.12);
    expect(change('sms')).toBeLessThan(-0.35);

    const socket = io(`${pulse.url}/live`, { auth: { token: READ_TOKEN }, transports: ['websocket'] });
    const streamed = new Promise<AlertEvent[]>((resolve) => socket.once('alert', resolve));
    await new Promise<void>((resolve) => socket.once('snapshot', () => resolve()));
    await evaluateAt(2);
    await messagesSettled(1);
    const live = await streamed;
    socket.close();
    expect(live.map((e) => [e.alertKey, e.from, e.state, e.severity])).toEqual([['open_rate_e2e|channel=wecom', 'ok', 'firing', 'warning']]);
    expect(robot.messages).toHaveLength(1);
    const msg = robot.messages[0]!.body;
    expect(msg.msgtype).toBe('markdown');
    const [base, cur] = rates.wecom!;
    // Channels are named as on the wall.
    expect(msg.markdown!.title).toBe(`【告警】推送打开率（渠道 企业微信）环比下降 ${pct(-change('wecom'))}`);
    const text = msg.markdown!.text;
    expect(text).toContain(`当前值：${pct(cur)}`);
    expect(text).toContain(`基线：${pct(base)}`);
    expect(text).toContain(`变化：下降 ${pct(-change('wecom'))}（不利）`);
    // The rule watches drops only: its threshold says so.
    expect(text).toContain('阈值：−15%（下降超过即告警）');
    expect(text).toContain('范围：渠道 企业微信');
    expect(text).not.toContain('App推送');
    expect(text).not.toContain('短信');
    expect(text).not.toContain('演示数据'); // not the demo
    // The link opens the hour around the swing (this 10-minute window and before), not 4 hours.
    const link = /\[查看趋势\]\((http:\/\/127\.0\.0\.1:\d+\/trends\?[^)]+)\)/.exec(text)?.[1];
    const q = new URL(link!).searchParams;
    expect([q.get('kpi'), q.get('channel'), Number(q.get('to')) - Number(q.get('from'))]).toEqual(['push_open_rate', 'wecom', 3_600_000]);
    expect(Number(q.get('to'))).toBe(T0 + 2 * W);

    const active = (await pulse.get('/api/v1/alerts')).json as { alerts: { alertKey: string; state: string }[] };
    expect(active.alerts.map((a) => [a.alertKey, a.state])).toEqual([['open_rate_e2e|channel=wecom', 'firing']]);
    const rules = (await pulse.get('/api/v1/rules')).json as { rules: { splits: { alertKey: string; reason?: string; state: string }[] }[] };
    const sms = rules.rules[0]!.splits.find((s) => s.alertKey.endsWith('sms'))!;
    expect(sms.state).toBe('ok');
  });

  it('recovery sends exactly one resolved message', async () => {
    await replay(plain, 2);
    await evaluateAt(3);
    await messagesSettled(2);
    expect(robot.messages).toHaveLength(2);
    expect(robot.messages[1]!.body.markdown!.title).toMatch(/^【已恢复】推送打开率（渠道 企业微信）/);
    expect(((await pulse.get('/api/v1/alerts')).json as { alerts: unknown[] }).alerts).toEqual([]);
  });

  it('a flapping series sends one flapping message and then stays quiet', async () => {
    await replay(swung, 3); // fires again: the third flip → flapping
    await evaluateAt(4);
    await messagesSettled(3);
    expect(robot.messages).toHaveLength(3);
    expect(robot.messages[2]!.body.markdown!.title).toMatch(/^【波动频繁】推送打开率（渠道 企业微信）/);
    await replay(plain, 4);
    await evaluateAt(5);
    await replay(swung, 5);
    await evaluateAt(6);
    await messagesSettled(3);
    expect(robot.messages).toHaveLength(3);
  });

  it('every state change is stored in pulse_alerts and served by the history API', async () => {
    const r = await pulse.get(`/api/v1/alerts/history?from=${T0}&to=${Date.now() + 1}&rule=open_rate_e2e`);
    const events = (r.json as { events: { state: string; from: string; splitValue: string }[] }).events;
    expect(events.length).toBeGreaterThanOrEqual(3);
    expect(events.every((e) => e.splitValue === 'wecom')).toBe(true);
    expect(events.map((e) => e.state)).toContain('flapping');
    expect(events.map((e) => e.state)).toContain('resolved');
  });

  it('silences and acks through the API: admin only, who / when / why kept, bad input explained', async () => {
    const call = async (method: string, route: string, body?: unknown, token = ADMIN_TOKEN) => {
      const res = await fetch(`${pulse.url}${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    };
    const silence = { matchers: { ruleId: 'open_rate_e2e', dim: 'channel', value: 'wecom' }, durationMinutes: 60, by: '王经理', reason: '双11 预热期间推送模板调整' };
    expect((await call('POST', '/api/v1/silences', silence, READ_TOKEN)).status).toBe(401);
    expect((await call('POST', '/api/v1/silences', { ...silence, reason: '' })).json.error).toMatch(/^reason: give a reason/);
    expect((await call('POST', '/api/v1/silences', { ...silence, matchers: {} })).json.error).toMatch(/at least one matcher/);
    const created = await call('POST', '/api/v1/silences', silence);
    expect(created.status).toBe(201);
    const id = (created.json.silence as { id: string }).id;
    const listed = (await call('GET', '/api/v1/silences', undefined, READ_TOKEN)).json.silences as { id: string; by: string; reason: string; createdAt: number }[];
    expect(listed.find((x) => x.id === id)).toMatchObject({ by: '王经理', reason: '双11 预热期间推送模板调整' });
    expect((await call('DELETE', `/api/v1/silences/${id}?by=${encodeURIComponent('王经理')}`)).status).toBe(200);
    expect((await call('DELETE', '/api/v1/silences/nope')).status).toBe(404);
    const ack = await call('POST', '/api/v1/alerts/ack', { alertKey: 'open_rate_e2e|channel=sms', by: '王经理', reason: '已知' });
    expect(ack.status).toBe(409);
    expect(ack.json.error).toMatch(/not firing/);
  });

  it('the test button reports DingTalk’s answer in plain words', async () => {
    const res = await fetch(`${pulse.url}/api/v1/notifiers/dingtalk/test`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(200);
    robot.failNext(310000);
    const bad = await fetch(`${pulse.url}/api/v1/notifiers/dingtalk/test`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(bad.status).toBe(502);
    const body = (await bad.json()) as { retry: string; code: string; explanation: string; error: string };
    expect(body.retry).toBe('never');
    expect(body.error).toMatch(/^errcode 310000 · .+ · .+/);
    expect(body.code).toBe('310000');
    expect(body.explanation.length).toBeGreaterThan(10);
  });

  it('deleting the rule of a flapping alert sends 规则已删除 and records the end in the history', async () => {
    const before = robot.messages.length;
    rmSync(path.join(rulesDir, 'e2e.yaml'));
    const until = Date.now() + 15_000;
    while (Date.now() < until) {
      const rules = (await pulse.get('/api/v1/rules')).json as { rules: unknown[] };
      if (rules.rules.length === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await evaluateAt(7);
    await messagesSettled(before + 1);
    expect(robot.messages).toHaveLength(before + 1);
    const last = robot.messages.at(-1)!.body.markdown!;
    expect(last.title).toBe('【规则已删除】推送打开率（渠道 企业微信）');
    expect(last.text).toContain('告警规则已被删除');
    const r = await pulse.get(`/api/v1/alerts/history?from=${T0}&to=${Date.now() + 1}&rule=open_rate_e2e`);
    const events = (r.json as { events: { ts: number; state: string; from: string; summary: string }[] }).events;
    const end = events.find((e) => e.ts === T0 + 7 * W);
    expect(end).toMatchObject({ from: 'flapping', state: 'resolved' });
    expect(end?.summary).toContain('规则已删除');
    expect(((await pulse.get('/api/v1/alerts')).json as { alerts: unknown[] }).alerts).toEqual([]);
  });
});
