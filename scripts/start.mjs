#!/usr/bin/env node
// `npm start`: builds what is missing or older than its sources on the first run, then
// starts the server. Plain Node so it works before anything is compiled.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const newest = (dir) => {
  if (!statSync(dir).isDirectory()) return statSync(dir).mtimeMs;
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
};
const stale = (output, ...sources) =>
  !existsSync(output) || sources.some((s) => existsSync(s) && newest(s) > statSync(output).mtimeMs);

// A workspace is rebuilt when its own sources or a package it imports changed.
const contracts = path.join(root, 'contracts/src');
const steps = [
  ['contracts', path.join(root, 'contracts/dist/format.js'), [contracts]],
  ['alerts', path.join(root, 'alerts/dist/index.js'), [path.join(root, 'alerts/src'), contracts]],
  ['backend', path.join(root, 'backend/dist/server.js'), [path.join(root, 'backend/src'), path.join(root, 'alerts/src'), contracts]],
  ['frontend', path.join(root, 'frontend/dist/index.html'), [path.join(root, 'frontend/src'), path.join(root, 'frontend/index.html'), contracts]],
];
for (const [ws, output, sources] of steps) {
  if (!stale(output, ...sources)) continue;
  console.log(`Building ${ws} …`);
  const r = spawnSync('npm', ['run', 'build', '-w', ws], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
// Same process: signals reach the server directly, so Ctrl-C flushes buckets before exit.
const { main } = await import(new URL('../backend/dist/server.js', import.meta.url).href);
await main();
