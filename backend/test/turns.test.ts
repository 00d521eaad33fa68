/**
 * Turns for the event loop during an import batch and the demo's history generation
 * (time/turns.ts; issue 12 point 6: the trends query stalled 7–55 s during the demo fill):
 * - a sliced loop lets a waiting callback run before it ends; without turns it does not;
 * - the aggregate of a batch computed in slices is the one computed in one go;
 * - the demo's day generated a minute at a time is the day generated in one call.
 * Behaviour, not time: a slice of 0 ms gives a turn at every look at the clock.
 */
import { describe, expect, it } from 'vitest';
import type { CountableEvent } from '../src/collector/counters.js';
import { aggregateHistory, type AggregateOptions } from '../src/import/aggregate.js';
import { createMemberHasher } from '../src/ingest/memberHash.js';
import { sketchKeyOf } from '../src/sketch/hll.js';
import { demoDays, generateDemoDay, generateDemoDaySliced, type DemoHistoryPlan } from '../src/simulator/history.js';
import { noPause, slicer, type Pause } from '../src/time/turns.js';
import { DAY, HOUR, MINUTE, alignmentOffset, dayStart, floorTo } from '../src/time/zone.js';

const TZ = 'Asia/Shanghai';
const hasher = createMemberHasher('turns-test-salt-0123456789abcdef');
const opts: AggregateOptions = {
  bucketMs: 10_000,
  periodStart: (g, ts) => {
    const step = g === 'minute' ? MINUTE : g === 'hour' ? HOUR : DAY;
    return floorTo(ts, step, alignmentOffset(step, TZ, ts));
  },
  pushCapPerDay: 3,
  node: 'main',
  conflict: () => false,
};

/** Whether a callback queued with setImmediate before `work` started ran before `work` resolved. */
async function servedDuring(work: () => Promise<unknown>): Promise<boolean> {
  let ran = false;
  setImmediate(() => {
    ran = true;
  });
  await work();
  const during = ran;
  await new Promise((r) => setImmediate(r));
  return during;
}

describe('turns for the event loop', () => {
  const t0 = Date.UTC(2026, 10, 3, 2, 0, 0);
  const events: CountableEvent[] = Array.from({ length: 5_000 }, (_, i) => {
    const hash = hasher(`m${i % 700}`);
    return { type: i % 9 === 0 ? 'push.sent' : 'message', ts: t0 + i * 997, tags: { channel: `ch${i % 3}`, community: `g${i % 5}`, campaign: '' }, member: hash, sketchKey: sketchKeyOf(hash) };
  });

  it('a sliced loop serves a waiting callback before it ends; one without turns does not', async () => {
    const loop = async (pause: Pause) => {
      for (let i = 0; i < 10_000; i++) {
        const p = pause();
        if (p) await p;
      }
    };
    expect(await servedDuring(() => loop(slicer(0)))).toBe(true);
    expect(await servedDuring(() => loop(noPause))).toBe(false);
  });

  it('an import batch aggregated in slices gives way to the event loop and equals the one aggregated in one go', async () => {
    let sliced: Awaited<ReturnType<typeof aggregateHistory>> | undefined;
    expect(await servedDuring(async () => (sliced = await aggregateHistory(events, { importId: 'x', seq: 0 }, opts, slicer(0))))).toBe(true);
    const whole = await aggregateHistory(events, { importId: 'x', seq: 0 }, opts);
    expect(sliced!.counters).toEqual(whole.counters);
    expect(sliced!.sketchRanges).toEqual(whole.sketchRanges);
    // complete() merges in slices too, and writes the same rows.
    let out: Awaited<ReturnType<typeof whole.complete>> = null;
    expect(await servedDuring(async () => (out = await sliced!.complete([])))).toBe(true);
    expect(out).toEqual(await whole.complete([]));
    expect(out!.distinct.find((d) => d.granularity === 'day' && d.set === 'active' && d.channel === '')?.value).toBe(700);
  });

  it('the demo day generated a minute at a time is the day generated in one call', async () => {
    const now = Date.UTC(2026, 10, 20, 6, 0, 0);
    const plan: DemoHistoryPlan = { version: 2, from: dayStart(now - 2 * DAY, TZ), to: dayStart(now, TZ), seed: 12345, peakEventsPerSecond: 0.3 };
    const days = demoDays(plan, TZ);
    const one = generateDemoDay(plan, days, 1, TZ);
    expect(one.length).toBeGreaterThan(1_000);
    let sliced: Awaited<ReturnType<typeof generateDemoDaySliced>> = [];
    expect(await servedDuring(async () => (sliced = await generateDemoDaySliced(plan, days, 1, TZ, slicer(0, 1))))).toBe(true);
    expect(sliced).toEqual(one);
  });
});
