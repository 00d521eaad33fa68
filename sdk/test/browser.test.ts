/**
 * The BUILT browser SDK (dist/index.js) in real headless Chromium, on a page served from a
 * second origin on 127.0.0.1 (listed in PULSE_CORS_ORIGINS), against the real server:
 * exact counts through the series API, offline then online, a tab closed while offline whose
 * queue the next tab sends, and a tab closed mid-batch whose rest goes by sendBeacon.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../frontend/e2e/harness.js';
import type { PulseClient } from '../src/types.js';
import { built } from './built.js';
import { INGEST_KEY, PUBLIC_KEY, kpi, sleep, startServer, until, type TestPulse } from './server.js';

const PAGE = `<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>SDK 测试页</title></head><body>
<script type="module">
import { createPulse } from '/sdk.js';
const q = new URLSearchParams(location.search);
window.errors = [];
window.pulse = createPulse({
  endpoint: q.get('endpoint'), key: q.get('key'), channel: q.get('channel'),
  batchSize: Number(q.get('batch')), flushInterval: Number(q.get('interval')),
  onError: (e) => window.errors.push({ status: e.status, error: e.error, events: e.events.length }),
});
window.ready = true;
</script></body></html>`;

declare global {
  interface Window {
    pulse: PulseClient;
    errors: { status: number; error: string; events: number }[];
    ready: boolean;
  }
}

function servePage(): Promise<Server> {
  const sdk = readFileSync(built('index.js'));
  const server = createServer((req, res) => {
    if (req.url === '/sdk.js') return void res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(sdk);
    if (req.url?.startsWith('/?')) return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('browser SDK in Chromium against the real server', () => {
  let pulse: TestPulse;
  let site: Server;
  let origin: string;
  let browser: Browser;
  const from = Date.now() - 60_000;
  /** Sec-Fetch-Mode of each ingest request the server received: fetch() is cors, sendBeacon of text is no-cors. */
  const modes: string[] = [];
  let preflights = 0;

  beforeAll(async () => {
    site = await servePage();
    origin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
    pulse = await startServer({ PULSE_CORS_ORIGINS: origin });
    pulse.http.on('request', (req) => {
      if (req.method === 'POST' && req.url?.startsWith('/api/v1/events')) modes.push(String(req.headers['sec-fetch-mode'] ?? ''));
      if (req.method === 'OPTIONS') preflights++;
    });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await pulse?.stopAndClean();
    await new Promise((r) => site?.close(r));
  });

  async function open(context: BrowserContext, channel: string, batch: number, interval: number): Promise<Page> {
    const page = await context.newPage();
    const q = new URLSearchParams({ endpoint: pulse.url, key: PUBLIC_KEY, channel, batch: String(batch), interval: String(interval) });
    await page.goto(`${origin}/?${q}`);
    await page.waitForFunction(() => window.ready === true);
    return page;
  }
  const pending = (page: Page) => page.evaluate(() => window.pulse.pending());
  const storedCount = (page: Page) => page.evaluate(() => (JSON.parse(localStorage.getItem('siyu_pulse_queue') ?? '[]') as unknown[]).length);
  /** Server-side anchors: one order.create and one order.paid from a server (secret key). */
  const anchor = (channel: string) =>
    pulse.post(JSON.stringify([{ type: 'order.create', channel }, { type: 'order.paid', channel, amount: 100 }]), { key: INGEST_KEY });

  it('counts exactly: 20 page views, 7 cart adds, 13 interactions from a cross-origin page', async () => {
    const context = await browser.newContext();
    const channel = 'h5-exact';
    const page = await open(context, channel, 10, 200);
    await page.evaluate(() => {
      for (let i = 0; i < 20; i++) window.pulse.pageView({ campaign: 'double11' });
      for (let i = 0; i < 7; i++) window.pulse.cartAdd();
      for (let i = 0; i < 13; i++) window.pulse.interaction();
    });
    await until(async () => (await pending(page)) === 0, 'the page to send everything');
    expect(await page.evaluate(() => window.errors)).toEqual([]);
    expect(await storedCount(page)).toBe(0);
    // text/plain with the key in ?key=: simple cross-origin requests, no preflight round trip.
    expect(modes.length).toBeGreaterThanOrEqual(2);
    expect(modes.every((m) => m === 'cors')).toBe(true);
    expect(preflights).toBe(0);
    expect((await anchor(channel)).status).toBe(202);
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(13);
    // Σ order.create ÷ Σ cart.add and Σ order.paid ÷ Σ page.view with exactly one order each.
    expect(await kpi(pulse, 'cart_to_order_rate', channel, from)).toBe(1 / 7);
    expect(await kpi(pulse, 'paid_conversion', channel, from)).toBe(1 / 20);
    await context.close();
  });

  it('offline: 9 events wait in localStorage and nothing is sent; back online all 9 are counted once', async () => {
    const context = await browser.newContext();
    const channel = 'h5-offline';
    const page = await open(context, channel, 5, 100);
    await context.setOffline(true);
    await page.evaluate(() => {
      for (let i = 0; i < 9; i++) window.pulse.interaction();
      window.pulse.flush();
    });
    await sleep(500);
    expect(await pending(page)).toBe(9);
    expect(await storedCount(page)).toBe(9);
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(0);
    await context.setOffline(false);
    await until(async () => (await pending(page)) === 0, 'the queue to drain once online');
    expect(await storedCount(page)).toBe(0);
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(9);
    await context.close();
  });

  it('a tab closed while offline keeps its 6 events; the next tab of the site sends them', async () => {
    const context = await browser.newContext();
    const channel = 'h5-reopen';
    const first = await open(context, channel, 50, 3_600_000);
    await context.setOffline(true);
    await first.evaluate(() => {
      for (let i = 0; i < 6; i++) window.pulse.interaction();
    });
    await first.close(); // offline: no beacon (it would be lost); the queue stays stored
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(0);
    await context.setOffline(false);
    const second = await open(context, channel, 50, 3_600_000);
    await until(async () => (await pending(second)) === 0, 'the next tab to send the stored events');
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(6);
    await context.close();
  });

  it('a hidden tab (visibilitychange → hidden) hands its 4 waiting events to sendBeacon and stays usable', async () => {
    const context = await browser.newContext();
    const channel = 'h5-hidden';
    const page = await open(context, channel, 50, 3_600_000);
    const before = modes.length;
    // Headless Chromium never hides a tab, so the page is told it is hidden, as a switch to another tab or app would.
    await page.evaluate(() => {
      for (let i = 0; i < 4; i++) window.pulse.interaction();
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    expect(await pending(page)).toBe(0);
    expect(await storedCount(page)).toBe(0);
    await until(async () => (await kpi(pulse, 'interactions', channel, from)) === 4, 'the beaconed events to be counted');
    expect(modes.slice(before)).toEqual(['no-cors']);
    // Back from the other tab: tracking goes on by fetch.
    await page.evaluate(() => {
      window.pulse.interaction();
      window.pulse.flush();
    });
    await until(async () => (await pending(page)) === 0, 'the next event to be sent');
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(5);
    expect(modes.slice(before)).toEqual(['no-cors', 'cors']);
    await context.close();
  });

  it('a tab closed mid-batch: 25 events, two batches of 10 sent or in flight and ≥ 5 waiting an hour, all counted exactly once (the rest by sendBeacon)', async () => {
    const context = await browser.newContext();
    const channel = 'h5-close';
    const page = await open(context, channel, 10, 3_600_000);
    await page.evaluate(() => {
      for (let i = 0; i < 25; i++) window.pulse.interaction();
    });
    // At least the last 5 wait for the hour-long timer: only the page-hide beacon can send them.
    expect(await pending(page)).toBeGreaterThanOrEqual(5);
    const before = modes.length;
    await page.close();
    await until(async () => (await kpi(pulse, 'interactions', channel, from)) === 25, 'the beaconed events to be counted');
    // Whatever went twice (in flight and beaconed) was dropped by id.
    await sleep(500);
    expect(await kpi(pulse, 'interactions', channel, from)).toBe(25);
    expect(modes.slice(before).filter((m) => m === 'no-cors').length, 'beacon requests after the close').toBeGreaterThanOrEqual(1);
    await context.close();
  });
});
