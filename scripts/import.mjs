#!/usr/bin/env node
// `npm run import -- <file>`: builds the backend if it is missing or older than its
// sources (as `npm start` does), then runs the import CLI (backend/src/tools/import.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const newest = (dir) => {
  let t = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    t = Math.max(t, entry.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
};
const cli = path.join(root, 'backend/dist/tools/import.js');
if (!existsSync(cli) || ['contracts/src', 'backend/src'].some((d) => newest(path.join(root, d)) > statSync(cli).mtimeMs)) {
  for (const ws of ['contracts', 'alerts', 'backend']) {
    const r = spawnSync('npm', ['run', '-s', 'build', '-w', ws], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) process.exit(r.status ?? 1);
  }
}
const { main } = await import(new URL('../backend/dist/tools/import.js', import.meta.url).href);
process.exit(await main(process.argv.slice(2)));
