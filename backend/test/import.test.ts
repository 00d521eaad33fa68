/**
 * `npm run import` (issue 12, point 4) against the real built server (backend/dist, spawned)
 * on DuckDB and on a real influxd: the CLI is run as a user runs it (a child process).
 *
 * - NDJSON and CSV files with bad lines → exact totals per local day on /api/v1/series, and
 *   the error report names each bad line, its field and the reason.
 * - The same file again → counted once (the ledger), the CLI says so.
 * - Ctrl-C (SIGINT) mid-file, then the same command → exact totals.
 * - The server SIGKILLed mid-import (nothing flushed: the journal alone holds what was
 *   acknowledged), restarted, the command run again → exact totals.
 * - The CLI's output: the progress bar (rate, ETA) and the summary.
 *
 * Events are a month of history (30 days back to 5 minutes ago), and the expected totals
 * are computed per local day from the stamps, so the test holds at any time of day.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBackend, type Backend } from '../../frontend/e2e/harness.js';
import { DAY, dayStart } from '../src/time/zone.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';

const TZ = 'Asia/Shanghai';
const CLI = path.resolve(import.meta.dirname, '../dist/tools/import.js');
const CHANNELS = ['wecom', 'miniprogram', 'douyin'];
const ENV = { LOG_LEVEL: 'warn', PULSE_WEEKLY_REPORT_CRON: 'off' };

interface Ev {
  id?: string;
  type: string;
  ts: number;
  channel: string;
  member?: string;
  amount?: number;
}

/** Deterministic events spread over a month: [now − 30 days, now − 5 min], in time order. */
function events(n: number, seed: string, now: number): Ev[] {
  const from = now - 30 * DAY;
  const span = 30 * DAY - 5 * 60_000;
  const out: Ev[] = [];
  for (let i = 0; i < n; i++) {
    const ts = from + Math.floor((span * i) / n);
    const channel = CHANNELS[i % 3]!;
    out.push(i % 4 === 0 ? { type: 'order.paid', ts, channel, member: `${seed}-m${i % 97}`, amount: 1000 + (i % 13) * 100 } : { type: 'message', ts, channel, member: `${seed}-m${i % 89}` });
  }
  return out;
}

/** Expected messages, paid orders and GMV per local day. */
function perDay(evs: readonly Ev[]): Map<number, { messages: number; paid_orders: number; gmv: number }> {
  const m = new Map<number, { messages: number; paid_orders: number; gmv: number }>();
  for (const e of evs) {
    const d = dayStart(e.ts, TZ);
    const v = m.get(d) ?? { messages: 0, paid_orders: 0, gmv: 0 };
    if (e.type === 'message') v.messages++;
    else {
      v.paid_orders++;
      v.gmv += e.amount!;
    }
    m.set(d, v);
  }
  return m;
}

function addInto(a: Map<number, { messages: number; paid_orders: number; gmv: number }>, b: Map<number, { messages: number; paid_orders: number; gmv: number }>) {
  for (const [d, v] of b) {
    const x = a.get(d) ?? { messages: 0, paid_orders: 0, gmv: 0 };
    a.set(d, { messages: x.messages + v.messages, paid_orders: x.paid_orders + v.paid_orders, gmv: x.gmv + v.gmv });
  }
  return a;
}

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `whenBatchesDone`: called once the server's ledger holds at least 3 batches of the file. */
function runCli(b: Backend, args: string[], whenBatchesDone?: (child: ReturnType<typeof spawn>) => void): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args, `--url=${b.url}`, `--token=${b.adminToken}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let poll: NodeJS.Timeout | undefined;
    if (whenBatchesDone) {
      const importId = createHash('sha256').update(readFileSync(args[0]!)).digest('hex').slice(0, 32);
      poll = setInterval(() => {
        void fetch(`${b.url}/api/v1/imports/${importId}`, { headers: { authorization: `Bearer ${b.adminToken}` } })
          .then((r) => r.json() as Promise<{ done: unknown[] }>)
          .then((j) => {
            if (poll && j.done.length >= 3) {
              clearInterval(poll);
              poll = undefined;
              whenBatchesDone(child);
            }
          })
          .catch(() => undefined);
      }, 30);
    }
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, stdout, stderr });
    });
  });
}

async function series(b: Backend, kpi: string, from: number, to: number): Promise<Map<number, number | null>> {
  const res = await fetch(`${b.url}/api/v1/series?kpi=${kpi}&from=${from}&to=${to}&step=1d`, { headers: { authorization: `Bearer ${b.readToken}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { series: { points: [number, number | null][] }[] };
  return new Map(body.series[0]!.points);
}

