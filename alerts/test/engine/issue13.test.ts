/**
 * Issue 13 engine changes, each driven through the real engine (backtest over a series):
 * echo guard, zero baselines, level shifts (新常态), pending_for as a duration, the calendar
 * modes, impossible thresholds, and the distinct-count guess.
 *
 * @tier soak (weeks of simulated time: tens of seconds)
 */
import { describe, expect, it } from 'vitest';
import { backtest, parseRuleYaml, seriesSource, type SeriesRow } from '../../src/backtest/index.js';
import { Calendar, parseShanghaiTime } from '../../src/calendar/index.js';
import type { KpiInfo } from '../../src/contract.js';
import { formatNotification } from '../../src/notify/format.js';
import { needsMinuteWindows } from '../../src/rules/validate.js';
import { bandLineZh } from '../../src/wording.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const STEP = 5 * MIN;
/** Monday 2025-03-03 00:00 Asia/Shanghai. */
const T0 = parseShanghaiTime('2025-03-03');

function rows(from: number, days: number, f: (ts: number) => number): SeriesRow[] {
  const out: SeriesRow[] = [];
  let seed = 11;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let ts = from; ts < from + days * DAY; ts += STEP) out.push({ ts, value: Math.max(0, f(ts) * (1 + 0.04 * (rand() - 0.5))) });
  return out;
}

async function run(series: SeriesRow[], yaml: string, opts: { calendar?: Calendar; kind?: 'sum' | 'mean'; stepMs?: number } = {}) {
  const source = seriesSource(series, opts.kind ?? 'sum');
  const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
  const { rules, problems } = parseRuleYaml(yaml, { catalogue });
  expect(problems).toEqual([]);
  const step = opts.stepMs ?? STEP;
  return backtest({ rules, source, from: series[0]!.ts + step, to: series.at(-1)!.ts + step, stepMs: step, ...(opts.calendar ? { calendar: opts.calendar } : {}) });
}

/** The run fired exactly once, within the hour after `start`; that firing. */
function oneFiringSoonAfter(r: Awaited<ReturnType<typeof run>>, start: number) {
  expect(r.firings).toHaveLength(1);
  const f = r.firings[0]!;
  expect(f.ts).toBeGreaterThan(start);
  expect(f.ts).toBeLessThan(start + HOUR);
  return f;
}

const SEASONAL = (extra = '') => `
rules:
  - id: s
    name: 季节基线
    kpi: series
    window: 1h
    baseline: { type: seasonal, period: 1d, periods: 5, min_periods: 3, days: all }
    band: { quantile: 0.99, k: 1.5, span: 7d, min_history: 12h }
    thresholds: { fire: 0.15, clear: 0.10 }
    pending_for: 10m
${extra}`;

describe('no echoes', () => {
  it('a one-hour spike fires once; when it leaves a previous-window baseline no opposite alert follows', async () => {
    const spike = T0 + 2 * DAY + 10 * HOUR;
    const series = rows(T0, 3, (ts) => (ts >= spike && ts < spike + HOUR ? 200 : 100));
    const r = await run(series, 'rules: [{ id: p, name: 环比, kpi: series, window: 1h, baseline: { type: previous_window }, thresholds: { fire: 0.15 }, pending_for: 1 }]');
    const firings = r.firings.filter((f) => f.ts > T0 + 2 * HOUR);
    expect(firings).toHaveLength(1);
    expect(firings[0]!.change).toBeGreaterThan(0.15);
    // The would-be echo was seen and held back (the evaluation still ran).
    expect(r.events.some((e) => e.state === 'resolved')).toBe(true);
  }, 60_000);

  it('a seasonal baseline keeps a spike out of tomorrow’s expected value (median of 5 days)', async () => {
    const spike = T0 + 5 * DAY + 10 * HOUR;
    const series = rows(T0, 8, (ts) => (ts >= spike && ts < spike + 2 * HOUR ? 220 : 100));
    const r = await run(series, SEASONAL());
    oneFiringSoonAfter(r, spike);
  }, 60_000);
});

