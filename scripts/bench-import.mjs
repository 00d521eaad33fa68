#!/usr/bin/env node
// Import benchmark: starts the built server (DuckDB on a temp dir, production node flags;
// backend/src/bench/server.ts), runs `npm run import` on each file given and prints the
// command's own summary (its events/s is measured until the store holds the events) and
// the server's peak RSS, and the CPU seconds the server and the command used (from /proc,
// sampled every 100 ms: on a shared machine the wall-clock rate depends on the load, the
// CPU per event does not). While each file imports, the 30-day trends query
// (`/api/v1/series?kpi=messages`, 30 days at 1 h, what /trends asks for 30天) runs one at a
// time, a second apart, and its latencies are printed: what an analyst waits during an
// import. Files: scripts/gen-import-bench.mjs.
//   node scripts/bench-import.mjs /tmp/dense.ndjson /tmp/month.ndjson
// BENCH_TRENDS=0: no trends query during the import, so the server's CPU is the import's
// alone (the queries' CPU grows with the import's wall time, i.e. with the machine's load).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startBenchServer, ADMIN, READ } = await import(new URL('../backend/dist/bench/server.js', import.meta.url).href);
const files = process.argv.slice(2);
const env = {};
for (const kv of (process.env.BENCH_SERVER_ENV ?? '').split(',').filter(Boolean)) {
  const [k, v] = kv.split('=');
  env[k] = v;
}
// BENCH_PROF=<dir>: CPU profile of the server (node --cpu-prof), written when it stops.
// BENCH_NODE_FLAGS="--flag …": more node flags for the server (experiments, e.g. V8's young generation size).
const extraFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
const server = await startBenchServer({ PULSE_HISTORY_DAYS: '400', ...env }, [...extraFlags, ...(process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [])]);
const rssMiB = () => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  } catch {
    return 0; // the server exited
  }
};
/** utime + stime of a process in seconds, or undefined once it is gone. */
const cpuSeconds = (pid) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // fields 14, 15 (clock ticks; 100 per second on Linux)
  } catch {
    return undefined;
  }
};
/** CPU seconds per thread name of the server (e.g. V8's GC helpers, libuv's pool, DuckDB's workers). */
const threadCpu = () => {
  const out = {};
  try {
    for (const tid of readdirSync(`/proc/${server.pid}/task`)) {
      const name = readFileSync(`/proc/${server.pid}/task/${tid}/comm`, 'utf8').trim();
      out[name] = (out[name] ?? 0) + (cpuSeconds(`${server.pid}/task/${tid}`) ?? 0);
    }
  } catch {
    /* the server exited */
  }
  return out;
};
/** CPU seconds of the server's main (JavaScript) thread. */
const mainThreadCpu = () => cpuSeconds(`${server.pid}/task/${server.pid}`);
let peak = rssMiB();
let cli = { pid: 0, cpu: 0 };
/** The 30-day trends query, one at a time, until stopped: its latencies in ms. */
const probeTrends = () => {
  const took = [];
  let stop = process.env.BENCH_TRENDS === '0';
  const done = (async () => {
    while (!stop) {
      const to = Date.now();
      const started = performance.now();
      try {
        const r = await fetch(`${server.base}/api/v1/series?kpi=messages&from=${to - 30 * 86_400_000}&to=${to}&step=1h`, { headers: { authorization: `Bearer ${READ}` } });
        await r.arrayBuffer();
        if (r.ok) took.push(performance.now() - started);
      } catch {
        /* the server is gone */
      }
      await new Promise((res) => setTimeout(res, 1000));
    }
  })();
  return async () => {
    stop = true;
    await done;
    const s = [...took].sort((a, b) => a - b);
    const at = (q) => (s.length ? s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)].toFixed(0) : '-');
    return `${s.length} runs, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1)} ms`;
  };
};
/** The same query with nothing importing (its own cost on this data, at this load): 10 runs. */
const idleTrends = async () => {
  const stop = probeTrends();
  await new Promise((res) => setTimeout(res, 10_500));
  return stop();
};
const timer = setInterval(() => {
  peak = Math.max(peak, rssMiB());
  if (cli.pid) cli.cpu = cpuSeconds(cli.pid) ?? cli.cpu;
}, 100);
try {
  for (const file of files) {
    const started = Date.now();
    const serverCpu = cpuSeconds(server.pid) ?? 0;
    const jsCpu = mainThreadCpu() ?? 0;
    const threadsBefore = threadCpu();
    const stopProbe = probeTrends();
    const code = await new Promise((resolve) => {
      const p = spawn(process.execPath, [path.join(root, 'scripts/import.mjs'), file, `--url=${server.base}`, `--token=${ADMIN}`, ...(process.env.BENCH_IMPORT_ARGS ?? '').split(' ').filter(Boolean)], { stdio: ['ignore', 'inherit', 'ignore'] });
      cli = { pid: p.pid, cpu: 0 };
      p.on('exit', resolve);
    });
    const probe = `trends query during the import: ${await stopProbe()}; after it: ${await idleTrends()}`;
    const used = (cpuSeconds(server.pid) ?? serverCpu) - serverCpu;
    const js = (mainThreadCpu() ?? jsCpu) - jsCpu;
    const threads = Object.entries(threadCpu())
      .map(([name, cpu]) => [name, cpu - (threadsBefore[name] ?? 0)])
      .filter(([, cpu]) => cpu >= 0.1)
      .sort((a, b) => b[1] - a[1])
      .map(([name, cpu]) => `${name} ${cpu.toFixed(1)}`)
      .join(', ');
    console.log(`${path.basename(file)}: exit ${code}, ${((Date.now() - started) / 1000).toFixed(1)} s wall, server peak RSS ${peak.toFixed(0)} MiB, CPU: server ${used.toFixed(1)} s (main thread ${js.toFixed(1)} s), command ≥ ${cli.cpu.toFixed(1)} s; server threads: ${threads}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ${probe}`);
    cli = { pid: 0, cpu: 0 };
  }
} finally {
  clearInterval(timer);
  await server.stop();
}
