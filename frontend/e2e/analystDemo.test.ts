/**
 * The analyst pages in the embedded demo (simulator on, loopback, no token): /trends,
 * /alerts and /reports carry the 演示数据 / DEMO DATA label the wall has, so a screenshot of
 * simulated traffic is never taken for real business figures; a real deployment shows none.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshot, startBackend, type Backend } from './harness';

const PAGES = ['/trends', '/alerts', '/reports'];

describe('analyst pages: the demo label', () => {
  let demo: Backend | undefined;
  let real: Backend | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    [demo, real] = await Promise.all([
      startBackend({ PULSE_INGEST_KEYS: undefined, PULSE_READ_TOKEN: undefined, PULSE_ADMIN_TOKEN: undefined, PULSE_SIMULATOR: 'on' }),
      startBackend(),
    ]);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([demo?.stop(), real?.stop()]);
  });

  it('says 演示数据 on /trends, /alerts and /reports in demo mode (DEMO DATA in English)', async () => {
    const context = await browser!.newContext({ viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    for (const path of PAGES) {
      await page.goto(`${demo!.url}${path}`);
      const badge = page.locator('[data-testid="demo-badge"]');
      await badge.waitFor({ state: 'visible', timeout: 20_000 });
      expect((await badge.textContent())?.trim(), path).toBe('演示数据');
    }
    await page.goto(`${demo!.url}/trends`);
    await page.locator('[data-testid="demo-badge"]').waitFor({ state: 'visible', timeout: 20_000 });
    await page.waitForTimeout(1_500);
    await screenshot(page, 'trends-demo-1080p.png');
    await page.click('.bar button.lang');
    expect((await page.locator('[data-testid="demo-badge"]').textContent())?.trim()).toBe('DEMO DATA');
    await context.close();
  });

  it('shows no label on a real deployment', async () => {
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${real!.url}/trends`);
    await page.fill('[data-test="token-input"]', real!.readToken);
    await page.keyboard.press('Enter');
    await page.locator('[data-test="nav-trends"]').waitFor();
    await page.locator('[data-test="role"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-testid="demo-badge"]').count()).toBe(0);
    await context.close();
  });
});
