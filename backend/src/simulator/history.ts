/**
 * The demo's history (演示数据): on the first demo start, the 30 days of simulated traffic
 * before today are fed through the import path (ImportService: ledger, then the aggregated
 * path into the store for days the collector does not hold, the journal for the rest), in
 * the background while the wall is already live and labelled 演示数据.
 *
 * Same scale and shape as live: the history is the live simulator's model at the live rate
 * (`config.simulator.peakEventsPerSecond`, one setting for both), so trends do not jump at
 * today and seasonal rules compare live traffic with baselines of its own size. Days differ
 * as a business's do (dayShape.ts: weekends and holidays from the business calendar,
 * campaign peaks and warm-ups, a growth trend, day-to-day noise), and the live simulator
 * runs on the same level, continuing the history where it ends.
 *
 * Up to the moment of the first start (plan version 3): today's hours before the start are
 * history too, and the live simulator starts exactly where the history ends (`to`), so
 * there is no gap and no event counted twice or stamped after the moment it is sent.
 *
 * Newest first: today so far, yesterday, then the same weekday last week (上周同期), then the
 * other days from the newest back, so comparisons with yesterday and last week have their
 * data first.
 * Each day is generated on its own stream of the same world (the seed's member pool, so
 * retention and 30-day actives span history and live traffic): a day can be generated, and
 * regenerated identically on a resume, without the days before it. Flows still in flight at
 * midnight end there (a handful of events a day).
 *
 * Once only: the plan (range, seed, rate) is kept in `demo-history.json` under the data dir
 * and its hash is the import id, so a restart finds every batch in the import ledger and
 * sends nothing; a fill cut short (Ctrl-C) resumes with the batches still missing.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { writeJsonAtomic } from '../durability/jsonFile.js';
import type { ImportService } from '../import/service.js';
import { slicer, SLICE_MS, type Pause } from '../time/turns.js';
import { DAY, HOUR, MINUTE, dayStart } from '../time/zone.js';
import { calendarOf, demoLevel, snapshotCalendar, type CalendarSnapshot, type ShapeCalendar } from './dayShape.js';
import { Simulator, type RawEvent } from './simulator.js';

export const DEMO_HISTORY_FILE = 'demo-history.json';
/**
 * Events per batch at the daily peak, about (the batch length is chosen from the rate). Big:
 * each batch rewrites the day's and hours' sketches (dense, tens of KB each) and commits once.
 */
const BATCH_EVENTS = 50_000;

export interface DemoHistoryPlan {
  /**
   * 3: shaped days (dayShape.ts) up to the moment of the first start; 2: every day alike, up
   * to the start of that day (days on their own streams, newest first). A kept version-2
   * plan is resumed as planned (a new plan would count its history a second time).
   */
  version: 2 | 3;
  from: number;
  to: number;
  seed: number;
  peakEventsPerSecond: number;
  /** Version 3: the business calendar as it was when the plan was made (the days are generated from it). */
  calendar?: CalendarSnapshot;
}

/** The kept plan, or a new one ending at `now` (not written until the fill starts). */
export function demoHistoryPlan(dataDir: string, now: number, timezone: string, days: number, peakEventsPerSecond: number, calendar: ShapeCalendar): DemoHistoryPlan {
  const file = path.join(dataDir, DEMO_HISTORY_FILE);
  if (existsSync(file)) {
    try {
      const kept = JSON.parse(readFileSync(file, 'utf8')) as DemoHistoryPlan;
      const shaped = kept.version === 3 && kept.calendar !== undefined;
      if ((kept.version === 2 || shaped) && Number.isFinite(kept.from) && Number.isFinite(kept.to)) return kept;
    } catch {
      // unreadable: a new plan (the ledger still holds whatever the old one imported)
    }
  }
  const from = dayStart(now - days * DAY, timezone);
  // Integer ms: the live simulator continues at exactly `to`.
  const to = Math.floor(now);
  return { version: 3, from, to, seed: (to % 4_294_967_296) >>> 0, peakEventsPerSecond, calendar: snapshotCalendar(calendar, from, to, timezone) };
}

/** The traffic level the plan's days are generated with (undefined: version 2, every day alike). */
export function demoPlanLevel(plan: DemoHistoryPlan, timezone: string, calendar?: ShapeCalendar): ((ts: number) => number) | undefined {
  if (plan.version !== 3 || !plan.calendar) return undefined;
  return demoLevel({ seed: plan.seed, anchor: plan.to, timezone, calendar: calendar ?? calendarOf(plan.calendar, timezone) });
}

/** An event of the history: the ingest contract without an id (the import ledger counts each batch once). */
export type HistoryEvent = Omit<RawEvent, 'id'>;

