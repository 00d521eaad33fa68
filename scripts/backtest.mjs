#!/usr/bin/env node
// `npm run -s backtest -- …`: the alerts package's backtest CLI (alerts/src/cli/backtest.ts),
// built first when its output is missing.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'alerts/dist/cli/backtest.js');
if (!existsSync(cli)) {
  for (const ws of ['contracts', 'alerts']) {
    const b = spawnSync('npm', ['run', '-s', 'build', '-w', ws], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
    if (b.status !== 0) process.exit(b.status ?? 1);
  }
}
const r = spawnSync(process.execPath, [cli, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
