/**
 * Demo history (issue 12, point 6): a demo start fills simulated history through the import
 * path while the wall is live, at the live simulator's rate (one setting); the stored days
 * equal the simulator's events for that plan exactly, shaped by the calendar (a campaign's
 * peak day lifted; weekends and holidays: demoDayShape.test.ts); the history reaches up to
 * the start moment (today so far, filled first) and nothing after it; a restart finds every
 * batch in the import ledger and counts nothing again.
 * (3 days at 1 event/s here to keep the test short; `npm start` fills PULSE_DEMO_HISTORY_DAYS=30 at the demo rate.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEMO_HISTORY_FILE, demoBatchMs, demoDays, demoFillOrder, generateDemoDay, type DemoHistoryPlan } from '../src/simulator/history.js';
import { DAY, MINUTE, dayStart, floorTo } from '../src/time/zone.js';
import { startTestPulse } from './harness/pulse.js';

const TZ = 'Asia/Shanghai';
const ENV = { PULSE_DEMO: 'on', PULSE_SIMULATOR: 'on', PULSE_DEMO_ALERT: 'off', PULSE_DEMO_HISTORY_DAYS: '3', PULSE_SIMULATOR_RATE: '1' };

describe('demo history', () => {
  it('fills the days before the start and today up to it through the import path, exactly the plan’s shaped events, once across a restart', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-demo-history-'));
    // A campaign of the team's own (admin API file) whose last day, its peak, was yesterday.
    const today = dayStart(Date.now(), TZ);
    writeFileSync(path.join(dataDir, 'campaigns.json'), JSON.stringify({ version: 1, campaigns: [{ id: 'test-peak', name: '会员日', start: today - DAY, end: today }] }));
    const before = Date.now();
    let p = await startTestPulse({ env: ENV, dataDir });
    try {
      // The wall answers while the history fills.
      expect((await p.get('/api/v1/snapshot')).status).toBe(200);
      // …and says the history is still filling (the pages' 演示历史填充中 x/y 天), until it is in.
      const filling = await p.get('/api/v1/demo/history');
      expect(filling.status).toBe(200);
      expect(filling.json).toMatchObject({ fill: { daysTotal: 4 } });
      expect((filling.json as { fill: { daysDone: number } }).fill.daysDone).toBeLessThan(4);
      const first = await p.demoHistory;
      expect((await p.get('/api/v1/demo/history')).json).toEqual({ fill: null });
      const plan = JSON.parse(readFileSync(path.join(dataDir, DEMO_HISTORY_FILE), 'utf8')) as DemoHistoryPlan;
      // The live rate is the history's: one setting. The history ends at the start moment.
      expect(plan.peakEventsPerSecond).toBe(1);
      expect(plan.version).toBe(3);
      expect(plan.to).toBeGreaterThanOrEqual(before);
      expect(plan.to).toBeLessThanOrEqual(Date.now());
      expect(first).toMatchObject({ batches: Math.ceil((plan.to - plan.from) / demoBatchMs(plan)), alreadyDone: 0 });
      expect(first!.yesterdaySeconds).toBeGreaterThan(0);
      expect(first!.yesterdaySeconds).toBeLessThanOrEqual(first!.seconds);
      expect(plan.from).toBe(dayStart(plan.to - 3 * DAY, TZ));
      const days = demoDays(plan, TZ);
      const startDay = dayStart(plan.to, TZ);
      expect(days[days.length - 1]).toBe(startDay);
      expect(days).toHaveLength(4);
      // Today so far first, then yesterday; a month: today, yesterday, the same weekday a week before, then back.
      expect(demoFillOrder(days, true)).toEqual([3, 2, 1, 0]);
      expect(demoFillOrder(Array.from({ length: 31 }, (_, i) => i), true).slice(0, 4)).toEqual([30, 29, 23, 28]);
      // The same plan, generated again: messages per local day; nothing at or after the start moment.
      const want = new Map<number, number>();
      let beforeMinute = 0;
      for (let i = 0; i < days.length; i++) {
        for (const e of generateDemoDay(plan, days, i, TZ)) {
          expect(e.ts).toBeLessThan(plan.to);
          if (e.type !== 'message') continue;
          want.set(dayStart(e.ts, TZ), (want.get(dayStart(e.ts, TZ)) ?? 0) + 1);
          if (e.ts >= startDay && e.ts < floorTo(plan.to, MINUTE)) beforeMinute++;
        }
      }
      expect(first!.events).toBeGreaterThan(0);
      const read = async (from: number, to: number, step: string) => {
        const r = await p.get(`/api/v1/series?kpi=messages&from=${from}&to=${to}&step=${step}`);
        expect(r.status).toBe(200);
        return (r.json as { series: { points: [number, number | null][] }[] }).series[0]!.points;
      };
      const expected = [...want].filter(([d]) => d < startDay).sort((a, b) => a[0] - b[0]);
      expect(expected.length).toBe(3);
      expect(await read(plan.from, startDay, '1d')).toEqual(expected);
      // The campaign's peak day (yesterday) is lifted well above the days before it.
      const [d3, d2, d1] = expected.map(([, n]) => n);
      expect(d1!).toBeGreaterThan(1.5 * Math.max(d3!, d2!));
      // Today up to the start minute: the history's messages, no gap and nothing counted twice
      // (live traffic starts at the start moment, so no live message is before that minute).
      if (floorTo(plan.to, MINUTE) > startDay) {
        const sum = (await read(startDay, floorTo(plan.to, MINUTE), '1m')).reduce((a, [, v]) => a + (v ?? 0), 0);
        expect(sum).toBe(beforeMinute);
      }

      // Today is whole in memory (its history went through the collector) and yesterday is stored:
      // the wall's today tiles compare with yesterday at the same minute (read once a minute).
      await expect
        .poll(async () => ((await p.get('/api/v1/snapshot')).json as { windows: { today: { kpis: Record<string, { previous: number | null }> } } }).windows.today.kpis.messages!.previous, { timeout: 75_000, interval: 1_000 })
        .not.toBeNull();

      // Restart on the same data: the ledger has every batch, nothing is fed again.
      await p.close();
      p = await startTestPulse({ env: ENV, dataDir });
      expect(await p.demoHistory).toMatchObject({ batches: 0, events: 0, alreadyDone: first!.batches });
      await p.flushToStore();
      expect(await read(plan.from, startDay, '1d')).toEqual(expected);
    } finally {
      await p.stopAndClean();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});