/**
 * The simulator spends once a minute per channel whatever the traffic rate (10,080 events a
 * day). Spend is a sum, so one event per channel, campaign
 * and hour with the hour's total keeps every stored total (spend, ROAS) and the shapes at
 * hour level, with ~60× fewer rows to write and journal. Summed per batch (`from`: the
 * batch's start; an hour that begins before it is stamped at it, so the sum stays in its batch).
 */
function hourlySpend(events: HistoryEvent[], from: number): HistoryEvent[] {
  const spend = new Map<string, HistoryEvent>();
  let n = 0;
  for (const e of events) {
    if (e.type !== 'spend') {
      events[n++] = e; // in place: no second array of the batch
      continue;
    }
    const hour = Math.max(from, Math.floor(e.ts / HOUR) * HOUR);
    const key = `${hour}\u0000${e.channel}\u0000${e.campaign ?? ''}\u0000${e.community ?? ''}`;
    const sum = spend.get(key);
    if (sum) sum.amount = (sum.amount ?? 0) + (e.amount ?? 0);
    else spend.set(key, { ...e, ts: hour });
  }
  events.length = n;
  for (const e of spend.values()) events.push(e);
  return events;
}

export interface FillResult {
  events: number;
  batches: number;
  alreadyDone: number;
  seconds: number;
  /** Seconds from the start of the fill until yesterday was complete (null: not filled now). */
  yesterdaySeconds: number | null;
}

/** Batch length: a divisor of a day, so that a batch at the daily peak holds about BATCH_EVENTS. */
export function demoBatchMs(plan: DemoHistoryPlan): number {
  for (const minutes of [360, 180, 120, 60, 30, 20, 15, 10, 5, 2, 1]) if (plan.peakEventsPerSecond * 60 * minutes <= BATCH_EVENTS) return minutes * 60_000;
  return 60_000;
}

/** The plan's days (local day starts, oldest first). */
export function demoDays(plan: DemoHistoryPlan, timezone: string): number[] {
  const days: number[] = [];
  for (let d = plan.from; d < plan.to; d = dayStart(d + DAY + HOUR, timezone)) days.push(d);
  return days;
}

/**
 * Order of the fill: today so far (when the plan reaches into it), yesterday, the same
 * weekday a week before, then newest to oldest.
 */
export function demoFillOrder(days: readonly number[], withToday = false): number[] {
  const n = days.length;
  const order = (withToday ? [n - 1, n - 2, n - 8] : [n - 1, n - 7]).filter((i) => i >= 0);
  for (let i = n - 2; i >= 0; i--) if (!order.includes(i)) order.push(i);
  return order;
}

/** Whether the plan's last day is the start day itself (history up to the start moment). */
function reachesToday(plan: DemoHistoryPlan, days: readonly number[]): boolean {
  const last = days[days.length - 1];
  return plan.version === 3 && last !== undefined && plan.to - last < DAY;
}

/** The simulator of day `index` of the plan (on the plan's shaped level) and the day's range. */
function demoDay(plan: DemoHistoryPlan, days: readonly number[], index: number, timezone: string): { sim: Simulator; from: number; to: number } {
  const from = days[index]!;
  const to = index + 1 < days.length ? days[index + 1]! : plan.to;
  const levelAt = demoPlanLevel(plan, timezone);
  return { sim: new Simulator(() => undefined, { peakEventsPerSecond: plan.peakEventsPerSecond, timezone, seed: plan.seed, stream: index + 1, now: () => from, ...(levelAt ? { levelAt } : {}) }), from, to };
}

/** The simulated events of day `index` of the plan (deterministic: the same on every call). */
export function generateDemoDay(plan: DemoHistoryPlan, days: readonly number[], index: number, timezone: string): RawEvent[] {
  const { sim, from, to } = demoDay(plan, days, index, timezone);
  return sim.generate(from, to);
}

/**
 * generateDemoDay with turns for the event loop: the day is generated a simulated minute at
 * a time on one simulator (the same events: it works in 1 s cells and carries its pending
 * flows across calls), and the loop gets a turn when `pause` says. A day in one call held
 * the server's thread ~2 s (220,000 events, load ~10).
 */
export async function generateDemoDaySliced(plan: DemoHistoryPlan, days: readonly number[], index: number, timezone: string, pause: Pause): Promise<RawEvent[]> {
  const { sim, from, to } = demoDay(plan, days, index, timezone);
  const out: RawEvent[] = [];
  for (let a = from; a < to; a += MINUTE) {
    for (const e of sim.generate(a, Math.min(to, a + MINUTE))) out.push(e);
    const p = pause();
    if (p) await p;
  }
  return out;
}