describe('zero baselines', () => {
  it('a count rising from zero fires once it passes min_abs_change; without a floor it cannot', async () => {
    const start = T0 + 2 * DAY;
    const series = rows(T0, 3, (ts) => (ts >= start ? 20 : 0));
    const rule = (floor: number) =>
      `rules: [{ id: z, name: 从零, kpi: series, window: 1h, baseline: { type: same_window_yesterday }, thresholds: { fire: 0.15 }, min_abs_change: ${floor}, pending_for: 1 }]`;
    const withFloor = await run(series, rule(50));
    expect(withFloor.firings).toHaveLength(1);
    expect(withFloor.firings[0]!).toMatchObject({ baseline: 0, change: null });
    expect(withFloor.firings[0]!.value).toBeGreaterThanOrEqual(50);
    const noFloor = await run(series, rule(0));
    expect(noFloor.firings).toEqual([]);
  }, 60_000);

  it('without a floor, a noise band is the floor: a night that is always 0 fires when it leaves the band, not on a blip inside it', async () => {
    // Daytime 100 a bucket, nights (00–06) 0 apart from a 3 at 03:00; day 7 02:00 rises to 60 a bucket for an hour.
    const rise = T0 + 6 * DAY + 2 * HOUR;
    const hourOf = (ts: number) => Math.floor(((ts - T0) % DAY) / HOUR);
    const series = rows(T0, 8, (ts) => (ts >= rise && ts < rise + HOUR ? 60 : hourOf(ts) >= 6 ? 100 : (ts - T0) % DAY === 3 * HOUR ? 3 : 0));
    const r = await run(series, SEASONAL('    min_abs_change: 0'));
    const f = oneFiringSoonAfter(r, rise);
    expect(f).toMatchObject({ baseline: 0, change: null });
    expect(f.value).toBeGreaterThan(f.band!.high);
  }, 60_000);
});

describe('level shifts (新常态)', () => {
  it('a lasting +50% shift fires once, becomes the baseline after level_shift.adopt_after, and does not fire again', async () => {
    const shift = T0 + 5 * DAY + 9 * HOUR;
    const series = rows(T0, 12, (ts) => (ts >= shift ? 150 : 100));
    const r = await run(series, SEASONAL('    level_shift: { adopt_after: 6h }'));
    expect(r.firings).toHaveLength(1);
    const adopted = r.events.find((e) => e.state === 'resolved' && e.summary.includes('新常态'));
    expect(adopted).toBeDefined();
    expect(adopted!.ts - r.firings[0]!.ts).toBeGreaterThanOrEqual(6 * HOUR - STEP);
    expect(adopted!.ts - r.firings[0]!.ts).toBeLessThanOrEqual(6 * HOUR + STEP);
    // Without level_shift the same series stays firing (or re-fires) until the median moves.
    const plain = await run(series, SEASONAL());
    const open = plain.events.filter((e) => e.state === 'firing').length;
    expect(open).toBeGreaterThanOrEqual(1);
    expect(plain.events.some((e) => e.summary.includes('新常态'))).toBe(false);
  }, 120_000);

  it('a new normal ends when the KPI is back at its old normal: no alert for the return, none the next days', async () => {
    // +50% for 8 hours: fires, is adopted after 6 h, then the KPI returns to its old level.
    const start = T0 + 5 * DAY + 10 * HOUR;
    const series = rows(T0, 10, (ts) => (ts >= start && ts < start + 8 * HOUR ? 150 : 100));
    const r = await run(series, SEASONAL('    level_shift: { adopt_after: 6h }'));
    expect(r.firings).toHaveLength(1);
    expect(r.firings[0]!.ts).toBeLessThan(start + 2 * HOUR);
    expect(r.events.filter((e) => e.summary.includes('新常态'))).toHaveLength(1);
  }, 120_000);
});

