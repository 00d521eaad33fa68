/**
 * The business calendar: Chinese public holidays and 调休 make-up workdays (shipped as YAML
 * in alerts/calendar, extendable), and campaigns (双11, 618, the team's own) from YAML or
 * added at run time (the backend's admin API). Rules use it to mute on, or compare like with
 * like on, holidays and campaigns; seasonal baselines never learn from such days.
 *
 * Dates are Asia/Shanghai calendar days. China has no daylight saving time, so a fixed
 * +08:00 offset is exact and needs no time-zone database.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';

export const SHANGHAI_OFFSET_MS = 8 * 3_600_000;
const DAY_MS = 86_400_000;

export type DayType = 'workday' | 'weekend' | 'holiday' | 'makeup_workday';

export interface HolidayPeriod {
  year: number;
  name: string;
  /** Days off, 'YYYY-MM-DD'. */
  off: string[];
  /** Weekend days worked instead (调休上班). */
  workdays: string[];
  /** Statutory days only, the official notice not yet published. */
  provisional: boolean;
}

export interface Campaign {
  id: string;
  name: string;
  /** Epoch ms, inclusive. */
  start: number;
  /** Epoch ms, exclusive. */
  end: number;
  /** Channels it runs on; undefined = all channels. */
  channels?: string[];
  /** Where it came from: a file path, or 'api'. */
  source: string;
}

/** What the admin API hands over (times as epoch ms or 'YYYY-MM-DD[ HH:MM]' Shanghai time). */
export interface CampaignInput {
  id: string;
  name: string;
  start: number | string;
  end: number | string;
  channels?: string[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const RANGE = /^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$/;

/** 'YYYY-MM-DD' of an instant in Asia/Shanghai. */
export function shanghaiDate(ts: number): string {
  return new Date(ts + SHANGHAI_OFFSET_MS).toISOString().slice(0, 10);
}

/** Midnight Asia/Shanghai of a 'YYYY-MM-DD' date, as epoch ms. */
export function shanghaiMidnight(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) - SHANGHAI_OFFSET_MS;
}

/** 0 = Sunday … 6 = Saturday, in Asia/Shanghai. */
export function shanghaiWeekday(ts: number): number {
  return new Date(ts + SHANGHAI_OFFSET_MS).getUTCDay();
}

function validDate(s: string): boolean {
  return DATE.test(s) && new Date(`${s}T00:00:00Z`).toISOString().slice(0, 10) === s;
}

/** A date or an inclusive range → its dates; throws with the offending text. */
function expandDates(item: string): string[] {
  const r = RANGE.exec(item);
  if (!r) {
    if (!validDate(item)) throw new Error(`not a date 'YYYY-MM-DD' or range 'YYYY-MM-DD..YYYY-MM-DD': ${JSON.stringify(item)}`);
    return [item];
  }
  const [, a = '', b = ''] = r;
  if (!validDate(a) || !validDate(b)) throw new Error(`not a valid date range: ${JSON.stringify(item)}`);
  const from = Date.parse(`${a}T00:00:00Z`);
  const to = Date.parse(`${b}T00:00:00Z`);
  if (to < from) throw new Error(`range ends before it starts: ${JSON.stringify(item)}`);
  if ((to - from) / DAY_MS > 31) throw new Error(`range longer than 31 days: ${JSON.stringify(item)}`);
  const out: string[] = [];
  for (let d = from; d <= to; d += DAY_MS) out.push(new Date(d).toISOString().slice(0, 10));
  return out;
}

/** 'YYYY-MM-DD' (midnight) or 'YYYY-MM-DD HH:MM' Shanghai time, or epoch ms. */
export function parseShanghaiTime(v: number | string): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`not a time: ${v}`);
    return v;
  }
  const m = /^(\d{4}-\d{2}-\d{2})(?:[ T](\d{2}):(\d{2}))?$/.exec(v.trim());
  if (!m || !validDate(m[1] ?? '')) throw new Error(`not a time 'YYYY-MM-DD HH:MM' (Asia/Shanghai): ${JSON.stringify(v)}`);
  const h = Number(m[2] ?? 0);
  const min = Number(m[3] ?? 0);
  if (h > 24 || min > 59 || (h === 24 && min > 0)) throw new Error(`not a time of day: ${JSON.stringify(v)}`);
  return shanghaiMidnight(m[1] ?? '') + h * 3_600_000 + min * 60_000;
}

