/**
 * Morning brief (日报) end to end on a real server: events on the two days before today
 * (business time), the brief sent through the dispatcher to a DingTalk stand-in that checks
 * 加签 like the real robot; every number in the text equals what `/api/v1/series` answers
 * for that KPI and day (formatted as messages format), the movers are the channels that
 * moved most, yesterday's firings are listed, the /m link is signed and read-only, the push
 * team's robot gets only its KPIs, a second run the same day sends nothing new. The default
 * schedule fires at 09:00 in PULSE_TIMEZONE; a bad subscription stops start-up with the reason.
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatValue } from '@siyu-pulse/alerts';
import { FakeDingTalkRobot } from '../../alerts/test/fakes/dingtalkRobot.js';
import { MorningBrief, MorningBriefSchedule, DEFAULT_BRIEF_CRON, parseSubscriptions } from '../src/brief/morningBrief.js';
import { KPI_BY_ID } from '@siyu-pulse/contracts/catalogue';
import { loadConfig } from '../src/config/config.js';
import { startPulse } from '../src/server.js';
import { dayStart } from '../src/time/zone.js';
import { ADMIN_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const SECRET = 'SECbrief0123456789abcdef';
const TZ = 'Asia/Shanghai';
const HOUR = 3_600_000;

describe('morning brief', () => {
  let p: TestPulse;
  let ops: FakeDingTalkRobot;
  let push: FakeDingTalkRobot;
  const today = dayStart(Date.now(), TZ);
  const yesterday = dayStart(today - 1, TZ);
  const dayBefore = dayStart(yesterday - 1, TZ);

  beforeAll(async () => {
    ops = await FakeDingTalkRobot.start({ secret: SECRET });
    push = await FakeDingTalkRobot.start({ secret: SECRET });
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(tmpdir(), 'brief-notifiers-'));
    const file = path.join(dir, 'notifiers.yaml');
    writeFileSync(
      file,
      ['notifiers:', `  - { id: dingtalk, type: dingtalk, webhook: "${ops.webhook}", secret: ${SECRET} }`, `  - { id: push_team, type: dingtalk, webhook: "${push.webhook}", secret: ${SECRET} }`, ''].join('\n'),
    );
    p = await startTestPulse({
      env: {
        PULSE_NOTIFIERS_FILE: file,
        PULSE_BRIEF_SUBSCRIPTIONS: 'dingtalk:gmv,new_members,paid_conversion,churn_rate;push_team:push_open_rate',
      },
    });
    // Stored history of the two days before today (as the collector writes it; ingest refuses
    // events older than the lateness window). Day before: WeCom 40 joins, Douyin 10, 8 paid
    // orders of ¥100 over 200 page views; yesterday: WeCom 20, Douyin 30, 12 of ¥150 over 200.
    const tags = (channel: string) => ({ channel, community: '', campaign: '' });
    await p.store.writeCounters([
      { ts: dayBefore + 2 * HOUR, tags: tags('wecom'), counters: { member_join: 40, order_paid: 8, order_paid_fen: 80_000, page_view: 200 } },
      { ts: dayBefore + 2 * HOUR, tags: tags('douyin'), counters: { member_join: 10 } },
      { ts: dayBefore + 2 * HOUR, tags: tags('app_push'), counters: { push_delivered: 100, push_open: 30 } },
      { ts: yesterday + 2 * HOUR, tags: tags('wecom'), counters: { member_join: 20, order_paid: 12, order_paid_fen: 180_000, page_view: 200 } },
      { ts: yesterday + 2 * HOUR, tags: tags('douyin'), counters: { member_join: 30 } },
      { ts: yesterday + 2 * HOUR, tags: tags('app_push'), counters: { push_delivered: 100, push_open: 20 } },
    ] as never);
  });
  afterAll(async () => {
    await p?.stopAndClean();
    await ops?.close();
    await push?.close();
  });

  /** What the series API answers for a KPI on yesterday and the day before. */
  async function seriesDays(kpi: string): Promise<{ y: number | null; b: number | null }> {
    const res = await p.get(`/api/v1/series?kpi=${kpi}&from=${dayBefore}&to=${today}&step=1d`);
    expect(res.status).toBe(200);
    const pts = (res.json as { series: { points: [number, number | null][] }[] }).series[0]!.points;
    return { y: pts.find((x) => x[0] === yesterday)?.[1] ?? null, b: pts.find((x) => x[0] === dayBefore)?.[1] ?? null };
  }

  it('arrives signed at each subscribed robot with the numbers of the series API', async () => {
    const res = await fetch(`${p.url}/api/v1/briefs/morning`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(202);
    const deadline = Date.now() + 15_000;
    while ((ops.messages.length < 1 || push.messages.length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(ops.messages).toHaveLength(1);
    expect(push.messages).toHaveLength(1);
    const text = ops.messages[0]!.body.markdown!.text;
    const title = ops.messages[0]!.body.markdown!.title;
    const ymd = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, month: '2-digit', day: '2-digit' }).format(yesterday);
    expect(title).toContain(`【日报】${ymd}（`);

    const checked: string[] = [];
    for (const kpi of ['gmv', 'new_members', 'paid_conversion', 'churn_rate']) {
      const def = KPI_BY_ID.get(kpi)!;
      const { y, b } = await seriesDays(kpi);
      const line = text.split('\n').find((l) => l.startsWith(`- ${def.label.zh}：`));
      expect(line, kpi).toBeDefined();
      expect(line).toContain(`**${formatValue(y, def.unit)}**`);
      const change = y !== null && b !== null && b !== 0 ? (y - b) / Math.abs(b) : null;
      expect(line).toContain(`较前日 ${change === null ? '—' : `${change > 0 ? '+' : change < 0 ? '−' : ''}${Math.abs(change * 100).toFixed(1)}%`}`);
      checked.push(`${kpi}=${y}`);
    }
    // The figures themselves, as sent: 12 × ¥150 = ¥1,800.00; 50 joins (20 WeCom + 30 Douyin).
    expect(text).toContain('- 成交额 GMV：**¥1,800.00**（较前日 +125.0%）');
    expect(text).toContain('- 新增成员：**50**（较前日 0.0%）');
    // Movers: Douyin 10 → 30 (+200%) first, WeCom 40 → 20 (−50%) next.
    const movers = text.slice(text.indexOf('**渠道变化最大**')).split('\n').filter((l) => l.startsWith('- '));
    expect(movers[0]).toBe('- 抖音 · 新增成员：10 → 30（+200.0%）');
    expect(movers).toContain('- 企业微信 · 新增成员：40 → 20（−50.0%）');
    expect(text).toContain('**昨日告警**：无');
    expect(text).toContain('- 支付转化率：**6.0%**（较前日 +50.0%，目标 5.2% 已达标）');
    // The push team's robot gets its KPI only.
    const pushText = push.messages[0]!.body.markdown!.text;
    expect(pushText).toContain('- 推送打开率：**20.0%**（较前日 −33.3%）');
    expect(pushText).not.toContain('成交额');

    // One link, to /m, signed read-only.
    const link = /\[手机查看今日概览\]\(([^)]+)\)/.exec(text)![1]!;
    const u = new URL(link);
    expect(u.pathname).toBe('/m');
    const token = u.searchParams.get('link')!;
    expect((await p.get('/api/v1/snapshot', token)).status).toBe(200);
    expect((await fetch(`${p.url}/api/v1/briefs/morning`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  });

  it('a second run the same day sends nothing new (one brief per robot per day)', async () => {
    const res = await fetch(`${p.url}/api/v1/briefs/morning`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect(res.status).toBe(202);
    expect(((await res.json()) as { briefs: { queued: boolean }[] }).briefs.map((b) => b.queued)).toEqual([false, false]);
    await new Promise((r) => setTimeout(r, 1500));
    expect(ops.messages).toHaveLength(1);
  });

  it('is scheduled at 09:00 business time by default', () => {
    const brief = new MorningBrief({} as ConstructorParameters<typeof MorningBrief>[0]);
    for (const tz of ['Asia/Shanghai', 'America/New_York']) {
      const s = new MorningBriefSchedule({ cron: DEFAULT_BRIEF_CRON, timezone: tz, brief, logger: pino({ level: 'silent' }) });
      s.start();
      const next = s.nextRun()!;
      s.stop();
      const hm = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hour: '2-digit', minute: '2-digit', hour12: false }).format(next);
      expect(hm, tz).toBe('09:00');
      expect(next.getTime() - Date.now()).toBeLessThanOrEqual(86_400_000);
    }
  });

  it('a subscription naming an unknown KPI stops start-up with the reason', async () => {
    expect(parseSubscriptions('dingtalk:gmv,nope', new Set(['gmv'])).problems).toEqual(['unknown KPI "nope" for dingtalk (GET /api/v1/kpis lists them)']);
    expect(parseSubscriptions('garbage', new Set(['gmv'])).problems[0]).toContain('must be <notifier id>:<kpi>');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const dataDir = mkdtempSync(`${tmpdir()}/brief-bad-`);
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', PULSE_DATA_DIR: dataDir, PULSE_SIMULATOR: 'off', LOG_LEVEL: 'silent', PULSE_WEEKLY_REPORT_CRON: 'off', PULSE_READ_TOKEN: 'r'.repeat(20), PULSE_BRIEF_SUBSCRIPTIONS: 'dingtalk:nope' });
    await expect(startPulse(config, pino({ level: 'silent' }))).rejects.toThrow(/PULSE_BRIEF_SUBSCRIPTIONS: unknown KPI "nope"/);
  });
});
