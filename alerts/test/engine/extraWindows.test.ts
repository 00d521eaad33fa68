/**
 * Seasonal rules' extra windows (issue 13, alert quality): a short window catches an incident
 * of 15 minutes that the rule's hour averages below its threshold, and an accumulated window
 * catches a slow move that stays inside the hour's noise band but adds up over hours. Each has
 * its own noise memory, says which window it is in the message, and is news only while the
 * rule's own window moves the same way. Through the real engine (backtest over a series).
 *
 * @tier soak (days of simulated time)
 */
import { describe, expect, it } from 'vitest';
import { backtest, parseRuleYaml, seriesSource, type SeriesRow } from '../../src/backtest/index.js';
import { parseShanghaiTime } from '../../src/calendar/index.js';
import { bandLineZh } from '../../src/wording.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const STEP = 5 * MIN;
/** Monday 2025-03-03 00:00 Asia/Shanghai. */
const T0 = parseShanghaiTime('2025-03-03');

/** A daily shape, noise per 5-minute bucket (`bucket`) and per hour of data (`hourly`), times an incident factor. */
function rows(days: number, noise: { bucket: number; hourly: number }, factor: (ts: number) => number): SeriesRow[] {
  let seed = 7;
  const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const hourNoise = new Map<number, number>();
  const out: SeriesRow[] = [];
  for (let ts = T0; ts < T0 + days * DAY; ts += STEP) {
    const h = ((ts - T0) % DAY) / HOUR;
    const shape = 100 + 60 * Math.sin(((h - 8) / 24) * 2 * Math.PI);
    const hk = Math.floor(ts / HOUR);
    if (!hourNoise.has(hk)) hourNoise.set(hk, 1 + noise.hourly * (rand() - 0.5) * 2);
    out.push({ ts, value: shape * (hourNoise.get(hk) ?? 1) * (1 + noise.bucket * (rand() - 0.5) * 2) * factor(ts) });
  }
  return out;
}

const RULE = (extra: string) => `
rules:
  - id: x
    name: 多窗口
    kpi: series
    window: 1h
    baseline: { type: seasonal, period: 1d, periods: 5, min_periods: 3, days: all }
    band: { quantile: 0.99, k: 1.2, span: 7d, min_history: 12h }
    thresholds: { fire: 0.15, clear: 0.10 }
    pending_for: 10m
${extra}`;

async function run(series: SeriesRow[], yaml: string) {
  const source = seriesSource(series, 'sum');
  const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
  const { rules, problems } = parseRuleYaml(yaml, { catalogue });
  expect(problems).toEqual([]);
  return backtest({ rules, source, from: series[0]!.ts + STEP, to: series.at(-1)!.ts + STEP, stepMs: STEP });
}

describe('a short window', () => {
  // A 15-minute −50% drop on day 7 at 14:00: about −12% over the hour, under its 15%.
  const at = T0 + 6 * DAY + 14 * HOUR;
  const series = rows(8, { bucket: 0.04, hourly: 0 }, (ts) => (ts >= at && ts < at + 15 * MIN ? 0.5 : 1));

  it('catches a 15-minute drop the hour averages away, and says it was the last 15 minutes', async () => {
    const without = await run(series, RULE(''));
    expect(without.firings.filter((f) => f.ts >= at)).toEqual([]);
    const r = await run(series, RULE('    short_window: 15m'));
    expect(r.firings).toHaveLength(1);
    const f = r.firings[0]!;
    expect(f.ts).toBeGreaterThanOrEqual(at);
    expect(f.ts).toBeLessThanOrEqual(at + 30 * MIN);
    expect(f.band?.window).toEqual({ minutes: 15, kind: 'short' });
    expect(f.change).toBeLessThan(-0.15);
    expect(f.summary).toMatch(/^序列（计数） 近15分钟 当前 [\d,]+ · 正常区间 [\d,.]+–[\d,.]+（近5天同一时段）· 低了 \d+(\.\d)?%$/);
    // It resolves once the drop is over (its episode is held only while a window would still fire).
    expect(r.events.filter((e) => e.state === 'resolved').every((e) => e.ts <= at + 90 * MIN)).toBe(true);
    expect(r.events.some((e) => e.state === 'resolved')).toBe(true);
  }, 120_000);
});

describe('an accumulated window', () => {
  // Hour-to-hour noise of ±20% gives the hour a wide band; +17% for 8 hours from day 7 08:00
  // hides inside it until a noisy hour pushes it out, while the six-hour sum, whose noise
  // averages out, leaves its narrower band first.
  const at = T0 + 6 * DAY + 8 * HOUR;
  const series = rows(8, { bucket: 0.02, hourly: 0.2 }, (ts) => (ts >= at && ts < at + 8 * HOUR ? 1.17 : 1));

  it('catches a slow +17% move before the hour does, in words a manager reads', async () => {
    const hourOnly = (await run(series, RULE(''))).firings.filter((f) => f.ts >= at);
    const r = await run(series, RULE('    accumulate: 6h'));
    expect(r.firings).toHaveLength(1);
    const f = r.firings[0]!;
    expect(f.ts).toBeGreaterThan(at);
    expect(f.ts).toBeLessThan(at + 8 * HOUR);
    // The hour alone fires later (here when a noisy hour pushes it out of the band).
    expect(hourOnly.length).toBeGreaterThan(0);
    expect(hourOnly.every((h) => h.ts > f.ts)).toBe(true);
    expect(f.band?.window).toEqual({ minutes: 360, kind: 'sum' });
    expect(f.summary).toMatch(/^序列（计数） 近6小时累计高出 \d+(\.\d)?% · 累计 [\d,]+ · 正常区间 [\d,]+–[\d,]+（近5天同一时段）$/);
  }, 120_000);
});

