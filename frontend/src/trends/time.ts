/**
 * Business-time helpers for the trends page. Every time an analyst sees or types is in the
 * server's zone (Asia/Shanghai by default, from the snapshot), whatever zone the browser is
 * in: a 09:00 typed in Berlin means 09:00 Beijing time, as the backend's day boundaries do.
 */
import { formatDateTime, zonedParts } from '@siyu-pulse/contracts/format';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
export const DEFAULT_TIMEZONE = 'Asia/Shanghai';

function parts(tz: string, at: number): Record<string, number> {
  return Object.fromEntries(Object.entries(zonedParts(at, tz)).map(([k, v]) => [k, Number(v)]));
}

/** Offset of `tz` from UTC at instant `at`, in ms (Asia/Shanghai → +8 h). */
export function tzOffsetMs(tz: string, at: number): number {
  const p = parts(tz, at);
  const asUtc = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
  return asUtc - Math.floor(at / 1000) * 1000;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

interface Local {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
}
function local(ts: number, tz: string): Local {
  const t = new Date(ts + tzOffsetMs(tz, ts));
  return { y: t.getUTCFullYear(), mo: t.getUTCMonth() + 1, d: t.getUTCDate(), h: t.getUTCHours(), mi: t.getUTCMinutes(), s: t.getUTCSeconds() };
}

/**
 * `2026-11-23 14:05` in `tz` (the CSV's time column and the range captions); with
 * `seconds`, `2026-11-23 14:05:10` — for sub-minute steps, whose rows would otherwise
 * repeat the same minute. The one formatting module's, as alert messages write times.
 */
export { formatDateTime };

/** `20261123-1405`: a compact stamp for file names. */
export function fileStamp(ts: number, tz: string): string {
  const l = local(ts, tz);
  return `${l.y}${pad(l.mo)}${pad(l.d)}-${pad(l.h)}${pad(l.mi)}`;
}

/** The value of an `<input type="datetime-local">` showing `ts` in `tz` (minute precision). */
export function toLocalInput(ts: number, tz: string): string {
  return formatDateTime(ts, tz).replace(' ', 'T');
}

/**
 * Epoch ms of a `datetime-local` value read as wall-clock time in `tz`, or null when the
 * text is not a date-time. Two passes settle the offset at the instant itself.
 */
export function fromLocalInput(text: string, tz: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text.trim());
  if (!m) return null;
  const asUtc = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  if (!Number.isFinite(asUtc)) return null;
  let ts = asUtc - tzOffsetMs(tz, asUtc);
  ts = asUtc - tzOffsetMs(tz, ts);
  return ts;
}

/** Steps as the series API writes them (`10s`, `5m`, `1h`, `1d`), from ms. */
export function formatStep(ms: number): string {
  if (ms % DAY === 0) return `${ms / DAY}d`;
  if (ms % HOUR === 0) return `${ms / HOUR}h`;
  if (ms % MINUTE === 0) return `${ms / MINUTE}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return String(ms);
}

/** `5m` → 300000; null when not a duration the series API accepts. */
export function parseStep(text: string): number | null {
  const m = /^(\d+)(s|m|h|d)$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  if (n <= 0) return null;
  return n * { s: 1000, m: MINUTE, h: HOUR, d: DAY }[m[2] as 's' | 'm' | 'h' | 'd'];
}
