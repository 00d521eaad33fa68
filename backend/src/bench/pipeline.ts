/**
 * Live pipeline figures: ingest throughput through POST /api/v1/events (batches of 500, sent
 * by the load generator in its own process), the server CPU per event against JSON.parse of
 * the same bodies, and event → wall latency (a probe event until the tick that shows it) under a steady load.
 */
import { io } from 'socket.io-client';
import type { LiveTick } from '@siyu-pulse/contracts/live';
import { READ, cpuMicros, mainThreadCpuMicros, percentile, startBenchServer, type BenchServer } from './server.js';
import { startLoad, type LoadTimes } from './loadgen.js';
import { BATCH, batch, postBatch } from './batches.js';

export { BATCH, batch, postBatch };

const BATCHES = Number(process.env.BENCH_BATCHES ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const PROBES = Number(process.env.BENCH_PROBES ?? 40);

interface Throughput {
  accepted: number;
  rate: number;
  /** Server CPU time (all its threads: DuckDB's, libuv's) per accepted event, µs. */
  cpuPerEvent: number;
  /** The part of it on the main thread (the event loop), µs. */
  mainPerEvent: number;
}

/**
 * Warm-up, then BATCHES batches from CONCURRENCY senders in the load generator's own
 * process (loadgen.ts; bodies prepared before the clock starts), and the server's CPU time
 * (/proc) over the same interval.
 */
async function throughput(server: BenchServer, ts?: LoadTimes, idPrefix = 'b'): Promise<Throughput> {
  await postBatch(server.base, batch(1_000_000, ts ? (n) => ts.base + Math.floor(n / ts.perMs) : undefined, idPrefix));
  const load = startLoad({ kind: 'max', base: server.base, batches: BATCHES, concurrency: CONCURRENCY, idPrefix, ...(ts ? { ts } : {}) });
  try {
    await load.ready;
    const cpuBefore = cpuMicros(server.pid);
    const mainBefore = mainThreadCpuMicros(server.pid);
    load.go();
    const r = await load.done;
    const cpu = cpuMicros(server.pid) - cpuBefore;
    const main = mainThreadCpuMicros(server.pid) - mainBefore;
    if (r.failed) throw new Error(`${r.failed} batches failed`);
    return { accepted: r.accepted, rate: r.accepted / r.seconds, cpuPerEvent: cpu / r.accepted, mainPerEvent: main / r.accepted };
  } finally {
    load.kill();
  }
}

/**
 * The reference: `JSON.parse` of the same bodies the load generator sent, in this process
 * on one core (best of three passes), in µs per event.
 */
function jsonParseMicrosPerEvent(ts?: LoadTimes, idPrefix = 'b'): number {
  const bodies = Array.from({ length: BATCHES }, (_, i) => batch(i, ts ? (n) => ts.base + Math.floor(n / ts.perMs) : undefined, idPrefix));
  let best = Infinity;
  let events = 0;
  for (let pass = 0; pass < 3; pass++) {
    events = 0;
    const started = performance.now();
    for (const b of bodies) events += (JSON.parse(b) as unknown[]).length;
    best = Math.min(best, performance.now() - started);
  }
  return (best * 1000) / events;
}

const perSecond = (rate: number) => `${Math.round(rate).toLocaleString('en-US')} events/s`;

/**
 * Late events vs live ones, same method (BATCHES × 500 events, CONCURRENCY senders, one
 * server): live (no ts) and one day old (ts = a day ago + n / 20 ms, i.e. the density of
 * 20,000 events/s), alternated twice so the machine's load hits both alike. One-day-old
 * buckets are not in memory: the collector reads each stored row / sketch before adding.
 */
export async function benchHistory(): Promise<[string, string][]> {
  const server = await startBenchServer({});
  const rows: [string, string][] = [];
  try {
    const t0 = Date.now();
    const rates: Record<string, number[]> = { live: [], day: [] };
    for (let round = 0; round < 2; round++) {
      rates.live!.push((await throughput(server, undefined, `live${round}`)).rate);
      rates.day!.push((await throughput(server, { base: t0 - 86_400_000 + round * 3_600_000, perMs: 20 }, `day${round}`)).rate);
    }
    rows.push(['ingest: live events (2 runs)', rates.live!.map(perSecond).join(', ')]);
    rows.push(['ingest: events 1 day old (2 runs)', rates.day!.map(perSecond).join(', ')]);
  } finally {
    await server.stop();
  }
  return rows;
}

/** The journal's cost: the same throughput run with fsync off and with the journal off. */
export async function benchJournalCost(): Promise<[string, string][]> {
  const rows: [string, string][] = [];
  for (const [label, env] of [
    ['ingest: journal on, fsync off', { PULSE_JOURNAL_FSYNC: 'off' }],
    ['ingest: journal off', { PULSE_JOURNAL: 'off' }],
  ] as const) {
    const server = await startBenchServer({ ...env });
    try {
      const t = await throughput(server);
      rows.push([label, `${perSecond(t.rate)}, server ${t.cpuPerEvent.toFixed(1)} CPU-µs/event`]);
    } finally {
      await server.stop();
    }
  }
  return rows;
}

/** Background load while the latency probes run (the "at 10,000 events/s"). */
const LATENCY_LOAD = Number(process.env.BENCH_LATENCY_LOAD ?? 10_000);

/**
 * Event → wall latency: one probe event on its own channel, timed from its POST until the
 * first tick that shows it, while the load generator sends LATENCY_LOAD events/s.
 */
async function wallLatency(base: string): Promise<{ latencies: number[]; answered: number[]; background: number }> {
  const load = LATENCY_LOAD > 0 ? startLoad({ kind: 'rate', base, eventsPerSecond: LATENCY_LOAD, idPrefix: 'bg' }) : undefined;
  const socket = io(`${base}/live`, { auth: { token: READ }, transports: ['websocket'] });
  try {
    await new Promise<void>((resolve) => socket.once('snapshot', () => resolve()));
    if (load) {
      await load.ready;
      load.go();
      // Let the background settle before the first probe.
      await new Promise((r) => setTimeout(r, 2_000));
    }
    const latencies: number[] = [];
    // When the probe's 202 came (journaled and counted): the rest is the wait for the tick.
    const answered: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      const channel = `probe-${i}`;
      const seen = new Promise<number>((resolve) => {
        const onTick = (t: LiveTick) => {
          if (t.windows.today.byChannel[channel]) {
            socket.off('tick', onTick);
            resolve(performance.now());
          }
        };
        socket.on('tick', onTick);
      });
      const sent = performance.now();
      await postBatch(base, JSON.stringify([{ type: 'member.join', channel, member: `probe-${i}` }]));
      answered.push(performance.now() - sent);
      latencies.push((await seen) - sent);
      // A uniformly random pause puts the next probe at a random phase of the tick.
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
    }
    let background = 0;
    if (load) {
      load.stop();
      const r = await load.done;
      background = r.accepted / r.seconds;
    }
    return { latencies: latencies.sort((a, b) => a - b), answered: answered.sort((a, b) => a - b), background };
  } finally {
    socket.close();
    load?.kill();
  }
}