describe('pending_for as a duration', () => {
  it('10m at 5-minute steps fires on the third evaluation that sees the move, not the second', async () => {
    const start = T0 + 2 * DAY;
    const series = rows(T0, 3, (ts) => (ts >= start ? 300 : 100));
    const yaml = (p: string) => `rules: [{ id: d, name: 时长, kpi: series, window: 5m, baseline: { type: same_window_yesterday }, thresholds: { fire: 0.15 }, pending_for: ${p} }]`;
    const ten = await run(series, yaml('10m'));
    expect(ten.firings[0]!.ts).toBe(start + STEP + 10 * MIN);
    const one = await run(series, yaml('1'));
    expect(one.firings[0]!.ts).toBe(start + STEP);
  }, 60_000);
});

describe('pending_while: clear', () => {
  it('a move flickering at the fire threshold (+25%, +12%, +25% …) fires after 10m only when a hold keeps the pending episode', async () => {
    const start = T0 + 2 * DAY;
    // Yesterday 100 every 5 minutes; from `start` the bucket alternates +25% (fires) and +12%
    // (beyond clear 10%, below fire 15%: holds).
    const series: SeriesRow[] = [];
    for (let ts = T0; ts < T0 + 3 * DAY; ts += STEP) series.push({ ts, value: ts < start ? 100 : ((ts - start) / STEP) % 2 === 0 ? 125 : 112 });
    const yaml = (extra: string) =>
      `rules: [{ id: f, name: 边缘, kpi: series, window: 5m, baseline: { type: same_window_yesterday }, thresholds: { fire: 0.15, clear: 0.10 }, pending_for: 10m${extra} }]`;
    const plain = await run(series, yaml(''));
    expect(plain.firings).toEqual([]);
    const held = await run(series, yaml(', pending_while: clear'));
    // The episode begins at the first evaluation (start + 5m, a +25% bucket) and fires at the
    // first firing evaluation 10 minutes later (start + 15m, +25% again), through the +12% hold.
    expect(held.firings[0]!.ts).toBe(start + STEP + 10 * MIN);
  }, 60_000);
});

describe('calendar', () => {
  const cal = Calendar.shipped();
  // 2025 清明节: 4-04 (Fri) .. 4-06 (Sun). Traffic halves on the holiday.
  const from = parseShanghaiTime('2025-03-24');
  const holiday = (ts: number) => cal.isHoliday(ts);
  const series = rows(from, 16, (ts) => (holiday(ts) ? 50 : 100));

  it('holidays: mute → no decision on the holiday; the holiday never enters the baseline afterwards', async () => {
    const muted = await run(series, SEASONAL('    calendar: { holidays: mute }'), { calendar: cal });
    expect(muted.firings).toEqual([]);
    const normal = await run(series, SEASONAL(), { calendar: cal });
    // Compared with ordinary days the holiday is a 50% drop: it fires, on the holiday only.
    expect(normal.firings.length).toBeGreaterThanOrEqual(1);
    for (const f of normal.firings) expect(cal.isHoliday(f.ts - 1)).toBe(true);
  }, 120_000);

  it('campaigns: comparable days are earlier days of the same campaign', async () => {
    const c = new Calendar();
    c.addCampaign({ id: 'big', name: '大促', start: '2025-03-30', end: '2025-04-03' });
    const s = rows(from, 12, (ts) => (c.campaignsAt(ts).length ? 300 : 100));
    const normal = await run(s, SEASONAL(), { calendar: c });
    expect(normal.firings.length).toBeGreaterThanOrEqual(1);
    const comparable = await run(s, SEASONAL('    calendar: { campaigns: comparable }'), { calendar: c });
    expect(comparable.firings).toEqual([]);
  }, 120_000);

  it('campaigns: on a campaign\'s first days ordinary days scaled by its uplift stand in, so a drop on day 2 fires', async () => {
    const c = new Calendar();
    c.addCampaign({ id: 'big', name: '大促', start: '2025-03-30', end: '2025-04-05' });
    const campaignStart = parseShanghaiTime('2025-03-30');
    const drop = campaignStart + DAY + 14 * HOUR;
    const shape = (ts: number) => 100 + 40 * Math.sin((((ts - T0) % DAY) / DAY - 0.3) * 2 * Math.PI);
    const lift = (ts: number) => (c.campaignsAt(ts).length ? 1.5 : 1);
    const quiet = rows(from, 12, (ts) => shape(ts) * lift(ts));
    const yaml = SEASONAL('    calendar: { campaigns: comparable }');
    expect((await run(quiet, yaml, { calendar: c })).firings).toEqual([]);
    const s = rows(from, 12, (ts) => shape(ts) * lift(ts) * (ts >= drop && ts < drop + 3 * HOUR ? 0.6 : 1));
    const r = await run(s, yaml, { calendar: c });
    const f = oneFiringSoonAfter(r, drop);
    expect(f.band?.comparable).toBe('campaign');
  }, 120_000);

  it('campaigns: a peak day inside a longer campaign (双11 当天 in the pre-sale) is compared with its own days, not the pre-sale\'s', async () => {
    const c = new Calendar();
    c.addCampaign({ id: 'presale', name: '预售', start: '2025-03-28', end: '2025-04-05' });
    c.addCampaign({ id: 'peak', name: '当天', start: '2025-04-03', end: '2025-04-04' });
    const shape = (ts: number) => 100 + 40 * Math.sin((((ts - T0) % DAY) / DAY - 0.3) * 2 * Math.PI);
    const lift = (ts: number) => (c.campaignsAt(ts).some((x) => x.id === 'peak') ? 3 : c.campaignsAt(ts).length ? 1.3 : 1);
    // Against the pre-sale's days the peak day's normal level was a +130% "rise".
    const r = await run(rows(from, 12, (ts) => shape(ts) * lift(ts)), SEASONAL('    calendar: { campaigns: comparable }'), { calendar: c });
    expect(r.firings).toEqual([]);
  }, 120_000);
});

