/**
 * The demo's days (演示数据) are not all alike: the traffic level of a moment is the diurnal
 * curve (model.ts) times a factor for its local day, built the way a private-domain
 * business moves:
 * - the day type from the business calendar (alerts/calendar: holidays and 调休 as published):
 *   weekends and public holidays are quieter, and their mornings start later;
 * - campaigns from the same calendar (双11, 618, the team's own): the last day of a campaign
 *   is its peak (×2.2, with a midnight rush), the days before it warm up (×1.5, ×1.25), the
 *   rest of the campaign (pre-sales) is lifted a little, the three days before it start to
 *   warm (×1.06), and the two days after it dip (×0.9);
 * - a slow growth trend (+0.4 % a day, 1 at the anchor: the first start);
 * - day-to-day noise (±5 %, lognormal), from the seed and the day alone.
 * Everything is a pure function of (seed, anchor, calendar, time), so a day is generated the
 * same on every call, a resumed fill continues exactly, and tests can check it.
 *
 * The live simulator uses the same level (with the live calendar), so today's history and
 * the live traffic that continues it are one curve.
 */
import type { Campaign, DayType } from '@siyu-pulse/alerts';
import { DAY, HOUR, minuteOfDay, tzOffsetMs } from '../time/zone.js';
import { diurnalLevel } from './model.js';
import { hash01 } from './random.js';

/** What the shape reads of the business calendar (the alerts package's Calendar has it). */
export interface ShapeCalendar {
  dayType(ts: number): DayType;
  campaignsBetween(from: number, to: number): Pick<Campaign, 'name' | 'start' | 'end' | 'channels'>[];
}

/** The calendar as a plan keeps it (the history is generated from this, not from later edits). */
export interface CalendarSnapshot {
  /** Local day start (epoch ms) → day type, for the days that are not ordinary workdays. */
  days: Record<string, DayType>;
  campaigns: { name: string; start: number; end: number }[];
}

export const DAY_TYPE_FACTOR: Readonly<Record<DayType, number>> = { workday: 1, makeup_workday: 0.95, weekend: 0.82, holiday: 0.74 };
/** Growth per day (the trend), and the day-to-day noise (σ of the log factor). */
export const GROWTH_PER_DAY = 0.004;
const NOISE_SIGMA = 0.05;
export const CAMPAIGN_PEAK = 2.2;
/** Days before a campaign's peak day: 1 → ×1.5, 2–3 → ×1.25; other campaign days ×1.12. */
const WARM_UP = [1.5, 1.25, 1.25];
const IN_CAMPAIGN = 1.12;
const BEFORE_START = 1.06;
const AFTER_END = 0.9;

export interface DayShapeOptions {
  seed: number;
  /** Where the trend is 1 (the demo's first start). */
  anchor: number;
  timezone: string;
  calendar: ShapeCalendar;
}

/** The calendar's days and campaigns over [from, to) (plus a week around it), for a plan. */
export function snapshotCalendar(calendar: ShapeCalendar, from: number, to: number, timezone: string): CalendarSnapshot {
  const days: Record<string, DayType> = {};
  for (let d = localDayStart(from - 7 * DAY, timezone); d < to + 7 * DAY; d = localDayStart(d + DAY + 2 * HOUR, timezone)) {
    const type = calendar.dayType(d + 12 * HOUR);
    if (type !== 'workday') days[String(d)] = type;
  }
  const campaigns = calendar
    .campaignsBetween(from - 7 * DAY, to + 7 * DAY)
    .filter((c) => !c.channels)
    .map((c) => ({ name: c.name, start: c.start, end: c.end }));
  return { days, campaigns };
}

/** A ShapeCalendar over a snapshot (days not listed are workdays). */
export function calendarOf(snap: CalendarSnapshot, timezone: string): ShapeCalendar {
  return {
    dayType: (ts) => snap.days[String(localDayStart(ts, timezone))] ?? 'workday',
    campaignsBetween: (from, to) => snap.campaigns.filter((c) => c.start < to && from < c.end),
  };
}

