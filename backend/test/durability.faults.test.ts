/**
 * Real faults, real processes: the built server (backend/dist/server.js) killed with SIGKILL
 * at random moments while a producer sends, then restarted on the same data dir; the real
 * influxd stopped under load and started again; a data dir that cannot be written or a
 * disk without room at start-up. The promise under test: an event that got a 202 is
 * counted exactly once.
 *
 * The producer behaves like a real one: a batch without an answer (the process died) is
 * retried with the same event ids until it gets a 202, so the final total must equal the
 * number of distinct events sent — no loss (journal) and no double count (dedup seeded
 * from the journal; replay only past the spool's checkpoint).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVER_ENTRY, REPO_ROOT, freePort, sleep, startBackend, type Backend } from '../../frontend/e2e/harness.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { ADMIN_TOKEN, INGEST_KEY, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const CHANNELS = ['wecom', 'douyin', '门店 扫码,A=1'];

/** Deterministic PRNG (mulberry32) so a failing run can be replayed with its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Batch {
  events: { id: string; type: 'message'; ts: number; channel: string }[];
  acked: boolean;
}

class Producer {
  readonly batches: Batch[] = [];
  requests = 0;
  failedRequests = 0;
  acceptedTotal = 0;
  duplicatesTotal = 0;
  private n = 0;
  constructor(
    private readonly url: () => string,
    private readonly random: () => number,
  ) {}

  newBatch(size: number, now: number): Batch {
    const events = Array.from({ length: size }, () => ({
      id: `ev-${this.n++}`,
      type: 'message' as const,
      ts: now - Math.floor(this.random() * 60_000),
      channel: CHANNELS[Math.floor(this.random() * CHANNELS.length)]!,
    }));
    const b = { events, acked: false };
    this.batches.push(b);
    return b;
  }

  /** One attempt; true on 202. */
  async send(b: Batch): Promise<boolean> {
    this.requests++;
    try {
      const res = await fetch(`${this.url()}/api/v1/events`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${INGEST_KEY}` },
        body: JSON.stringify(b.events),
        signal: AbortSignal.timeout(10_000),
      });
      if (res.status !== 202) {
        this.failedRequests++;
        await res.text();
        return false;
      }
      const body = (await res.json()) as { accepted: number; duplicates: number; rejected: unknown[] };
      expect(body.rejected).toEqual([]);
      this.acceptedTotal += body.accepted;
      this.duplicatesTotal += body.duplicates;
      b.acked = true;
      return true;
    } catch {
      this.failedRequests++;
      return false;
    }
  }

  get eventsSent(): number {
    return this.batches.reduce((s, b) => s + b.events.length, 0);
  }
  get eventsAcked(): number {
    return this.batches.filter((b) => b.acked).reduce((s, b) => s + b.events.length, 0);
  }
  perChannel(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const b of this.batches) for (const e of b.events) out[e.channel] = (out[e.channel] ?? 0) + 1;
    return out;
  }

  /** Retries every unacknowledged batch until it gets a 202. */
  async settle(deadlineMs: number): Promise<void> {
    const until = Date.now() + deadlineMs;
    for (const b of this.batches) {
      while (!b.acked) {
        if (Date.now() > until) throw new Error('batches still unacknowledged at the deadline');
        if (!(await this.send(b))) await sleep(200);
      }
    }
  }
}

async function storedByChannel(url: string, from: number, to: number): Promise<Record<string, number>> {
  const q = new URLSearchParams({ kpi: 'messages', from: String(from), to: String(to), step: '1h', by: 'channel' });
  const res = await fetch(`${url}/api/v1/series?${q}`, { headers: { authorization: `Bearer ${READ_TOKEN}` } });
  const body = (await res.json()) as { series: { tags: { channel?: string }; points: [number, number | null][] }[] };
  if (!res.ok) throw new Error(JSON.stringify(body));
  const out: Record<string, number> = {};
  for (const s of body.series) out[s.tags.channel ?? ''] = s.points.reduce((sum, [, v]) => sum + (v ?? 0), 0);
  return out;
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);

describe('SIGKILL while ingesting (built server, DuckDB)', () => {
  let backend: Backend | undefined;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-kill-'));
  afterAll(async () => {
    await backend?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('counts every acknowledged event exactly once across five kills', async () => {
    const seed = Number(process.env.PULSE_KILL_SEED ?? Date.now() % 1_000_000);
    console.log(`[kill test] seed ${seed} (replay with PULSE_KILL_SEED=${seed})`);
    const random = rng(seed);
    const port = await freePort();
    const env = { PULSE_INGEST_KEYS: INGEST_KEY, PULSE_READ_TOKEN: READ_TOKEN, PULSE_ADMIN_TOKEN: ADMIN_TOKEN, PULSE_LATENESS_SECONDS: '3600', PULSE_INGEST_RATE: '10000000', PULSE_INGEST_BURST: '100000000', LOG_LEVEL: 'warn' };
    const start = () => startBackend(env, { dataDir, port });
    backend = await start();
    const url = () => backend!.url;
    const producer = new Producer(url, random);
    const from = Date.now() - 2 * 3_600_000;

    let stopSending = false;
    const senders = Array.from({ length: 4 }, async () => {
      while (!stopSending) {
        const b = producer.newBatch(50 + Math.floor(random() * 200), Date.now());
        if (!(await producer.send(b))) await sleep(100);
      }
    });

    const KILLS = 5;
    for (let k = 0; k < KILLS; k++) {
      await sleep(700 + Math.floor(random() * 2500));
      await backend.kill('SIGKILL');
      backend = await start();
    }
    await sleep(1000);
    stopSending = true;
    await Promise.all(senders);
    await producer.settle(60_000);

    const expected = producer.perChannel();
    // The flush interval is 1 s; poll until the store shows every event (or fail with the difference).
    let stored: Record<string, number> = {};
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      stored = await storedByChannel(backend.url, from, Date.now() + 3_600_000);
      if (sum(stored) >= sum(expected)) break;
      await sleep(500);
    }
    console.log(
      `[kill test] ${KILLS} SIGKILLs; events sent ${producer.eventsSent} in ${producer.batches.length} batches; ` +
        `requests ${producer.requests} (${producer.failedRequests} without a 202, retried); accepted ${producer.acceptedTotal}, ` +
        `duplicates on retry ${producer.duplicatesTotal}; stored ${sum(stored)}`,
    );
    expect(producer.eventsAcked).toBe(producer.eventsSent);
    expect(stored).toEqual(expected);
    // Every event was accepted exactly once over all the answers: a retry of a batch that
    // had reached the journal before the kill (its 202 was never seen) is answered as duplicates.
    expect(producer.acceptedTotal + producer.duplicatesTotal).toBe(producer.eventsSent);
    // One more restart: nothing is replayed twice.
    await backend.stop().catch(() => undefined);
    backend = await startBackend(env, { dataDir, port });
    await sleep(2_000);
    expect(await storedByChannel(backend.url, from, Date.now() + 3_600_000)).toEqual(expected);
  }, 240_000);
});

describe('influxd stopped under load', () => {
  const run = influxdOrSkip('influxd outage test');
  let influx: InfluxdHandle | null = null;
  let pulse: TestPulse | undefined;
  afterAll(async () => {
    await pulse?.stopAndClean();
    await influx?.stop();
  });

  it.runIf(run)('keeps every acknowledged event while influxd is down and writes the backlog when it is back', async () => {
    influx = await startInfluxd();
    pulse = await startTestPulse({ influx: influx!, env: { PULSE_LATENESS_SECONDS: '3600', PULSE_FLUSH_MS: '500', INFLUX_TIMEOUT_MS: '2000', PULSE_INGEST_RATE: '10000000', PULSE_INGEST_BURST: '100000000' } });
    const random = rng(7);
    const producer = new Producer(() => pulse!.url, random);
    const from = Date.now() - 2 * 3_600_000;
    let stopSending = false;
    const sender = (async () => {
      while (!stopSending) {
        await producer.send(producer.newBatch(200, Date.now()));
        await sleep(50);
      }
    })();

    await sleep(2_000);
    await influx!.kill('SIGKILL');
    const downAt = Date.now();
    // While it is down: the wall's live state keeps counting, /readyz says degraded with the
    // reason, and the backlog grows in /metrics.
    await sleep(8_000);
    const ready = await fetch(`${pulse.url}/readyz`);
    const readyBody = (await ready.json()) as { status: string; error?: string; backlog: { spoolRows: number } };
    expect(ready.status).toBe(503);
    expect(readyBody.backlog.spoolRows).toBeGreaterThan(0);
    expect(readyBody.error).toMatch(/InfluxDB|store write failed/);
    const metricsText = await (await fetch(`${pulse.url}/metrics`, { headers: { authorization: `Bearer ${READ_TOKEN}` } })).text();
    const backlog = Number(/^pulse_spool_rows (\d+)/m.exec(metricsText)?.[1]);
    expect(backlog).toBeGreaterThan(0);
    // The wall keeps counting from live state: the last five minutes grow while the store is down.
    const last5m = async () =>
      ((await (await fetch(`${pulse!.url}/api/v1/snapshot`, { headers: { authorization: `Bearer ${READ_TOKEN}` } })).json()) as { windows: { last5m: { kpis: { messages: { value: number } } } } }).windows.last5m.kpis.messages.value;
    const before = await last5m();
    await sleep(1_500);
    expect(await last5m()).toBeGreaterThan(before);

    await influx!.restart();
    const upAt = Date.now();
    stopSending = true;
    await sender;
    // Ingest never depends on the store: every batch got its 202 the first time.
    expect(producer.failedRequests).toBe(0);
    await producer.settle(30_000);
    let drainedAt = 0;
    for (let i = 0; i < 120; i++) {
      const r = await fetch(`${pulse.url}/readyz`);
      if (r.status === 200) {
        drainedAt = Date.now();
        break;
      }
      await sleep(250);
    }
    expect(drainedAt).toBeGreaterThan(0);
    await pulse.flushToStore();
    const expected = producer.perChannel();
    const stored = await storedByChannel(pulse.url, from, Date.now() + 3_600_000);
    console.log(
      `[influxd outage] down ${((upAt - downAt) / 1000).toFixed(1)} s with ${backlog} rows spooled at the 8 s mark; ` +
        `backlog written ${((drainedAt - upAt) / 1000).toFixed(1)} s after influxd was back; events sent ${producer.eventsSent}, stored ${sum(stored)}`,
    );
    expect(stored).toEqual(expected);
  }, 180_000);
});

describe('start-up refuses a data dir it cannot use', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function runServer(env: Record<string, string>, uid?: number): Promise<{ code: number | null; output: string }> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [SERVER_ENTRY], {
        cwd: REPO_ROOT,
        env: { ...process.env, HOST: '127.0.0.1', PORT: '0', PULSE_SIMULATOR: 'off', PULSE_INGEST_KEYS: INGEST_KEY, PULSE_READ_TOKEN: READ_TOKEN, LOG_LEVEL: 'silent', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(uid === undefined ? {} : { uid, gid: uid }),
      });
      let output = '';
      child.stdout.on('data', (c: Buffer) => (output += c.toString()));
      child.stderr.on('data', (c: Buffer) => (output += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, output });
      });
    });
  }

  it('a read-only data dir: a clear error naming the directory, exit code 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pulse-ro-'));
    dirs.push(dir);
    const data = path.join(dir, 'data');
    mkdirSync(data);
    chmodSync(dir, 0o755);
    chmodSync(data, 0o555);
    // Root ignores permissions: run the server as nobody then (65534), as a real deployment would run unprivileged.
    const uid = process.getuid?.() === 0 ? 65534 : undefined;
    const r = await runServer({ PULSE_DATA_DIR: data }, uid);
    expect(r.code).toBe(1);
    expect(r.output).toContain(`PULSE_DATA_DIR ${data}: writing a test file failed (EACCES)`);
  });

  it('a path through a file: a clear error, exit code 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pulse-notdir-'));
    dirs.push(dir);
    writeFileSync(path.join(dir, 'file'), 'x');
    const r = await runServer({ PULSE_DATA_DIR: path.join(dir, 'file', 'data') });
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/PULSE_DATA_DIR .*: creating the directory failed \((ENOTDIR|EEXIST)\)/);
  });

  it('a disk without room (below PULSE_MIN_FREE_MB): a clear error with the free space, exit code 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pulse-full-'));
    dirs.push(dir);
    const r = await runServer({ PULSE_DATA_DIR: dir, PULSE_MIN_FREE_MB: '1000000' });
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/only \d+ MB free, below PULSE_MIN_FREE_MB \(1000000 MB\)/);
  });
});
