/**
 * What one event costs a cluster (SCALING.md): two nodes on the Redis and InfluxDB named by
 * BENCH_REDIS_URL and BENCH_INFLUX_URL (this bench starts neither; a cluster's engines are
 * the operator's), ingest spread over both nodes, then per event: Redis commands (INFO
 * commandstats), Redis memory per remembered id, InfluxDB write requests and points
 * (/debug/vars), and each node's CPU time. Skipped (one line saying so) without both URLs.
 * BENCH_CLUSTER_NODES=1: the same load on one node on the same InfluxDB without Redis (the
 * cluster's own cost is the difference).
 */
import { createClient } from 'redis';
import { BATCH, batch, postBatch } from './pipeline.js';
import { cpuMicros, startBenchServer } from './server.js';

const BATCHES = Number(process.env.BENCH_BATCHES ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);

async function influxWrites(url: string): Promise<{ req: number; points: number }> {
  const vars = (await (await fetch(`${url}/debug/vars`)).json()) as { write?: { values?: { req?: number; pointReq?: number } } };
  return { req: vars.write?.values?.req ?? 0, points: vars.write?.values?.pointReq ?? 0 };
}

function commandStats(info: string): Map<string, number> {
  const calls = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls.set(m[1]!, Number(m[2]));
  return calls;
}

export async function benchCluster(): Promise<[string, string][]> {
  const redisUrl = process.env.BENCH_REDIS_URL;
  const influxUrl = process.env.BENCH_INFLUX_URL;
  if (!redisUrl || !influxUrl) return [['cluster', 'skipped: set BENCH_REDIS_URL and BENCH_INFLUX_URL (a running redis-server and influxd)']];
  const run = Date.now();
  const env = {
    PULSE_STORE: 'influx',
    INFLUX_URL: influxUrl,
    INFLUX_DB: `bench_cluster_${run}`,
    PULSE_CLUSTER_REDIS_URL: redisUrl,
    PULSE_CLUSTER_PREFIX: `bench${run}:`,
    PULSE_SALT: 'bench-cluster-salt-0123456789abcdef',
  };
  const single = process.env.BENCH_CLUSTER_NODES === '1';
  // BENCH_PROF=<dir>: a CPU profile of each node, written when it stops.
  const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
  const nodes = single
    ? [await startBenchServer({ PULSE_STORE: 'influx', INFLUX_URL: influxUrl, INFLUX_DB: env.INFLUX_DB }, prof)]
    : [await startBenchServer({ ...env, PULSE_NODE_ID: 'bench-a' }, prof), await startBenchServer({ ...env, PULSE_NODE_ID: 'bench-b' }, prof)];
  const redis = createClient({ url: redisUrl });
  await redis.connect();
  const rows: [string, string][] = [];
  try {
    // Warm-up, then counters from zero.
    for (const [i, n] of nodes.entries()) await postBatch(n.base, batch(1_000_000 + i, undefined, `warm${run}`));
    await redis.sendCommand(['CONFIG', 'RESETSTAT']);
    const memBefore = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    const writesBefore = await influxWrites(influxUrl);
    const cpuBefore = nodes.map((n) => cpuMicros(n.pid));
    const bodies = Array.from({ length: BATCHES }, (_, i) => batch(i, undefined, `c${run}`));
    let next = 0;
    let accepted = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, s) => {
        while (next < bodies.length) {
          const n = await postBatch(nodes[s % nodes.length]!.base, bodies[next++]!);
          accepted += n;
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    // Let the last flush (1 s) reach InfluxDB before reading its counters.
    await new Promise((r) => setTimeout(r, 2_500));
    const cpu = nodes.map((n, i) => cpuMicros(n.pid) - cpuBefore[i]!);
    const writes = await influxWrites(influxUrl);
    const stats = commandStats(await redis.info('commandstats'));
    const memAfter = Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);
    const totalCommands = [...stats.values()].reduce((a, b) => a + b, 0);
    const top = [...stats].sort((a, b) => b[1] - a[1]).slice(0, 5);
    rows.push([`cluster: events (${nodes.length} node${nodes.length > 1 ? 's' : ', no Redis'}, one machine)`, `${accepted.toLocaleString('en-US')} in ${seconds.toFixed(1)} s = ${Math.round(accepted / seconds).toLocaleString('en-US')} events/s (${BATCHES} × ${BATCH}, ${CONCURRENCY} senders, every event with an id)`]);
    rows.push(['cluster: node CPU per event', cpu.map((c, i) => `node ${i + 1}: ${((c / accepted) * nodes.length).toFixed(1)} µs`).join(', ') + ' (CPU time ÷ the events it took)']);
    rows.push(['cluster: Redis commands per event', `${(totalCommands / accepted).toFixed(2)} (${top.map(([c, n]) => `${c} ${(n / accepted).toFixed(2)}`).join(', ')})`]);
    rows.push(['cluster: Redis memory per remembered id', `${((memAfter - memBefore) / accepted).toFixed(0)} bytes (${((memAfter - memBefore) / 1048576).toFixed(1)} MiB for ${accepted.toLocaleString('en-US')} ids)`]);
    rows.push([
      'cluster: InfluxDB writes',
      `${((writes.req - writesBefore.req) / seconds).toFixed(1)} requests/s, ${(writes.points - writesBefore.points).toLocaleString('en-US')} points = ${((writes.points - writesBefore.points) / accepted).toFixed(3)} per event`,
    ]);
  } finally {
    await redis.close();
    for (const n of nodes) await n.stop();
  }
  return rows;
}
