/**
 * Remote control of open walls through the socket (admin `POST /api/v1/walls/control`):
 * switch board without a reload (and without leaking listeners or chart instances across
 * switches), reload (a real navigation), and a revoked display token (a clear full-screen
 * state, then silence: no retry storm against a server that will keep refusing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { eventually, launchChromium, screenshot, sleep, startBackend, type Backend } from './harness';
import { admin, boardsOf, openWall, readTiles, waitConnected } from './wall-helpers';

/** Event listeners on window and document, counted by the DevTools protocol. */
async function listenerCount(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  let total = 0;
  for (const expr of ['window', 'document']) {
    const { result } = (await cdp.send('Runtime.evaluate', { expression: expr })) as { result: { objectId: string } };
    const { listeners } = (await cdp.send('DOMDebugger.getEventListeners', { objectId: result.objectId })) as { listeners: unknown[] };
    total += listeners.length;
  }
  await cdp.detach();
  return total;
}

const board = (page: Page) => page.getAttribute('main.board', 'data-board');
const marker = (page: Page) => page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument === true);

describe('wall: remote control', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    backend = await startBackend({});
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('switches board without a reload, leaks nothing across switches, and reloads on command', async () => {
    const b = backend!;
    const boards = await boardsOf(b);
    const push = boards.boards.find((x) => x.id === 'push')!;
    const overview = boards.boards.find((x) => x.id === 'overview')!;
    const { page, context, errors } = await openWall(browser!, b);
    await waitConnected(page);
    expect(await board(page)).toBe('overview');
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    const listenersBefore = await listenerCount(page);
    const chartsOverview = await page.locator('[data-chart]').count();

    expect((await admin(b, 'POST', '/api/v1/walls/control', { action: 'board', board: 'push' })).status).toBe(200);
    await eventually(async () => (await board(page)) === 'push', 10_000, 'the wall to switch to the push board');
    expect(Object.keys(await readTiles(page))).toEqual(push.tiles);
    expect(await page.locator('[data-panel]').evaluateAll((els) => els.map((e) => e.getAttribute('data-panel')))).toEqual(push.panels);
    expect(await marker(page)).toBe(true); // no reload
    expect(new URL(page.url()).searchParams.get('board')).toBe('push'); // a later reload stays on it
    expect(await page.textContent('[data-testid="board-title"]')).toBe(push.title.zh);

    // Back and forth: the old board's charts are disposed, nothing accumulates.
    for (let i = 0; i < 6; i++) {
      const to = i % 2 === 0 ? 'overview' : 'push';
      await admin(b, 'POST', '/api/v1/walls/control', { action: 'board', board: to });
      await eventually(async () => (await board(page)) === to, 10_000, `switch to ${to}`);
    }
    await eventually(async () => (await board(page)) === 'push', 1_000, 'ends on push');
    await admin(b, 'POST', '/api/v1/walls/control', { action: 'board', board: 'overview' });
    await eventually(async () => (await board(page)) === 'overview', 10_000, 'back to overview');
    await page.waitForTimeout(500);
    expect(await page.locator('[data-chart]').count()).toBe(chartsOverview);
    expect(await page.locator('[data-chart] canvas').count()).toBeLessThanOrEqual(chartsOverview * 2); // ECharts: ≤ 2 canvases per chart
    expect(await listenerCount(page)).toBe(listenersBefore);
    expect(Object.keys(await readTiles(page))).toEqual(overview.tiles);

    // Reload: a real navigation of the open wall, which comes back on the board in its URL.
    const navigated = page.waitForEvent('framenavigated', { timeout: 10_000 });
    expect((await admin(b, 'POST', '/api/v1/walls/control', { action: 'reload' })).status).toBe(200);
    await navigated;
    await page.waitForLoadState('load');
    expect(await marker(page)).toBe(false);
    await waitConnected(page);
    expect(await board(page)).toBe('overview');
    expect(errors).toEqual([]);
    await context.close();
  });

  it('a revoked display token: full-screen notice, then no retries', async () => {
    const b = backend!;
    const created = (await admin(b, 'POST', '/api/v1/displays', { name: '3F 运营大屏' })).json as { id: string; token: string };
    expect(created.token).toBeTruthy();
    const { page, context } = await openWall(browser!, b, { token: created.token, query: 'board=push' });
    await waitConnected(page);
    expect(await board(page)).toBe('push');

    let requests = 0;
    page.on('request', (r) => {
      if (r.url().startsWith(b.url)) requests++;
    });
    expect((await admin(b, 'DELETE', `/api/v1/displays/${encodeURIComponent(created.id)}`)).status).toBe(200);
    const notice = page.locator('[data-testid="revoked"]');
    await notice.waitFor({ timeout: 10_000 });
    expect(await notice.textContent()).toContain('此显示令牌已被撤销');
    expect(await notice.textContent()).toContain('display token revoked');
    expect(await page.getAttribute('[data-testid="connection-state"]', 'data-state')).toBe('offline');
    await screenshot(page, 'wall-revoked-1080p.png');
    const after = requests;
    await sleep(8_000);
    expect(requests - after, 'requests after the revocation').toBe(0);

    // A wall opened later with the revoked token says so at once (the handshake is refused).
    const again = await openWall(browser!, b, { token: created.token });
    await again.page.locator('[data-testid="revoked"]').waitFor({ timeout: 10_000 });
    await again.context.close();
    await context.close();
  });
});
