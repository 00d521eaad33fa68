/**
 * The demo history's days look like a business's (simulator/dayShape.ts): on a fixed plan
 * around 双11 2026 with the shipped calendar, generated at a low rate, days off are quieter
 * than workdays, 双11 and its warm-up are lifted, holidays and 调休 follow the published
 * calendar, the same plan gives the same events, and no event is at or after the plan's end.
 */
import { Calendar } from '@siyu-pulse/alerts';
import { describe, expect, it } from 'vitest';
import { calendarOf, dayFactor, snapshotCalendar } from '../src/simulator/dayShape.js';
import { demoDays, demoFillOrder, generateDemoDay, generateDemoDaySliced, type DemoHistoryPlan } from '../src/simulator/history.js';
import { slicer } from '../src/time/turns.js';
import { Simulator } from '../src/simulator/simulator.js';
import { DAY, HOUR, dayStart } from '../src/time/zone.js';

const TZ = 'Asia/Shanghai';
const at = (date: string, hour = 0) => Date.parse(`${date}T00:00:00+08:00`) + hour * HOUR;
const shipped = Calendar.shipped();

function plan(from: string, to: number, seed = 1234): DemoHistoryPlan {
  const f = at(from);
  return { version: 3, from: f, to, seed, peakEventsPerSecond: 0.3, calendar: snapshotCalendar(shipped, f, to, TZ) };
}

/** Messages per local day of the plan, from the generator. */
function messagesByDay(p: DemoHistoryPlan): Map<number, number> {
  const days = demoDays(p, TZ);
  const out = new Map<number, number>();
  for (let i = 0; i < days.length; i++) {
    for (const e of generateDemoDay(p, days, i, TZ)) {
      expect(e.ts).toBeLessThan(p.to);
      if (e.type === 'message') out.set(dayStart(e.ts, TZ), (out.get(dayStart(e.ts, TZ)) ?? 0) + 1);
    }
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('demo history: shaped days', () => {
  // 2026-10-26 … 2026-11-24 12:00: the end of 双11's pre-sales, its peak on 11-11, and after.
  const p = plan('2026-10-26', at('2026-11-24', 12));
  const byDay = messagesByDay(p);
  const opts = { seed: p.seed, anchor: p.to, timezone: TZ, calendar: calendarOf(p.calendar!, TZ) };

  it('has quieter weekends than workdays (ordinary days, no campaign nearby)', () => {
    const ordinary = [...byDay].filter(([d]) => !dayFactor(opts, d).campaign && d < dayStart(p.to, TZ));
    const off = ordinary.filter(([d]) => dayFactor(opts, d).type === 'weekend').map(([, n]) => n);
    const work = ordinary.filter(([d]) => dayFactor(opts, d).type === 'workday').map(([, n]) => n);
    expect(off.length).toBeGreaterThanOrEqual(4);
    expect(work.length).toBeGreaterThanOrEqual(5);
    expect(mean(off) / mean(work)).toBeLessThan(0.9);
    expect(mean(off) / mean(work)).toBeGreaterThan(0.7);
  });

  it('lifts 双11: the peak day about double an ordinary workday, the day before it lifted too, a dip after', () => {
    const ordinaryWork = [...byDay].filter(([d]) => !dayFactor(opts, d).campaign && dayFactor(opts, d).type === 'workday' && d < dayStart(p.to, TZ)).map(([, n]) => n);
    const base = mean(ordinaryWork);
    expect(dayFactor(opts, at('2026-11-11')).peakOf).toBe('双11');
    expect(byDay.get(at('2026-11-11'))! / base).toBeGreaterThan(1.8);
    expect(byDay.get(at('2026-11-10'))! / base).toBeGreaterThan(1.3);
    expect(byDay.get(at('2026-11-10'))!).toBeLessThan(byDay.get(at('2026-11-11'))!);
    // Pre-sales (late October) above an ordinary workday, the days after the peak below it.
    expect(dayFactor(opts, at('2026-10-28')).campaign).toBe('双11');
    expect(dayFactor(opts, at('2026-11-13')).factor).toBeLessThan(dayFactor(opts, at('2026-11-11')).factor / 2);
    // The midnight rush: the peak day's first hour busier than an ordinary day's.
    const firstHour = (day: number) => {
      const days = demoDays(p, TZ);
      const i = days.indexOf(day);
      return generateDemoDay(p, days, i, TZ).filter((e) => e.ts < day + HOUR).length;
    };
    expect(firstHour(at('2026-11-11'))).toBeGreaterThan(2 * firstHour(at('2026-11-18')));
  });

  it('follows the published holidays and 调休, grows slowly, and is the same for the same plan', async () => {
    const p2 = plan('2026-09-18', at('2026-10-15', 9));
    const o2 = { seed: p2.seed, anchor: p2.to, timezone: TZ, calendar: calendarOf(p2.calendar!, TZ) };
    expect(dayFactor(o2, at('2026-10-03')).type).toBe('holiday');
    // 2026-09-20 (a Sunday) and 10-10 (a Saturday) are worked (国办 notice for 2026).
    expect(dayFactor(o2, at('2026-09-20')).type).toBe('makeup_workday');
    expect(dayFactor(o2, at('2026-10-10')).type).toBe('makeup_workday');
    // Trend: the same kind of day a month earlier is lower on average (noise aside: 4 workdays each).
    const work = (from: string) => [0, 1, 2, 3].map((k) => dayFactor(opts, at(from) + k * DAY).factor);
    expect(mean(work('2026-11-16'))).toBeGreaterThan(mean(work('2026-10-12')) * 1.02);
    // Deterministic: a day generated twice is the same traffic; another seed is not.
    const days = demoDays(p, TZ);
    const a = generateDemoDay(p, days, 3, TZ);
    expect(generateDemoDay(p, days, 3, TZ)).toEqual(a);
    // The fill generates a minute at a time with turns for the event loop: the same events.
    expect(await generateDemoDaySliced(p, days, 3, TZ, slicer(0, 1))).toEqual(a);
    expect(generateDemoDay({ ...p, seed: 99 }, days, 3, TZ).length).not.toBe(a.length);
  });

  it('reaches into the start day: today so far is filled first, and the live simulator continues at the plan’s end', async () => {
    const days = demoDays(p, TZ);
    expect(days[days.length - 1]).toBe(at('2026-11-24'));
    expect(demoFillOrder(days, true).slice(0, 3)).toEqual([days.length - 1, days.length - 2, days.length - 8]);
    // Live: start(from) continues at `from` (the history's end): its first tick is [from, now).
    const now = p.to + 5_000;
    const first = await new Promise<number[]>((resolve) => {
      const sim: Simulator = new Simulator(
        (es) => {
          sim.stop();
          resolve(es.map((e) => e.ts));
        },
        { peakEventsPerSecond: 200, seed: p.seed, levelAt: () => 1, now: () => now, tickMs: 10 },
      );
      sim.start(p.to);
    });
    expect(first.length).toBeGreaterThan(100);
    expect(Math.min(...first)).toBeGreaterThanOrEqual(p.to);
    expect(Math.min(...first)).toBeLessThan(p.to + 200);
    expect(Math.max(...first)).toBeLessThan(now);
  });
});
