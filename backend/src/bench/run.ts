/**
 * `npm run bench`: measures this machine and prints a table. The server runs as its own
 * process (as in production) on the embedded DuckDB store, or on InfluxDB when
 * BENCH_INFLUX_URL / BENCH_INFLUX_DB are set. BENCH_ONLY=pipeline|alerts|accuracy|memory|history|ledger|cluster|floor runs one part
 * (cluster: two nodes on BENCH_REDIS_URL + BENCH_INFLUX_URL, Redis / InfluxDB operations per event)
 * (history: ingest of live events vs events one day old, same method; ledger: the id ledger's rate and disk size)
 * (floor: the HTTP + JSON.parse + journal + ledger floor of an event, floor.ts; only when asked)
 * (memory: BENCH_MEMBERS distinct members in a day, RSS and the rate of each million);
 * the pipeline part also measures the ingest journal's cost (fsync off, journal off).
 */
import { benchAlertLatency } from './alertLatency.js';
import { benchAccuracy } from './accuracy.js';
import { benchCluster } from './cluster.js';
import { benchFloor } from './floor.js';
import { benchLedger } from './ledger.js';
import { benchMemory } from './memory.js';
import { benchHistory, benchJournalCost, benchPipeline } from './pipeline.js';

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY;
  const rows: [string, string][] = [];
  if (only === undefined || only === 'pipeline') rows.push(...(await benchPipeline()), ...(await benchJournalCost()));
  if (only === undefined || only === 'alerts') rows.push(...(await benchAlertLatency()));
  if (only === undefined || only === 'accuracy') rows.push(...benchAccuracy());
  if (only === undefined || only === 'memory') rows.push(...(await benchMemory()));
  if (only === undefined || only === 'history') rows.push(...(await benchHistory()));
  if (only === 'floor') rows.push(...(await benchFloor()));
  if (only === undefined || only === 'ledger') rows.push(...(await benchLedger()));
  if (only === undefined || only === 'cluster') rows.push(...(await benchCluster()));
  const w = Math.max(...rows.map(([k]) => k.length));
  console.log('\nSiyu Pulse benchmark\n');
  for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
  console.log('\n  Event → wall latency includes the wait for the next tick (see live/hub.ts).\n');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