describe('calendar: a holiday of several days compares with its own earlier days', () => {
  const cal = Calendar.shipped();
  // 2026 春节: days off 02-15 .. 02-23 (调休 workdays 02-14, 02-28). Weekends run at 0.8 of a
  // workday, 春节 at 0.45: quieter than any ordinary rest day.
  const from = parseShanghaiTime('2026-01-19');
  const shape = (ts: number) => 100 + 40 * Math.sin((((ts - from) % DAY) / DAY - 0.3) * 2 * Math.PI);
  const level = (ts: number) => (cal.dayType(ts) === 'holiday' ? 0.45 : cal.isWorkingDay(ts) ? 1 : 0.8);
  const yaml = `
rules:
  - id: s
    name: 春节
    kpi: series
    window: 1h
    baseline: { type: seasonal, period: 1d, periods: 5, min_periods: 2, days: comparable }
    band: { quantile: 0.99, k: 1.5, span: 7d, min_history: 12h }
    thresholds: { fire: 0.15, clear: 0.10 }
    pending_for: 10m
    calendar: { holidays: comparable }
`;
  const rise = parseShanghaiTime('2026-02-20 10:00');
  const days = 33; // through 02-20

  it('quiet 春节: its first days against rest days scaled by its own level so far, then against its own days — no alert', async () => {
    const r = await run(rows(from, days, (ts) => shape(ts) * level(ts)), yaml, { calendar: cal });
    // Compared with ordinary rest days (the rule before) 春节 is a 44% drop every day.
    expect(r.firings).toEqual([]);
  }, 120_000);

  it('a +30% rise on 春节 day 6 fires once, against the same hour of 春节\'s earlier days', async () => {
    const s = rows(from, days, (ts) => shape(ts) * level(ts) * (ts >= rise && ts < rise + 6 * HOUR ? 1.3 : 1));
    const r = await run(s, yaml, { calendar: cal });
    const f = oneFiringSoonAfter(r, rise);
    expect(f.change).toBeGreaterThan(0.15);
    expect(f.band?.comparable).toBe('holiday_own');
    expect(f.summary).toMatch(/本次假期前5天同一时段/);
  }, 120_000);

  it('an 8-hour +30% on 春节 day 2 (one day of its own) fires against rest days scaled by its level over the last day, and resolves', async () => {
    const start = parseShanghaiTime('2026-02-16 10:00');
    const s = rows(from, 30, (ts) => shape(ts) * level(ts) * (ts >= start && ts < start + 8 * HOUR ? 1.3 : 1));
    const r = await run(s, yaml, { calendar: cal });
    // Scaled by its last 6 hours only, the rise became 春节's level within 3 hours and was missed.
    const f = oneFiringSoonAfter(r, start);
    expect(f.band?.comparable).toBe('holiday');
    // Firing hours are left out of the scale, yet the alert is still judged: it resolves.
    const resolved = r.events.find((e) => e.state === 'resolved' && e.ts > f.ts);
    expect(resolved?.ts).toBeLessThan(start + 10 * HOUR);
  }, 120_000);

  it('band.scale: uplift — on 春节 day 2 (at 0.45 of a workday) a count\'s band learnt on ordinary days is scaled by √level: a +30% 8-hour rise fires (inside the unscaled band)', async () => {
    const start = parseShanghaiTime('2026-02-16 10:00');
    // Three weeks before it (6 rest days), 15-minute buckets and steps, no randomness: ordinary
    // days alternate ±10% (a median of them is 10% off half the time): the band learnt there,
    // as wide relative to 春节's level as 1/0.45 times an ordinary day's, hides +30%; scaled by
    // √(春节's level ratio) it does not.
    const q = 15 * MIN;
    const begin = parseShanghaiTime('2026-01-26');
    const wobble = (ts: number) => (cal.dayType(ts) === 'holiday' ? 1 : Math.floor((ts - begin) / DAY) % 2 ? 1.1 : 0.9);
    const s: SeriesRow[] = [];
    for (let ts = begin; ts < start + DAY; ts += q) s.push({ ts, value: 3 * shape(ts) * level(ts) * wobble(ts) * (ts >= start && ts < start + 8 * HOUR ? 1.3 : 1) });
    const noisy = (scale: string) => yaml.replace('band: { quantile: 0.99, k: 1.5, span: 7d, min_history: 12h }', `band: { quantile: 0.99, k: 1.2, span: 7d, min_history: 12h, time_of_day: 2h${scale} }`);
    // Before: the band learnt at ordinary days' level is 1.5× too wide relative to 春节's.
    expect((await run(s, noisy(''), { calendar: cal, stepMs: q })).firings.filter((f) => f.ts >= start && f.ts < start + 8 * HOUR)).toEqual([]);
    const r = await run(s, noisy(', scale: uplift'), { calendar: cal, stepMs: q });
    expect(r.firings).toHaveLength(1);
    const f = r.firings[0]!;
    expect(f.ts).toBeGreaterThan(start);
    expect(f.ts).toBeLessThan(start + 3 * HOUR);
    expect(f.band?.comparable).toBe('holiday');
    // The message's 正常区间 is the scaled band: the rise is outside it.
    expect(f.value!).toBeGreaterThan(f.band!.high);
  }, 120_000);

  it('a drop on 春节 day 1 adopted as 新常态: its return to the holiday\'s old level is no "rise"', async () => {
    const start = parseShanghaiTime('2026-02-15 03:00');
    const s = rows(from, 29, (ts) => shape(ts) * level(ts) * (ts >= start && ts < start + 8 * HOUR ? 0.6 : 1));
    const r = await run(s, yaml + '    level_shift: { adopt_after: 6h }\n', { calendar: cal });
    // The adopted hours used to become the holiday's level: the return fired as a rise.
    expect(r.firings).toHaveLength(1);
    expect(r.firings[0]!.change).toBeLessThan(0);
    expect(r.events.some((e) => e.summary.includes('新常态'))).toBe(true);
  }, 120_000);
});

