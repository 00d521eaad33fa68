/**
 * Push fatigue (触达频率上限): pushes per member per local day, the over-cap member sets and
 * push_over_cap_share = members over the cap ÷ members pushed, today.
 *
 * Known events: four members pushed 1, 3, 4 and 7 times today across channels (cap 3) →
 * 2 of 4 over the cap. The 4-push member's 4th push goes out on another channel than the
 * first three, so the crossing is attributed to that channel. Checked through the wall
 * snapshot and /api/v1/series at step 1d, on DuckDB (temp file) and a real influxd; a
 * restart merges the day's stored member sketches; neither raw member ids nor their hashes
 * reach any file; the cap comes from PULSE_PUSH_CAP_PER_DAY; the shipped alert rule reads
 * today so far and fires above 5% once 200 members were pushed.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config/config.js';
import { PushCapCounter } from '../src/collector/pushCap.js';
import { createMemberHasher } from '../src/ingest/memberHash.js';
import type { LiveSnapshot } from '@siyu-pulse/contracts/live';
import { DAY, HOUR, MINUTE, dayStart } from '../src/time/zone.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

const TZ = 'Asia/Shanghai';
const KPI = 'push_over_cap_share';
const SALT = 'push-fatigue-test-salt-0123456789';
const WECOM = 'wecom';
const SMS = 'sms';
const APP = 'app_push';
/** A tag value that IS stored: proves the file scan can see what a store writes. */
const CONTROL_CHANNEL = 'pfctl_channel_7Qz3';

/** Raw member ids, distinctive enough that a chance match in a binary file is impossible. */
const run = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
const U = { one: `pf-${run}-one`, three: `pf-${run}-three`, four: `pf-${run}-four`, seven: `pf-${run}-seven` };

/** Pushes in arrival order: [member, channel]. */
const PUSHES: [string, string][] = [
  [U.one, WECOM],
  [U.three, WECOM],
  [U.three, SMS],
  [U.three, WECOM],
  // 3 on WeCom, then the 4th — the crossing — on SMS.
  [U.four, WECOM],
  [U.four, WECOM],
  [U.four, WECOM],
  [U.four, SMS],
  // 3 on app push, the 4th (crossing) on WeCom, then 3 more on app push (already over).
  [U.seven, APP],
  [U.seven, APP],
  [U.seven, APP],
  [U.seven, WECOM],
  [U.seven, APP],
  [U.seven, APP],
  [U.seven, APP],
];

type Ev = Record<string, unknown>;

/** Today's pushes, one second apart, ending before now (and not before local midnight). */
function pushEvents(now: number, prefix: string): Ev[] {
  const start = Math.max(dayStart(now, TZ) + 1_000, now - 5 * MINUTE);
  const events: Ev[] = PUSHES.map(([member, channel], i) => ({ id: `${prefix}-${i}`, type: 'push.sent', ts: start + i * 1_000, member, channel }));
  // Stored as a tag, for the positive control of the privacy scan.
  events.push({ id: `${prefix}-control`, type: 'push.delivered', ts: start, channel: CONTROL_CHANNEL });
  return events;
}

async function eventually<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/** Files under `dirs` whose bytes contain `needle` (UTF-8). */
function filesContaining(dirs: string[], needle: string): string[] {
  const bytes = Buffer.from(needle, 'utf8');
  return dirs.flatMap(filesUnder).filter((f) => readFileSync(f).includes(bytes));
}

