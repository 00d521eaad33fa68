/**
 * The daily pull of WeCom's statistics against a fake WeCom on 127.0.0.1 (documented
 * answers and errcodes, deterministic numbers): the first run backfills 179 complete days
 * within WeCom's 180-day limit, in calls of ≤ 100 staff and ≤ 30 days, surviving a token
 * expiry (42001) mid-pull; a re-pull replaces days (never doubles) and keeps live counters
 * of the same row; a restart does not backfill again; a bad secret writes nothing.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WeComApi } from '../src/connectors/wecom/api.js';
import { WECOM_STATS_WRITER, WeComDailyStats } from '../src/connectors/wecom/dailyStats.js';
import { createInfluxStore } from '../src/store/influx/adapter.js';
import { DAY } from '../src/time/zone.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { FakeWeCom, avgReplyMinutesOf, behaviorOf, cnDayStart, groupOf, replyPercentageOf } from './harness/fakeWecom.js';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

const STAFF = 150;
const runInflux = influxdOrSkip('WeCom statistics on InfluxDB');

describe.each([
  { store: 'duckdb' as const, runIt: true },
  { store: 'influx' as const, runIt: runInflux },
])('WeCom daily statistics pull on $store', ({ store, runIt }) => {
  let influx: InfluxdHandle | null = null;
  let influxDb: string | undefined;
  const fake = new FakeWeCom(STAFF);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-wecom-stats-'));
  let pulse: TestPulse;
  const today = cnDayStart(Date.now());
  const first = today - 179 * DAY;
  const yesterday = today - DAY;
  const days = Array.from({ length: 179 }, (_, i) => first + i * DAY);
  const staff = Array.from({ length: STAFF }, (_, u) => u);
  const total = (day: number, f: (u: number) => number) => staff.reduce((a, u) => a + f(u), 0);
  const env = () => ({ WECOM_CORP_ID: fake.corpId, WECOM_CORP_SECRET: fake.secret, WECOM_API_BASE: fake.url, WECOM_STATS_CRON: 'off' });

  beforeAll(async () => {
    if (!runIt) return;
    if (store === 'influx') influx = await startInfluxd();
    await fake.start();
    // The token expires after 5 calls: the pull meets 42001 in its middle.
    fake.expireAfterCalls = 5;
    pulse = await startTestPulse({ dataDir, influx: influx ?? undefined, env: env() });
    influxDb = pulse.influxDb;
    await pulse.wecomStats!.idle();
  }, 120_000);
  afterAll(async () => {
    await pulse?.stopAndClean();
    if (runIt) await fake.close();
    await influx?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const daily = async (kpi: string): Promise<Map<number, number | null>> => {
    const r = await pulse.get(`/api/v1/series?kpi=${kpi}&from=${first - 2 * DAY}&to=${today}&step=1d`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const [series] = (r.json as { series: { points: [number, number | null][] }[] }).series;
    return new Map((series?.points ?? []).filter(([, v]) => v !== null));
  };

  it.runIf(runIt)('first run: backfills 179 complete days in calls of ≤ 100 staff and ≤ 30 days, through a 42001', async () => {
    const behavior = fake.calls.filter((c) => c.api === 'externalcontact/get_user_behavior_data');
    const groups = fake.calls.filter((c) => c.api === 'externalcontact/groupchat/statistic');
    // 179 days in 30-day windows (6) × 2 staff chunks (100 + 50).
    expect(behavior.filter((c) => c.errcode === 0)).toHaveLength(12);
    for (const c of behavior) {
      const users = c.body!.userid as string[];
      expect(users.length).toBeLessThanOrEqual(100);
      expect((Number(c.body!.end_time) - Number(c.body!.start_time)) / 86_400 + 1).toBeLessThanOrEqual(30);
    }
    expect(Math.min(...behavior.map((c) => Number(c.body!.start_time) * 1000))).toBe(first);
    // One day a call, pages of 40 owners: 100 → 3 pages, 50 → 2 pages; 179 days × 5.
    expect(groups.filter((c) => c.errcode === 0)).toHaveLength(179 * 5);
    // Exactly one answer was an error: the expired token, after which a new one was fetched and the call repeated.
    expect(fake.calls.filter((c) => c.errcode !== 0).map((c) => c.errcode)).toEqual([42001]);
    expect(fake.tokenFetches).toBe(2);

    const contacts = await daily('wecom_new_contacts');
    // Nothing before the 180-day window: no run of the server covered those two days and nothing
    // was stored for them, so the series answers null (a gap, not 0) and they are not in the map.
    expect([contacts.get(first - 2 * DAY), contacts.get(first - DAY)]).toEqual([undefined, undefined]);
    expect([...contacts.keys()].filter((d) => contacts.get(d) !== 0)).toEqual(days);
    for (const day of days) expect(contacts.get(day), new Date(day).toISOString()).toBe(total(day, (u) => behaviorOf(day, u).new_contact_cnt));
    const messages = await daily('wecom_staff_messages');
    expect(messages.get(yesterday)).toBe(total(yesterday, (u) => behaviorOf(yesterday, u).message_cnt));
    const reply = await daily('wecom_reply_rate');
    const wait = await daily('wecom_avg_reply_time');
    for (const day of [first, first + 37 * DAY, yesterday]) {
      expect(reply.get(day)).toBeCloseTo(replyPercentageOf(day) / 100, 6);
      expect(wait.get(day)).toBeCloseTo(avgReplyMinutesOf(day) * 60_000, 3);
    }
    const speakers = await daily('group_speaker_share');
    expect(speakers.get(yesterday)).toBeCloseTo(total(yesterday, (u) => groupOf(yesterday, u).member_has_msg) / total(yesterday, (u) => groupOf(yesterday, u).member_total), 12);
    const groupMsgs = await daily('group_messages');
    const sumAll = days.reduce((a, d) => a + (groupMsgs.get(d) ?? 0), 0);
    expect(sumAll).toBe(days.reduce((a, d) => a + total(d, (u) => groupOf(d, u).msg_total), 0));
  });

  it.runIf(runIt)('a re-pull replaces the last 3 days (WeCom revised one), never doubles, and keeps live counters of the same row', async () => {
    const before = await daily('wecom_new_contacts');
    // A live row at yesterday's start (channel wecom) with only event counters: the pull must keep them.
    await pulse.store.writeCounters([{ ts: yesterday, tags: { channel: 'wecom', community: '', campaign: '' }, counters: { member_join: 7 } }]);
    fake.revisions.set(yesterday, 2);
    const callsBefore = fake.calls.length;
    const result = await pulse.wecomStats!.run();
    expect(result.days).toEqual([yesterday - 2 * DAY, yesterday - DAY, yesterday]);
    const calls = fake.calls.slice(callsBefore);
    expect(calls.filter((c) => c.api === 'externalcontact/get_user_behavior_data')).toHaveLength(2);
    expect(calls.filter((c) => c.api === 'externalcontact/groupchat/statistic')).toHaveLength(3 * 5);
    expect(calls.filter((c) => c.api === 'gettoken')).toHaveLength(0);

    const after = await daily('wecom_new_contacts');
    for (const day of days) {
      const want = day === yesterday ? before.get(day)! + 2 * STAFF : before.get(day);
      expect(after.get(day), new Date(day).toISOString()).toBe(want);
    }
    expect((await daily('new_members')).get(yesterday)).toBe(7);
    // And once more without a revision: identical.
    await pulse.wecomStats!.run();
    expect(await daily('wecom_new_contacts')).toEqual(after);
  });

  it.runIf(runIt)('after a restart the start-up pull catches up without a second backfill', async () => {
    const expected = await daily('wecom_new_contacts');
    await pulse.close();
    const callsBefore = fake.calls.length;
    pulse = await startTestPulse({ dataDir, influx: influx ?? undefined, influxDb, env: env() });
    await pulse.wecomStats!.idle();
    const calls = fake.calls.slice(callsBefore);
    expect(calls.filter((c) => c.api === 'externalcontact/get_user_behavior_data')).toHaveLength(2);
    expect(await daily('wecom_new_contacts')).toEqual(expected);
  });

  it.runIf(runIt && store === 'influx')('in a cluster the statistics have one writer whichever node pulls: a new evaluator re-pulling after a failover replaces, and node rows keep their live counters', async () => {
    // As server.ts wires a cluster node: rows tagged `node`, the statistics under WECOM_STATS_WRITER.
    const db = influx!.newDb();
    const nodeStore = createInfluxStore({ url: influx!.url, db, writerNode: 'node-1', timeoutMs: 30_000 });
    await nodeStore.init();
    // A live event of node-1 in yesterday's first bucket (the statistics' row time).
    await nodeStore.writeCounters([{ ts: yesterday, tags: { channel: 'wecom', community: '', campaign: '' }, counters: { member_join: 7 } }]);
    const dirs = [mkdtempSync(path.join(tmpdir(), 'pulse-wecom-a-')), mkdtempSync(path.join(tmpdir(), 'pulse-wecom-b-'))];
    try {
      // Evaluator A pulls; it dies; evaluator B (its own data dir: no pull state) pulls the same days again.
      for (const dir of dirs) {
        const stats = new WeComDailyStats({
          api: new WeComApi({ baseUrl: fake.url, corpId: fake.corpId, secret: fake.secret }),
          store: nodeStore,
          writer: WECOM_STATS_WRITER,
          dataDir: dir,
          backfillDays: 3,
          bucketMs: 10_000,
          latenessMs: 300_000,
          logger: pino({ level: 'silent' }),
        });
        expect((await stats.run()).days).toContain(yesterday);
      }
      const [series] = await nodeStore.queryCounters({ from: yesterday, to: yesterday + 10_000, stepMs: 10_000, offsetMs: 0, counters: ['wecom_new_contact_cnt', 'member_join'], by: [], filter: { channel: 'wecom' } });
      const sums = series!.points.find((p) => p.ts === yesterday)!.sums;
      expect(sums.wecom_new_contact_cnt).toBe(total(yesterday, (u) => behaviorOf(yesterday, u, fake.revisions.get(yesterday) ?? 0).new_contact_cnt));
      expect(sums.member_join).toBe(7);
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });

  it.runIf(runIt)('a wrong secret fails with the errcode and the setting named, and writes nothing', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pulse-wecom-bad-'));
    try {
      const stats = new WeComDailyStats({
        api: new WeComApi({ baseUrl: fake.url, corpId: fake.corpId, secret: 'wrong-secret-000' }),
        store: pulse.store,
        dataDir: dir,
        backfillDays: 180,
        bucketMs: 10_000,
        latenessMs: 300_000,
        logger: pino({ level: 'silent' }),
      });
      await expect(stats.run()).rejects.toThrow(/gettoken answered errcode 40001: invalid credential.*WECOM_CORP_SECRET/);
      expect(existsSync(path.join(dir, 'connectors', 'wecom-stats.json'))).toBe(false);
      // WeCom's 180-day window: a backfill of 180 is 179 complete days, the oldest ≥ now − 180 d.
      const span = stats.range(Date.now(), null)!;
      expect([span.from, span.to]).toEqual([first, yesterday]);
      expect(span.from).toBeGreaterThanOrEqual(Date.now() - 180 * DAY);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
