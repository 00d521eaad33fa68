/**
 * 社群 type-ahead on the trends page in Chromium against the real backend with 20,000 groups
 * (the skewed generated population, every group named through the admin API): choosing
 * 社群 as the filter asks the server's search as the analyst types, never lists 20,000
 * values; typing part of a group's name finds it, picking it filters the chart to that group,
 * whose total equals the messages sent to it, and the chart and chip show the name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { groupPopulation } from '../../backend/src/communities/population';
import { eventually, getJson, launchChromium, postEvents, screenshot, startBackend, type Backend, type PulseEvent } from './harness';

const N = 20_000;
const TARGET = 12_345;
const TARGET_NAME = '北京望京店 VIP 7 群';

describe('trends: 社群 type-ahead over 20,000 groups (Chromium, 1440×900)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  const population = groupPopulation(N, 17, 40);

  beforeAll(async () => {
    backend = await startBackend();
    browser = await launchChromium();
    const now = Date.now();
    const events: PulseEvent[] = [];
    let k = 0;
    for (const g of population) for (let i = 0; i < g.messages; i++) events.push({ type: 'message', channel: 'wechat_group', community: g.id, ts: now - 1000 - ((k++ * 7919) % 120_000) });
    for (let i = 0; i < events.length; i += 10_000) await postEvents(backend, events.slice(i, i + 10_000));
    const names = Object.fromEntries(population.map((g, i) => [g.id, i === TARGET ? TARGET_NAME : g.name]));
    const res = await fetch(`${backend.url}/api/v1/communities/names`, { method: 'PUT', headers: { authorization: `Bearer ${backend.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ names }) });
    expect(res.status).toBe(200);
    await eventually(async () => (await getJson<{ groups: number }>(backend!, '/api/v1/communities/top?range=24h&limit=1')).groups === N, 120_000, 'all 20,000 groups stored');
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('finds a group by part of its name and filters the chart to it', async () => {
    const b = backend!;
    const target = population[TARGET]!;
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    const seriesUrls: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/v1/series')) seriesUrls.push(r.url());
    });
    await page.goto(`${b.url}/trends?kpi=messages&range=1h`);
    await page.fill('[data-test="token-input"]', b.readToken);
    await page.click('[data-test="sign-in-submit"]');
    await page.waitForSelector('[data-test="trends"][data-loading="false"]', { timeout: 20_000 });

    await page.selectOption('[data-test="filter-dim"]', 'community');
    await page.waitForSelector('[data-test="community-search"]');
    expect(await page.locator('[data-test="filter-value"]').count()).toBe(0);
    const searched = page.waitForResponse((r) => r.url().includes('/api/v1/communities/search') && r.url().includes(encodeURIComponent('望京')));
    await page.click('[data-test="community-search"]');
    await page.keyboard.type('望京', { delay: 30 });
    await searched;
    await page.waitForSelector(`[data-test="community-option"][data-id="${target.id}"]`);
    const options = await page.locator('[data-test="community-option"]').evaluateAll((els) => els.map((e) => e.textContent ?? ''));
    expect(options.length).toBeLessThanOrEqual(20);
    expect(options[0]).toContain(TARGET_NAME);
    await screenshot(page, 'trends-community-typeahead');

    // A common part ("北京") matches thousands: 20 listed and the rest counted.
    await page.fill('[data-test="community-search"]', '北京');
    await page.waitForSelector('[data-test="community-more"]');
    expect(await page.locator('[data-test="community-option"]').count()).toBe(20);
    expect(await page.innerText('[data-test="community-more"]')).toMatch(/另有 \d+ 个匹配/);

    await page.fill('[data-test="community-search"]', '望京');
    await page.waitForSelector(`[data-test="community-option"][data-id="${target.id}"]`);
    await page.click(`[data-test="community-option"][data-id="${target.id}"]`);
    await eventually(async () => new URL(page.url()).searchParams.get('community') === target.id, 10_000, 'community in the URL');
    await page.waitForSelector('[data-test="trends"][data-loading="false"]');
    expect(await page.innerText('[data-test="community-chosen"]')).toContain(TARGET_NAME);
    await eventually(async () => ((await page.getAttribute('[data-test="trends-chart"]', 'data-series-names')) ?? '').includes(TARGET_NAME), 10_000, 'series named after the group');
    const total = await page.locator(`[data-test="summary-row"] [data-test="summary-value"]`).first().innerText();
    expect(Number(total.replace(/[^\d.]/g, ''))).toBe(target.messages);
    await screenshot(page, 'trends-community-filtered');
    // No request ever split the page by 社群 (20,000 series).
    expect(seriesUrls.filter((u) => new URL(u).searchParams.get('by') === 'community')).toEqual([]);
    await context.close();
  }, 120_000);
});
