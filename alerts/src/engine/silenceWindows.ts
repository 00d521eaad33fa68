/**
 * Recurring quiet hours (`silence_windows`) evaluated in the engine's time zone. A window
 * with from > to wraps midnight (22:00–07:00). `from` is inclusive, `to` exclusive.
 */
import type { TimeOfDayWindow } from '../rules/schema.js';

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Minutes since local midnight in `timeZone` at `ts`. */
export function minuteOfDay(ts: number, timeZone: string): number {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, hourCycle: 'h23', hour: '2-digit', minute: '2-digit' });
    formatters.set(timeZone, f);
  }
  let hour = 0;
  let minute = 0;
  for (const p of f.formatToParts(ts)) {
    if (p.type === 'hour') hour = Number(p.value);
    else if (p.type === 'minute') minute = Number(p.value);
  }
  return hour * 60 + minute;
}

const toMinutes = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

export function inWindow(w: TimeOfDayWindow, minute: number): boolean {
  const from = toMinutes(w.from);
  const to = toMinutes(w.to);
  return from < to ? minute >= from && minute < to : minute >= from || minute < to;
}

/** The window `ts` falls in, if any. */
export function activeSilenceWindow(windows: readonly TimeOfDayWindow[], ts: number, timeZone: string): TimeOfDayWindow | undefined {
  if (windows.length === 0) return undefined;
  const minute = minuteOfDay(ts, timeZone);
  return windows.find((w) => inWindow(w, minute));
}
