/**
 * The wall survives its backend: killed hard (SIGKILL: no goodbye, the socket just dies)
 * and stopped gracefully (SIGTERM: the server ends the sessions, which Socket.IO does not
 * retry on its own), each followed by a restart on the same port and data dir. The page is
 * never reloaded: the banner goes reconnecting → offline since hh:mm:ss, every tile greys
 * with 「连接中断」, then it reconnects by itself, gets a full snapshot, the values come
 * back (restored by the backend from its store) and live updates resume.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { LiveSnapshot } from '@siyu-pulse/contracts/live';
import { eventually, getJson, launchChromium, postEvents, screenshot, sleep, startBackend, type Backend } from './harness';
import { connectionState, openWall, overflowing, readTiles, staleTiles, waitConnected, type WallPage } from './wall-helpers';

const BUSINESS_NAME = '云朵母婴 · 私域运营中心';

describe('wall: backend killed and restarted (no page reload)', () => {
  let first: Backend | undefined;
  let current: Backend | undefined;
  let browser: Browser | undefined;
  let wall: WallPage | undefined;
  let n = 0;

  const order = (amount: number) => ({ id: `restart-${Date.now()}-${n++}`, type: 'order.paid', member: `m${n}`, channel: 'miniprogram', amount });

  async function restart(): Promise<Backend> {
    const f = first!;
    current = await startBackend(
      { PULSE_BUSINESS_NAME: BUSINESS_NAME, PULSE_LATENESS_SECONDS: '3600', PULSE_INGEST_KEYS: f.ingestKey, PULSE_READ_TOKEN: f.readToken, PULSE_ADMIN_TOKEN: f.adminToken },
      { port: f.port, dataDir: f.dataDir },
    );
    return current;
  }

  async function gmvShown(): Promise<string | undefined> {
    return (await readTiles(wall!.page)).gmv;
  }

  beforeAll(async () => {
    first = await startBackend({ PULSE_BUSINESS_NAME: BUSINESS_NAME, PULSE_LATENESS_SECONDS: '3600' });
    current = first;
    browser = await launchChromium();
  });

  afterAll(async () => {
    await wall?.context.close();
    await browser?.close();
    await current?.stop();
    if (current !== first) await first?.stop(); // removes the shared temp data dir
  });

  it('SIGKILL: offline banner and greyed tiles, then reconnects by itself with the values back', async () => {
    const b = first!;
    await postEvents(b, [order(10_000_00), order(2_345_60)]); // ¥12,345.60 → ¥1.2万
    wall = await openWall(browser!, b);
    const { page } = wall;
    await waitConnected(page);
    await eventually(async () => (await gmvShown()) === '¥1.2万', 15_000, 'GMV on the wall');
    await page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
    await sleep(2_500); // the collector flushes every second: the orders are in the store

    await b.kill('SIGKILL');
    expect(b.proc.signalCode).toBe('SIGKILL');
    await page.waitForSelector('[data-testid="connection-state"][data-state="reconnecting"]', { timeout: 10_000 });
    // Within three missed heartbeats every tile and panel says the link is down.
    await eventually(async () => Object.values(await staleTiles(page)).every((r) => r === 'link'), 8_000, 'tiles greyed with 连接中断');
    expect(await page.locator('[data-panel][data-stale-reason="link"]').count()).toBe(await page.locator('[data-panel]').count());
    await page.waitForSelector('[data-testid="connection-state"][data-state="offline"]', { timeout: 20_000 });
    expect(await page.textContent('[data-testid="connection-state"]')).toMatch(/离线 · 自 \d\d:\d\d:\d\d 起/);
    expect(await page.locator('section.tile [data-testid="stale-badge"]').first().textContent()).toBe('连接中断');
    expect(await overflowing(page)).toEqual([]); // the badges fit where they are shown
    expect(await page.locator('[data-testid="alerts-unknown"]').count()).toBe(1); // not: no alerts
    await screenshot(page, 'wall-offline-1080p.png');

    const c = await restart();
    await waitConnected(page, 30_000);
    await eventually(async () => Object.values(await staleTiles(page)).every((r) => r === ''), 10_000, 'tiles fresh again');
    // The same document (no reload), and the values are back: restored by the backend from its store.
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    expect(await gmvShown()).toBe('¥1.2万');
    expect((await getJson<LiveSnapshot>(c, '/api/v1/snapshot')).windows.today.kpis.gmv?.value).toBe(12_345_60);
    // And live again: a new order reaches the wall through ticks.
    await postEvents(c, [order(8_000_00)]);
    await eventually(async () => (await gmvShown()) === '¥2.0万', 15_000, 'a new order after the restart');
  });

  it('SIGTERM (deploy): the server ends the session; the wall retries by itself and recovers', async () => {
    const { page } = wall!;
    await current!.kill('SIGTERM');
    await page.waitForSelector('[data-testid="connection-state"]:not([data-state="connected"])', { timeout: 10_000 });
    expect(['reconnecting', 'offline']).toContain(await connectionState(page));
    const c = await restart();
    await waitConnected(page, 30_000);
    expect(await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await postEvents(c, [order(10_000_00)]);
    await eventually(async () => (await gmvShown()) === '¥3.0万', 15_000, 'a new order after the graceful restart');
    expect(wall!.errors).toEqual([]);
  });
});