describe('PushCapCounter', () => {
  const day = (ts: number) => dayStart(ts, TZ);
  const D = dayStart(Date.UTC(2026, 10, 23, 4), TZ);

  it('reports the cap + 1-th push of a member and no other, per local day', () => {
    const c = new PushCapCounter(3, 5 * MINUTE, day);
    expect([1, 2, 3, 4, 5, 6].map((i) => c.count(D + i * HOUR, 'm'))).toEqual([false, false, false, true, false, false]);
    // Another member and another day count on their own.
    expect([1, 2, 3, 4].map((i) => c.count(D + i * HOUR, 'n'))).toEqual([false, false, false, true]);
    expect([1, 2, 3, 4].map((i) => c.count(D + DAY + i * HOUR, 'm'))).toEqual([false, false, false, true]);
    // 23:59:59 and 00:00:00 Beijing time are different days.
    const c2 = new PushCapCounter(1, 5 * MINUTE, day);
    expect([c2.count(D + DAY - 1_000, 'm'), c2.count(D + DAY, 'm'), c2.count(D + DAY + 1, 'm')]).toEqual([false, false, true]);
  });

  it('takes the cap it is given', () => {
    const c = new PushCapCounter(6, 0, day);
    expect([1, 2, 3, 4, 5, 6, 7].map((i) => c.count(D + i, 'm')).indexOf(true)).toBe(6);
    expect(() => new PushCapCounter(0, 0, day)).toThrow(/positive integer/);
  });

  it('holds one entry per member and day, and drops a day once it ended more than the lateness ago', () => {
    const c = new PushCapCounter(3, 10 * MINUTE, day);
    for (let i = 0; i < 50; i++) c.count(D + HOUR + i, 'busy'); // saturates, stays one entry
    c.count(D + HOUR, 'quiet');
    c.count(D + DAY + HOUR, 'busy');
    expect(c.size).toBe(3);
    c.evict(D + DAY + 10 * MINUTE); // day D ended 10 min ago: still inside lateness
    expect(c.size).toBe(3);
    c.evict(D + DAY + 10 * MINUTE + 1);
    expect(c.size).toBe(1);
    // A fresh day starts from 0: the member must push cap + 1 times again.
    expect([1, 2, 3].map(() => c.count(D + DAY + 2 * HOUR, 'busy'))).toEqual([false, false, true]);
  });
});

const runInflux = influxdOrSkip('push fatigue on InfluxDB');

