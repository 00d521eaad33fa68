/**
 * The demo's history (演示数据): on the first demo start, the 30 days of simulated traffic
 * before today are fed through the import path (ImportService: ledger, ingest, journal,
 * collector with back-pressure), in the background while the wall is already live, so the
 * trends page, 上周同期 baselines, month KPIs and last week's report have real shapes
 * within about a minute.
 *
 * Volume: the live simulator's peak (60 events/s) over 30 days would be ~75 million events.
 * Sparse history costs about one stored row per event (each event alone in its 10 s bucket
 * and tag set), and rows are what the store takes slowly (~2,000 a second measured on this
 * 2-core machine under load), so the history runs at `peakEventsPerSecond` (default 0.1:
 * ~4,400 events a day, ~130,000 in all with spend summed per hour). Daily shapes, funnels and ratios are the live
 * model's; counts are that fraction (1/600) of the live level, which the README states.
 *
 * Once only: the plan (range, seed, rate) is kept in `demo-history.json` under the data dir
 * and its hash is the import id, so a restart finds every batch in the import ledger and
 * sends nothing; a fill cut short (Ctrl-C) resumes with the batches still missing. The live
 * simulator uses the plan's seed, so history and live traffic share one member pool
 * (retention and 30-day actives span both).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { writeJsonAtomic } from '../durability/jsonFile.js';
import type { ImportService } from '../import/service.js';
import { DAY, HOUR, dayStart } from '../time/zone.js';
import { Simulator, type RawEvent } from './simulator.js';

export const DEMO_HISTORY_FILE = 'demo-history.json';
const BATCH_MS = 6 * HOUR;

export interface DemoHistoryPlan {
  version: 1;
  from: number;
  to: number;
  seed: number;
  peakEventsPerSecond: number;
}

/** The kept plan, or a new one ending at `now` (not written until the fill starts). */
export function demoHistoryPlan(dataDir: string, now: number, timezone: string, days: number, peakEventsPerSecond: number): DemoHistoryPlan {
  const file = path.join(dataDir, DEMO_HISTORY_FILE);
  if (existsSync(file)) {
    try {
      const kept = JSON.parse(readFileSync(file, 'utf8')) as DemoHistoryPlan;
      if (kept.version === 1 && Number.isFinite(kept.from) && Number.isFinite(kept.to)) return kept;
    } catch {
      // unreadable: a new plan (the ledger still holds whatever the old one imported)
    }
  }
  // Up to the start of today: today is the live simulator's alone, so the wall's 今日 tiles and
  // last-hour charts are not a mix of the two scales (thin history made 100% spikes there).
  return { version: 1, from: dayStart(now - days * DAY, timezone), to: dayStart(now, timezone), seed: (now % 4_294_967_296) >>> 0, peakEventsPerSecond };
}

/**
 * The simulator spends once a minute per channel whatever the traffic rate: 300,000 of a
 * month's events at the history's rate. Spend is a sum, so one event per channel, campaign
 * and hour with the hour's total keeps every stored total (spend, ROAS) and the shapes at
 * hour level, with ~60× fewer rows to write and journal.
 */
function hourlySpend(events: RawEvent[]): RawEvent[] {
  const out: RawEvent[] = [];
  const spend = new Map<string, RawEvent>();
  for (const e of events) {
    if (e.type !== 'spend') {
      out.push(e);
      continue;
    }
    const hour = Math.floor(e.ts / HOUR) * HOUR;
    const key = `${hour}\u0000${e.channel}\u0000${e.campaign ?? ''}\u0000${e.community ?? ''}`;
    const sum = spend.get(key);
    if (sum) sum.amount = (sum.amount ?? 0) + (e.amount ?? 0);
    else spend.set(key, { ...e, ts: hour });
  }
  return [...out, ...spend.values()];
}

export interface FillResult {
  events: number;
  batches: number;
  alreadyDone: number;
  seconds: number;
}

/**
 * Feeds the plan's history through `imports`, one batch per 6 hours of history (fewer,
 * bigger batches: per-batch costs — journal and ledger fsyncs, store reads — dominated with
 * one an hour). Stops between
 * batches when `stopped()` says so (a later start resumes).
 */
export async function fillDemoHistory(o: { imports: ImportService; dataDir: string; plan: DemoHistoryPlan; timezone: string; logger: Logger; stopped: () => boolean }): Promise<FillResult> {
  const { plan } = o;
  const started = performance.now();
  writeJsonAtomic(path.join(o.dataDir, DEMO_HISTORY_FILE), plan);
  const importId = createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 32);
  const batches = Math.ceil((plan.to - plan.from) / BATCH_MS);
  const result: FillResult = { events: 0, batches: 0, alreadyDone: 0, seconds: 0 };
  const info = o.imports.ledger.get(importId);
  if (info && info.batches.size >= batches) {
    result.alreadyDone = info.batches.size;
    return result;
  }
  const problem = o.imports.begin(importId, 1, 'demo history (演示数据)');
  if (problem) throw new Error(`demo history: ${problem}`);
  const sim = new Simulator(() => undefined, { peakEventsPerSecond: plan.peakEventsPerSecond, timezone: o.timezone, seed: plan.seed, now: () => plan.from });
  o.logger.info({ from: new Date(plan.from).toISOString(), to: new Date(plan.to).toISOString(), peakEventsPerSecond: plan.peakEventsPerSecond }, 'demo: filling 30 days of simulated history (演示数据) through the import path');
  for (let seq = 0; seq < batches; seq++) {
    if (o.stopped()) break;
    const a = plan.from + seq * BATCH_MS;
    // Generated even when done: flows carry over from one batch to the next (same events on a resume).
    const events = sim.generate(a, Math.min(a + BATCH_MS, plan.to));
    if (o.imports.ledger.isDone(importId, seq)) {
      result.alreadyDone++;
      continue;
    }
    // No ids: the import ledger counts each batch once; ids would only fill the id ledger.
    const r = await o.imports.apply(importId, seq, hourlySpend(events).map(({ id: _id, ...e }) => e));
    result.events += r.accepted;
    result.batches++;
  }
  if (!o.stopped()) await o.imports.finish();
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
