/**
 * Noise-aware seasonal baselines, pure: which past windows are comparable with the current
 * one, their robust centre, and the band of the KPI's own normal noise.
 *
 * Expected value: the median of the same window in the last N comparable periods (same hour
 * of day, or same weekday and hour), leaving out windows that fell on holidays / campaigns or
 * overlapped an alert of this instance. A median of N ≥ 3 ignores one bad period, so a spike
 * never becomes the baseline it would be compared with later (no echo).
 *
 * Band: the KPI's own deviations |value − expected|, sampled while the alert is at rest over
 * the last `span`, give its normal noise; the rule fires only beyond k × their `quantile`
 * (and beyond the business threshold). Heavy-tailed KPIs (bursty counts) get a wide band,
 * smooth ones a narrow one, with no per-KPI tuning.
 */
import type { Band } from '../../contract.js';
import type { Calendar } from '../../calendar/calendar.js';
import type { CalendarMode, NoiseBand, SeasonalBaseline } from './schema.js';
import type { Span } from '../../engine/windows.js';

export const DAY_MS = 86_400_000;

export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? (s[mid] ?? null) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** The q-quantile (nearest rank, from below) of unsorted values. */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? null;
}

export type DayClass = 'work' | 'rest';

export interface CandidatePlan {
  /** Candidate spans, newest first (at most `periods`, maybe fewer). */
  spans: Span[];
  /** What the spans were chosen as (for the message). */
  comparable?: Band['comparable'];
  /** No decision at all at this instant (muted by the calendar), and why. */
  mute?: string;
  /**
   * The window lies in a running period compared like with like (a campaign, or a holiday's
   * days off) that started at `start`. While fewer than `min_periods` of its own earlier days
   * exist, `ordinary` days (ordinary comparable days for a campaign, the rest days for a
   * holiday) scaled by how far the period's own windows so far ran from them stand in (no
   * decision in its first windows, before that scale exists: its level is not known yet).
   */
  uplift?: { start: number; ordinary: Span[] };
}

/** How the current window's day and campaigns affect the candidate choice, for one rule. */
export function planCandidates(
  t: number,
  windowMs: number,
  s: SeasonalBaseline,
  modes: { holidays: CalendarMode; campaigns: CalendarMode },
  calendar: Calendar | undefined,
  channel?: string,
): CandidatePlan {
  const cur: Span = { from: t - windowMs, to: t };
  const probe = t - 1; // the instant the window ends in (its last millisecond)
  // The whole current window counts: its first hour after a holiday still holds holiday data.
  const holiday = calendar ? calendar.touchesHoliday(cur.from, cur.to) && !calendar.isMakeupWorkday(probe) && (calendar.isHoliday(probe) || calendar.isHoliday(cur.from)) : false;
  const campaigns = calendar?.campaignsBetween(cur.from, cur.to, channel) ?? [];
  if (holiday && modes.holidays === 'mute') return { spans: [], mute: `节假日（${calendar?.holidayName(probe) ?? ''}）不判断` };
  if (campaigns.length && modes.campaigns === 'mute') return { spans: [], mute: `活动期间（${campaigns.map((c) => c.name).join('、')}）不判断` };
  const running = calendar?.campaignsAt(probe, channel) ?? [];
  // A window straddling a campaign's end is neither campaign nor ordinary: no like-with-like exists.
  if (campaigns.length && !running.length && modes.campaigns === 'comparable') return { spans: [], mute: `活动刚结束（${campaigns.map((c) => c.name).join('、')}），本窗口不判断` };

  const dayClass = (ts: number): DayClass => (calendar ? (calendar.isWorkingDay(ts) ? 'work' : 'rest') : weekendClass(ts));
  const curClass = dayClass(probe);
  const inCampaign = running.length > 0 && modes.campaigns === 'comparable';
  const campaign = inCampaign ? running[0] : undefined;
  const comparableHoliday = holiday && modes.holidays === 'comparable';
  const byDayType = s.periodMs === DAY_MS && s.days === 'comparable';
  // A holiday of several days off (春节, 国庆) compared like with like: its own earlier days
  // are the comparable ones once min_periods of them exist (春节 is not an ordinary Sunday).
  // (The hour after its last day still holds holiday data: its days' same hour compare too.)
  const holidayRun = comparableHoliday && !campaign && calendar ? calendar.holidayRunStart(calendar.isHoliday(probe) ? probe : cur.from) : undefined;
  const own = (sp: Span): boolean => holidayRun !== undefined && sp.from >= holidayRun;

  const spans: Span[] = [];
  // Look far enough back to find N rest days among workdays (2 in 7) or N holiday-free weeks.
  const maxBack = s.periodMs === DAY_MS ? s.periods * 5 + 10 : s.periods + 4;
  const counted = (): number => spans.filter((sp) => !own(sp)).length;
  for (let k = 1; k <= maxBack && (campaign !== undefined || counted() < s.periods); k++) {
    const span = { from: cur.from - k * s.periodMs, to: cur.to - k * s.periodMs };
    const p = span.to - 1;
    if (campaign) {
      // Like with like: earlier days of the same campaign only (of the same day type when
      // enough of them exist: a campaign Saturday is not a campaign Tuesday).
      if (span.from < campaign.start) break;
      spans.push(span);
      continue;
    }
    if (calendar) {
      // Campaign days and holidays never teach the baseline what a normal day looks like.
      if (calendar.campaignsBetween(span.from, span.to, channel).length > 0) continue;
      if (calendar.touchesHoliday(span.from, span.to) && !comparableHoliday) continue;
    }
    if ((byDayType || comparableHoliday) && dayClass(p) !== curClass) continue;
    spans.push(span);
  }
  if (campaign && byDayType) {
    const same = spans.filter((sp) => dayClass(sp.to - 1) === curClass);
    if (same.length >= s.minPeriods) spans.splice(0, spans.length, ...same);
  }
  if (campaign && modes.campaigns === 'comparable') {
    const ordinary = planCandidates(t, windowMs, s, { ...modes, campaigns: 'normal' }, calendar, channel).spans;
    spans.splice(s.periods);
    return { spans, comparable: 'campaign', uplift: { start: campaign.start, ordinary } };
  }
  if (holidayRun !== undefined) {
    const mine = spans.filter(own).slice(0, s.periods);
    if (mine.length >= s.minPeriods) return { spans: mine, comparable: 'holiday_own' };
    // Its first days: rest days (and earlier holidays) before it, scaled by its own uplift so far.
    const ordinary = spans.filter((sp) => sp.to <= holidayRun).slice(0, s.periods);
    return { spans: mine, comparable: 'holiday', uplift: { start: holidayRun, ordinary } };
  }
  spans.splice(s.periods);
  const comparable: Band['comparable'] | undefined = campaign
    ? 'campaign'
    : comparableHoliday
      ? 'holiday'
      : byDayType
        ? curClass === 'work'
          ? 'workday'
          : 'restday'
        : undefined;
  return { spans, ...(comparable ? { comparable } : {}) };
}

