/**
 * Test harness: a throw-away real `redis-server` (Debian's package, Redis 7) on a free
 * loopback port with its state under a fresh temp dir, stopped after. Same contract as the
 * influxd harness:
 *
 *   const run = redisOrSkip('cluster id ledger');         // sync, at collection time
 *   describe.skipIf(!run)('…', () => {
 *     let redis: RedisHandle;
 *     beforeAll(async () => { redis = (await startRedis())!; });
 *     afterAll(() => redis?.stop());
 *   });
 *
 * Missing redis-server fails the suite when CI=true and is skipped loudly otherwise. Only
 * the process this harness started is ever stopped.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, runOrSkip } from './binary.js';
import { createClient } from 'redis';
import { freePort } from './influxd.js';

export interface RedisHandle {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  logTail(lines?: number): string;
  /** Stop the process, keep port and data (outage simulation). Idempotent. */
  kill(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Start again on the same port and data dir. */
  restart(): Promise<void>;
  /** Stop for good and remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export function findRedisServer(): string | null {
  return findExecutable('redis-server', process.env.REDIS_SERVER, ['/usr/bin', '/usr/sbin']);
}

/** At collection time: run the suite, fail it in CI without redis-server, or skip it loudly. */
export function redisOrSkip(suite = 'Redis suite'): boolean {
  return runOrSkip(findRedisServer() !== null, 'redis-server', 'redis-server', suite);
}

export async function startRedis(opts: { startTimeoutMs?: number } = {}): Promise<RedisHandle | null> {
  const bin = findRedisServer();
  if (!bin) {
    redisOrSkip();
    return null;
  }
  const startTimeoutMs = opts.startTimeoutMs ?? 15_000;
  const dir = mkdtempSync(join(tmpdir(), 'pulse-redis-'));
  const log: string[] = [];
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let port = 0;
  let removed = false;
  const logTail = (lines = 30) => log.slice(-lines).join('\n');

  const spawnOnce = async (): Promise<void> => {
    // Everything on the command line (no config file): loopback only, state in the temp dir,
    // AOF on with fsync every second as a production cluster would run it.
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--protected-mode', 'yes', '--daemonize', 'no', '--loglevel', 'warning'];
    const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let exitInfo: string | null = null;
    exited = new Promise((resolve) => {
      const done = (info: string) => {
        exitInfo ??= info;
        if (child === proc) child = null;
        resolve();
      };
      proc.once('exit', (code, signal) => done(`redis-server exited (code ${code}, signal ${signal})`));
      proc.once('error', (err) => done(`spawn error: ${err.message}`));
    });
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log.push(line);
      if (log.length > 300) log.splice(0, log.length - 300);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);
    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline && !exitInfo) {
      const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false, connectTimeout: 500 } });
      client.on('error', () => undefined);
      try {
        await client.connect();
        const pong = await client.ping();
        await client.close();
        if (pong === 'PONG') return;
      } catch {
        // not listening yet (destroy throws "The client is closed" when the attempt closed it already)
        try {
          client.destroy();
        } catch {
          /* closed */
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const why = exitInfo ?? `no PONG within ${startTimeoutMs} ms`;
    await killProc('SIGKILL');
    throw new Error(`redis-server (${bin}) did not start: ${why}. log tail:\n${logTail() || '(no output)'}`);
  };

  const killProc = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const proc: ChildProcess | null = child;
    if (!proc) return;
    proc.kill(signal);
    const escalate = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(escalate);
  };
  const onExit = () => (child as ChildProcess | null)?.kill('SIGKILL');
  process.once('exit', onExit);

  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await spawnOnce();
      break;
    } catch (err) {
      if (attempt < 3 && /address already in use/i.test(logTail())) continue;
      rmSync(dir, { recursive: true, force: true });
      process.off('exit', onExit);
      throw err;
    }
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    logTail,
    kill: (signal = 'SIGTERM') => killProc(signal),
    restart: async () => {
      if (removed) throw new Error('redis harness already stopped for good');
      await killProc('SIGTERM');
      await spawnOnce();
    },
    stop: async () => {
      await killProc('SIGTERM');
      process.off('exit', onExit);
      if (!removed) {
        removed = true;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
