/**
 * Campaigns as bands, in Chromium against the real backend: an admin creates two campaigns
 * through the API (one on every channel running now, one on WeCom only earlier today); the
 * trends page draws both with their names (the WeCom one named with its channel, and gone
 * when filtered to another channel), and the wall's trend panels draw the one running in
 * their last hour. Screenshots at 1920×1080.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, postEvents, screenshot, startBackend, type Backend, type PulseEvent } from './harness';

const MIN = 60_000;
const H = 3_600_000;

async function admin(b: Backend, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${b.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${b.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: await res.json() };
}

describe('campaign bands (Chromium)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    backend = await startBackend({ PULSE_LATENESS_SECONDS: '10800' });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    // Messages and push opens every minute over the last 3 hours on two channels.
    const now = Date.now();
    const ev: PulseEvent[] = [];
    let n = 0;
    for (let t = now - 3 * H + MIN; t < now; t += MIN) {
      for (const channel of ['wecom', 'sms']) {
        const k = 3 + ((t / MIN) % 5);
        for (let i = 0; i < k; i++) ev.push({ id: `m${n++}`, type: 'message', ts: t + i * 100, channel });
        for (let i = 0; i < 10; i++) ev.push({ id: `d${n++}`, type: 'push.delivered', ts: t + i * 100, channel });
        for (let i = 0; i < 2 + (k % 3); i++) ev.push({ id: `o${n++}`, type: 'push.open', ts: t + i * 100 + 50, channel });
      }
    }
    expect((await postEvents(backend, ev)).rejected).toEqual([]);
    const live = await admin(backend, 'POST', '/api/v1/campaigns', { id: 'live-now', name: '会员日直播', start: now - 30 * MIN, end: now + H });
    expect(live.status, JSON.stringify(live.json)).toBe(201);
    const wecom = await admin(backend, 'POST', '/api/v1/campaigns', { id: 'wecom-push', name: '企微专场', start: now - 150 * MIN, end: now - 100 * MIN, channels: ['wecom'] });
    expect(wecom.status, JSON.stringify(wecom.json)).toBe(201);
  });
  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('the trends page draws both campaigns as named bands; a channel filter keeps only its own', async () => {
    const b = backend!;
    await page.goto(`${b.url}/trends?kpi=messages&range=24h`);
    const chart = page.locator('[data-test="trends-chart"]');
    // Signed in already when the test is retried on the same page (the token is kept).
    const tokenInput = page.locator('[data-test="token-input"]');
    await tokenInput.or(chart).first().waitFor({ timeout: 60_000 });
    if (await tokenInput.isVisible()) {
      await tokenInput.fill(b.readToken);
      await page.click('[data-test="sign-in-submit"]');
    }
    await chart.waitFor({ timeout: 60_000 });
    await expect.poll(() => chart.getAttribute('data-campaign-bands')).toBe('企微专场、会员日直播');
    await page.waitForTimeout(500);
    await screenshot(page, 'trends-campaign-bands');

    await page.goto(`${b.url}/trends?kpi=messages&range=24h&channel=sms`);
    await chart.waitFor({ timeout: 60_000 });
    await expect.poll(() => chart.getAttribute('data-campaign-bands')).toBe('会员日直播');
    await page.goto(`${b.url}/trends?kpi=messages&range=24h&channel=wecom`);
    await expect.poll(() => chart.getAttribute('data-campaign-bands')).toBe('企微专场、会员日直播');
  });

  it("the wall's trend panels draw the campaign running in their last hour", async () => {
    const b = backend!;
    await page.goto(`${b.url}/?token=${encodeURIComponent(b.readToken)}`);
    await page.waitForSelector('[data-testid="connection-state"][data-state="connected"]', { timeout: 20_000 });
    const charts = page.locator('[data-chart][data-campaign-bands]');
    await expect.poll(() => charts.count(), { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
    for (const c of await charts.all()) await expect.poll(() => c.getAttribute('data-campaign-bands'), { timeout: 20_000 }).toBe('会员日直播');
    await page.waitForTimeout(1_500);
    await screenshot(page, 'wall-campaign-bands');

    // Deleted through the API: gone from the wall at its next load (a reconnect reloads).
    expect((await admin(b, 'DELETE', '/api/v1/campaigns/live-now')).status).toBe(200);
    await page.reload();
    await page.waitForSelector('[data-testid="connection-state"][data-state="connected"]', { timeout: 20_000 });
    await expect.poll(() => page.locator('[data-chart]').first().getAttribute('data-campaign-bands'), { timeout: 20_000 }).toBe('');
    expect(errors).toEqual([]);
  });
});
