/**
 * Wall playlists on a real wall page (Chromium, 1920×1080, display token): an admin sets a
 * playlist of two boards for one display through the admin API; the open wall starts
 * rotating at once, shows which board is next with a countdown, and goes overview → push →
 * overview → push in order; a second display without a playlist stays put; the remote
 * control (`POST /api/v1/walls/control {action: playlist}`) stops it; a reload picks the
 * stored playlist up again; bad playlists are refused with the reason. Screenshot
 * wall-playlist-1080p.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, screenshot, startBackend, type Backend } from './harness';
import { admin, openWall, waitConnected, type WallPage } from './wall-helpers';

describe('wall playlists (Chromium, real wall page)', () => {
  let backend: Backend;
  let browser: Browser;
  let wall: WallPage;
  let other: WallPage;
  let displayId = '';

  beforeAll(async () => {
    backend = await startBackend();
    browser = await launchChromium();
    const a = await admin(backend, 'POST', '/api/v1/displays', { name: '前台大屏' });
    const b = await admin(backend, 'POST', '/api/v1/displays', { name: '会议室' });
    const created = a.json as { id: string; token: string };
    displayId = created.id;
    wall = await openWall(browser, backend, { token: created.token });
    other = await openWall(browser, backend, { token: (b.json as { token: string }).token });
    await waitConnected(wall.page);
    await waitConnected(other.page);
  });
  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  const boardOf = (w: WallPage) => w.page.locator('main.board').getAttribute('data-board');

  it('refuses a playlist with an unknown board, one board, or too short an interval', async () => {
    for (const [items, why] of [
      [[{ board: 'overview', seconds: 5 }, { board: 'nope', seconds: 5 }], 'no board "nope"'],
      [[{ board: 'overview', seconds: 5 }], 'at least two boards'],
      [[{ board: 'overview', seconds: 1 }, { board: 'push', seconds: 5 }], '>=3'],
    ] as const) {
      const r = await admin(backend, 'PUT', `/api/v1/playlists/${displayId}`, { items });
      expect(r.status).toBe(400);
      expect((r.json as { error: string }).error).toContain(why);
    }
    expect((await admin(backend, 'PUT', '/api/v1/playlists/not-a-display', { items: [{ board: 'overview', seconds: 5 }, { board: 'push', seconds: 5 }] })).status).toBe(404);
  });

  it('rotates two boards in order on the display it was set for, showing which is next', async () => {
    expect(await boardOf(wall)).toBe('overview');
    const r = await admin(backend, 'PUT', `/api/v1/playlists/${displayId}`, { items: [{ board: 'overview', seconds: 4 }, { board: 'push', seconds: 4 }] });
    expect(r.status).toBe(200);
    expect((r.json as { sent: number }).sent).toBe(1);
    const next = wall.page.locator('[data-test="playlist-next"]');
    await next.waitFor({ timeout: 10_000 });
    expect(await next.getAttribute('data-next-board')).toBe('push');
    expect(await next.innerText()).toMatch(/^下一屏：推送与互动 · [1-4] 秒$/);
    await screenshot(wall.page, 'wall-playlist-1080p');

    const seen: string[] = [(await boardOf(wall))!];
    const deadline = Date.now() + 30_000;
    while (seen.length < 4 && Date.now() < deadline) {
      const b = await boardOf(wall);
      if (b && b !== seen[seen.length - 1]) seen.push(b);
      await wall.page.waitForTimeout(200);
    }
    expect(seen).toEqual(['overview', 'push', 'overview', 'push']);
    expect(await next.getAttribute('data-next-board')).toBe('overview');
    await screenshot(wall.page, 'wall-playlist-push-1080p');
    // The other display has no playlist: it stays on its board, with no "next" label.
    expect(await boardOf(other)).toBe('overview');
    expect(await other.page.locator('[data-test="playlist-next"]').count()).toBe(0);
  });

  it('a reload picks the stored playlist up; the remote control stops it', async () => {
    await wall.page.reload();
    await waitConnected(wall.page);
    await wall.page.locator('[data-test="playlist-next"]').waitFor({ timeout: 10_000 });
    const stop = await admin(backend, 'POST', '/api/v1/walls/control', { action: 'playlist', items: null, target: displayId });
    expect(stop.status).toBe(200);
    await wall.page.locator('[data-test="playlist-next"]').waitFor({ state: 'detached', timeout: 10_000 });
    const stayed = await boardOf(wall);
    await wall.page.waitForTimeout(5_000);
    expect(await boardOf(wall)).toBe(stayed);
    expect(((await admin(backend, 'GET', '/api/v1/playlists')).json as { playlists: object }).playlists).toEqual({});
    expect(wall.errors).toEqual([]);
    expect(other.errors).toEqual([]);
  });
});
