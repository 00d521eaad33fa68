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

  const dayClass = (ts: number): DayClass => dayClassOf(ts, calendar);
  const curClass = dayClass(probe);
  const inCampaign = running.length > 0 && modes.campaigns === 'comparable';
  // Campaigns inside another (双11 当天 inside the 双11 pre-sale) are like-with-like with their
  // own days: the innermost (latest to start, then soonest to end) is the one compared. Its
  // outer campaign's days would make a peak day's normal level a "rise" against the pre-sale.
  const campaign = inCampaign ? [...running].sort((a, b) => b.start - a.start || a.end - b.end)[0] : undefined;
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

/** Workday (incl. 调休) or rest day (weekend, holiday); Saturday / Sunday without a calendar. */
export function dayClassOf(ts: number, calendar: Calendar | undefined): DayClass {
  return calendar ? (calendar.isWorkingDay(ts) ? 'work' : 'rest') : weekendClass(ts);
}

/** Saturday / Sunday in Asia/Shanghai, when no calendar is configured. */
function weekendClass(ts: number): DayClass {
  const wd = new Date(ts + 8 * 3_600_000).getUTCDay();
  return wd === 0 || wd === 6 ? 'rest' : 'work';
}

/**
 * One deviation learnt as noise: [time, |value − expected|, scale], the scale (noiseScale) of
 * the expected value it was measured against; absent or 0 when unknown (state saved before
 * scales existed, a zero baseline).
 */
export type NoiseSample = [number, number] | [number, number, number];

/** Deviations of one alert instance while at rest: its observed noise. */
export interface NoiseMemory {
  /** Oldest first. */
  samples: NoiseSample[];
  lastAt: number | null;
}

/**
 * How large a window's normal noise is expected to be at this expected value, up to a factor
 * the band learns (`band.scale: level`). A count is a sum of independent events: its noise
 * grows with the square root of its level (Poisson; overdispersed counts grow faster, between
 * √level and level, so √ is the cautious end: it never narrows the band on a quiet day as
 * much as a proportional law would). A ratio or mean is the average of `sample` observations:
 * its noise falls with the square root of the denominator. The expected value is itself a
 * median of `periods` windows with their own noise, which a deviation from it also carries
 * (the median of n has about π/2n of one window's variance): a band learnt against medians of
 * 7 days is widened by √((1 + π/6)/(1 + π/14)) ≈ 1.12 against a median of 3 (a campaign's or
 * a holiday's first own days). Only the ratio of two scales is used, so the unit (¥ or 分,
 * bytes or KB) does not matter. 0: unknown.
 */
export function noiseScale(ratio: boolean, expected: { value: number | null; sample: number }, periods?: number): number {
  const own = periods !== undefined && periods >= 1 ? Math.sqrt(1 + Math.PI / (2 * periods)) : 1;
  if (ratio) return expected.sample > 0 ? own / Math.sqrt(expected.sample) : 0;
  return expected.value !== null && expected.value > 0 ? own * Math.sqrt(expected.value) : 0;
}

/**
 * A deviation learnt at another level is rescaled by at most this factor either way (a level
 * 16× apart): beyond it the square-root law is an extrapolation, and a burst learnt at a
 * near-zero hour must not be blown up into a band for the peak.
 */
export const MAX_NOISE_RESCALE = 4;

export const emptyNoise = (): NoiseMemory => ({ samples: [], lastAt: null });

/** One deviation every `window / 12` (at least a minute): evaluations every 10 s would add nothing but memory. */
export function noiseSampleMs(windowMs: number): number {
  return Math.max(60_000, Math.floor(windowMs / 12));
}

export function recordNoise(mem: NoiseMemory, t: number, deviation: number, band: NoiseBand, windowMs: number, scale?: number): void {
  if (mem.lastAt !== null && t - mem.lastAt < noiseSampleMs(windowMs)) return;
  mem.samples.push(band.scale === 'level' && scale !== undefined && scale > 0 && Number.isFinite(scale) ? [t, Math.abs(deviation), scale] : [t, Math.abs(deviation)]);
  mem.lastAt = t;
  const cut = t - band.spanMs;
  let i = 0;
  while (i < mem.samples.length && (mem.samples[i]?.[0] ?? 0) < cut) i++;
  if (i) mem.samples.splice(0, i);
}

/**
 * The band's half-width, or null while fewer than `minHistoryMs` of deviations are known
 * (a fresh rule learns the KPI's noise before it judges). With `band.scale: level` and the
 * current expected value's `scale`, each deviation is first rescaled from the level it was
 * learnt at to this one (noiseScale): a band learnt on workdays is not 2× too wide, relative
 * to the level, on a 春节 day at half their level.
 */
export function bandHalfWidth(mem: NoiseMemory, t: number, band: NoiseBand, windowMs: number, scale?: number): number | null {
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
  const now = band.scale === 'level' && scale !== undefined && scale > 0 && Number.isFinite(scale) ? scale : 0;
  const rescale = (s: NoiseSample): number => {
    const then = s[2];
    if (!now || then === undefined || !(then > 0)) return s[1];
    return s[1] * Math.min(MAX_NOISE_RESCALE, Math.max(1 / MAX_NOISE_RESCALE, now / then));
  };
  const q = quantile(samples.map(rescale), band.quantile);
  return q === null ? null : band.k * q;
}
