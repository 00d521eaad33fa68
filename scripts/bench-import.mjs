#!/usr/bin/env node
// Import benchmark: starts the built server (DuckDB on a temp dir, production node flags;
// backend/src/bench/server.ts), runs `npm run import` on each file given and prints the
// command's own summary (its events/s is measured until the store holds the events) and
// the server's peak RSS. Files: scripts/gen-import-bench.mjs.
//   node scripts/bench-import.mjs /tmp/dense.ndjson /tmp/month.ndjson
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { startBenchServer, ADMIN } = await import(new URL('../backend/dist/bench/server.js', import.meta.url).href);
const files = process.argv.slice(2);
const env = {};
for (const kv of (process.env.BENCH_SERVER_ENV ?? '').split(',').filter(Boolean)) {
  const [k, v] = kv.split('=');
  env[k] = v;
}
// BENCH_PROF=<dir>: CPU profile of the server (node --cpu-prof), written when it stops.
const server = await startBenchServer({ PULSE_HISTORY_DAYS: '400', ...env }, process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : []);
const rssMiB = () => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
  } catch {
    return 0; // the server exited
  }
};
let peak = rssMiB();
const timer = setInterval(() => (peak = Math.max(peak, rssMiB())), 200);
try {
  for (const file of files) {
    const started = Date.now();
    const code = await new Promise((resolve) => {
      const p = spawn(process.execPath, [path.join(root, 'scripts/import.mjs'), file, `--url=${server.base}`, `--token=${ADMIN}`], { stdio: ['ignore', 'inherit', 'ignore'] });
      p.on('exit', resolve);
    });
    console.log(`${path.basename(file)}: exit ${code}, ${((Date.now() - started) / 1000).toFixed(1)} s wall, server peak RSS ${peak.toFixed(0)} MiB`);
  }
} finally {
  clearInterval(timer);
  await server.stop();
}
