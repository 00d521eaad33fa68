#!/usr/bin/env node
// The floors of an import's per-event work on this machine: each step alone, in one
// process, on the first 200,000 lines of a file, in 20,000-event batches (CPU of the
// process per event): JSON.parse of the batch body, validateEvent, the member HMAC (without
// and with the import's memory), sketchKeyOf, the id ledger (LMDB), aggregateHistory +
// complete, and DuckDB applyAdditive of the same batches (all threads, and the main thread).
// Needs a built backend. docs/dev-notes/2026-12-08a/h12imp6.md has the figures.
//   node --expose-gc scripts/import-floor.mjs /tmp/brand.ndjson
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const imp = (p) => import(path.join(root, 'backend/dist', p));
const { validateEvent } = await imp('ingest/schema.js');
const { createMemberHasher, rememberingHasher } = await imp('ingest/memberHash.js');
const { sketchKeyOf } = await imp('sketch/hll.js');
const { LmdbIdLedger } = await imp('ingest/idLedger.js');
const made = [];
const tempDir = (prefix) => { const d = mkdtempSync(path.join(tmpdir(), prefix)); made.push(d); return d; };
const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).slice(0, 200_000);
const N = lines.length, B = 20_000;
const bodies = []; for (let i = 0; i < N; i += B) bodies.push(`[${lines.slice(i, i + B).join(',')}]`);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const time = async (name, f, reps = 3) => { let best = Infinity; for (let r = 0; r < reps; r++) { const t = cpu(); await f(); best = Math.min(best, cpu() - t); } console.log(`${name.padEnd(44)} ${(best / N * 1e6).toFixed(2)} µs/event`); };
let parsed;
await time('JSON.parse (array body of 20k)', () => { parsed = bodies.map((b) => JSON.parse(b)); });
const events = parsed.flat();
await time('validateEvent', () => { for (const e of events) if (!validateEvent(e).success) throw new Error('bad'); });
const h = createMemberHasher('x'.repeat(32));
await time('HMAC per event (no memory)', () => { for (const e of events) h(e.member); }, 1);
await time('HMAC with rememberingHasher 131072 (fresh)', () => { const r = rememberingHasher(h, 131072); for (const e of events) r(e.member); }, 1);
const hashes = events.map((e) => h(e.member));
await time('sketchKeyOf', () => { for (const x of hashes) sketchKeyOf(x); });
const ids = events.filter((e) => e.id).map((e) => e.id);
console.log(`ids: ${ids.length} of ${N}`);
let k = 0;
await time('id ledger claim + confirm (LMDB, per event)', async () => {
  const l = LmdbIdLedger.open({ dir: tempDir('floor-'), windowMs: 86_400_000 * 2, fsync: true });
  const now = Date.now();
  for (let i = 0; i < ids.length; i += B / 2) { const part = ids.slice(i, i + B / 2); const mark = `f/${k++}`; await l.claim(part, now, mark); await l.confirm(part, now, mark); }
  await l.close?.();
}, 1);
// Aggregation + sketches, then the DuckDB write (applyAdditive) of the same batches, in process.
const { aggregateHistory } = await imp('import/aggregate.js');
const { TagSets } = await imp('collector/tagSets.js');
const { createDuckDbStore } = await imp('store/duckdb/adapter.js');
const { alignmentOffset, floorTo, MINUTE, HOUR, DAY } = await imp('time/zone.js');
const tagSets = new TagSets();
const r = rememberingHasher(h, 131072);
const countables = events.map((e) => { const m = r(e.member); return { type: e.type, ts: e.ts, tags: tagSets.of(e.channel, e.community ?? '', e.campaign ?? ''), member: m, sketchKey: sketchKeyOf(m), amount: e.amount, durationMs: e.duration_ms }; });
const periodStart = (g, ts) => { const step = g === 'minute' ? MINUTE : g === 'hour' ? HOUR : DAY; return floorTo(ts, step, alignmentOffset(step, 'Asia/Shanghai', ts)); };
const o = { bucketMs: 10_000, periodStart, pushCapPerDay: 3, node: 'n1', conflict: () => false };
await time('aggregateHistory + complete (nothing stored)', async () => { for (let i = 0; i < N; i += B) { const a = await aggregateHistory(countables.slice(i, i + B), { importId: 'x', seq: i }, o); await a.complete([]); } }, 2);
const store = createDuckDbStore({ file: path.join(tempDir('floor-db-'), 'f.duckdb') });
await store.init();
const aggs = [];
for (let i = 0; i < N; i += B) aggs.push(await aggregateHistory(countables.slice(i, i + B), { importId: 'ffffffffffffffff', seq: i / B }, o));
const mainCpu = () => { const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
if (global.gc) global.gc();
const m0 = mainCpu(); const t0 = cpu(); const w0 = performance.now();
for (const a of aggs) if ((await store.applyAdditive(a)) !== 'applied') throw new Error('not applied');
console.log(`${'DuckDB applyAdditive (incl. complete, merges)'.padEnd(44)} ${((cpu() - t0) / N * 1e6).toFixed(2)} µs/event (all threads; main thread ${((mainCpu() - m0) / N * 1e6).toFixed(2)}; ${((performance.now() - w0) / 1000).toFixed(1)} s wall)`);
await store.close();
for (const d of made) rmSync(d, { recursive: true, force: true });
