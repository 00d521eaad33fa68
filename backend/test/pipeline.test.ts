/**
 * End to end through the real HTTP API, the collector and a real store (DuckDB file and a
 * real influxd): a known set of events — duplicates, late and future events, two channels
 * (one with a Chinese name full of separators) — must come back as exact KPI values from
 * /api/v1/series, /api/v1/snapshot and the live socket.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { io, type Socket } from 'socket.io-client';
import type { LiveSnapshot, LiveTick } from '@siyu-pulse/contracts/live';
import { DAY, HOUR, MINUTE, dayStart, floorTo } from '../src/time/zone.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const A = 'wecom';
const B = '门店 扫码,A=1';

type Ev = Record<string, unknown>;

function scenario(now: number) {
  const H = floorTo(now, HOUR) - HOUR;
  let n = 0;
  const ev = (type: string, channel: string, ts: number, extra: Ev = {}): Ev => ({ id: `e-${++n}`, type, channel, ts, ...extra });
  const many = (count: number, type: string, channel: string, ts: number) => Array.from({ length: count }, () => ev(type, channel, ts));
  const first: Ev[] = [
    ...many(100, 'push.delivered', A, H + 5_000),
    ...many(50, 'push.open', A, H + 5_000),
    ...many(10, 'push.delivered', A, H + 30 * MINUTE + 5_000),
    ...many(1, 'push.open', A, H + 30 * MINUTE + 5_000),
    ...many(40, 'push.delivered', B, H + 20 * MINUTE + 5_000),
    ...many(8, 'push.open', B, H + 20 * MINUTE + 5_000),
    ev('member.join', A, H + 15 * MINUTE, { member: 'u1' }),
    ev('member.join', A, H + 15 * MINUTE, { member: 'u2' }),
    ev('member.join', B, H + 15 * MINUTE, { member: 'u3' }),
    ev('message', B, H + 16 * MINUTE, { member: 'u1', community: '上海静安宝妈群' }),
    ev('order.paid', A, H + 40 * MINUTE, { member: 'u2', amount: 12_345 }),
    ev('order.paid', B, H + 41 * MINUTE, { member: 'u3', amount: 20_000 }),
  ];
  // The same batch again carries the first 30 ids: counted once.
  const retried = first.slice(0, 30);
  // Older than the history limit (PULSE_HISTORY_DAYS, 400 days).
  const late = { id: 'late-1', type: 'push.delivered', channel: A, ts: now - 401 * DAY };
  const future = { id: 'future-1', type: 'push.delivered', channel: A, ts: now + 10 * MINUTE };
  // Live events stamped by the server (no ts).
  const live = [...Array.from({ length: 20 }, () => ({ type: 'push.delivered', channel: A })), ...Array.from({ length: 5 }, () => ({ type: 'push.open', channel: A }))];
  return { H, first, retried, late, future, live };
}

function waitFor<T>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${event} within 10 s`)), 10_000);
    socket.once(event, (payload: T) => {
      clearTimeout(t);
      resolve(payload);
    });
  });
}

const runInflux = influxdOrSkip('InfluxDB pipeline suite');

describe.each([
  { store: 'duckdb' as const, run: true },
  { store: 'influx' as const, run: runInflux },
])('live pipeline on $store', ({ store, run }) => {
  let influx: InfluxdHandle | null = null;
  let pulse: TestPulse;
  const now = Date.now();
  const s = scenario(now);

  beforeAll(async () => {
    if (!run) return;
    if (store === 'influx') influx = await startInfluxd();
    pulse = await startTestPulse({ influx: influx ?? undefined, env: { PULSE_LATENESS_SECONDS: '10800' } });
  });
  afterAll(async () => {
    await pulse?.stopAndClean();
    await influx?.stop();
  });

  it.runIf(run)('accepts the batch, counts duplicates once and rejects events older than the history limit and future events with reasons', async () => {
    const r1 = await pulse.post(JSON.stringify([...s.first, s.first[0], s.late, s.future]));
    expect(r1.status).toBe(202);
    const body1 = r1.json as { accepted: number; duplicates: number; rejected: { index: number; error: string }[] };
    expect(body1.accepted).toBe(s.first.length);
    expect(body1.duplicates).toBe(1);
    expect(body1.rejected.map((r) => r.index)).toEqual([s.first.length + 1, s.first.length + 2]);
    expect(body1.rejected[0]!.error).toMatch(/older than the history limit of 400 days \(PULSE_HISTORY_DAYS\)/);
    expect(body1.rejected[1]!.error).toMatch(/in the future/);

    const r2 = await pulse.post(s.retried.map((e) => JSON.stringify(e)).join('\n'), { contentType: 'application/x-ndjson' });
    expect(r2.json).toEqual({ accepted: 0, duplicates: 30, rejected: [] });

    const r3 = await pulse.post(JSON.stringify(s.live));
    expect(r3.json).toEqual({ accepted: 25, duplicates: 0, rejected: [] });
    await pulse.flushToStore();
  });

  const series = async (q: string) => {
    const r = await pulse.get(`/api/v1/series?${q}`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return r.json as { step: number; from: number; series: { tags: Record<string, string>; points: [number, number | null][] }[] };
  };

  it.runIf(run)('open rate over an hour is the ratio of sums, not the mean of ratios', async () => {
    const r = await series(`kpi=push_open_rate&from=${s.H}&to=${s.H + HOUR}&step=1h`);
    expect(r.step).toBe(HOUR);
    expect(r.series).toHaveLength(1);
    expect(r.series[0]!.points).toEqual([[s.H, 59 / 150]]);
    const meanOfBucketRatios = (50 / 100 + 1 / 10 + 8 / 40) / 3;
    expect(r.series[0]!.points[0]![1]).not.toBeCloseTo(meanOfBucketRatios, 3);
  });

  it.runIf(run)('step=all gives one Σ÷Σ point over any range, aligned to buckets only', async () => {
    const from = s.H + 7 * MINUTE + 3_000;
    const to = s.H + 35 * MINUTE;
    const r = await series(`kpi=push_open_rate&from=${from}&to=${to}&step=all`);
    expect([r.from, r.to, r.step]).toEqual([s.H + 7 * MINUTE, to, 28 * MINUTE]);
    expect(r.series[0]!.points).toEqual([[s.H + 7 * MINUTE, 9 / 50]]);
    const by = await series(`kpi=push_open_rate&from=${from}&to=${to}&step=all&by=channel`);
    expect(Object.fromEntries(by.series.map((x) => [x.tags.channel, x.points]))).toEqual({ [A]: [[s.H + 7 * MINUTE, 1 / 10]], [B]: [[s.H + 7 * MINUTE, 8 / 40]] });
    const distinct = await pulse.get(`/api/v1/series?kpi=active_members&from=${from}&to=${to}&step=all`);
    expect(distinct.status).toBe(400);
    expect(JSON.stringify(distinct.json)).toMatch(/do not add up/);
  });

  it.runIf(run)('splits by channel and filters by a channel name with spaces, commas, = and Chinese', async () => {
    const by = await series(`kpi=push_open_rate&from=${s.H}&to=${s.H + HOUR}&step=1h&by=channel`);
    const byChannel = Object.fromEntries(by.series.map((x) => [x.tags.channel, x.points]));
    expect(byChannel).toEqual({ [A]: [[s.H, 51 / 110]], [B]: [[s.H, 8 / 40]] });
    const one = await series(`kpi=push_open_rate&from=${s.H}&to=${s.H + HOUR}&step=1h&channel=${encodeURIComponent(B)}`);
    expect(one.series[0]!.points).toEqual([[s.H, 0.2]]);
  });

  it.runIf(run)('10-minute steps give each bucket its own ratio and null where nothing was delivered', async () => {
    const r = await series(`kpi=push_open_rate&from=${s.H}&to=${s.H + HOUR}&step=10m`);
    expect(r.series[0]!.points).toEqual([
      [s.H, 0.5],
      [s.H + 10 * MINUTE, null],
      [s.H + 20 * MINUTE, 0.2],
      [s.H + 30 * MINUTE, 0.1],
      [s.H + 40 * MINUTE, null],
      [s.H + 50 * MINUTE, null],
    ]);
  });

  it.runIf(run)('money is integer fen; AOV is GMV ÷ paid orders; distinct members are counted once', async () => {
    const range = `from=${s.H}&to=${s.H + HOUR}&step=1h`;
    expect((await series(`kpi=gmv&${range}`)).series[0]!.points).toEqual([[s.H, 32_345]]);
    expect((await series(`kpi=aov&${range}`)).series[0]!.points).toEqual([[s.H, 16_172.5]]);
    expect((await series(`kpi=new_members&${range}`)).series[0]!.points).toEqual([[s.H, 3]]);
    expect((await series(`kpi=active_members&${range}`)).series[0]!.points).toEqual([[s.H, 3]]);
    const byCh = await series(`kpi=active_members&${range}&by=channel`);
    expect(Object.fromEntries(byCh.series.map((x) => [x.tags.channel, x.points[0]![1]]))).toEqual({ [A]: 2, [B]: 2 });
    const perActive = await series(`kpi=interactions_per_active&${range}`);
    expect(perActive.series[0]!.points).toEqual([[s.H, 0]]);
  });

  it.runIf(run)('snapshot and socket show the same exact live values', async () => {
    const inToday = s.H >= dayStart(now, 'Asia/Shanghai');
    const expectedOpen = inToday ? (59 + 5) / (150 + 20) : 5 / 20;
    const expectedGmv = inToday ? 32_345 : 0;
    const snap = (await pulse.get('/api/v1/snapshot')).json as LiveSnapshot;
    expect(snap.windows.today.kpis.push_open_rate!.value).toBeCloseTo(expectedOpen, 12);
    expect(snap.windows.today.kpis.gmv!.value).toBe(expectedGmv);
    expect(snap.windows.today.byChannel[A]!.push_open_rate).toBeCloseTo(inToday ? (51 + 5) / (110 + 20) : 5 / 20, 12);
    expect(snap.demo).toBe(false);
    expect(snap.trend).toHaveLength(60);

    const socket = io(`${pulse.url}/live`, { auth: { token: READ_TOKEN }, transports: ['websocket'] });
    try {
      const first = await waitFor<LiveSnapshot>(socket, 'snapshot');
      expect(first.windows.today.kpis.push_open_rate!.value).toBeCloseTo(expectedOpen, 12);
      expect(first.windows.today.kpis.gmv!.value).toBe(expectedGmv);
      const tick = await waitFor<LiveTick>(socket, 'tick');
      expect(tick.windows.today.kpis.push_open_rate!.value).toBeCloseTo(expectedOpen, 12);
      expect(tick.trendTail).toHaveLength(6);
      // The 25 live events landed in the current minute's trend point.
      const minute = floorTo(tick.serverTime, MINUTE);
      const current = tick.trendTail.find((p) => p.ts === minute);
      if (current && floorTo(now, MINUTE) === minute) expect(current.values.push_open_rate).toBeCloseTo(5 / 20, 12);
    } finally {
      socket.close();
    }
  });

  it.runIf(run)('a restart keeps today and rewrites late buckets in full instead of replacing them', async () => {
    const { dataDir, influxDb } = pulse;
    await pulse.close();
    pulse = await startTestPulse({ influx: influx ?? undefined, influxDb, env: { PULSE_LATENESS_SECONDS: '10800' }, dataDir });
    // A late event for the first bucket after the restart must add to, not replace, the stored row.
    const r = await pulse.post(JSON.stringify([{ id: 'after-restart', type: 'push.open', channel: A, ts: s.H + 5_000 }]));
    expect(r.json).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    await pulse.flushToStore();
    const one = await series(`kpi=push_open_rate&from=${s.H}&to=${s.H + 10 * MINUTE}&step=10m&channel=${A}`);
    expect(one.series[0]!.points).toEqual([[s.H, 51 / 100]]);
    // Today's values were restored from the store, plus the one late open.
    const snap = (await pulse.get('/api/v1/snapshot')).json as LiveSnapshot;
    const inToday = s.H >= dayStart(now, 'Asia/Shanghai');
    expect(snap.windows.today.kpis.gmv!.value).toBe(inToday ? 32_345 : 0);
    expect(snap.windows.today.kpis.push_open_rate!.value).toBeCloseTo(inToday ? (59 + 5 + 1) / (150 + 20) : 5 / 20, 12);
  });

  it.runIf(run)('refuses what it cannot answer exactly, with a reason', async () => {
    const bad = async (q: string, re: RegExp) => {
      const r = await pulse.get(`/api/v1/series?${q}`);
      expect(r.status).toBe(400);
      expect((r.json as { error: string }).error).toMatch(re);
    };
    await bad('kpi=nope', /unknown KPI/);
    await bad(`kpi=active_members&from=${s.H}&to=${s.H + HOUR}&step=10m`, /1m, 1h or 1d/);
    await bad(`kpi=gmv&from=${s.H}&to=${s.H + 30 * DAY}&step=10s`, /limit is 2000/);
    await bad(`kpi=gmv&from=${s.H + HOUR}&to=${s.H}`, /from must be before to/);
    await bad('kpi=gmv&from=yesterday', /epoch milliseconds or an ISO 8601/);
    await bad('kpi=gmv&chanel=wecom', /unknown parameter "chanel"/);
    await bad('kpi=active_members&by=community', /only be split by channel/);
    const unauth = await pulse.get('/api/v1/series?kpi=gmv', null);
    expect(unauth.status).toBe(401);
  });
});