describe('a young KPI with fewer than min_periods days of its kind', () => {
  it('its second Saturday night: the same hour on workdays, scaled by how its rest days ran against them, catches a +30% rise', async () => {
    // From Monday T0, 15-minute buckets and steps, ±2% noise, weekends at 0.8 of a workday,
    // night at 60% of the day's mean. Saturday 03-15 is the KPI's third rest day: 2 before it.
    const q = 15 * MIN;
    const shape = (ts: number) => 100 + 40 * Math.sin((((ts - T0) % DAY) / DAY - 0.3) * 2 * Math.PI);
    const weekend = (ts: number) => [0, 6].includes(new Date(ts + 8 * HOUR).getUTCDay());
    const rise = T0 + 12 * DAY + 30 * MIN;
    let seed = 5;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const s: SeriesRow[] = [];
    for (let ts = T0; ts < T0 + 13 * DAY; ts += q) s.push({ ts, value: shape(ts) * (weekend(ts) ? 0.8 : 1) * (ts >= rise && ts < rise + 3 * HOUR ? 1.3 : 1) * (1 + 0.04 * (rand() - 0.5)) });
    const yaml = `
rules:
  - id: y
    name: 新指标
    kpi: series
    window: 1h
    baseline: { type: seasonal, period: 1d, periods: 7, min_periods: 3, days: comparable }
    band: { quantile: 0.99, k: 1.2, span: 7d, min_history: 12h }
    thresholds: { fire: 0.15, clear: 0.10 }
    pending_for: 10m
`;
    const r = await run(s, yaml, { stepMs: q });
    // Before: the last 12 hours stood in (the evening peak for a night), and the rise was inside their band.
    const judged = r.firings.filter((f) => f.ts >= T0 + 8 * DAY);
    expect(judged).toHaveLength(1);
    expect(judged[0]!.ts).toBeGreaterThan(rise);
    expect(judged[0]!.ts).toBeLessThan(rise + 3 * HOUR);
    expect(judged[0]!.change).toBeGreaterThan(0.15);
    expect(judged[0]!.band?.comparable).toBe('restday');
    // The message says what the normal range was learnt from: 2 rest days and 5 workdays, scaled.
    expect(judged[0]!.band?.otherDays).toBe(5);
    expect(judged[0]!.summary).toMatch(/正常区间 [\d,.]+–[\d,.]+（近2个休息日及5个工作日（按休息日水平折算）同一时段）· 高出/);
  }, 60_000);
});

