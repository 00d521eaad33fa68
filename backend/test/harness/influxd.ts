/**
 * Test harness: a throw-away real `influxd` (InfluxDB 1.x, e.g. the Debian package) on free
 * loopback ports with all state under a fresh temp dir. Reusable by any suite:
 *
 *   const run = influxdOrSkip('InfluxDB conformance');        // sync, at collection time
 *   describe.skipIf(!run)('…', () => {
 *     let influx: InfluxdHandle;
 *     beforeAll(async () => { influx = await startInfluxd(); });
 *     afterAll(() => influx?.stop());
 *   });
 *
 * `kill()` / `restart()` take the same server down and up again on the same ports and data
 * dir (store-outage tests).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findExecutable, runOrSkip } from './binary.js';
import { randomBytes } from 'node:crypto';

export interface InfluxdHandle {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** A unique database name for this server (not created: the adapter's init() does that). */
  readonly db: string;
  readonly httpPort: number;
  readonly dir: string;
  /** Another unique database name, for suites that want isolation between tests. */
  newDb(): string;
  /** Last lines influxd wrote to stdout/stderr (for failure messages). */
  logTail(lines?: number): string;
  /** Stop the process but keep ports and data (outage simulation). Idempotent. */
  kill(signal?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
  /** Start again on the same ports and data dir; resolves when /ping answers 204. */
  restart(): Promise<void>;
  /** Stop for good and remove the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Absolute path of `influxd` on PATH (or $INFLUXD), or null. */
export function findInfluxd(): string | null {
  return findExecutable('influxd', process.env.INFLUXD);
}

/**
 * Decide at collection time whether an influxd-backed suite runs. Missing influxd:
 * in CI (`CI=true`) this throws so the suite fails instead of silently passing; locally it
 * prints a loud banner and returns false (skip).
 */
export function influxdOrSkip(suite = 'InfluxDB conformance suite'): boolean {
  return runOrSkip(findInfluxd() !== null, 'influxd', 'influxdb', suite);
}

/** A port the OS just handed out on 127.0.0.1 (small race window until influxd binds it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

function configToml(dir: string, httpPort: number, rpcPort: number): string {
  // Everything that would touch /var/lib/influxdb, the network or the disk needlessly is
  // pointed at the temp dir or switched off. The RPC bind-address (default 8088) must be a
  // free port too, or a second influxd on the box fails to start.
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = "${join(dir, 'meta')}"
  logging-enabled = false

[data]
  dir = "${join(dir, 'data')}"
  wal-dir = "${join(dir, 'wal')}"
  wal-fsync-delay = "0s"
  query-log-enabled = false
  index-version = "inmem"

[monitor]
  store-enabled = false

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "warn"
  suppress-logo = true
`;
}

/** Starts influxd. Returns null (after the CI check / banner of influxdOrSkip) when it is not installed. */
export async function startInfluxd(opts: { startTimeoutMs?: number } = {}): Promise<InfluxdHandle | null> {
  const bin = findInfluxd();
  if (!bin) {
    influxdOrSkip();
    return null;
  }
  const startTimeoutMs = opts.startTimeoutMs ?? 20_000;
  const dir = mkdtempSync(join(tmpdir(), 'pulse-influxd-'));
  const configFile = join(dir, 'influxdb.conf');
  let httpPort = 0;
  let url = '';
  const pickPorts = async () => {
    httpPort = await freePort();
    let rpcPort = await freePort();
    while (rpcPort === httpPort) rpcPort = await freePort();
    writeFileSync(configFile, configToml(dir, httpPort, rpcPort));
    url = `http://127.0.0.1:${httpPort}`;
  };

  const log: string[] = [];
  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  let removed = false;

  const logTail = (lines = 30) => log.slice(-lines).join('\n');

  const spawnOnce = async (): Promise<void> => {
    // Environment variables INFLUXDB_* would override the config file: drop them.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INFLUXDB_')));
    const proc = spawn(bin, ['run', '-config', configFile], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    let exitInfo: string | null = null;
    exited = new Promise((resolve) => {
      const done = (info: string) => {
        exitInfo ??= info;
        if (child === proc) child = null;
        resolve();
      };
      proc.once('exit', (code, signal) => done(`influxd exited (code ${code}, signal ${signal})`));
      proc.once('error', (err) => done(`spawn error: ${err.message}`));
    });
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log.push(line);
      if (log.length > 500) log.splice(0, log.length - 500);
    };
    proc.stdout?.on('data', collect);
    proc.stderr?.on('data', collect);

    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (exitInfo) break;
      try {
        const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
        if (res.status === 204) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const why = exitInfo ?? `no 204 from GET ${url}/ping within ${startTimeoutMs} ms`;
    await killProc('SIGKILL');
    throw new Error(`influxd (${bin}) did not start: ${why}. influxd log tail:\n${logTail() || '(no output)'}`);
  };

  const killProc = async (signal: 'SIGTERM' | 'SIGKILL'): Promise<void> => {
    const proc: ChildProcess | null = child;
    if (!proc) return;
    proc.kill(signal);
    // SIGTERM is a graceful shutdown (flushes the WAL); escalate if it hangs.
    const escalate = setTimeout(() => proc.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(escalate);
  };

  const onExit = () => {
    // Never leave an orphaned influxd behind when the test process dies.
    (child as ChildProcess | null)?.kill('SIGKILL');
  };
  process.once('exit', onExit);

  // Another process may grab a port between freePort() and influxd's bind: retry with new ones.
  for (let attempt = 1; ; attempt++) {
    await pickPorts();
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

  const uniqueDb = () => `pulse_test_${randomBytes(6).toString('hex')}`;
  return {
    url,
    db: uniqueDb(),
    httpPort,
    dir,
    newDb: uniqueDb,
    logTail,
    kill: (signal = 'SIGTERM') => killProc(signal),
    restart: async () => {
      if (removed) throw new Error('influxd harness already stopped for good');
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
