/**
 * End-to-end harness: start the built backend (`backend/dist/server.js`, which serves the
 * built `frontend/dist`) on a free port with throw-away credentials and data dir, drive the
 * system's Chromium through playwright-core (never downloads a browser), and save screenshots
 * under `test-artifacts/` at the repository root.
 *
 * Nothing here builds: the root `npm test` runs `npm run build` before vitest.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS_DIR = join(REPO_ROOT, 'test-artifacts');
export const SERVER_ENTRY = join(REPO_ROOT, 'backend/dist/server.js');
export const FRONTEND_INDEX = join(REPO_ROOT, 'frontend/dist/index.html');
export const CHROMIUM_PATH = process.env.PULSE_CHROMIUM ?? '/usr/bin/chromium';

export interface Backend {
  url: string;
  port: number;
  ingestKey: string;
  readToken: string;
  adminToken: string;
  dataDir: string;
  proc: ChildProcess;
  /** The last lines the process wrote to stdout/stderr. */
  logTail(): string;
  /** SIGTERM, then SIGKILL after a grace period; removes the temp data dir unless it was given. */
  stop(): Promise<void>;
  /** Sends a signal and waits for the process to exit (the data dir is kept: restart on it). */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  /** Reuse a data dir (e.g. to restart on the same data); not removed by stop(). */
  dataDir?: string;
  port?: number;
  healthTimeoutMs?: number;
}

const random = () => randomBytes(18).toString('base64url');

export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** Keeps the last `max` characters a stream wrote. */
function tailBuffer(max = 8_000) {
  let buf = '';
  return {
    push(chunk: Buffer | string) {
      buf += chunk.toString();
      if (buf.length > max) buf = buf.slice(buf.length - max);
    },
    get: () => buf,
  };
}

function exited(proc: ChildProcess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

function waitExit(proc: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(proc)) return Promise.resolve(true);
  return new Promise((done) => {
    const t = setTimeout(() => done(false), timeoutMs);
    proc.once('exit', () => {
      clearTimeout(t);
      done(true);
    });
  });
}

/**
 * Starts `node backend/dist/server.js` with a free PORT, a temp PULSE_DATA_DIR, the simulator
 * off and random ingest / read / admin credentials (each overridable through `env`), and
 * waits for `GET /healthz` to answer 200.
 */
export async function startBackend(env: Record<string, string | undefined> = {}, opts: StartOptions = {}): Promise<Backend> {
  if (!existsSync(SERVER_ENTRY)) {
    throw new Error(`${SERVER_ENTRY} is missing: build first (npm run build — the root \`npm test\` does)`);
  }
  const port = opts.port ?? (await freePort());
  const ownDataDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'pulse-e2e-')));
  const ingestKey = env.PULSE_INGEST_KEYS?.split(',')[0] ?? random();
  const readToken = env.PULSE_READ_TOKEN ?? random();
  const adminToken = env.PULSE_ADMIN_TOKEN ?? random();

  const childEnv: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: String(port),
    PULSE_DATA_DIR: dataDir,
    PULSE_SIMULATOR: 'off',
    PULSE_INGEST_KEYS: ingestKey,
    PULSE_READ_TOKEN: readToken,
    PULSE_ADMIN_TOKEN: adminToken,
    // Demo-mode suites: no 30-day history fill in the background unless asked for.
    PULSE_DEMO_HISTORY_DAYS: '0',
  };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete childEnv[k];
    else childEnv[k] = v;
  }

  const log = tailBuffer();
  const proc = spawn(process.execPath, [SERVER_ENTRY], { cwd: REPO_ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout?.on('data', log.push);
  proc.stderr?.on('data', log.push);

  const url = `http://127.0.0.1:${port}`;
  const backend: Backend = {
    url,
    port,
    ingestKey,
    readToken,
    adminToken,
    dataDir,
    proc,
    logTail: log.get,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (exited(proc)) return;
      proc.kill(signal);
      await waitExit(proc, 15_000);
    },
    async stop() {
      if (!exited(proc)) {
        proc.kill('SIGTERM');
        if (!(await waitExit(proc, 10_000))) {
          proc.kill('SIGKILL');
          await waitExit(proc, 5_000);
        }
      }
      if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };

  const timeoutMs = opts.healthTimeoutMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    if (exited(proc)) {
      await backend.stop();
      throw new Error(`backend exited (code ${proc.exitCode}, signal ${proc.signalCode}) before /healthz answered.\n--- output tail ---\n${log.get()}`);
    }
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return backend;
      lastError = `HTTP ${res.status}`;
    } catch (err) {
      lastError = (err as Error).message;
    }
    await sleep(200);
  }
  await backend.stop();
  throw new Error(`backend /healthz did not answer 200 within ${timeoutMs} ms (last: ${lastError}).\n--- output tail ---\n${log.get()}`);
}

export interface PulseEvent {
  id?: string;
  type: string;
  ts?: number;
  member?: string;
  channel: string;
  community?: string;
  campaign?: string;
  source?: string;
  amount?: number;
  duration_ms?: number;
}

export interface IngestResult {
  accepted: number;
  duplicates: number;
  rejected: { index: number; error: string }[];
}

/** `POST /api/v1/events` with the ingest key; expects 202. */
export async function postEvents(b: Pick<Backend, 'url' | 'ingestKey'>, events: PulseEvent[]): Promise<IngestResult> {
  const res = await fetch(`${b.url}/api/v1/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${b.ingestKey}` },
    body: JSON.stringify(events),
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST /api/v1/events → ${res.status}: ${text}`);
  return JSON.parse(text) as IngestResult;
}

/** GET a read API with the read token. */
export async function getJson<T>(b: Pick<Backend, 'url' | 'readToken'>, path: string): Promise<T> {
  const res = await fetch(`${b.url}${path}`, { headers: { authorization: `Bearer ${b.readToken}`, accept: 'application/json' } });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${path} → ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The system Chromium; playwright-core never downloads a browser here. */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH} (set PULSE_CHROMIUM)`);
  return chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
}

/** Saves a PNG under `<repo>/test-artifacts/` and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, name.endsWith('.png') ? name : `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value or throws the last failure after `timeoutMs`. */
export async function eventually<T>(fn: () => Promise<T | undefined | null | false>, timeoutMs: number, what: string, intervalMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
      last = undefined;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? last.message : last !== undefined ? String(last) : 'condition never held';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${why}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * The alert rule the Chromium tests fire within seconds: new members per channel, a
 * 1-minute window against the minute before (环比), down 15% fires, 50% is critical.
 * `extra` lines are added to the rule as written (YAML, four-space indent).
 */
export function membersDropRules(id: string, opts: { name?: string; group?: string; extra?: string[] } = {}): string {
  return [
    'rules:',
    `  - id: ${id}`,
    `    name: ${opts.name ?? '新增成员骤降（分渠道）'}`,
    ...(opts.group ? [`    group: ${opts.group}`] : []),
    '    kpi: new_members',
    '    by: channel',
    '    window: 1m',
    '    baseline: { type: previous_window }',
    '    thresholds: { fire: 0.15, clear: 0.10, critical: 0.5 }',
    '    direction: down',
    '    min_sample: 10',
    '    pending_for: 1',
    '    cooldown: 0s',
    ...(opts.extra ?? []),
    '    notify: [dingtalk]',
    '',
  ].join('\n');
}
