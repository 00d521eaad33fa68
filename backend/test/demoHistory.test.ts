/**
 * Demo history (issue 12, point 6): a demo start fills simulated history through the import
 * path while the wall is live, at the live simulator's rate (one setting); the stored days
 * equal the simulator's events for that plan exactly; yesterday is filled first; a restart
 * finds every batch in the import ledger and counts nothing again.
 * (2 days at 2 events/s here to keep the test short; `npm start` fills PULSE_DEMO_HISTORY_DAYS=30 at the demo rate.)
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_HISTORY_FILE, demoBatchMs, demoDays, demoFillOrder, generateDemoDay, type DemoHistoryPlan } from '../src/simulator/history.js';
import { DAY, dayStart } from '../src/time/zone.js';
import { startTestPulse } from './harness/pulse.js';

const TZ = 'Asia/Shanghai';
const ENV = { PULSE_DEMO: 'on', PULSE_SIMULATOR: 'on', PULSE_DEMO_ALERT: 'off', PULSE_DEMO_HISTORY_DAYS: '2', PULSE_SIMULATOR_RATE: '2' };

describe('demo history', () => {
  it('fills the days before the start through the import path, exactly the plan’s events, once across a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-demo-history-'));
    let p = await startTestPulse({ env: ENV, dataDir });
    try {
      // The wall answers while the history fills.
      expect((await p.get('/api/v1/snapshot')).status).toBe(200);
      const first = await p.demoHistory;
      const plan = JSON.parse(readFileSync(path.join(dataDir, DEMO_HISTORY_FILE), 'utf8')) as DemoHistoryPlan;
      // The live rate is the history's: one setting.
      expect(plan.peakEventsPerSecond).toBe(2);
      expect(first).toMatchObject({ batches: Math.ceil((plan.to - plan.from) / demoBatchMs(plan)), alreadyDone: 0 });
      expect(first!.yesterdaySeconds).toBeGreaterThan(0);
      expect(first!.yesterdaySeconds).toBeLessThanOrEqual(first!.seconds);
      expect(plan.from).toBe(dayStart(plan.to - 2 * DAY, TZ));
      const days = demoDays(plan, TZ);
      expect(days).toEqual([plan.from, dayStart(plan.to - DAY, TZ)]);
      // Yesterday first; a month: yesterday, a week before, then back from the day before yesterday.
      expect(demoFillOrder(days)).toEqual([1, 0]);
      expect(demoFillOrder(Array.from({ length: 30 }, (_, i) => i)).slice(0, 4)).toEqual([29, 23, 28, 27]);
      // The same plan, generated again: messages per local day before the start day.
      const want = new Map<number, number>();
      for (let i = 0; i < days.length; i++) for (const e of generateDemoDay(plan, days, i, TZ)) if (e.type === 'message') want.set(dayStart(e.ts, TZ), (want.get(dayStart(e.ts, TZ)) ?? 0) + 1);
      // Two days are two streams of one world: not the same traffic twice.
      expect(want.get(days[0]!)).not.toBe(want.get(days[1]!));
      expect(first!.events).toBeGreaterThan(0);
      const startDay = dayStart(plan.to, TZ);
      const read = async () => {
        const r = await p.get(`/api/v1/series?kpi=messages&from=${plan.from}&to=${startDay}&step=1d`);
        expect(r.status).toBe(200);
        return (r.json as { series: { points: [number, number | null][] }[] }).series[0]!.points;
      };
      const expected = [...want].filter(([d]) => d < startDay).sort((a, b) => a[0] - b[0]);
      expect(expected.length).toBe(2);
      expect(await read()).toEqual(expected);

      // Restart on the same data: the ledger has every batch, nothing is fed again.
      await p.close();
      p = await startTestPulse({ env: ENV, dataDir });
      expect(await p.demoHistory).toMatchObject({ batches: 0, events: 0, alreadyDone: first!.batches });
      await p.flushToStore();
      expect(await read()).toEqual(expected);
    } finally {
      await p.stopAndClean();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
