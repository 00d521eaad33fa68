/** Starts the built server as its own process for a benchmark, on a free loopback port. */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const KEY = 'bench-ingest-key-0123456789';
export const READ = 'bench-read-token-0123456789';
export const ADMIN = 'bench-admin-token-0123456789';

export const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

export interface BenchServer {
  base: string;
  /** The server process id (RSS is read from /proc). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * How production runs the server (Dockerfile, npm start): V8's old space held to 256 MiB
 * (the live data is far smaller; without a cap V8 lets garbage pile up for hundreds of MiB
 * before a full collection) and two malloc arenas (glibc's default of 8 per core fragments
 * DuckDB's and libuv's threads' memory).
 */
export const SERVER_NODE_FLAGS = ['--max-old-space-size=256'];
export const SERVER_ENV = { MALLOC_ARENA_MAX: '2' };

/** `extraNodeFlags`: e.g. `--cpu-prof` to profile the server (written when it stops). */
export async function startBenchServer(env: Record<string, string>, extraNodeFlags: string[] = []): Promise<BenchServer> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-bench-'));
  const port = await freePort();
  const server = spawn(process.execPath, [...SERVER_NODE_FLAGS, ...extraNodeFlags, path.join(root, 'backend/dist/server.js')], {
    env: {
      ...process.env, ...SERVER_ENV, PORT: String(port), HOST: '127.0.0.1', PULSE_DATA_DIR: dataDir, PULSE_INGEST_KEYS: KEY, PULSE_READ_TOKEN: READ,
      PULSE_ADMIN_TOKEN: ADMIN, PULSE_SIMULATOR: 'off', PULSE_MAX_CHANNELS: '1000', PULSE_INGEST_RATE: '10000000', PULSE_INGEST_BURST: '100000000',
      LOG_LEVEL: 'warn', ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (server.exitCode === null) {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return { base, pid: server.pid!, stop };
    } catch {
      /* not up yet */
    }
    // 60 s: on the shared development box (load 13+) a server's start took over 15 s once,
    // and the whole run's table was lost with it.
    if (i > 600) {
      await stop();
      throw new Error('server did not start');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const percentile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;

/** utime + stime of a process (all its threads) in µs (Linux /proc; clock ticks are 100 Hz on Debian). */
export function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/**
 * utime + stime of a process's main thread alone (the event loop: what a 202 and a tick wait
 * for), in µs. The rest of cpuMicros is V8's helper threads (concurrent marking, scavenging),
 * DuckDB's threads, lmdb's writer and libuv's pool (fdatasync).
 */
export function mainThreadCpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}
