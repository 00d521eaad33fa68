/**
 * Memory with many members: BENCH_MEMBERS (10,000,000) distinct members in one day across
 * 7 channels and 200 communities, posted as fast as the server takes them (no simulator).
 * Prints the server's RSS (from /proc, sampled after each million) and the ingest rate of
 * every million, so "the last million within 20 % of the first" can be read off directly.
 */
import { readFileSync } from 'node:fs';
import { KEY, startBenchServer } from './server.js';

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 10_000_000);
const BATCH = 5_000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const CHANNELS = ['wecom', 'wechat_group', 'miniprogram', 'douyin', 'sms', 'app_push', 'store_qr'];
const TYPES = ['message', 'interaction', 'page.view'];
const MILLION = 1_000_000;

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Events without `ts`: stamped on arrival (a run of many minutes stays inside one day unless it crosses midnight). */
function body(first: number, n: number): string {
  const lines: string[] = [];
  for (let i = first; i < first + n; i++) {
    lines.push(JSON.stringify({ type: TYPES[i % TYPES.length], channel: CHANNELS[i % CHANNELS.length], community: `社群${i % 200}`, member: `member-${i}` }));
  }
  return lines.join('\n');
}

export async function benchMemory(): Promise<[string, string][]> {
  const server = await startBenchServer({});
  const rows: [string, string][] = [];
  try {
    const rss0 = rssMiB(server.pid);
    rows.push(['memory: distinct members posted', MEMBERS.toLocaleString('en-US')], ['memory: server RSS before', `${rss0.toFixed(0)} MiB`]);
    let next = 0;
    let peak = rss0;
    const perMillion: number[] = [];
    let millionStarted = performance.now();
    let done = 0;
    const send = async (first: number, n: number) => {
      const res = await fetch(`${server.base}/api/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/x-ndjson' }, body: body(first, n) });
      const answer = (await res.json()) as { accepted: number };
      if (res.status !== 202 || answer.accepted !== n) throw new Error(`ingest answered ${res.status} ${JSON.stringify(answer).slice(0, 200)}`);
    };
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < MEMBERS) {
          const first = next;
          const n = Math.min(BATCH, MEMBERS - first);
          next += n;
          await send(first, n);
          done += n;
          if (done % MILLION === 0 || done === MEMBERS) {
            const now = performance.now();
            const seconds = (now - millionStarted) / 1000;
            perMillion.push(seconds);
            millionStarted = now;
            const rss = rssMiB(server.pid);
            peak = Math.max(peak, rss);
            console.error(`  … ${(done / MILLION).toFixed(0)}M members: ${seconds.toFixed(1)} s for this million, RSS ${rss.toFixed(0)} MiB`);
          }
        }
      }),
    );
    const rate = (s: number) => `${Math.round(MILLION / s).toLocaleString('en-US')} events/s (${s.toFixed(1)} s)`;
    const first = perMillion[0]!;
    const last = perMillion[perMillion.length - 1]!;
    rows.push(
      ['memory: first million ingest', rate(first)],
      ['memory: last million ingest', rate(last)],
      ['memory: last ÷ first million time', `${(last / first).toFixed(2)}×`],
      ['memory: server RSS after (peak sampled)', `${rssMiB(server.pid).toFixed(0)} MiB (${peak.toFixed(0)} MiB)`],
    );
  } finally {
    await server.stop();
  }
  return rows;
}
