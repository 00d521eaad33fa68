/**
 * Live pipeline figures: ingest throughput through POST /api/v1/events (batches of 500)
 * and event → socket latency (a probe event until the tick that shows it).
 */
import { io } from 'socket.io-client';
import type { LiveTick } from '@siyu-pulse/contracts/live';
import { KEY, READ, percentile, startBenchServer } from './server.js';

export const BATCH = 500;
const BATCHES = Number(process.env.BENCH_BATCHES ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const PROBES = Number(process.env.BENCH_PROBES ?? 40);
const CHANNELS = ['wecom', 'wechat_group', 'miniprogram', 'douyin', 'sms', 'app_push', 'store_qr'];
const TYPES = ['message', 'interaction', 'page.view', 'push.delivered', 'push.open', 'cart.add'];

/** `ts`: an event's time from its number (none: stamped on arrival, i.e. live); `idPrefix` keeps runs apart (ids are deduplicated). */
export function batch(seq: number, ts?: (n: number) => number, idPrefix = 'b'): string {
  const events = [];
  for (let i = 0; i < BATCH; i++) {
    const n = seq * BATCH + i;
    events.push({ id: `${idPrefix}-${n}`, type: TYPES[n % TYPES.length], channel: CHANNELS[n % CHANNELS.length], community: `群${n % 50}`, member: `m${n % 20_000}`, ...(ts ? { ts: ts(n) } : {}) });
  }
  return JSON.stringify(events);
}

export async function postBatch(base: string, body: string): Promise<number> {
  const res = await fetch(`${base}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body });
  const answer = (await res.json()) as { accepted: number };
  if (res.status !== 202) throw new Error(`ingest answered ${res.status}`);
  return answer.accepted;
}

/** Warm-up, then BATCHES batches from CONCURRENCY senders (bodies prepared up front so the client costs less). */
async function throughput(base: string, ts?: (n: number) => number, idPrefix?: string): Promise<{ accepted: number; rate: number }> {
  await postBatch(base, batch(1_000_000, ts, idPrefix));
  const bodies = Array.from({ length: BATCHES }, (_, i) => batch(i, ts, idPrefix));
  let next = 0;
  let accepted = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < bodies.length) {
        // Not `accepted += await …`: that reads `accepted` before the await and loses the
        // other senders' additions.
        const n = await postBatch(base, bodies[next++]!);
        accepted += n;
      }
    }),
  );
  return { accepted, rate: accepted / ((performance.now() - started) / 1000) };
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
      rates.live!.push((await throughput(server.base, undefined, `live${round}`)).rate);
      rates.day!.push((await throughput(server.base, (n) => t0 - 86_400_000 + Math.floor(n / 20) + round * 3_600_000, `day${round}`)).rate);
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
      rows.push([label, perSecond((await throughput(server.base)).rate)]);
    } finally {
      await server.stop();
    }
  }
  return rows;
}

export async function benchPipeline(): Promise<[string, string][]> {
  const influx: Record<string, string> = process.env.BENCH_INFLUX_URL
    ? { PULSE_STORE: 'influx', INFLUX_URL: process.env.BENCH_INFLUX_URL, INFLUX_DB: process.env.BENCH_INFLUX_DB ?? 'pulse_bench' }
    : {};
  const server = await startBenchServer(influx);
  const base = server.base;
  try {
    const post = (body: string) => postBatch(base, body);
    const { accepted, rate } = await throughput(base);

    // Latency: one probe event on its own channel; wait for the tick that shows it.
    const socket = io(`${base}/live`, { auth: { token: READ }, transports: ['websocket'] });
    await new Promise<void>((resolve) => socket.once('snapshot', () => resolve()));
    const latencies: number[] = [];
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
      await post(JSON.stringify([{ type: 'member.join', channel, member: `probe-${i}` }]));
      latencies.push((await seen) - sent);
      // A uniformly random pause puts the next probe at a random phase of the 1 s tick.
      await new Promise((r) => setTimeout(r, Math.random() * 1000));
    }
    socket.close();
    latencies.sort((a, b) => a - b);
    const mem = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${READ}` } })).text();
    const rss = Number(/^process_resident_memory_bytes (\d+)/m.exec(mem)?.[1] ?? NaN);
    return [
      ['store', influx.PULSE_STORE ?? 'duckdb (embedded)'],
      ['ingest: events accepted', String(accepted)],
      ['ingest: batch size / concurrency', `${BATCH} / ${CONCURRENCY}`],
      ['ingest: throughput (journal on, fsync every 10 ms)', perSecond(rate)],
      ['event → socket: probes', String(latencies.length)],
      ['event → socket: p50', `${percentile(latencies, 0.5).toFixed(0)} ms`],
      ['event → socket: p99', `${percentile(latencies, 0.99).toFixed(0)} ms`],
      ['server RSS after run', `${(rss / 1024 / 1024).toFixed(0)} MiB`],
    ];
  } finally {
    await server.stop();
  }
}