async function expectTotals(b: Backend, want: Map<number, { messages: number; paid_orders: number; gmv: number }>) {
  const days = [...want.keys()].sort((x, y) => x - y);
  const from = days[0]!;
  const to = days[days.length - 1]! + DAY;
  const got = { messages: await series(b, 'messages', from, to), paid_orders: await series(b, 'paid_orders', from, to), gmv: await series(b, 'gmv', from, to) };
  for (const d of days) {
    const w = want.get(d)!;
    expect({ day: new Date(d).toISOString(), messages: got.messages.get(d), paid_orders: got.paid_orders.get(d), gmv: got.gmv.get(d) }).toEqual({
      day: new Date(d).toISOString(),
      ...w,
    });
  }
}

const ndjson = (evs: readonly Ev[]) => evs.map((e) => JSON.stringify(e));

for (const store of ['duckdb', 'influx'] as const) {
  const runIt = store === 'duckdb' || influxdOrSkip('import suite (influx)');
  describe.runIf(runIt)(`npm run import (${store})`, () => {
    let influx: InfluxdHandle | null = null;
    let dir: string;
    beforeAll(async () => {
      dir = mkdtempSync(path.join(tmpdir(), 'pulse-import-'));
      if (store === 'influx') influx = await startInfluxd();
    }, 60_000);
    afterAll(async () => {
      await influx?.stop();
      rmSync(dir, { recursive: true, force: true });
    });
    const envFor = (db?: string): Record<string, string> => ({ ...ENV, ...(influx ? { PULSE_STORE: 'influx', INFLUX_URL: influx.url, INFLUX_DB: db ?? influx.newDb() } : {}) });

    it('NDJSON and CSV with bad lines: exact per-day totals, the report names the lines; a second run counts nothing', async () => {
      const b = await startBackend(envFor());
      try {
        const now = Date.now();
        // NDJSON: 1,200 good events, and bad lines at known places.
        const good = events(1_200, 'n', now);
        const lines = ndjson(good);
        lines.splice(6, 0, '{"type":"message","channel":"wecom"'); // line 7: not JSON
        lines.splice(99, 0, JSON.stringify({ type: 'order.paid', ts: now - 60_000, channel: 'wecom' })); // line 100: no amount
        lines.splice(199, 0, JSON.stringify({ type: 'message', ts: now - 60_000, channel: 'wecom', ammount: 5 })); // line 200: typo
        lines.splice(299, 0, JSON.stringify({ type: 'message', ts: now + 3_600_000, channel: 'wecom' })); // line 300: future (server)
        lines.splice(399, 0, ''); // line 400: blank, skipped
        const nd = path.join(dir, `orders-${store}.ndjson`);
        writeFileSync(nd, `${lines.join('\n')}\n`);
        const r1 = await runCli(b, [nd, '--batch', '250']);
        expect(r1.code, r1.stderr).toBe(0);
        expect(r1.stdout).toContain('events counted:    1,200');
        expect(r1.stdout).toContain(`lines with errors: 4 (1 refused by the server) → ${nd}.errors.tsv`);
        const report = readFileSync(`${nd}.errors.tsv`, 'utf8').trim().split('\n');
        expect(report[0]).toBe('line\tfield\treason');
        expect(report.slice(1).map((l) => l.split('\t').slice(0, 2).join(' '))).toEqual(['7 (line)', '100 amount', '200 ammount', '300 ts']);
        expect(report[1]).toMatch(/not valid JSON/);
        expect(report[2]).toMatch(/required on order\.paid/);
        expect(report[3]).toMatch(/unknown field 'ammount'/);
        expect(report[4]).toMatch(/in the future/);

        // CSV with a header (columns in any order), quoted values, bad rows.
        const csvGood = events(900, 'c', now);
        const rows = ['channel,type,ts,member,amount', ...csvGood.map((e) => `${e.channel},${e.type},${e.ts},"${e.member}",${e.amount ?? ''}`)];
        rows.splice(10, 0, `wecom,order.paid,${now - 60_000},x,19.5`); // line 11: amount not an integer
        rows.splice(20, 0, `wecom,messages,${now - 60_000},x,`); // line 21: unknown type
        rows.splice(30, 0, `wecom,message,${now - 60_000}`); // line 31: too few fields
        const csv = path.join(dir, `members-${store}.csv`);
        writeFileSync(csv, `${rows.join('\r\n')}\r\n`);
        const report2 = path.join(dir, `csv-report-${store}.tsv`);
        const r2 = await runCli(b, [csv, '--batch', '200', '--report', report2]);
        expect(r2.code, r2.stderr).toBe(0);
        expect(r2.stdout).toContain('events counted:    900');
        expect(readFileSync(report2, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t').slice(0, 2).join(' '))).toEqual(['11 amount', '21 type', '31 (line)']);

        const want = addInto(perDay(good), perDay(csvGood));
        await expectTotals(b, want);

        // The same files again: nothing is sent, nothing counted twice, the report is the same.
        const again = await runCli(b, [nd, '--batch', '500']);
        expect(again.code, again.stderr).toBe(0);
        expect(again.stderr).toContain('with its original 250 lines per batch');
        expect(again.stderr).toContain('was imported before: 5 batches are counted already');
        expect(again.stdout).toContain('events counted:    0');
        expect(again.stdout).toContain('nothing new to send: this file was imported before');
        expect(readFileSync(`${nd}.errors.tsv`, 'utf8').trim().split('\n')).toHaveLength(5);
        expect((await runCli(b, [csv])).stdout).toContain('events counted:    0');
        await expectTotals(b, want);
      } finally {
        await b.stop();
      }
    }, 120_000);

    it('Ctrl-C mid-file, then the same command: exact totals', async () => {
      const b = await startBackend(envFor());
      try {
        const evs = events(8_000, 'i', Date.now());
        const file = path.join(dir, `big-${store}.ndjson`);
        writeFileSync(file, `${ndjson(evs).join('\n')}\n`);
        let signalled = false;
        const first = await runCli(b, [file, '--batch', '50'], (child) => {
          signalled = true;
          child.kill('SIGINT');
        });
        expect(signalled).toBe(true);
        expect(first.code, first.stderr).toBe(130);
        expect(first.stderr).toContain('Stopping: waiting for the batches in flight');
        expect(first.stdout).toContain('Interrupted: big-');
        const counted = Number(/events counted: +([\d,]+)/.exec(first.stdout)![1]!.replace(/,/g, ''));
        expect(counted).toBeGreaterThan(0);
        expect(counted).toBeLessThan(8_000);
        const second = await runCli(b, [file, '--batch', '50']);
        expect(second.code, second.stderr).toBe(0);
        expect(second.stdout).toContain(`events counted:    ${(8_000 - counted).toLocaleString('en-US')}`);
        expect(second.stdout).toMatch(/already imported: +[\d,]+ batches from an earlier run/);
        await expectTotals(b, perDay(evs));
      } finally {
        await b.stop();
      }
    }, 180_000);

    it('the server SIGKILLed mid-import (only the journal holds the batches), restarted, the command again: exact totals', async () => {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-import-kill-'));
      const db = influx?.newDb();
      // Nothing is flushed while the first process lives: acknowledged batches are in the journal only.
      const env = { ...envFor(db), PULSE_FLUSH_MS: '60000' };
      let b = await startBackend(env, { dataDir });
      try {
        const evs = events(8_000, 'k', Date.now());
        const file = path.join(dir, `kill-${store}.ndjson`);
        writeFileSync(file, `${ndjson(evs).join('\n')}\n`);
        let killed = false;
        const first = await runCli(b, [file, '--batch', '50'], () => {
          killed = true;
          void b.kill('SIGKILL');
        });
        expect(killed).toBe(true);
        expect(first.code).not.toBe(0);
        expect(first.stderr).toContain('Import failed');
        b = await startBackend(env, { dataDir, port: b.port });
        const second = await runCli(b, [file, '--batch', '50']);
        expect(second.code, second.stderr).toBe(0);
        expect(second.stdout).toMatch(/already imported: +[1-9][\d,]* batches from an earlier run/);
        await expectTotals(b, perDay(evs));
      } finally {
        await b.stop();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }, 180_000);

    it('prints a progress bar with rate and ETA and a summary with the rate into the store', async () => {
      const b = await startBackend(envFor());
      try {
        const file = path.join(dir, `progress-${store}.ndjson`);
        writeFileSync(file, `${ndjson(events(3_000, 'p', Date.now())).join('\n')}\n`);
        const r = await runCli(b, [file, '--batch', '500']);
        expect(r.code, r.stderr).toBe(0);
        // Not a TTY: the bar is printed as lines (cli-progress noTTYOutput), the last at 100%.
        expect(r.stderr).toMatch(/导入 Importing \|[█░]{40}\| 100% \| 3,000 lines \| [\d,]+ events\/s \| ETA \d+s/);
        expect(r.stdout).toMatch(new RegExp(`Imported progress-${store}\\.ndjson \\(import [0-9a-f]{32}\\)\\.`));
        expect(r.stdout).toContain('lines read:        3,000');
        expect(r.stdout).toContain('lines with errors: 0');
        expect(r.stdout).toMatch(new RegExp(`rate: +[\\d,]+ events/s into ${store === 'duckdb' ? 'DuckDB' : 'InfluxDB'} \\(\\d+\\.\\d s, stored\\)`));
        // A file that is not there, and a bad header: clear errors, nothing sent.
        const missing = await runCli(b, [path.join(dir, 'nope.ndjson')]);
        expect(missing.code).toBe(1);
        expect(missing.stderr).toContain('Import failed: no such file');
        const badCsv = path.join(dir, `bad-${store}.csv`);
        writeFileSync(badCsv, 'type,channel,ammount\nmessage,wecom,3\n');
        const bad = await runCli(b, [badCsv]);
        expect(bad.code).toBe(1);
        expect(bad.stderr).toContain("Import failed: CSV header (line 1): unknown column 'ammount'");
      } finally {
        await b.stop();
      }
    }, 120_000);
  });
}
