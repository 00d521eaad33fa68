/**
 * A stopped data source greys ITS tiles, not the whole wall. Two producers: the order
 * system on `miniprogram` (page views, paid orders) and a WeCom bridge on `wecom` (member
 * joins, push deliveries and opens). With `?staleAfter=4` (seconds without new data before
 * a tile greys; the default is 180 = 3 × the 60 s data cadence), stopping the WeCom bridge
 * greys 新增成员 and 推送打开率 (and the open-rate panel) with 「数据停滞」 while GMV and
 * conversion stay live; the heartbeat keeps the banner at 实时 (a quiet source is not a dead
 * connection). Stopping everything greys every tile; the first event back clears its tiles.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { eventually, launchChromium, postEvents, screenshot, startBackend, type Backend, type PulseEvent } from './harness';
import { connectionState, openWall, overflowing, staleTiles, waitConnected } from './wall-helpers';

describe('wall: a stopped data source greys its tiles', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  const timers: ReturnType<typeof setInterval>[] = [];

  beforeAll(async () => {
    backend = await startBackend({});
    browser = await launchChromium();
  });
  afterAll(async () => {
    timers.forEach(clearInterval);
    await browser?.close();
    await backend?.stop();
  });

  let n = 0;
  const id = () => `stale-${n++}`;
  const orderSystem = (): PulseEvent[] => [
    { id: id(), type: 'page.view', member: `m${n % 50}`, channel: 'miniprogram' },
    { id: id(), type: 'page.view', member: `m${(n + 7) % 50}`, channel: 'miniprogram' },
    { id: id(), type: 'order.paid', member: `m${n % 50}`, channel: 'miniprogram', amount: 9_900 },
  ];
  const wecomBridge = (): PulseEvent[] => [
    { id: id(), type: 'member.join', member: `w${n}`, channel: 'wecom' },
    { id: id(), type: 'push.delivered', member: `w${n}`, channel: 'wecom' },
    { id: id(), type: 'push.delivered', member: `w${n + 1}`, channel: 'wecom' },
    { id: id(), type: 'push.open', member: `w${n}`, channel: 'wecom' },
  ];
  /** A producer posting every 500 ms until stopped. */
  function produce(make: () => PulseEvent[]): () => void {
    const t = setInterval(() => void postEvents(backend!, make()).catch(() => {}), 500);
    timers.push(t);
    return () => clearInterval(t);
  }

  it('greys the tiles of the stopped source only, then all of them, and clears on new data', async () => {
    const stopOrders = produce(orderSystem);
    let stopWecom = produce(wecomBridge);
    const { page, context, errors } = await openWall(browser!, backend!, { query: 'staleAfter=4' });
    await waitConnected(page);

    const fresh = ['gmv', 'paid_conversion', 'push_open_rate', 'active_members', 'new_members', 'churn_rate'];
    await eventually(async () => {
      const s = await staleTiles(page);
      return fresh.every((k) => s[k] === '');
    }, 10_000, 'every tile fresh while both sources send');
    await page.waitForTimeout(5_000); // longer than staleAfter: still fresh, the data keeps coming
    expect(Object.values(await staleTiles(page)).every((r) => r === '')).toBe(true);

    // The WeCom bridge stops.
    stopWecom();
    const wecomTiles = ['new_members', 'push_open_rate'];
    await eventually(async () => {
      const s = await staleTiles(page);
      return wecomTiles.every((k) => s[k] === 'source');
    }, 12_000, 'the WeCom tiles to grey');
    const s1 = await staleTiles(page);
    expect(s1).toEqual({ gmv: '', paid_conversion: '', push_open_rate: 'source', active_members: '', new_members: 'source', churn_rate: '' });
    expect(await page.textContent('[data-kpi="new_members"] [data-testid="stale-badge"]')).toBe('数据停滞');
    expect(await page.getAttribute('[data-panel="trend_open_rate"]', 'data-stale-reason')).toBe('source');
    expect(await page.getAttribute('[data-panel="funnel"]', 'data-stale-reason')).toBe('');
    // The heartbeat says the connection is fine: this is a quiet source, not a dead link.
    expect(await connectionState(page)).toBe('connected');
    expect(await overflowing(page)).toEqual([]);
    await screenshot(page, 'wall-stale-source-1080p.png');

    // Everything stops: every tile greys (by source, the banner still live).
    stopOrders();
    await eventually(async () => Object.values(await staleTiles(page)).every((r) => r === 'source'), 12_000, 'every tile to grey');
    expect(await connectionState(page)).toBe('connected');

    // The WeCom bridge comes back: its tiles clear at the next tick.
    stopWecom = produce(wecomBridge);
    await eventually(async () => {
      const s = await staleTiles(page);
      return wecomTiles.every((k) => s[k] === '') && s.gmv === 'source';
    }, 10_000, 'the WeCom tiles to clear while GMV stays grey');
    stopWecom();
    expect(errors).toEqual([]);
    await context.close();
  });
});
