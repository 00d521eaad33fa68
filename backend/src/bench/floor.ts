/**
 * The floor of an acknowledged event (issue 18, "A faster node"): what the server cannot do
 * without, measured with the pipeline benchmark's method (load generator in its own process,
 * 500-event batches from 4 senders, the server's CPU time from /proc per accepted event).
 *
 * A minimal server process (a fork of this file, `node:http`, no express) answers
 * POST /api/v1/events with 202 after, cumulatively:
 *   1. `http`    — reading the body and answering (the HTTP floor);
 *   2. `parse`   — + JSON.parse of the body;
 *   3. `journal` — + one journal line per event, group-committed with fdatasync every 10 ms
 *                  (the real `Journal`, as ingest uses it: the 202 after the fsync);
 *   4. `ledger`  — + the id ledger (the real `LmdbIdLedger`: claim before, confirm after).
 * Everything else the real server does per event (validation, tags, member hash, the
 * collector's counters and sketches, the store flush, the wall) is on top of row 4.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TagSets } from '../collector/tagSets.js';
import { Journal, type JournalItem } from '../durability/journal.js';
import { LmdbIdLedger } from '../ingest/idLedger.js';
import { BATCH } from './batches.js';
import { startLoad } from './loadgen.js';
import { KEY, cpuMicros, freePort } from './server.js';
import type { EventType } from '@siyu-pulse/contracts/catalogue';

const STEPS = ['http', 'parse', 'journal', 'ledger'] as const;
type Step = (typeof STEPS)[number];
const CHILD_FLAG = '--pulse-floor-server';
const BATCHES = Number(process.env.BENCH_BATCHES ?? 400);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);

interface RawEvent {
  id?: string;
  type: EventType;
  channel: string;
  community?: string;
}

function serve(step: Step, port: number, dataDir: string): void {
  const level = STEPS.indexOf(step);
  const journal =
    level >= STEPS.indexOf('journal')
      ? Journal.open({ dir: path.join(dataDir, 'journal'), fsync: true, fsyncMs: 10, segmentBytes: 64 << 20, maxBytes: 2 ** 40 }, () => undefined, 0).journal
      : undefined;
  const ledger = level >= STEPS.indexOf('ledger') ? LmdbIdLedger.open({ dir: path.join(dataDir, 'ids'), windowMs: 48 * 3_600_000, fsync: true }) : undefined;
  // Interned tag sets, as ingest has them (the journal writes a tag set's JSON once).
  const tagSets = new TagSets();
  const auth = `Bearer ${KEY}`;
  const answer = (res: ServerResponse, accepted: number) => {
    res.writeHead(202, { 'content-type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify({ accepted, duplicates: 0, rejected: [] }));
  };
  async function handle(body: string, res: ServerResponse): Promise<void> {
    if (level < STEPS.indexOf('parse')) return answer(res, BATCH); // the load generator's batches: not parsed here
    const events = JSON.parse(body) as RawEvent[];
    if (!journal) return answer(res, events.length);
    const now = Date.now();
    const ids: string[] = [];
    for (const e of events) if (e.id !== undefined) ids.push(e.id);
    const seen = ledger ? await ledger.claim(ids, now) : [];
    const items: JournalItem[] = [];
    const claimed: string[] = [];
    let k = 0;
    for (const e of events) {
      if (e.id !== undefined) {
        if (seen[k++]) continue;
        claimed.push(e.id);
      }
      items.push({ receivedAt: now, id: e.id, event: { type: e.type, ts: now, tags: tagSets.of(e.channel, e.community ?? '', '') } });
    }
    await journal.append(items);
    if (ledger && claimed.length) void ledger.confirm(claimed, now);
    answer(res, items.length);
  }
  createServer((req: IncomingMessage, res: ServerResponse) => {
    if (req.method === 'GET') return void res.end('ok');
    if (req.headers.authorization !== auth) {
      res.writeHead(401).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      handle(Buffer.concat(chunks).toString('utf8'), res).catch((err: unknown) => {
        res.writeHead(500).end((err as Error).message);
      });
    });
  }).listen(port, '127.0.0.1', () => process.send?.('up'));
}

async function measure(step: Step): Promise<{ rate: number; cpu: number }> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-floor-'));
  const port = await freePort();
  const server = fork(fileURLToPath(import.meta.url), [CHILD_FLAG, step, String(port), dataDir], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('message', () => resolve());
      server.once('exit', (code) => reject(new Error(`floor server exited (${code})`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const load = startLoad({ kind: 'max', base, batches: BATCHES, concurrency: CONCURRENCY, idPrefix: `floor-${step}` });
    try {
      await load.ready;
      const before = cpuMicros(server.pid!);
      load.go();
      const r = await load.done;
      const cpu = cpuMicros(server.pid!) - before;
      if (r.failed) throw new Error(`floor ${step}: ${r.failed} batches failed`);
      return { rate: r.accepted / r.seconds, cpu: cpu / r.accepted };
    } finally {
      load.kill();
    }
  } finally {
    server.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function benchFloor(): Promise<[string, string][]> {
  const rows: [string, string][] = [];
  for (const step of STEPS) {
    const m = await measure(step);
    rows.push([`floor: ${step === 'http' ? 'HTTP only' : `+ ${step}`}`, `${Math.round(m.rate).toLocaleString('en-US')} events/s, server ${m.cpu.toFixed(1)} CPU-µs/event`]);
  }
  return rows;
}

if (process.argv[2] === CHILD_FLAG) serve(process.argv[3] as Step, Number(process.argv[4]), process.argv[5]!);