describe.each([
  { store: 'duckdb' as const, runIt: true },
  { store: 'influx' as const, runIt: runInflux },
])('push fatigue on $store', ({ store, runIt }) => {
  let influx: InfluxdHandle | null = null;
  let pulse: TestPulse;
  const now = Date.now();
  const D = dayStart(now, TZ);
  const env = { PULSE_LATENESS_SECONDS: '3600', PULSE_SALT: SALT };

  beforeAll(async () => {
    if (!runIt) return;
    if (store === 'influx') influx = await startInfluxd();
    pulse = await startTestPulse({ influx: influx ?? undefined, env });
  }, 60_000);
  afterAll(async () => {
    await pulse?.stopAndClean();
    await influx?.stop();
  });

  const snapshot = async () => (await pulse.get('/api/v1/snapshot')).json as LiveSnapshot;
  const series = async (q: string) => {
    const r = await pulse.get(`/api/v1/series?kpi=${KPI}&${q}`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return r.json as { step: number; series: { tags: Record<string, string>; points: [number, number | null][] }[] };
  };
  const byChannel = (r: Awaited<ReturnType<typeof series>>) => Object.fromEntries(r.series.map((s) => [s.tags.channel, s.points]));

  it.runIf(runIt)('today on the wall: 2 of 4 pushed members over the cap; the crossing push decides the channel', async () => {
    const r = await pulse.post(JSON.stringify(pushEvents(now, `pf-${store}`)));
    expect(r.json).toEqual({ accepted: PUSHES.length + 1, duplicates: 0, rejected: [] });
    const snap = await eventually(snapshot, (s) => s.windows.today.kpis[KPI]?.value !== null, 'today value');
    expect(snap.windows.today.kpis[KPI]!.value).toBe(2 / 4);
    const ch = snap.windows.today.byChannel;
    // Reached per channel: WeCom all four, SMS three/four, app push seven. Over the cap:
    // four on SMS (its 4th push), seven on WeCom (its 4th push) — not where they started.
    expect({ wecom: ch[WECOM]?.[KPI], sms: ch[SMS]?.[KPI], app: ch[APP]?.[KPI] }).toEqual({ wecom: 1 / 4, sms: 1 / 2, app: 0 });
    // A 5-minute or per-minute share means nothing (a member crosses the cap once a day).
    expect(snap.windows.last5m.kpis[KPI]!.value).toBeNull();
    expect(snap.trend.every((p) => p.values[KPI] === null)).toBe(true);
  });

  it.runIf(runIt)('history: /api/v1/series at step 1d gives the same shares from the store', async () => {
    await pulse.flushToStore();
    const day = `from=${D}&to=${D + DAY}&step=1d`;
    const total = await series(day);
    expect(total.step).toBe(DAY);
    expect(total.series[0]!.points).toEqual([[D, 2 / 4]]);
    expect(byChannel(await series(`${day}&by=channel`))).toEqual({
      [WECOM]: [[D, 1 / 4]],
      [SMS]: [[D, 1 / 2]],
      // Pushed, nobody over the cap: a real 0, not "no data".
      [APP]: [[D, 0]],
      // CONTROL_CHANNEL sent no push: no series.
    });
    expect((await series(`${day}&channel=${SMS}`)).series[0]!.points).toEqual([[D, 1 / 2]]);
    // The automatic step is the day, whatever the range.
    expect((await series(`from=${D}&to=${now}`)).step).toBe(DAY);
  });

  it.runIf(runIt)('refuses steps other than a day, saying why', async () => {
    for (const step of ['1h', '1m', '10m', 'all']) {
      const r = await pulse.get(`/api/v1/series?kpi=${KPI}&from=${D}&to=${D + DAY}&step=${step}`);
      expect(r.status, step).toBe(400);
      expect((r.json as { error: string }).error, step).toMatch(/push_over_cap_share counts distinct members, which do not add up across time, and is only defined per day: (step must be 1d|step=all is not available \(use 1d\))/);
    }
  });

  it.runIf(runIt)('a restart continues from the day’s stored member sketches', async () => {
    const { dataDir, influxDb } = pulse;
    await pulse.close();
    pulse = await startTestPulse({ influx: influx ?? undefined, influxDb, env, dataDir });
    // The day's sketches are merged back in (ids and hashes are never stored).
    const snap = await snapshot();
    expect(snap.windows.today.kpis[KPI]!.value).toBe(2 / 4);
    expect(snap.windows.today.byChannel[SMS]?.[KPI]).toBe(1 / 2);
    // A new member pushed once after the restart joins the stored four: 2 of 5 over the cap.
    const r = await pulse.post(JSON.stringify([{ id: `pf-${store}-after`, type: 'push.sent', member: `pf-${run}-after`, channel: WECOM }]));
    expect(r.json).toEqual({ accepted: 1, duplicates: 0, rejected: [] });
    await pulse.flushToStore();
    expect((await series(`from=${D}&to=${D + DAY}&step=1d`)).series[0]!.points).toEqual([[D, 2 / 5]]);
  });

  it.runIf(runIt)('nothing about members is persisted: neither raw ids nor their hashes are in any file', async () => {
    await pulse.flushToStore();
    await pulse.close();
    const dirs = [pulse.dataDir, ...(influx ? [influx.dir] : [])];
    // What the store does write is found by the same scan (DuckDB file / influxd's files).
    await eventually(async () => filesContaining(dirs, CONTROL_CHANNEL).length, (n) => n > 0, 'the stored channel tag in some file', 15_000);
    const hash = createMemberHasher(SALT);
    const found: Record<string, string[]> = {};
    for (const id of [...Object.values(U), `pf-${run}-after`]) {
      for (const needle of [id, hash(id)]) {
        const files = filesContaining(dirs, needle);
        if (files.length) found[needle] = files;
      }
    }
    expect(found).toEqual({});
    pulse = await startTestPulse({ influx: influx ?? undefined, influxDb: pulse.influxDb, env, dataDir: pulse.dataDir });
  }, 30_000);
});

describe('the shipped alert rule push_over_cap_share_high (today so far, above 5%)', () => {
  it('stays quiet below 200 pushed members, fires the same day once the share is over 5% of enough members', async () => {
    // The shipped rules (alerts/rules), evaluated every second.
    // A day of lateness: the pushes are stamped at local midnight, so history covers today.
    const pulse = await startTestPulse({ env: { PULSE_LATENESS_SECONDS: '86400', PULSE_ALERT_INTERVAL_SECONDS: '1' } });
    const active = async () =>
      ((await pulse.get('/api/v1/alerts')).json as { alerts: { alertKey: string; state: string; value: number | null }[] }).alerts.filter((x) =>
        x.alertKey.startsWith('push_over_cap_share_high'),
      );
    const rule = async () =>
      ((await pulse.get('/api/v1/rules')).json as { rules: { rule: { id: string }; splits: { state: string; value?: number | null }[] }[] }).rules.find((x) => x.rule.id === 'push_over_cap_share_high');
    try {
      const now = Date.now();
      const at = dayStart(now, TZ);
      const push = (member: string, times: number, channel = WECOM): Ev[] => Array.from({ length: times }, (_, i) => ({ id: `${member}-${i}`, type: 'push.sent', ts: at + i, member, channel }));
      // 130 members pushed once, 20 pushed four times: 20 / 150 = 13%, but only 150 pushed.
      const first = [...Array.from({ length: 130 }, (_, i) => push(`alert-once-${i}`, 1)), ...Array.from({ length: 20 }, (_, i) => push(`alert-four-${i}`, 4))].flat();
      expect((await pulse.post(JSON.stringify(first))).json).toMatchObject({ accepted: first.length, rejected: [] });
      // The rule has seen today's 13% (so the window is today, not yesterday) and held back.
      const seen = await eventually(rule, (r) => Math.abs((r?.splits[0]?.value ?? 0) - 20 / 150) < 1e-12, 'the rule to evaluate today so far');
      expect(seen?.splits[0]?.state).toBe('ok');
      expect(await active()).toEqual([]);
      // 70 more members pushed once: 20 / 220 = 9.1% of 220 pushed members → fires.
      const second = Array.from({ length: 70 }, (_, i) => push(`alert-more-${i}`, 1)).flat();
      expect((await pulse.post(JSON.stringify(second))).json).toMatchObject({ accepted: second.length, rejected: [] });
      const fired = await eventually(active, (a) => a.some((x) => x.state === 'firing'), 'the push fatigue alert to fire');
      expect(fired.map((x) => [x.alertKey, x.state])).toEqual([['push_over_cap_share_high|total', 'firing']]);
      expect(fired[0]!.value).toBeCloseTo(20 / 220, 12);
    } finally {
      await pulse.stopAndClean();
    }
  }, 30_000);
});

describe('push cap from the configuration', () => {
  it('PULSE_PUSH_CAP_PER_DAY: default 3, a positive integer', () => {
    const base = { PULSE_INGEST_KEYS: 'k'.repeat(16), PULSE_READ_TOKEN: 'r'.repeat(16) };
    expect(loadConfig(base).pushCapPerDay).toBe(3);
    expect(loadConfig({ ...base, PULSE_PUSH_CAP_PER_DAY: '6' }).pushCapPerDay).toBe(6);
    for (const bad of ['0', '2.5', 'three']) {
      expect(() => loadConfig({ ...base, PULSE_PUSH_CAP_PER_DAY: bad }), bad).toThrow(ConfigError);
      expect(() => loadConfig({ ...base, PULSE_PUSH_CAP_PER_DAY: bad }), bad).toThrow(/PULSE_PUSH_CAP_PER_DAY/);
    }
  });

  it('a cap of 6: only the 7-push member is over, counted where their 7th push went', async () => {
    const pulse = await startTestPulse({ env: { PULSE_LATENESS_SECONDS: '3600', PULSE_SALT: SALT, PULSE_PUSH_CAP_PER_DAY: '6' } });
    try {
      const r = await pulse.post(JSON.stringify(pushEvents(Date.now(), 'pf-cap6')));
      expect((r.json as { rejected: unknown[] }).rejected).toEqual([]);
      const snap = await eventually(
        async () => (await pulse.get('/api/v1/snapshot')).json as LiveSnapshot,
        (s) => s.windows.today.kpis[KPI]?.value !== null,
        'today value',
      );
      expect(snap.windows.today.kpis[KPI]!.value).toBe(1 / 4);
      const ch = snap.windows.today.byChannel;
      expect({ wecom: ch[WECOM]?.[KPI], sms: ch[SMS]?.[KPI], app: ch[APP]?.[KPI] }).toEqual({ wecom: 0, sms: 0, app: 1 });
    } finally {
      await pulse.stopAndClean();
    }
  });
});
