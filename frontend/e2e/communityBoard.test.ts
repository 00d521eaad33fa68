/**
 * The built-in 社群运营 board in Chromium at 1920×1080 with 20,000 named groups (the skewed
 * generated population): the panel lists the most active groups today by name in the order
 * of their active members (distinct members who sent messages), growing and losing groups with signed member counts, the count of
 * groups, pages turn when a list is longer than the panel, nothing overflows or clips.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { groupPopulation } from '../../backend/src/communities/population';
import { eventually, FRONTEND_INDEX, getJson, launchChromium, postEvents, screenshot, startBackend, type Backend, type PulseEvent } from './harness';
import { clippedPanels, openWall, overflowing, waitConnected } from './wall-helpers';

const N = 20_000;

describe('wall: 社群 board over 20,000 groups (Chromium, 1920×1080)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  const pop = groupPopulation(N, 17, 60);

  beforeAll(async () => {
    if (!existsSync(FRONTEND_INDEX)) throw new Error(`${FRONTEND_INDEX} is missing: build first (npm run build)`);
    backend = await startBackend();
    browser = await launchChromium();
    const now = Date.now();
    const ev: PulseEvent[] = [];
    let k = 0;
    const ts = () => now - 1000 - ((k++ * 7919) % 120_000);
    // Each group's messages come from a pool of 0.6 × as many members: its active members today.
    const pool = (g: (typeof pop)[number]) => Math.max(1, Math.round(g.messages * 0.6));
    for (const g of pop) {
      for (let i = 0; i < g.messages; i++) ev.push({ type: 'message', channel: 'wechat_group', community: g.id, ts: ts(), member: `${g.id}-m${i % pool(g)}` });
      for (let i = 0; i < g.joins; i++) ev.push({ type: 'member.join', channel: 'wechat_group', community: g.id, ts: ts() });
      for (let i = 0; i < g.leaves; i++) ev.push({ type: 'member.leave', channel: 'wechat_group', community: g.id, ts: ts() });
    }
    // One group loses 40 members: the top of 流失成员.
    for (let i = 0; i < 40; i++) ev.push({ type: 'member.leave', channel: 'wechat_group', community: pop[777]!.id, ts: ts() });
    for (let i = 0; i < ev.length; i += 10_000) await postEvents(backend, ev.slice(i, i + 10_000));
    const res = await fetch(`${backend.url}/api/v1/communities/names`, { method: 'PUT', headers: { authorization: `Bearer ${backend.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ names: Object.fromEntries(pop.map((g) => [g.id, g.name])) }) });
    expect(res.status).toBe(200);
    await eventually(async () => (await getJson<{ groups: number }>(backend!, '/api/v1/communities/top?range=24h&limit=1')).groups === N, 120_000, 'all groups stored');
    await eventually(async () => (await getJson<{ groups: number }>(backend!, '/api/v1/communities/active?range=today&limit=1')).groups === N, 120_000, 'every group’s active members stored');
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('ranks groups by name, turns pages, and fits the wall', async () => {
    const b = backend!;
    const wall = await openWall(browser!, b, { query: 'board=communities' });
    await waitConnected(wall.page);
    expect((await wall.page.textContent('[data-testid="board-title"]'))?.trim()).toBe('社群运营');
    expect(await wall.page.innerText('[data-list="active"] .cm__head')).toContain('最活跃 · 活跃人数');
    await wall.page.waitForSelector('[data-list="active"] [data-test="community-row"]', { timeout: 30_000 });
    // Read the page on show with its rows (the panel may already have turned a page).
    const shown = await wall.page.evaluate(() => ({
      page: document.querySelector('[data-list="active"] [data-test="community-page"]')?.textContent ?? '',
      names: [...document.querySelectorAll('[data-list="active"] [data-test="community-row"] .cm__name')].map((e) => e.textContent ?? ''),
    }));
    const page = Number(shown.page.split('/')[0]) - 1;
    expect(shown.page).toMatch(/^[123]\/3$/);
    const members = (g: (typeof pop)[number]) => Math.max(1, Math.round(g.messages * 0.6));
    const expected = [...pop].sort((a, c) => members(c) - members(a) || (a.id < c.id ? -1 : 1)).slice(page * 6, page * 6 + 6).map((g) => g.name);
    expect(shown.names).toEqual(expected);
    expect(await wall.page.innerText('[data-list="losing"] [data-test="community-row"] .cm__name >> nth=0')).toBe(pop[777]!.name);
    expect(await wall.page.innerText('[data-list="losing"] [data-test="community-row"] .cm__value >> nth=0')).toMatch(/^−\d+$/);
    expect(await wall.page.innerText('[data-test="community-count"]')).toContain('2.0万');
    await wall.page.waitForTimeout(1_000);
    await screenshot(wall.page, 'wall-communities-1080p.png');
    expect(await overflowing(wall.page)).toEqual([]);
    expect(await clippedPanels(wall.page)).toEqual([]);
    // Lists longer than a page rotate through 1/3, 2/3, 3/3 (ranks 1, 7, 13 on top).
    await eventually(async () => (await wall.page.innerText('[data-list="active"] [data-test="community-page"]')) === '2/3', 30_000, 'page 2/3');
    expect(await wall.page.innerText('[data-list="active"] [data-test="community-row"] .cm__rank >> nth=0')).toBe('7');
    expect(wall.errors).toEqual([]);
    await wall.context.close();
  }, 120_000);
});
