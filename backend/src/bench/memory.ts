/**
 * Memory with many members: BENCH_MEMBERS (10,000,000) distinct members in one day across
 * 7 channels and 200 communities, posted as fast as the server takes them (no simulator).
 * Prints the ingest rate of every million and the server's RSS (from /proc, sampled every
 * second for the peak), with the heap and the embedded store's memory (its /metrics) after
 * each million, and says pass or fail against issue 12's targets: peak RSS ≤ 400 MiB, and
 * the last million's rate within 20 % of the first's.
 */
import { readFileSync } from 'node:fs';
import { KEY, READ, startBenchServer } from './server.js';

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 10_000_000);
const BATCH = 5_000;
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const CHANNELS = ['wecom', 'wechat_group', 'miniprogram', 'douyin', 'sms', 'app_push', 'store_qr'];
const TYPES = ['message', 'interaction', 'page.view'];
const MILLION = 1_000_000;
/** Issue 12's targets (at 10,000,000 members). */
const RSS_TARGET_MIB = 400;
const RATE_TARGET = 0.8;

function rssMiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Heap used and the store's memory (pulse_store_memory_bytes summed) from the server's /metrics, in MiB. */
async function serverMemory(base: string): Promise<{ heap: number; store: number; tags: string }> {
  const text = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${READ}` } })).text();
  let heap = NaN;
  let store = 0;
  const tags: string[] = [];
  for (const line of text.split('\n')) {
    const heapUsed = /^nodejs_heap_size_used_bytes (\S+)/.exec(line);
    if (heapUsed) heap = Number(heapUsed[1]) / 2 ** 20;
    const m = /^pulse_store_memory_bytes\{tag="([^"]+)"\} (\S+)/.exec(line);
    if (m) {
      const mib = Number(m[2]) / 2 ** 20;
      store += mib;
      if (mib >= 1) tags.push(`${m[1]} ${mib.toFixed(0)}`);
    }
  }
  return { heap, store, tags: tags.join(', ') };
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
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssMiB(server.pid));
      } catch {
        /* the server is gone: the run fails on its next request */
      }
    }, 1000);
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
            const mem = await serverMemory(server.base);
            const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
            console.error(
              `  … ${(done / MILLION).toFixed(0)}M members: ${seconds.toFixed(1)} s for this million, RSS ${rss.toFixed(0)} MiB ` +
                `(heap used ${mem.heap.toFixed(0)}, store ${mem.store.toFixed(0)}: ${mem.tags}), load ${load}`,
            );
          }
        }
      }),
    ).finally(() => clearInterval(sampler));
    const rate = (s: number) => `${Math.round(MILLION / s).toLocaleString('en-US')} events/s (${s.toFixed(1)} s)`;
    const first = perMillion[0]!;
    const last = perMillion[perMillion.length - 1]!;
    const at = MEMBERS === 10_000_000 ? '' : ` (at ${MEMBERS.toLocaleString('en-US')} members; the target is for 10,000,000)`;
    const verdict = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
    rows.push(
      ['memory: first million ingest', rate(first)],
      ['memory: last million ingest', rate(last)],
      ['memory: last ÷ first million rate', `${(first / last).toFixed(2)} — ${verdict(first / last >= RATE_TARGET)} (target ≥ ${RATE_TARGET})${at}`],
      ['memory: server RSS after', `${rssMiB(server.pid).toFixed(0)} MiB`],
      ['memory: server RSS peak (sampled every second)', `${peak.toFixed(0)} MiB — ${verdict(peak <= RSS_TARGET_MIB)} (target ≤ ${RSS_TARGET_MIB} MiB)${at}`],
    );
  } finally {
    await server.stop();
  }
  return rows;
}
