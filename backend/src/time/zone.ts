/**
 * Time-zone arithmetic for day / hour boundaries (Asia/Shanghai by default). Timestamps
 * are UTC epoch ms; only boundaries depend on the zone. Intl is enough here: the zones we
 * serve are fixed-offset (China has no DST) and the DST case only shifts a boundary.
 */
export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(tz, f);
  }
  return f;
}

/**
 * Offset of `tz` from UTC at instant `at`, in ms (Asia/Shanghai → +8 h). Memoised per
 * 15-minute slot (zone transitions fall on quarter hours): it runs several times per event.
 */
const SLOT = 15 * 60_000;
const lastOffset = new Map<string, { slot: number; offset: number }>();
export function tzOffsetMs(tz: string, at: number): number {
  const slot = Math.floor(at / SLOT);
  const cached = lastOffset.get(tz);
  if (cached && cached.slot === slot) return cached.offset;
  const offset = computeOffset(tz, at);
  lastOffset.set(tz, { slot, offset });
  return offset;
}

function computeOffset(tz: string, at: number): number {
  const parts: Record<string, number> = {};
  for (const p of formatter(tz).formatToParts(new Date(at))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const asUtc = Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!, parts.second!);
  return asUtc - Math.floor(at / 1000) * 1000;
}

/** Bucket offset so that steps of `stepMs` start on local boundaries (local midnight for days). */
export function alignmentOffset(stepMs: number, tz: string, at: number): number {
  const off = tzOffsetMs(tz, at);
  return (((-off) % stepMs) + stepMs) % stepMs;
}

export function floorTo(ts: number, stepMs: number, offsetMs = 0): number {
  return Math.floor((ts - offsetMs) / stepMs) * stepMs + offsetMs;
}

export function ceilTo(ts: number, stepMs: number, offsetMs = 0): number {
  return Math.ceil((ts - offsetMs) / stepMs) * stepMs + offsetMs;
}

/** Start of the local day (in `tz`) containing `ts`. */
export function dayStart(ts: number, tz: string): number {
  return floorTo(ts, DAY, alignmentOffset(DAY, tz, ts));
}

/** Local hour of day (0–23) in `tz`. */
export function localHour(ts: number, tz: string): number {
  return new Date(ts + tzOffsetMs(tz, ts)).getUTCHours();
}

/** Minutes since local midnight in `tz`, fractional, in [0, 1440). */
export function minuteOfDay(ts: number, tz: string): number {
  const local = ts + tzOffsetMs(tz, ts);
  return (((local % DAY) + DAY) % DAY) / MINUTE;
}
