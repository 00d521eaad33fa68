/**
 * The aggregated import path (import/aggregate.ts, DuckDB's applyAdditive), against the real
 * built server (spawned), on DuckDB and on a real influxd (which takes the producers' path:
 * the same answers are expected from both):
 *
 * - a month of history with ids (some repeated in the file, one sent live before): messages,
 *   paid orders, GMV and active members per local day equal the file; duplicates once;
 * - the same file twice counts once;
 * - the server SIGKILLed mid-import, restarted, the command again: exact totals;
 * - a batch touching a day the collector holds (a producer's late event for it) is sent
 *   through the journal instead, and the totals stay exact.
 *
 * Events end 3 days ago, so every batch is older than the collector's range (26 h + lateness).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../../frontend/e2e/harness.js';
import { DAY, dayStart } from '../src/time/zone.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';

const TZ = 'Asia/Shanghai';
const CLI = path.resolve(import.meta.dirname, '../dist/tools/import.js');
const CHANNELS = ['wecom', 'miniprogram', 'douyin'];
// A fixed salt: member sketches are exact for these few hundred members per day.
const ENV = { LOG_LEVEL: 'warn', PULSE_WEEKLY_REPORT_CRON: 'off', PULSE_SALT: 'import-aggregated-test-salt-0123456789' };

interface Ev {
  id?: string;
  type: string;
  ts: number;
  channel: string;
  community?: string;
  member?: string;
  amount?: number;
}

/**
 * A month ending 3 days ago, time order; every 3rd event has an id, and the event at i ≡ 51
 * (mod 300) repeats the id of i − 3: in the same batch for batches of any multiple of 100 lines,
 * since batches in flight at once may be applied in any order (whichever claims an id first counts).
 */
function month(n: number, seed: string, now: number): Ev[] {
  const to = dayStart(now, TZ) - 3 * DAY;
  const from = to - 30 * DAY;
  const out: Ev[] = [];
  for (let i = 0; i < n; i++) {
    const ts = from + Math.floor(((to - from) * i) / n);
    const channel = CHANNELS[i % 3]!;
    const community = `g${i % 7}`;
    const e: Ev =
      i % 5 === 0
        ? { type: 'order.paid', ts, channel, community, member: `${seed}-b${i % 41}`, amount: 1000 + (i % 13) * 100 }
        : i % 5 === 1
          ? { type: 'push.sent', ts, channel, community, member: `${seed}-m${i % 53}` }
          : { type: 'message', ts, channel, community, member: `${seed}-m${(i * 7) % 211}` };
    if (i % 3 === 0) e.id = `${seed}-${i % 300 === 51 ? i - 3 : i}`;
    out.push(e);
  }
  return out;
}

interface DayTotals {
  messages: number;
  paid_orders: number;
  gmv: number;
  pushes_sent: number;
  active: Set<string>;
  buyers: Set<string>;
}

/** What the file should count per local day: ids counted once (first occurrence). */
function perDay(evs: readonly Ev[], seenIds = new Set<string>()): Map<number, DayTotals> {
  const m = new Map<number, DayTotals>();
  for (const e of evs) {
    if (e.id !== undefined) {
      if (seenIds.has(e.id)) continue;
      seenIds.add(e.id);
    }
    const d = dayStart(e.ts, TZ);
    let v = m.get(d);
    if (!v) m.set(d, (v = { messages: 0, paid_orders: 0, gmv: 0, pushes_sent: 0, active: new Set(), buyers: new Set() }));
    if (e.type === 'message') {
      v.messages++;
      v.active.add(e.member!);
    } else if (e.type === 'push.sent') v.pushes_sent++;
    else {
      v.paid_orders++;
      v.gmv += e.amount!;
      v.active.add(e.member!);
      v.buyers.add(e.member!);
    }
  }
  return m;
}

