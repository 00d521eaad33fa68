/**
 * Starts a real Siyu Pulse in-process (real HTTP server on 127.0.0.1, real store) for
 * tests. `store: 'influx'` needs an InfluxdHandle from ./influxd.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { loadConfig } from '../../src/config/config.js';
import { startPulse, type PulseHandle } from '../../src/server.js';
import type { InfluxdHandle } from './influxd.js';

export const INGEST_KEY = 'test-ingest-key-0123456789';
export const READ_TOKEN = 'test-read-token-0123456789';
export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestPulse extends PulseHandle {
  dataDir: string;
  influxDb: string | undefined;
  post(body: string, opts?: { key?: string | null; contentType?: string }): Promise<{ status: number; json: unknown; headers: Headers }>;
  get(pathAndQuery: string, token?: string | null): Promise<{ status: number; json: unknown }>;
  stopAndClean(): Promise<void>;
}

export async function startTestPulse(opts: { influx?: InfluxdHandle; influxDb?: string; env?: Record<string, string>; dataDir?: string } = {}): Promise<TestPulse> {
  const influxDb = opts.influxDb ?? opts.influx?.newDb();
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(tmpdir(), 'pulse-test-'));
  const env: Record<string, string> = {
    PORT: '0',
    HOST: '127.0.0.1',
    PULSE_DATA_DIR: dataDir,
    PULSE_INGEST_KEYS: INGEST_KEY,
    PULSE_READ_TOKEN: READ_TOKEN,
    PULSE_ADMIN_TOKEN: ADMIN_TOKEN,
    PULSE_SIMULATOR: 'off',
    PULSE_FLUSH_MS: '100',
    LOG_LEVEL: 'silent',
    // No weekly report on start (catch-up) unless a suite asks for the schedule.
    PULSE_WEEKLY_REPORT_CRON: 'off',
    // No 30-day demo history fill behind a demo-mode suite unless it asks (demoHistory.test.ts).
    PULSE_DEMO_HISTORY_DAYS: '0',
    // A week-long query on a loaded 2-core CI box (suites run in parallel) can outlast the 10 s
    // production default; suites check results, and durability.faults sets a short one itself.
    ...(opts.influx ? { PULSE_STORE: 'influx', INFLUX_URL: opts.influx.url, INFLUX_DB: influxDb!, INFLUX_TIMEOUT_MS: '60000' } : {}),
    ...opts.env,
  };
  const handle = await startPulse(loadConfig(env), pino({ level: process.env.PULSE_TEST_LOG ?? 'silent' }));
  return {
    ...handle,
    dataDir,
    influxDb,
    async post(body, o = {}) {
      const key = o.key === undefined ? INGEST_KEY : o.key;
      const res = await fetch(`${handle.url}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': o.contentType ?? 'application/json', ...(key === null ? {} : { authorization: `Bearer ${key}` }) },
        body,
      });
      const text = await res.text();
      return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null, headers: res.headers };
    },
    async get(pathAndQuery, token = READ_TOKEN) {
      const res = await fetch(`${handle.url}${pathAndQuery}`, { headers: token === null ? {} : { authorization: `Bearer ${token}` } });
      const text = await res.text();
      let json: unknown = text;
      try {
        json = JSON.parse(text);
      } catch {
        /* not JSON (e.g. /metrics) */
      }
      return { status: res.status, json };
    },
    async stopAndClean() {
      await handle.close();
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