export async function benchPipeline(): Promise<[string, string][]> {
  const influx: Record<string, string> = process.env.BENCH_INFLUX_URL
    ? { PULSE_STORE: 'influx', INFLUX_URL: process.env.BENCH_INFLUX_URL, INFLUX_DB: process.env.BENCH_INFLUX_DB ?? 'pulse_bench' }
    : {};
  // BENCH_PROF=<dir>: a CPU profile of the server (throughput and latency runs), written when it stops.
  const prof = process.env.BENCH_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROF}`] : [];
  const server = await startBenchServer(influx, prof);
  const base = server.base;
  try {
    const t = await throughput(server);
    const parseMicros = jsonParseMicrosPerEvent();
    const { latencies, answered, background } = await wallLatency(base);
    const mem = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${READ}` } })).text();
    const rss = Number(/^process_resident_memory_bytes (\d+)/m.exec(mem)?.[1] ?? NaN);
    return [
      ['store', influx.PULSE_STORE ?? 'duckdb (embedded)'],
      ['ingest: events accepted', String(t.accepted)],
      ['ingest: batch size / concurrency', `${BATCH} / ${CONCURRENCY} (load generator in its own process)`],
      ['ingest: throughput (journal on, fsync every 10 ms)', perSecond(t.rate)],
      ['ingest: server CPU per event', `${t.cpuPerEvent.toFixed(1)} µs (all server threads)`],
      ['ingest: of which the main thread', `${t.mainPerEvent.toFixed(1)} µs (the rest: GC helpers, DuckDB, lmdb, libuv)`],
      ['JSON.parse of the same bodies (one core)', `${parseMicros.toFixed(2)} µs/event = ${perSecond(1e6 / parseMicros)}`],
      ['ingest: server CPU ÷ JSON.parse', `${(t.cpuPerEvent / parseMicros).toFixed(1)}×`],
      ['event → wall: background load', LATENCY_LOAD > 0 ? `${perSecond(background)} (asked ${perSecond(LATENCY_LOAD)})` : 'none'],
      ['event → wall: probes', String(latencies.length)],
      ['event → wall: p50', `${percentile(latencies, 0.5).toFixed(0)} ms`],
      ['event → wall: p99', `${percentile(latencies, 0.99).toFixed(0)} ms`],
      ["event → wall: the probe's 202 (journaled, counted) p50 / p99", `${percentile(answered, 0.5).toFixed(0)} / ${percentile(answered, 0.99).toFixed(0)} ms`],
      ['server RSS after run', `${(rss / 1024 / 1024).toFixed(0)} MiB`],
    ];
  } finally {
    await server.stop();
  }
}
