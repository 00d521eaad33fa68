/**
 * `npm run bench`: measures the live pipeline on this machine and prints a table.
 *  1. Ingest throughput: events/s through POST /api/v1/events on loopback, batches of 500.
 *  2. Event → socket latency: a socket client on /live sees each probe event in a tick;
 *     p50 / p99 of (tick received − request sent).
 * The server runs as a separate process (as in production) on the embedded DuckDB store,
 * or on InfluxDB when BENCH_INFLUX_URL / BENCH_INFLUX_DB are set.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import type { LiveTick } from '../live/contract.js';

const KEY = 'bench-ingest-key-0123456789';
const READ = 'bench-read-token-0123456789';
const BATCH = 500;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const PROBES = Number(process.env.BENCH_PROBES ?? 40);

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

const CHANNELS = ['wecom', 'wechat_group', 'miniprogram', 'douyin', 'sms', 'app_push', 'store_qr'];
const TYPES = ['message', 'interaction', 'page.view', 'push.delivered', 'push.open', 'cart.add'];

function batch(seq: number): string {
  const events = [];
  for (let i = 0; i < BATCH; i++) {
    const n = seq * BATCH + i;
    events.push({ id: `b-${n}`, type: TYPES[n % TYPES.length], channel: CHANNELS[n % CHANNELS.length], community: `群${n % 50}`, member: `m${n % 20_000}` });
  }
  return JSON.stringify(events);
}

async function main(): Promise<void> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-bench-'));
  const port = await freePort();
  const influx = process.env.BENCH_INFLUX_URL ? { PULSE_STORE: 'influx', INFLUX_URL: process.env.BENCH_INFLUX_URL, INFLUX_DB: process.env.BENCH_INFLUX_DB ?? 'pulse_bench' } : {};
  const server = spawn(process.execPath, [path.join(root, 'backend/dist/server.js')], {
    env: {
      ...process.env, PORT: String(port), HOST: '127.0.0.1', PULSE_DATA_DIR: dataDir, PULSE_INGEST_KEYS: KEY, PULSE_READ_TOKEN: READ,
      PULSE_SIMULATOR: 'off', PULSE_MAX_CHANNELS: '1000', PULSE_INGEST_RATE: '10000000', PULSE_INGEST_BURST: '100000000', LOG_LEVEL: 'warn', ...influx,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; ; i++) {
      try {
        if ((await fetch(`${base}/healthz`)).ok) break;
      } catch {
        /* not up yet */
      }
      if (i > 150) throw new Error('server did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    const post = async (body: string) => {
      const res = await fetch(`${base}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body });
      const answer = (await res.json()) as { accepted: number };
      if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
      return answer.accepted;
    };

    // Warm-up, then the throughput run (bodies prepared up front so the client costs less).
    await post(batch(1_000_000));
    const bodies = Array.from({ length: BATCHES }, (_, i) => batch(i));
    let next = 0;
    let accepted = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < bodies.length) {
          const n = await post(bodies[next++]!);
          accepted += n;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const rate = accepted / seconds;

    // Latency: one probe event on its own channel; wait for the tick that shows it.
    const socket = io(`${base}/live`, { auth: { token: READ }, transports: ['websocket'] });
    await new Promise<void>((resolve) => socket.once('snapshot', () => resolve()));
    const latencies: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      const channel = `probe-${i}`;
      const seen = new Promise<number>((resolve) => {
        const onTick = (t: LiveTick) => {
          if (t.windows.today.byChannel[channel]) {
            socket.off('tick', onTick);
            resolve(performance.now());
          }
        };
        socket.on('tick', onTick);
      });
      const sent = performance.now();
      await post(JSON.stringify([{ type: 'member.join', channel, member: `probe-${i}` }]));
      latencies.push((await seen) - sent);
      // A uniformly random pause puts the next probe at a random phase of the 1 s tick.
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
    }
    socket.close();
    latencies.sort((a, b) => a - b);
    const mem = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${READ}` } })).text();
    const rss = Number(/^process_resident_memory_bytes (\d+)/m.exec(mem)?.[1] ?? NaN);

    const rows: [string, string][] = [
      ['store', influx.PULSE_STORE ?? 'duckdb (embedded)'],
      ['ingest: events accepted', String(accepted)],
      ['ingest: batch size / concurrency', `${BATCH} / ${CONCURRENCY}`],
      ['ingest: throughput', `${Math.round(rate).toLocaleString('en-US')} events/s`],
      ['event → socket: probes', String(latencies.length)],
      ['event → socket: p50', `${percentile(latencies, 0.5).toFixed(0)} ms`],
      ['event → socket: p99', `${percentile(latencies, 0.99).toFixed(0)} ms`],
      ['event → socket: max', `${latencies[latencies.length - 1]!.toFixed(0)} ms`],
      ['server RSS after run', `${(rss / 1024 / 1024).toFixed(0)} MiB`],
    ];
    const w = Math.max(...rows.map(([k]) => k.length));
    console.log('\nSiyu Pulse benchmark (live pipeline)\n');
    for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
    console.log('\n  Latency includes the 1 s tick: a probe waits on average half a tick for the next broadcast.\n');
  } finally {
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