const holidayFileSchema = z.strictObject({
  holidays: z.array(
    z.strictObject({
      year: z.number().int().min(2000).max(2100),
      name: z.string().min(1),
      off: z.array(z.string()).min(1),
      workdays: z.array(z.string()).default([]),
      provisional: z.boolean().default(false),
    }),
  ),
});

const campaignShape = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$/, 'must be 1–80 letters, digits, _ . - (no spaces)'),
  name: z.string().trim().min(1),
  start: z.union([z.string(), z.number()]),
  end: z.union([z.string(), z.number()]),
  channels: z.array(z.string().min(1)).min(1).optional(),
});
const campaignFileSchema = z.strictObject({ campaigns: z.array(campaignShape) });

function zodText(e: z.ZodError): string {
  return e.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ');
}

function readYaml(file: string): unknown {
  return parse(readFileSync(file, 'utf8'));
}

export class Calendar {
  /** date → holiday name (days off). */
  private readonly off = new Map<string, string>();
  /** date → holiday name (调休 workdays). */
  private readonly makeup = new Map<string, string>();
  private readonly periods: HolidayPeriod[] = [];
  private readonly campaignList = new Map<string, Campaign>();

  /** An empty calendar (weekends only); add data with addHolidays / addCampaign. */
  constructor() {}

  /**
   * Load holiday and campaign YAML files (each file may hold `holidays:` or `campaigns:`).
   * Throws on the first invalid file, naming it and the field.
   */
  static load(opts: { holidayFiles?: readonly string[]; campaignFiles?: readonly string[] } = {}): Calendar {
    const cal = new Calendar();
    for (const f of opts.holidayFiles ?? [DEFAULT_HOLIDAYS]) cal.addHolidayDocument(readYaml(f), f);
    for (const f of opts.campaignFiles ?? [DEFAULT_CAMPAIGNS]) cal.addCampaignDocument(readYaml(f), f);
    return cal;
  }

  /** The shipped files (alerts/calendar). */
  static shipped(): Calendar {
    return Calendar.load();
  }

