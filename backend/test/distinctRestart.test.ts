/**
 * Distinct members survive restarts and crashes (issue 12): 1,000 members send a message,
 * the server stops, 1,000 members send a message (500 of them the same as before). Today's
 * 活跃成员 must be 1,500 — on /api/v1/series?kpi=active_members&step=1d and in the live
 * snapshot — after a clean restart and after a SIGKILL that left the second half only in
 * the journal (nothing of it flushed). On DuckDB (temp file) and a real influxd.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../../frontend/e2e/harness.js';
import type { LiveSnapshot } from '@siyu-pulse/contracts/live';
import { DAY, MINUTE, dayStart } from '../src/time/zone.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { ADMIN_TOKEN, INGEST_KEY, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const TZ = 'Asia/Shanghai';
const CHANNELS = ['wecom', 'miniprogram', 'douyin'];
// Late events up to a day are in the lateness window, so every phase can stamp its events
// inside one local day whatever the time of day the test runs.
// A fixed salt makes the members' sketch keys, and so the estimates, the same on every run.
const ENV = { PULSE_LATENESS_SECONDS: '86400', PULSE_SALT: 'distinct-restart-test-salt-0123456789' };

/**
 * The sketch's bound at this size: sparse mode (exact unless two members share one of 2^25
 * registers, probability ~ n² / 2^26 ≈ 3 % at 1,500, each such pair counting once). ±3 of
 * 1,500 = 0.2 %, far inside the 1 % promise — and far from the 1,000 a restart used to give.
 */
const near = (expected: number) => ({ asymmetricMatch: (v: unknown) => typeof v === 'number' && Math.abs(v - expected) <= 3, toString: () => `${expected} ± 3` });

const D = dayStart(Date.now(), TZ);
/** One instant of today for every event (not before local midnight, not in the future). */
const TS = Math.max(D + 1_000, Date.now() - 10 * MINUTE);

function messages(from: number, to: number, prefix: string): string {
  const out = [];
  for (let i = from; i < to; i++) out.push({ id: `${prefix}-${i}`, type: 'message', ts: TS, channel: CHANNELS[i % CHANNELS.length], member: `member-${i}` });
  return JSON.stringify(out);
}

async function readBoth(p: TestPulse): Promise<{ series: unknown; live: number | null; liveWecom: number | null | undefined }> {
  const r = await p.get(`/api/v1/series?kpi=active_members&from=${D}&to=${D + DAY}&step=1d`);
  expect(r.status).toBe(200);
  const series = (r.json as { series: { points: [number, number | null][] }[] }).series[0]?.points;
  const snap = (await p.get('/api/v1/snapshot')).json as LiveSnapshot;
  return { series, live: snap.windows.today.kpis.active_members!.value, liveWecom: snap.windows.today.byChannel.wecom?.active_members };
}

/** wecom gets members i ≡ 0 (mod 3) of 0…1499: 500. */
const WECOM_MEMBERS = 500;

for (const store of ['duckdb', 'influx'] as const) {
  const runIt = store === 'duckdb' || influxdOrSkip('distinct restart suite (influx)');
  describe.runIf(runIt)(`active members across a restart and a SIGKILL (${store})`, () => {
    let influx: InfluxdHandle | null = null;
    beforeAll(async () => {
      if (store === 'influx') influx = await startInfluxd();
    }, 60_000);
    afterAll(async () => {
      await influx?.stop();
    });

    it('1,000 → restart → 1,000 with 500 overlap = 1,500 on the series API and the live snapshot', async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-restart-'));
      const influxDb = influx?.newDb();
      let p = await startTestPulse({ influx: influx ?? undefined, influxDb, env: ENV, dataDir });
      try {
        expect((await p.post(messages(0, 1_000, 'a'))).json).toEqual({ accepted: 1_000, duplicates: 0, rejected: [] });
        await p.flushToStore();
        expect((await readBoth(p)).series).toEqual([[D, near(1_000)]]);
        await p.close();
        p = await startTestPulse({ influx: influx ?? undefined, influxDb, env: ENV, dataDir });
        // Right after the restart, before anything new: the stored members are there.
        expect((await readBoth(p)).live).toEqual(near(1_000));
        expect((await p.post(messages(500, 1_500, 'b'))).json).toEqual({ accepted: 1_000, duplicates: 0, rejected: [] });
        await p.flushToStore();
        const after = await readBoth(p);
        expect(after).toEqual({ series: [[D, near(1_500)]], live: near(1_500), liveWecom: near(WECOM_MEMBERS) });
        // The wall and the history API read the same sketch.
        expect(after.series).toEqual([[D, after.live]]);
        // And once more through a restart with nothing new: nothing is lost or floored.
        await p.close();
        p = await startTestPulse({ influx: influx ?? undefined, influxDb, env: ENV, dataDir });
        await p.flushToStore();
        expect(await readBoth(p)).toEqual(after);
      } finally {
        await p.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }, 60_000);

    it('the same after a SIGKILL mid-stream: members only in the journal are replayed into the sketches', async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-kill-distinct-'));
      const influxDb = influx?.newDb();
      const env: Record<string, string> = {
        ...ENV,
        PULSE_INGEST_KEYS: INGEST_KEY,
        PULSE_READ_TOKEN: READ_TOKEN,
        PULSE_ADMIN_TOKEN: ADMIN_TOKEN,
        LOG_LEVEL: 'warn',
        PULSE_WEEKLY_REPORT_CRON: 'off',
        // Nothing is flushed while the process lives: what it counted exists only in the journal.
        PULSE_FLUSH_MS: '60000',
        ...(influx ? { PULSE_STORE: 'influx', INFLUX_URL: influx.url, INFLUX_DB: influxDb! } : {}),
      };
      let backend: Backend | undefined;
      let p: TestPulse | undefined;
      const post = async (b: Backend, body: string) => {
        const res = await fetch(`${b.url}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${INGEST_KEY}`, 'content-type': 'application/json' }, body });
        expect(res.status).toBe(202);
        return res.json();
      };
      try {
        backend = await startBackend(env, { dataDir });
        expect(await post(backend, messages(0, 1_000, 'a'))).toEqual({ accepted: 1_000, duplicates: 0, rejected: [] });
        await backend.kill('SIGTERM'); // a clean stop flushes the first 1,000
        backend = await startBackend(env, { dataDir });
        for (let i = 500; i < 1_500; i += 100) expect(await post(backend, messages(i, i + 100, 'b'))).toMatchObject({ accepted: 100 });
        await backend.kill('SIGKILL');
        p = await startTestPulse({ influx: influx ?? undefined, influxDb, env: ENV, dataDir });
        await p.flushToStore();
        const got = await readBoth(p);
        expect(got).toEqual({ series: [[D, near(1_500)]], live: near(1_500), liveWecom: near(WECOM_MEMBERS) });
        expect(got.series).toEqual([[D, got.live]]);
        // The messages themselves were counted once each (journal replay, no double count).
        const msgs = await p.get(`/api/v1/series?kpi=messages&from=${D}&to=${D + DAY}&step=1d`);
        expect((msgs.json as { series: { points: [number, number][] }[] }).series[0]!.points).toEqual([[D, 2_000]]);
      } finally {
        await backend?.stop();
        await p?.close();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }, 90_000);
  });
}
