#!/usr/bin/env node
/**
 * Run the backtest command over a NAB-format benchmark folder and score it:
 *
 *   node scripts/nab-backtest.mjs [--bench ../shared/benchmarks/nab-dev] [--rules alerts/rules/generic.yaml] [--out detections.json]
 *
 * Each series goes through `npm run -s backtest` (the CLI, the same engine as the product)
 * with --kind from kinds.json (counts: count_default, levels: level_default, unless the rule
 * file holds rules of its own); the firings' row timestamps become detections.json, scored by
 * the folder's score.mjs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { bench: { type: 'string' }, rules: { type: 'string' }, out: { type: 'string' }, jobs: { type: 'string' } } });
const bench = resolve(values.bench ?? join(root, '../shared/benchmarks/nab-dev'));
const rules = resolve(values.rules ?? join(root, 'alerts/rules/generic.yaml'));
const out = resolve(values.out ?? join(root, 'detections.json'));
const kinds = JSON.parse(readFileSync(join(bench, 'kinds.json'), 'utf8'));
const files = readdirSync(join(bench, 'data')).sort().flatMap((d) => readdirSync(join(bench, 'data', d)).filter((f) => f.endsWith('.csv')).sort().map((f) => `${d}/${f}`));
const jobs = Number(values.jobs ?? Math.max(1, Math.min(2, cpus().length)));

const run = (id) =>
  new Promise((ok, fail) => {
    const kind = kinds[id] ?? 'mean';
    const p = spawn(process.execPath, [join(root, 'scripts/backtest.mjs'), '--rules', rules, '--series', join(bench, 'data', id), '--kind', kind], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    p.stdout.on('data', (d) => (text += d));
    p.on('close', (code) => (code === 0 ? ok(text.split('\n').filter(Boolean).map((l) => JSON.parse(l).ts)) : fail(new Error(`${id}: exit ${code}`))));
  });

const detections = {};
const queue = [...files];
await Promise.all(Array.from({ length: jobs }, async () => {
  for (let id = queue.shift(); id; id = queue.shift()) detections[id] = await run(id);
}));
writeFileSync(out, JSON.stringify(detections, null, 1));
const s = spawnSync(process.execPath, [join(bench, 'score.mjs'), out], { encoding: 'utf8' });
process.stdout.write(s.stdout);
if (s.status !== 0) process.stderr.write(s.stderr);
