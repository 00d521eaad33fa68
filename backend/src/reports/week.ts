/**
 * Report weeks: Monday 00:00 to the next Monday 00:00 in the business time zone, named by
 * ISO 8601 week (`2026-W47`). Boundaries come from time/zone.ts; days are stepped from noon
 * so a DST shift (not in China, but a configured zone may have one) cannot skip a day.
 */
import { DAY, HOUR, dayStart, tzOffsetMs } from '../time/zone.js';

export interface Week {
  /** Monday 00:00 local, epoch ms. */
  from: number;
  /** The next Monday 00:00 local, epoch ms. */
  to: number;
}

export const WEEK_ID = /^(\d{4})-W(\d{2})$/;

/** Local calendar date of an instant: { y, m (1–12), d, weekday (1 = Monday … 7 = Sunday) }. */
export function localDate(ts: number, tz: string): { y: number; m: number; d: number; weekday: number } {
  const local = new Date(ts + tzOffsetMs(tz, ts));
  const dow = local.getUTCDay();
  return { y: local.getUTCFullYear(), m: local.getUTCMonth() + 1, d: local.getUTCDate(), weekday: dow === 0 ? 7 : dow };
}

/** Local midnight of a calendar date. */
function midnightOf(y: number, m: number, d: number, tz: string): number {
  const noonUtc = Date.UTC(y, m - 1, d, 12);
  return dayStart(noonUtc - tzOffsetMs(tz, noonUtc), tz);
}

/** Local midnight `days` calendar days after the local midnight `start`. */
export function addDays(start: number, days: number, tz: string): number {
  return dayStart(start + days * DAY + 12 * HOUR, tz);
}

/** The week holding `ts`. */
export function weekOf(ts: number, tz: string): Week {
  const today = dayStart(ts, tz);
  const from = addDays(today, 1 - localDate(today, tz).weekday, tz);
  return { from, to: addDays(from, 7, tz) };
}

/** The last week that has ended at `now` (the week before the one holding `now`). */
export function lastCompleteWeek(now: number, tz: string): Week {
  const current = weekOf(now, tz);
  return { from: addDays(current.from, -7, tz), to: current.from };
}

export function previousWeek(w: Week, tz: string): Week {
  return { from: addDays(w.from, -7, tz), to: w.from };
}

/** ISO 8601 week id of the week starting at the local Monday `from`: the year is the Thursday's. */
export function weekId(from: number, tz: string): string {
  const thursday = localDate(addDays(from, 3, tz), tz);
  const jan1 = Date.UTC(thursday.y, 0, 1);
  const dayOfYear = Math.round((Date.UTC(thursday.y, thursday.m - 1, thursday.d) - jan1) / DAY);
  const week = Math.floor(dayOfYear / 7) + 1;
  return `${thursday.y}-W${String(week).padStart(2, '0')}`;
}

/** `2026-11-16 – 11-22` (the same year is not repeated; another year is). */
export function weekLabel(w: Week, tz: string): string {
  const a = localDate(w.from, tz);
  const b = localDate(addDays(w.to, -1, tz), tz);
  const p = (n: number) => String(n).padStart(2, '0');
  const end = a.y === b.y ? `${p(b.m)}-${p(b.d)}` : `${b.y}-${p(b.m)}-${p(b.d)}`;
  return `${a.y}-${p(a.m)}-${p(a.d)} – ${end}`;
}

/**
 * Reads a week as the API accepts it: an ISO week id (`2026-W47`) or the epoch ms of a local
 * Monday 00:00. Returns the week or the reason it is not one.
 */
export function parseWeek(input: string | number, tz: string): Week | { error: string } {
  if (typeof input === 'number') {
    if (!Number.isSafeInteger(input) || input < 0) return { error: 'week: epoch milliseconds must be a non-negative integer' };
    const w = weekOf(input, tz);
    if (w.from !== input) {
      return { error: `week: ${input} is not a Monday 00:00 in ${tz}; the week holding it starts at ${w.from} (${weekId(w.from, tz)})` };
    }
    return w;
  }
  const m = WEEK_ID.exec(input);
  if (!m) return { error: `week must be an ISO week such as 2026-W47 or the epoch ms of a Monday 00:00, got ${JSON.stringify(input)}` };
  const year = Number(m[1]);
  const n = Number(m[2]);
  // ISO week 1 is the week with the year's first Thursday, i.e. the one holding 4 January.
  const week1 = weekOf(midnightOf(year, 1, 4, tz), tz).from;
  const from = addDays(week1, (n - 1) * 7, tz);
  if (n < 1 || weekId(from, tz) !== input) return { error: `week: ${input} does not exist (${year} has ${weeksIn(year, tz)} ISO weeks)` };
  return { from, to: addDays(from, 7, tz) };
}

function weeksIn(year: number, tz: string): number {
  // 28 December is always in the year's last ISO week.
  const id = weekId(weekOf(midnightOf(year, 12, 28, tz), tz).from, tz);
  return Number(id.slice(-2));
}
