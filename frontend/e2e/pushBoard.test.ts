/**
 * The built-in `push` board in Chromium at 1920×1080 with push fatigue on it: four members
 * pushed 1, 3, 4 and 7 times today (cap 3) → the 超频触达占比 tile shows 50.0%, the snapshot's
 * value formatted; six tiles in one row and four panels, nothing clipped or overflowing.
 * Screenshot: test-artifacts/wall-push-1080p.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { LiveSnapshot } from '@siyu-pulse/contracts/live';
import { formatKpi } from '@siyu-pulse/contracts/format';
import { eventually, FRONTEND_INDEX, getJson, launchChromium, postEvents, screenshot, startBackend, type Backend, type PulseEvent } from './harness';
import { boardsOf, clippedPanels, openWall, overflowing, readTiles, waitConnected } from './wall-helpers';

const MINUTE = 60_000;
const KPI = 'push_over_cap_share';

/** Pushes in order: [member, channel, count]. */
const PUSHES: [string, string, number][] = [
  ['u1', 'wecom', 1],
  ['u3', 'wecom', 2],
  ['u3', 'sms', 1],
  ['u4', 'wecom', 3],
  ['u4', 'sms', 1],
  ['u7', 'app_push', 3],
  ['u7', 'wecom', 1],
  ['u7', 'app_push', 3],
];

function batch(runId: string, now: number): PulseEvent[] {
  const ev: PulseEvent[] = [];
  let n = 0;
  const id = () => `${runId}-${n++}`;
  // Today, within the last minutes (and never before local midnight: pushes must be "today").
  const sinceMidnight = (now + 8 * 3_600_000) % 86_400_000;
  const at = (k: number) => now - Math.min(sinceMidnight - 1_000, 3 * MINUTE) + k * 1_000;
  for (const [member, channel, count] of PUSHES) for (let i = 0; i < count; i++) ev.push({ id: id(), type: 'push.sent', ts: at(n), member: `${runId}-${member}`, channel });
  for (let i = 1; i <= 10; i++) ev.push({ id: id(), type: 'push.delivered', member: `${runId}-d${i}`, channel: 'wecom' });
  for (let i = 1; i <= 4; i++) ev.push({ id: id(), type: 'push.open', member: `${runId}-d${i}`, channel: 'wecom' });
  ev.push({ id: id(), type: 'push.click', member: `${runId}-d1`, channel: 'wecom' });
  for (let i = 1; i <= 12; i++) ev.push({ id: id(), type: 'message', member: `${runId}-d${(i % 5) + 1}`, channel: 'wecom' });
  for (let i = 1; i <= 5; i++) ev.push({ id: id(), type: 'interaction', member: `${runId}-d${i}`, channel: 'wecom' });
  ev.push({ id: id(), type: 'member.join', member: `${runId}-new`, channel: 'wecom' });
  return ev;
}

describe('wall: push board with push fatigue (Chromium, 1920×1080)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(FRONTEND_INDEX)) throw new Error(`${FRONTEND_INDEX} is missing: build first (npm run build)`);
    backend = await startBackend({ PULSE_LATENESS_SECONDS: '3600' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('shows 超频触达占比 = 2 of 4 pushed members, formatted, without clipping', async () => {
    const b = backend!;
    const board = (await boardsOf(b)).boards.find((x) => x.id === 'push')!;
    expect(board.tiles).toContain(KPI);

    const result = await postEvents(b, batch(`push-e2e-${Date.now()}`, Date.now()));
    expect(result.rejected).toEqual([]);
    const snap = await eventually(
      async () => {
        const s = await getJson<LiveSnapshot>(b, '/api/v1/snapshot');
        return s.windows.today.kpis[KPI]?.value !== null ? s : undefined;
      },
      20_000,
      'the snapshot to include the pushes',
    );
    expect(snap.windows.today.kpis[KPI]!.value).toBe(0.5);

    const wall = await openWall(browser!, b, { query: 'board=push' });
    await waitConnected(wall.page);
    expect((await wall.page.textContent('[data-testid="board-title"]'))?.trim()).toBe('推送与互动');
    const tiles = await eventually(async () => {
      const t = await readTiles(wall.page);
      return t[KPI] === formatKpi(0.5, 'percent', 'zh') ? t : undefined;
    }, 20_000, 'the push fatigue tile to show 50.0%');
    expect(tiles[KPI]).toBe('50.0%');
    expect(Object.keys(tiles)).toEqual(board.tiles);
    expect((await wall.page.textContent(`[data-kpi="${KPI}"] h2`))?.trim()).toBe('超频触达占比');
    expect(await wall.page.locator(`[data-kpi="${KPI}"][data-stale="true"]`).count()).toBe(0);
    // A less-is-better target is a ceiling: 50% against 5% is "超出 900%", not "达成 1,000%".
    expect((await wall.page.innerText(`[data-kpi="${KPI}"] [data-testid="kpi-target"]`)).replace(/\s+/g, ' ').trim()).toBe('上限 5.0% 超出 900.0%');
    await wall.page.waitForTimeout(1_500); // let the charts settle
    await screenshot(wall.page, 'wall-push-1080p.png'); // before the layout checks: a failure is then visible
    expect(await overflowing(wall.page)).toEqual([]);
    expect(await clippedPanels(wall.page)).toEqual([]);
    for (const p of board.panels) expect(await wall.page.locator(`[data-panel="${p}"]`).count(), `panel ${p}`).toBe(1);
    expect(wall.errors).toEqual([]);
    await wall.context.close();
  });
});
