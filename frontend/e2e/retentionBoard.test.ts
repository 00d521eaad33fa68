/**
 * The built-in `retention` board (月活与留存) in Chromium at 1920×1080 on 40 days of history
 * POSTed with past ts: 200 members, 120 of them active in each of the last two weeks with 100
 * shared, so the tiles show 月活, 人均互动频次（月）, 7 / 30 日留存率 and 复购率 as the series API
 * answers them for today; nothing clipped. The server is restarted on the same data so the
 * wall's month values (computed at start, then each minute with new events) include the history.
 * Screenshot: test-artifacts/wall-retention-1080p.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { FRONTEND_INDEX, eventually, getJson, launchChromium, postEvents, screenshot, startBackend, type Backend, type PulseEvent } from './harness';
import { boardsOf, clippedPanels, openWall, overflowing, readTiles, waitConnected } from './wall-helpers';

const DAY = 86_400_000;
/** Local midnight in Asia/Shanghai (UTC+8, no DST). */
const dayStart = (t: number) => Math.floor((t + 8 * 3_600_000) / DAY) * DAY - 8 * 3_600_000;

describe('wall: 月活与留存 board on 40 days of history (Chromium, 1920×1080)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'pulse-e2e-retention-'));
  const env = { PULSE_SALT: 'e2e-retention-salt-0123456789abcdef', PULSE_INGEST_KEYS: 'e2e-retention-key', PULSE_READ_TOKEN: 'e2e-retention-read' };

  beforeAll(async () => {
    if (!existsSync(FRONTEND_INDEX)) throw new Error(`${FRONTEND_INDEX} is missing: build first (npm run build)`);
    const first = await startBackend(env, { dataDir });
    const today = dayStart(Date.now());
    const events: PulseEvent[] = [];
    // The 7-day windows ending today: days 7–13 back hold members 0–119, days 1–6 back 20–139.
    for (let d = 1; d <= 13; d++) {
      const ts = today - d * DAY + 10 * 3_600_000;
      const members = d >= 7 ? [0, 120] : [20, 140];
      for (let m = members[0]!; m < members[1]!; m++) {
        events.push({ type: 'message', channel: m % 2 ? 'wecom' : 'wechat_group', member: `m${m}`, ts });
        if ((m + d) % 3 === 0) events.push({ type: 'interaction', channel: 'wecom', member: `m${m}`, ts });
      }
      if (d % 7 === 3) for (let m = 0; m < 30; m++) events.push({ type: 'order.paid', channel: 'miniprogram', member: `m${m + (d >= 7 ? 0 : 20)}`, amount: 9_900, ts });
    }
    // And 30 days before, for the 30-day rates: members 0–59 and buyers 0–9.
    for (let d = 31; d <= 40; d += 3) {
      const ts = today - d * DAY + 10 * 3_600_000;
      for (let m = 0; m < 60; m++) events.push({ type: 'message', channel: 'wecom', member: `m${m}`, ts });
      for (let m = 0; m < 10; m++) events.push({ type: 'order.paid', channel: 'miniprogram', member: `m${m}`, amount: 9_900, ts });
    }
    for (let i = 0; i < events.length; i += 5_000) expect((await postEvents(first, events.slice(i, i + 5_000))).rejected).toEqual([]);
    await first.stop(); // a clean stop flushes counters and sketches
    backend = await startBackend(env, { dataDir });
    // A few events today (after the restart, so the tiles are fresh rather than 等待数据).
    const today10 = Array.from({ length: 10 }, (_, i): PulseEvent => ({ type: 'message', channel: 'wecom', member: `m${20 + i}` }));
    expect((await postEvents(backend, today10)).rejected).toEqual([]);
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows the month-level tiles with the series API\'s values for today, without clipping', async () => {
    const b = backend!;
    const board = (await boardsOf(b)).boards.find((x) => x.id === 'retention')!;
    expect(board.tiles).toEqual(['active_members_30d', 'interactions_per_member_month', 'retention_7d', 'retention_30d', 'repeat_purchase_rate', 'active_members']);
    const today = dayStart(Date.now());
    const apiToday = async (kpi: string) => {
      const s = await getJson<{ series: { points: [number, number | null][] }[] }>(b, `/api/v1/series?kpi=${kpi}&from=${today}&to=${today + DAY}&step=1d`);
      return s.series[0]!.points[0]![1];
    };
    // Members 0–139 in the 30 days; the last week kept 100 of the 120 before it.
    expect(await apiToday('active_members_30d')).toBe(140);
    expect(await apiToday('retention_7d')).toBeCloseTo(100 / 120, 9);

    const wall = await openWall(browser!, b, { query: 'board=retention' });
    await waitConnected(wall.page);
    expect((await wall.page.textContent('[data-testid="board-title"]'))?.trim()).toBe('月活与留存');
    const tiles = await eventually(async () => {
      const r = await readTiles(wall.page);
      return r.active_members_30d === '140' ? r : undefined;
    }, 20_000, 'the month tiles to show the history');
    expect(Object.keys(tiles)).toEqual(board.tiles);
    expect(tiles.retention_7d).toBe('83.3%');
    for (const k of ['interactions_per_member_month', 'retention_30d', 'repeat_purchase_rate']) expect(tiles[k], k).not.toMatch(/^—?$/);
    expect((await wall.page.textContent('[data-kpi="interactions_per_member_month"] h2'))?.trim()).toBe('人均互动（月）');
    await wall.page.waitForTimeout(1_500); // let the charts settle
    await screenshot(wall.page, 'wall-retention-1080p.png');
    expect(await overflowing(wall.page)).toEqual([]);
    expect(await clippedPanels(wall.page)).toEqual([]);
    expect(wall.errors).toEqual([]);
    await wall.context.close();
  }, 60_000);
});