describe('a band per time of day', () => {
  // Counts ten times higher at the evening peak than at night, with count-like noise (it grows
  // with the level): a band learnt over the whole day is as wide as the peak's noise. On day 7
  // at 03:00 the night's count drops 40% for an hour.
  const at = T0 + 6 * DAY + 3 * HOUR;
  const series: SeriesRow[] = [];
  {
    let seed = 3;
    const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const gauss = () => Math.sqrt(-2 * Math.log(rand() || 1e-9)) * Math.cos(2 * Math.PI * rand());
    for (let ts = T0; ts < T0 + 8 * DAY; ts += STEP) {
      const h = ((ts - T0) % DAY) / HOUR;
      const mean = (20 + 180 * Math.exp(-((h - 20) ** 2) / 8)) * (ts >= at && ts < at + HOUR ? 0.6 : 1);
      series.push({ ts, value: Math.max(0, mean + Math.sqrt(mean) * gauss()) });
    }
  }

  const night = (r: Awaited<ReturnType<typeof run>>) => r.firings.filter((f) => f.ts >= at && f.ts <= at + 2 * HOUR);
  const band = (extra: string) => RULE('').replace('min_history: 12h }', `min_history: 12h${extra} }`);

  it('catches a night’s −40% that a whole-day band hides (with the pending minutes held back)', async () => {
    expect(night(await run(series, RULE('')))).toEqual([]);
    // A night's band is learnt from few deviations: the drop's own pending minutes, learnt at
    // once, widen it past the drop (band.pending: learn) …
    expect(night(await run(series, band(', time_of_day: 2h')))).toEqual([]);
    // … held back until the episode ends without firing, they do not.
    const r = await run(series, band(', time_of_day: 2h, pending: hold'));
    expect(night(r)).toHaveLength(1);
    expect(night(r)[0]!.change).toBeLessThan(-0.15);
  }, 120_000);

  it('a band that follows the level (scale: level) catches it too, from deviations of every hour, and fires nowhere else', async () => {
    // Each deviation is rescaled from the level it was learnt at to the night's (√ of the
    // count): the peak's wide deviations no longer hide the night, and no hour is singled out.
    const r = await run(series, band(', scale: level'));
    expect(night(r)).toHaveLength(1);
    expect(night(r)[0]!.change).toBeLessThan(-0.15);
    expect(r.firings).toHaveLength(1);
  }, 120_000);
});

describe('the one line', () => {
  it('names the window that fired', () => {
    const band = { low: 1050, high: 1180, periods: 4, period: 'week' as const };
    expect(bandLineZh(1234, band, 0.15)).toBe('当前 1,234 · 正常区间 1,050–1,180（近4周同一时段）· 高出 15%');
    expect(bandLineZh(600, { ...band, window: { minutes: 15, kind: 'short' } }, -0.47)).toBe('近15分钟 当前 600 · 正常区间 1,050–1,180（近4周同一时段）· 低了 47%');
    expect(bandLineZh(5432, { ...band, window: { minutes: 360, kind: 'sum' } }, 0.22)).toBe('近6小时累计高出 22% · 累计 5,432 · 正常区间 1,050–1,180（近4周同一时段）');
    expect(bandLineZh(0.27, { low: 0.2, high: 0.23, periods: 7, period: 'day', comparable: 'workday', window: { minutes: 360, kind: 'mean' } }, 0.225)).toBe(
      '近6小时平均高出 22.5% · 平均 0.27 · 正常区间 0.2–0.23（近7个工作日同一时段）',
    );
  });
});


describe('the schema', () => {
  const source = seriesSource([{ ts: 0, value: 1 }, { ts: STEP, value: 1 }], 'sum');
  const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
  const problems = (extra: string, band = '    band: { quantile: 0.99, k: 1.2 }\n') =>
    parseRuleYaml(`rules:\n  - id: x\n    name: x\n    kpi: series\n    window: 1h\n    baseline: { type: seasonal, period: 1d, periods: 3 }\n${band}${extra}`, { catalogue }).problems.map((p) => p.message);

  it('refuses extra windows that cannot work and says why; false turns a template’s off', () => {
    expect(problems('    short_window: 1h\n')).toEqual(['short_window (60 min) must be shorter than window (60 min)']);
    expect(problems('    accumulate: 30m\n')).toEqual(['accumulate (30 min) must be longer than window (60 min)']);
    expect(problems('    accumulate: 2d\n')).toEqual(['accumulate must not be longer than the seasonal period']);
    expect(problems('    short_window: 15m\n', '')).toEqual(['short_window needs the seasonal baseline and a band (it is judged against its own noise)']);
    expect(problems('    band: { quantile: 0.99, k: 1.2, time_of_day: 13h }\n', '')).toEqual(['time_of_day is ± around the current time of day: at most 12h (12h = the whole day)']);
    expect(problems('    short_window: false\n    accumulate: false\n')).toEqual([]);
    const { rules } = parseRuleYaml(`rules:\n  - { id: x, name: x, kpi: series, window: 1h, baseline: { type: seasonal, period: 1d, periods: 3 }, band: { k: 1.2 }, short_window: 15m, accumulate: 6h }`, { catalogue });
    expect(rules[0]).toMatchObject({ extraWindows: { shortMs: 15 * MIN, accumulateMs: 6 * HOUR } });
  });
});