/**
 * The events of [from, to) from a day's simulator (continuing where its last call ended),
 * without ids, a simulated minute per call with turns for the event loop when `pause` says.
 */
async function generateWindow(sim: Simulator, from: number, to: number, pause: Pause): Promise<HistoryEvent[]> {
  const out: HistoryEvent[] = [];
  for (let a = from; a < to; a += MINUTE) {
    sim.generateInto(a, Math.min(to, a + MINUTE), out, false);
    const p = pause();
    if (p) await p;
  }
  return out;
}

/**
 * Feeds the plan's history through `imports`, day by day in demoFillOrder, each day in
 * batches of demoBatchMs (seq = the batch's place in time, so the ledger is order-free).
 * Stops between batches when `stopped()` says so (a later start resumes).
 */
export async function fillDemoHistory(o: { imports: ImportService; dataDir: string; plan: DemoHistoryPlan; timezone: string; logger: Logger; stopped: () => boolean; onDay?: (dayStart: number) => void; onProgress?: (daysDone: number, daysTotal: number, day?: number) => void }): Promise<FillResult> {
  const { plan } = o;
  const started = performance.now();
  writeJsonAtomic(path.join(o.dataDir, DEMO_HISTORY_FILE), plan);
  const importId = createHash('sha256').update(JSON.stringify(plan)).digest('hex').slice(0, 32);
  const days = demoDays(plan, o.timezone);
  const batchMs = demoBatchMs(plan);
  // Batches per day: a DST day is shorter or longer; 25 hours' worth keeps seqs apart.
  const perDay = Math.ceil((25 * HOUR) / batchMs);
  const result: FillResult = { events: 0, batches: 0, alreadyDone: 0, seconds: 0, yesterdaySeconds: null };
  const problem = o.imports.begin(importId, 1, 'demo history (演示数据)');
  if (problem) throw new Error(`demo history: ${problem}`);
  o.logger.info({ from: new Date(plan.from).toISOString(), to: new Date(plan.to).toISOString(), peakEventsPerSecond: plan.peakEventsPerSecond }, `demo: filling ${days.length} days of simulated history (演示数据), newest day first`);
  const today = reachesToday(plan, days);
  const yesterday = today ? days.length - 2 : days.length - 1;
  // Progress for the pages' 演示历史填充中 x/y 天: days an earlier run finished count at once.
  let daysDone = 0;
  o.onProgress?.(daysDone, days.length);
  for (const index of demoFillOrder(days, today)) {
    if (o.stopped()) break;
    const from = days[index]!;
    const to = index + 1 < days.length ? days[index + 1]! : plan.to;
    const seqs = Array.from({ length: Math.ceil((to - from) / batchMs) }, (_, k) => index * perDay + k);
    if (seqs.every((seq) => o.imports.ledger.isDone(importId, seq))) {
      result.alreadyDone += seqs.length;
      o.onProgress?.(++daysDone, days.length, from);
      continue;
    }
    // Batch by batch on the day's simulator (the same events as the whole day at once, split
    // at the batch bounds): only two batches are held at a time, not the day (~190,000 events
    // at the demo rate, whose copies kept the collector's 256 MiB heap busy collecting), and
    // the next batch is generated while the store writes this one (the thread waits there).
    const { sim } = demoDay(plan, days, index, o.timezone);
    const pause = slicer(SLICE_MS, 1);
    const windowOf = (k: number) => generateWindow(sim, from + k * batchMs, k + 1 < seqs.length ? from + (k + 1) * batchMs : to, pause);
    let next: Promise<HistoryEvent[]> | undefined = windowOf(0);
    for (let k = 0; k < seqs.length; k++) {
      const events: HistoryEvent[] = await next!;
      // Generation continues in order (a skipped batch is generated too: the day's flows run through it).
      next = k + 1 < seqs.length ? windowOf(k + 1) : undefined;
      if (o.stopped()) break;
      if (o.imports.ledger.isDone(importId, seqs[k]!)) {
        result.alreadyDone++;
        continue;
      }
      const r = await o.imports.apply(importId, seqs[k]!, hourlySpend(events, from + k * batchMs));
      result.events += r.accepted;
      result.batches++;
    }
    // A generation started for a batch not sent (stopped): let it end, unobserved.
    await next;
    if (o.stopped()) break;
    if (index === yesterday) result.yesterdaySeconds = (performance.now() - started) / 1000;
    o.onDay?.(from);
    o.onProgress?.(++daysDone, days.length, from);
  }
  if (!o.stopped() && result.batches > 0) await o.imports.finish();
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