function runCli(b: Backend, args: string[], onProgress?: (child: ReturnType<typeof spawn>, stderr: string) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, `--url=${b.url}`, `--token=${b.adminToken}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      onProgress?.(child, stderr);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function get<T>(b: Backend, url: string, token = b.readToken): Promise<T> {
  const res = await fetch(`${b.url}${url}`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status, url).toBe(200);
  return (await res.json()) as T;
}

async function series(b: Backend, kpi: string, from: number, to: number): Promise<Map<number, number | null>> {
  const body = await get<{ series: { points: [number, number | null][] }[] }>(b, `/api/v1/series?kpi=${kpi}&from=${from}&to=${to}&step=1d`);
  return new Map(body.series[0]!.points);
}

async function expectTotals(b: Backend, want: Map<number, DayTotals>) {
  const days = [...want.keys()].sort((x, y) => x - y);
  const from = days[0]!;
  const to = days[days.length - 1]! + DAY;
  const kpis = ['messages', 'paid_orders', 'gmv', 'active_members'] as const;
  const got = Object.fromEntries(await Promise.all(kpis.map(async (k) => [k, await series(b, k, from, to)] as const))) as Record<(typeof kpis)[number], Map<number, number | null>>;
  for (const d of days) {
    const w = want.get(d)!;
    const day = new Date(d).toISOString();
    expect({ day, messages: got.messages.get(d), paid_orders: got.paid_orders.get(d), gmv: got.gmv.get(d) }).toEqual({ day, messages: w.messages, paid_orders: w.paid_orders, gmv: w.gmv });
    // Sparse sketches: exact but for a rare index collision (≤ 1 member at these sizes).
    expect(Math.abs(got.active_members.get(d)! - w.active.size), `${day} active`).toBeLessThanOrEqual(1);
  }
}

interface ImportState {
  done: { seq: number }[];
  paths: { aggregated: number; producers: number };
}

const importId = async (file: string) => {
  const { createHash } = await import('node:crypto');
  const { readFileSync } = await import('node:fs');
  return createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 32);
};

for (const store of ['duckdb', 'influx'] as const) {
  const runIt = store === 'duckdb' || influxdOrSkip('aggregated import suite (influx)');
  describe.runIf(runIt)(`import of history, aggregated path (${store})`, () => {
    let influx: InfluxdHandle | null = null;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'pulse-import-agg-'));
      if (store === 'influx') influx = await startInfluxd();
    }, 60_000);
    afterAll(async () => {
      await influx?.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const envFor = (db?: string): Record<string, string> => ({ ...ENV, ...(influx ? { PULSE_STORE: 'influx', INFLUX_URL: influx.url, INFLUX_DB: db ?? influx.newDb() } : {}) });

    it('a month with ids: per-day counters and active members equal the file; repeated ids once; the same file twice counts once', async () => {
      const b = await startBackend(envFor());
      try {
        const now = Date.now();
        const evs = month(6_000, 'a', now);
        // One id of the file was sent live (today) before the import: the file's event with it is a duplicate.
        const live = { id: evs[3]!.id, type: 'message', channel: 'wecom', member: 'a-live' };
        const posted = await fetch(`${b.url}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${b.ingestKey}`, 'content-type': 'application/json' }, body: JSON.stringify([live]) });
        expect(posted.status).toBe(202);
        const file = path.join(dir, `month-${store}.ndjson`);
        writeFileSync(file, `${evs.map((e) => JSON.stringify(e)).join('\n')}\n`);
        const r = await runCli(b, [file, '--batch', '500']);
        expect(r.code, r.stderr).toBe(0);
        const want = perDay(evs, new Set([live.id!]));
        const counted = [...want.values()].reduce((s, v) => s + v.messages + v.paid_orders + v.pushes_sent, 0);
        expect(counted).toBe(6_000 - 20 - 1); // 20 repeated ids, and the one sent live
        expect(r.stdout).toContain(`events counted:    ${counted.toLocaleString('en-US')}`);
        await expectTotals(b, want);
        const state = await get<ImportState>(b, `/api/v1/imports/${await importId(file)}`, b.adminToken);
        expect(state.done).toHaveLength(12);
        expect(state.paths).toEqual(store === 'duckdb' ? { aggregated: 12, producers: 0 } : { aggregated: 0, producers: 12 });

        const again = await runCli(b, [file, '--batch', '500']);
        expect(again.code, again.stderr).toBe(0);
        expect(again.stdout).toContain('events counted:    0');
        await expectTotals(b, want);
      } finally {
        await b.stop();
      }
    }, 180_000);

    it('the server SIGKILLed mid-import, restarted, the command again: exact totals', async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-import-agg-kill-'));
      const db = influx?.newDb();
      const env = { ...envFor(db), PULSE_FLUSH_MS: '60000' };
      let b = await startBackend(env, { dataDir });
      try {
        const evs = month(12_000, 'k', Date.now());
        const file = path.join(dir, `kill-${store}.ndjson`);
        writeFileSync(file, `${evs.map((e) => JSON.stringify(e)).join('\n')}\n`);
        const id = await importId(file);
        let killed = false;
        const poll = setInterval(() => {
          void get<ImportState>(b, `/api/v1/imports/${id}`, b.adminToken)
            .then((s) => {
              if (!killed && s.done.length >= 5) {
                killed = true;
                void b.kill('SIGKILL');
              }
            })
            .catch(() => undefined);
        }, 20);
        const first = await runCli(b, [file, '--batch', '200']);
        clearInterval(poll);
        expect(killed).toBe(true);
        expect(first.code).not.toBe(0);
        b = await startBackend(env, { dataDir, port: b.port });
        const second = await runCli(b, [file, '--batch', '200']);
        expect(second.code, second.stderr).toBe(0);
        expect(second.stdout).toMatch(/already imported: +[1-9][\d,]* batches from an earlier run/);
        await expectTotals(b, perDay(evs));
      } finally {
        await b.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }, 240_000);

    it('a day the collector holds (a late event for it just arrived) takes the journal; totals stay exact', async () => {
      // No flush while the import runs: the collector keeps holding the late event's rows and periods.
      const b = await startBackend({ ...envFor(), PULSE_FLUSH_MS: '60000' });
      try {
        const now = Date.now();
        const evs = month(1_500, 'c', now);
        // A producer's late event on the file's last day: the collector now holds that day's rows and periods.
        const late: Ev = { type: 'message', ts: evs[evs.length - 1]!.ts - 1_000, channel: 'wecom', community: 'g0', member: 'c-late' };
        const posted = await fetch(`${b.url}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${b.ingestKey}`, 'content-type': 'application/json' }, body: JSON.stringify([late]) });
        expect(posted.status).toBe(202);
        const file = path.join(dir, `held-${store}.ndjson`);
        writeFileSync(file, `${evs.map((e) => JSON.stringify(e)).join('\n')}\n`);
        const r = await runCli(b, [file, '--batch', '500']);
        expect(r.code, r.stderr).toBe(0);
        const state = await get<ImportState>(b, `/api/v1/imports/${await importId(file)}`, b.adminToken);
        // Batch 2 holds the file's last day, which the collector holds: it takes the journal.
        expect(state.paths).toEqual(store === 'duckdb' ? { aggregated: 2, producers: 1 } : { aggregated: 0, producers: 3 });
        await expectTotals(b, perDay([late, ...evs]));
      } finally {
        await b.stop();
      }
    }, 180_000);
  });
}