  addHolidayDocument(doc: unknown, source = 'inline'): void {
    const r = holidayFileSchema.safeParse(doc);
    if (!r.success) throw new Error(`${source}: ${zodText(r.error)}`);
    for (const h of r.data.holidays) {
      try {
        this.addHolidays({ ...h, off: h.off.flatMap(expandDates), workdays: h.workdays.flatMap(expandDates) });
      } catch (err) {
        throw new Error(`${source}: ${h.year} ${h.name}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  addHolidays(p: HolidayPeriod): void {
    for (const d of [...p.off, ...p.workdays]) {
      if (!validDate(d)) throw new Error(`not a date: ${d}`);
      if (this.off.has(d) || this.makeup.has(d)) throw new Error(`${d} is listed twice`);
    }
    for (const d of p.workdays) {
      const wd = new Date(`${d}T00:00:00Z`).getUTCDay();
      if (wd !== 0 && wd !== 6) throw new Error(`make-up workday ${d} is not a weekend day`);
    }
    for (const d of p.off) this.off.set(d, p.name);
    for (const d of p.workdays) this.makeup.set(d, p.name);
    this.periods.push(p);
  }

  addCampaignDocument(doc: unknown, source = 'inline'): void {
    const r = campaignFileSchema.safeParse(doc);
    if (!r.success) throw new Error(`${source}: ${zodText(r.error)}`);
    for (const c of r.data.campaigns) {
      try {
        this.addCampaign(c, source);
      } catch (err) {
        throw new Error(`${source}: campaign ${c.id}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  // ---- days ----------------------------------------------------------------------------

  /** A public holiday day off (not an ordinary weekend). */
  isHoliday(ts: number): boolean {
    return this.off.has(shanghaiDate(ts));
  }

  /** A weekend day worked instead of a holiday (调休上班). */
  isMakeupWorkday(ts: number): boolean {
    return this.makeup.has(shanghaiDate(ts));
  }

  dayType(ts: number): DayType {
    const d = shanghaiDate(ts);
    if (this.off.has(d)) return 'holiday';
    if (this.makeup.has(d)) return 'makeup_workday';
    const wd = shanghaiWeekday(ts);
    return wd === 0 || wd === 6 ? 'weekend' : 'workday';
  }

  /** Whether people work that day (workday or 调休), the comparable-day classes. */
  isWorkingDay(ts: number): boolean {
    const t = this.dayType(ts);
    return t === 'workday' || t === 'makeup_workday';
  }

  /** The holiday's name on that day, if any (days off and 调休 days). */
  holidayName(ts: number): string | undefined {
    const d = shanghaiDate(ts);
    return this.off.get(d) ?? this.makeup.get(d);
  }

  /**
   * The first instant (Shanghai midnight) of the run of consecutive days off of the same
   * holiday that `ts` falls in (春节 2026: 02-15 00:00 for any instant 02-15..02-23), or
   * undefined when `ts` is not a holiday day off.
   */
  holidayRunStart(ts: number): number | undefined {
    const name = this.off.get(shanghaiDate(ts));
    if (name === undefined) return undefined;
    let start = shanghaiMidnight(shanghaiDate(ts));
    while (this.off.get(shanghaiDate(start - DAY_MS)) === name) start -= DAY_MS;
    return start;
  }

  holidays(): readonly HolidayPeriod[] {
    return this.periods;
  }

  /** Dates with no official data yet (provisional years). */
  coversYear(year: number): 'official' | 'provisional' | 'none' {
    const ps = this.periods.filter((p) => p.year === year);
    if (ps.length === 0) return 'none';
    return ps.some((p) => p.provisional) ? 'provisional' : 'official';
  }

  // ---- campaigns -----------------------------------------------------------------------

  /** Campaigns running at `ts` (on `channel` when given: campaigns without channels run on all). */
  campaignsAt(ts: number, channel?: string): Campaign[] {
    return [...this.campaignList.values()].filter(
      (c) => c.start <= ts && ts < c.end && (channel === undefined || !c.channels || c.channels.includes(channel)),
    );
  }

  /** Campaigns overlapping [from, to). */
  campaignsBetween(from: number, to: number, channel?: string): Campaign[] {
    return [...this.campaignList.values()]
      .filter((c) => c.start < to && from < c.end && (channel === undefined || !c.channels || c.channels.includes(channel)))
      .sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
  }

  campaigns(): Campaign[] {
    return [...this.campaignList.values()].sort((a, b) => a.start - b.start || a.id.localeCompare(b.id));
  }

  /** Add or replace (same id) a campaign. Throws on bad input; nothing changes then. */
  addCampaign(input: CampaignInput, source = 'api'): Campaign {
    const shape = campaignShape.safeParse(input);
    if (!shape.success) throw new Error(zodText(shape.error));
    const start = parseShanghaiTime(input.start);
    const end = parseShanghaiTime(input.end);
    if (!(end > start)) throw new Error(`end must be after start (${JSON.stringify(input.start)} → ${JSON.stringify(input.end)})`);
    if (end - start > 92 * DAY_MS) throw new Error('a campaign may last at most 92 days');
    const c: Campaign = {
      id: input.id,
      name: input.name.trim(),
      start,
      end,
      ...(input.channels ? { channels: [...input.channels] } : {}),
      source,
    };
    this.campaignList.set(c.id, c);
    return c;
  }

  /** Remove a campaign; false when there was none with that id. */
  removeCampaign(id: string): boolean {
    return this.campaignList.delete(id);
  }

  // ---- what rules ask ------------------------------------------------------------------

  /**
   * Whether a window [from, to) touches a calendar day (holiday, 调休) or a campaign on
   * `channel`: seasonal baselines leave such windows out.
   */
  isSpecial(from: number, to: number, channel?: string): boolean {
    return this.touchesHoliday(from, to) || this.campaignsBetween(from, to, channel).length > 0;
  }

  /** Whether [from, to) touches a holiday day off or a 调休 workday. */
  touchesHoliday(from: number, to: number): boolean {
    for (let d = shanghaiMidnight(shanghaiDate(from)); d < to; d += DAY_MS) {
      const date = shanghaiDate(d);
      if (this.off.has(date) || this.makeup.has(date)) return true;
    }
    return false;
  }
}

/** alerts/calendar, next to dist/ and src/ (the package root). */
const PACKAGE_ROOT = new URL('../../', import.meta.url);
export const CALENDAR_DIR = fileURLToPath(new URL('calendar/', PACKAGE_ROOT));
export const DEFAULT_HOLIDAYS = fileURLToPath(new URL('calendar/holidays-cn.yaml', PACKAGE_ROOT));
export const DEFAULT_CAMPAIGNS = fileURLToPath(new URL('calendar/campaigns.yaml', PACKAGE_ROOT));