describe('a window across midnight between unlike days', () => {
  // Weekends at 0.8 of a workday, a smooth daily shape, ±2% noise, no holidays (2025-06/07).
  const from = parseShanghaiTime('2025-06-02');
  const shape = (ts: number) => 100 + 40 * Math.sin((((ts - from) % DAY) / DAY - 0.3) * 2 * Math.PI);
  const weekday = (ts: number) => new Date(ts + 8 * HOUR).getUTCDay();
  const level = (ts: number) => (weekday(ts) === 0 || weekday(ts) === 6 ? 0.8 : 1);
  const yaml = (extra = '') => `
rules:
  - id: s
    name: 跨午夜
    kpi: series
    window: 1h
    baseline: { type: seasonal, period: 1d, periods: 5, min_periods: 2, days: comparable }
    band: { quantile: 0.99, k: 1.5, span: 7d, min_history: 12h }
    thresholds: { fire: 0.12, clear: 0.08 }
    pending_for: 10m
${extra}`;
  const cal = new Calendar();

  it('Saturday and Monday 00:15: each side of midnight against days like its own, so the weekend step is no alert (counts and levels)', async () => {
    // From the second week on, when days like each side exist (the first weekend has only a young
    // KPI's recent windows to stand in). Compared whole, every Saturday and Monday 00:15 fired.
    const judged = (fs: { ts: number }[]) => fs.filter((f) => f.ts >= from + 7 * DAY);
    const counts = rows(from, 22, (ts) => shape(ts) * level(ts));
    expect(judged((await run(counts, yaml(), { calendar: cal })).firings)).toEqual([]);
    // A level (an open rate) steps at midnight too: the parts are weighted by their samples.
    const rates = rows(from, 22, (ts) => 0.2 * level(ts));
    expect(judged((await run(rates, yaml(), { calendar: cal, kind: 'mean' })).firings)).toEqual([]);
  }, 120_000);

  it('a real drop across midnight still fires', async () => {
    const drop = parseShanghaiTime('2025-06-21 23:30'); // Saturday night into Sunday
    const s = rows(from, 22, (ts) => shape(ts) * level(ts) * (ts >= drop && ts < drop + 2 * HOUR ? 0.6 : 1));
    const r = await run(s, yaml(), { calendar: cal });
    oneFiringSoonAfter(r, drop);
  }, 120_000);
});

