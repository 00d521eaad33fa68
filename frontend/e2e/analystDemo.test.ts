/**
 * The analyst pages in the embedded demo (simulator on, loopback, no token): /trends,
 * /alerts and /reports carry the 演示数据 / DEMO DATA label the wall has, so a screenshot of
 * simulated traffic is never taken for real business figures; a real deployment shows none.
 *
 * The demo's history fill is said plainly while it runs (issue 12, point 6): the wall's header
 * and the analyst pages show 演示历史填充中 x/y 天 with the server's progress (Socket.IO ticks
 * for the wall, GET /api/v1/demo/history for the analyst pages), again after a restart that
 * resumes the fill, and nothing once the history is in. (2 days at 2 events/s to keep it
 * short: a few seconds of fill; `npm start` fills 30 days.)
 */
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { DemoHistoryAnswer } from '@siyu-pulse/contracts/live';
import { eventually, launchChromium, screenshot, startBackend, type Backend } from './harness';

const PAGES = ['/trends', '/alerts', '/reports'];
const DEMO = {
  PULSE_INGEST_KEYS: undefined, PULSE_READ_TOKEN: undefined, PULSE_ADMIN_TOKEN: undefined, PULSE_SIMULATOR: 'on',
  PULSE_DEMO_ALERT: 'off', PULSE_DEMO_HISTORY_DAYS: '2', PULSE_SIMULATOR_RATE: '2',
};
const FILL_LABEL = /^演示历史填充中 (\d+)\/(\d+) 天/;

/** The fill's progress as the analyst pages read it (open reading in the demo: no token). */
async function fillOf(url: string): Promise<DemoHistoryAnswer['fill']> {
  const r = await fetch(`${url}/api/v1/demo/history`);
  expect(r.status).toBe(200);
  return ((await r.json()) as DemoHistoryAnswer).fill;
}

async function fillLabel(page: Page): Promise<{ done: number; total: number }> {
  const el = page.locator('[data-testid="demo-history-fill"]');
  await el.waitFor({ state: 'visible', timeout: 10_000 });
  const text = ((await el.textContent()) ?? '').trim().replace(/\s+/g, ' ');
  const m = FILL_LABEL.exec(text);
  expect(m, text).not.toBeNull();
  return { done: Number(m![1]), total: Number(m![2]) };
}

describe('analyst pages: the demo label', () => {
  let demo: Backend | undefined;
  let real: Backend | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    [demo, real] = await Promise.all([
      startBackend(DEMO),
      startBackend(),
    ]);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await Promise.all([demo?.stop(), real?.stop()]);
    // The restarted demo reused the first one's data dir, which its stop() leaves.
    if (demo) await rm(demo.dataDir, { recursive: true, force: true });
  });

  // First, while the demo's history (started with the backend) is still filling.
  it('says 演示历史填充中 x/y 天 on the wall and the analyst pages while the history fills, again after a restart, and not once it is done', async () => {
    const ctx = await browser!.newContext({ viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const phoneCtx = await browser!.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const [wall, trends, phone] = await Promise.all([ctx.newPage(), ctx.newPage(), phoneCtx.newPage()]);
    await Promise.all([wall.goto(`${demo!.url}/`), trends.goto(`${demo!.url}/trends?kpi=messages&range=30d`), phone.goto(`${demo!.url}/reports`)]);
    // Today so far plus the 2 days before it: the server's count, the same on every page.
    for (const l of await Promise.all([fillLabel(wall), fillLabel(trends), fillLabel(phone)])) {
      expect(l.total).toBe(3);
      expect(l.done).toBeLessThan(3);
    }
    await Promise.all([screenshot(wall, 'demo-history-fill-wall-1080p.png'), screenshot(trends, 'demo-history-fill-trends-1080p.png'), screenshot(phone, 'demo-history-fill-reports-390.png')]);

    // Stopped mid-fill (Ctrl-C): the next start resumes it and says so again; a reload asks the server afresh.
    const before = await fillOf(demo!.url);
    expect(before, 'the fill was still running when the server was stopped').not.toBeNull();
    const { dataDir, port } = demo!;
    await demo!.kill('SIGTERM');
    demo = await startBackend(DEMO, { dataDir, port });
    await trends.reload();
    const resumed = await fillLabel(trends);
    expect(resumed.total).toBe(3);
    expect(resumed.done).toBeGreaterThanOrEqual(before!.daysDone);

    // Done: the server says no fill, and the pages stop saying it (the wall with its next tick).
    await eventually(async () => (await fillOf(demo!.url)) === null, 60_000, 'the fill to finish');
    await wall.goto(`${demo!.url}/`);
    await wall.locator('[data-testid="demo-badge"]').waitFor({ state: 'visible', timeout: 10_000 });
    await trends.locator('[data-testid="demo-history-fill"]').waitFor({ state: 'detached', timeout: 10_000 });
    await wall.waitForTimeout(1_500);
    expect(await wall.locator('[data-testid="demo-history-fill"]').count()).toBe(0);
    await Promise.all([ctx.close(), phoneCtx.close()]);
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