/** Saturday / Sunday in Asia/Shanghai, when no calendar is configured. */
function weekendClass(ts: number): DayClass {
  const wd = new Date(ts + 8 * 3_600_000).getUTCDay();
  return wd === 0 || wd === 6 ? 'rest' : 'work';
}

/** Deviations of one alert instance while at rest: its observed noise. */
export interface NoiseMemory {
  /** [time, |value − expected|], oldest first. */
  samples: [number, number][];
  lastAt: number | null;
}

export const emptyNoise = (): NoiseMemory => ({ samples: [], lastAt: null });

/** One deviation every `window / 12` (at least a minute): evaluations every 10 s would add nothing but memory. */
export function noiseSampleMs(windowMs: number): number {
  return Math.max(60_000, Math.floor(windowMs / 12));
}

export function recordNoise(mem: NoiseMemory, t: number, deviation: number, band: NoiseBand, windowMs: number): void {
  if (mem.lastAt !== null && t - mem.lastAt < noiseSampleMs(windowMs)) return;
  mem.samples.push([t, Math.abs(deviation)]);
  mem.lastAt = t;
  const cut = t - band.spanMs;
  let i = 0;
  while (i < mem.samples.length && (mem.samples[i]?.[0] ?? 0) < cut) i++;
  if (i) mem.samples.splice(0, i);
}

/**
 * The band's half-width, or null while fewer than `minHistoryMs` of deviations are known
 * (a fresh rule learns the KPI's noise before it judges).
 */
export function bandHalfWidth(mem: NoiseMemory, t: number, band: NoiseBand, windowMs: number): number | null {
  const first = mem.samples[0];
  if (!first) return band.minHistoryMs === 0 ? 0 : null;
  const covered = t - first[0];
  const enough = mem.samples.length >= Math.floor(band.minHistoryMs / noiseSampleMs(windowMs) / 2);
  if (covered < band.minHistoryMs - noiseSampleMs(windowMs) || !enough) return null;
  let samples = mem.samples;
  if (band.timeOfDayMs !== undefined) {
    // Deviations learnt around this time of day (on any day): the noise of this hour.
    const tod = band.timeOfDayMs;
    const near = mem.samples.filter(([s]) => {
      const d = (((t - s) % DAY_MS) + DAY_MS) % DAY_MS;
      return Math.min(d, DAY_MS - d) <= tod;
    });
    // Only once this time of day was seen on an earlier day as well (a day and a half of it).
    const perDay = Math.floor((2 * tod) / noiseSampleMs(windowMs));
    if (near.length >= perDay * 1.5 && t - (near[0]?.[0] ?? t) >= DAY_MS - tod) samples = near;
  }
  const q = quantile(
    samples.map((s) => s[1]),
    band.quantile,
  );
  return q === null ? null : band.k * q;
}