describe('rule schema refuses what can never fire', () => {
  const catalogue = new Map(seriesSource(rows(T0, 1, () => 1), 'sum').catalogue().map((k) => [k.id, k]));
  const problems = (extra: string) => parseRuleYaml(`rules: [{ id: x, name: x, kpi: series, window: 1h, ${extra} }]`, { catalogue }).problems.map((p) => p.message);
  it('a drop of more than 100%', () => {
    expect(problems("direction: down, thresholds: { fire: '150%' }")[0]).toMatch(/drop of more than 100% is impossible.*150%/);
    expect(problems("thresholds: { fire: 1.5 }")[0]).toMatch(/never fire on a drop/);
    expect(problems("direction: up, thresholds: { fire: 1.5 }")).toEqual([]);
  });
  it('seasonal-only options on other baselines, and pending_for that is neither a count nor a duration', () => {
    expect(problems('band: { k: 2 }')[0]).toMatch(/noise band needs the seasonal baseline/);
    expect(problems("pending_for: 'soon'")[0]).toMatch(/count of evaluations .* or a duration/);
    expect(problems('baseline: { type: seasonal, period: 2d }')[0]).toMatch(/1d .* or 1w/);
  });
});

describe('distinct counts', () => {
  const kpi = (o: Partial<KpiInfo>): KpiInfo => ({ id: 'k', label: { zh: 'k', en: 'k' }, unit: 'count', good: 'up', ratio: false, splits: ['channel'], ...o });
  it('a KPI that says it is not a distinct count is not minute-aligned, whatever its splits', () => {
    expect(needsMinuteWindows(kpi({ distinct: false }))).toBe(false);
    expect(needsMinuteWindows(kpi({ distinct: true, splits: ['channel', 'community'] }))).toBe(true);
    // Older sources without the flag keep the guess.
    expect(needsMinuteWindows(kpi({}))).toBe(true);
  });
});

describe('the DingTalk line', () => {
  it('当前 · 正常区间 · basis · 高出 N%', () => {
    expect(bandLineZh(1234, { low: 1050, high: 1180, periods: 4, period: 'week' }, 0.15)).toBe('当前 1,234 · 正常区间 1,050–1,180（近4周同一时段）· 高出 15%');
    expect(bandLineZh(80, { low: 90, high: 110, periods: 5, period: 'day', comparable: 'workday' }, -0.2)).toBe('当前 80 · 正常区间 90–110（近5个工作日同一时段）· 低了 20%');
  });

  it('a firing message carries the band line', () => {
    const msg = formatNotification(
      {
        key: 'k', kind: 'firing', ruleId: 'r', ruleName: '新增成员', group: 'g', severity: 'warning',
        kpi: { id: 'new_members', label: { zh: '新增成员', en: 'New members' }, unit: 'count', good: 'up' },
        split: null, value: 1234, baseline: 1073, baselineKind: 'seasonal', change: 0.15, threshold: 0.15,
        band: { low: 1050, high: 1180, periods: 4, period: 'week' }, windowMinutes: 60, ts: T0, link: 'https://pulse.example/t', targets: ['dingtalk'],
      });
    expect(JSON.stringify(msg)).toMatch(/正常区间 1,050(\.0)?–1,180(\.0)?（近4周同一时段）· 高出 15%/);
  });
});