function localDayStart(ts: number, timezone: string): number {
  const off = tzOffsetMs(timezone, ts);
  return Math.floor((ts + off) / DAY) * DAY - off;
}

/** Standard normal from two uniforms of the seed and day (Box–Muller). */
function dayNormal(seed: number, day: number): number {
  const u = Math.max(hash01(seed, day, 1), 1e-12);
  const v = hash01(seed, day, 2);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export interface DayFactor {
  /** The day's factor on the diurnal curve. */
  factor: number;
  type: DayType;
  /** A campaign's last day (its peak), by name. */
  peakOf?: string;
  /** Named campaign, when the day is in one or in its warm-up / after-dip. */
  campaign?: string;
}

/** The factor of the local day starting at `day` (before the diurnal curve). */
export function dayFactor(o: DayShapeOptions, day: number): DayFactor {
  const noon = day + 12 * HOUR;
  const type = o.calendar.dayType(noon);
  let factor = DAY_TYPE_FACTOR[type];
  const result: DayFactor = { factor, type };
  // Campaigns near this day: the strongest effect wins (overlapping campaigns do not stack).
  let lift = 1;
  for (const c of o.calendar.campaignsBetween(day - 4 * DAY, day + 5 * DAY)) {
    const peakDay = localDayStart(c.end - 1, o.timezone);
    const startDay = localDayStart(c.start, o.timezone);
    const before = Math.round((peakDay - day) / DAY);
    let l = 1;
    if (before === 0) {
      l = CAMPAIGN_PEAK;
      result.peakOf = c.name;
    } else if (before > 0 && day >= startDay) l = before <= WARM_UP.length ? WARM_UP[before - 1]! : IN_CAMPAIGN;
    else if (day < startDay && startDay - day <= 3 * DAY) l = BEFORE_START;
    else if (day > peakDay && day - peakDay <= 2 * DAY) l = AFTER_END;
    if (l !== 1 && (Math.abs(l - 1) > Math.abs(lift - 1) || lift === 1)) {
      lift = l;
      result.campaign = c.name;
    }
  }
  factor *= lift;
  factor *= Math.pow(1 + GROWTH_PER_DAY, (day - localDayStart(o.anchor, o.timezone)) / DAY);
  factor *= Math.exp(NOISE_SIGMA * dayNormal(o.seed, Math.round(day / DAY)));
  result.factor = factor;
  return result;
}

/**
 * The level at `ts` (1 = an ordinary workday's evening peak at the anchor): the diurnal
 * curve — with a later morning on days off and a midnight rush on a campaign's peak day —
 * times the day's factor. Cached per day (the simulator asks once a second).
 */
export function demoLevel(o: DayShapeOptions): (ts: number) => number {
  const cache = new Map<number, DayFactor>();
  return (ts) => {
    const day = localDayStart(ts, o.timezone);
    let f = cache.get(day);
    if (!f) {
      if (cache.size > 64) cache.clear();
      f = dayFactor(o, day);
      cache.set(day, f);
    }
    let minute = minuteOfDay(ts, o.timezone);
    if (f.type === 'weekend' || f.type === 'holiday') {
      // Days off: the morning ramp comes ~1.5 h later (a smooth, monotonic time warp 05:00–13:00).
      const h = minute / 60;
      const bump = h <= 5 || h >= 13 ? 0 : h <= 9 ? (h - 5) / 4 : (13 - h) / 4;
      minute -= 90 * bump;
    }
    let level = diurnalLevel(minute);
    // A campaign's peak day opens with the midnight rush (付尾款 / 开抢 at 00:00), fading by 02:00.
    if (f.peakOf && minute < 120) level += 0.8 * (1 - minute / 120);
    return level * f.factor;
  };
}


