/**
 * The first wall page in the system's Chromium against the real backend: known events in,
 * the tiles must show exactly the formatted values of `GET /api/v1/snapshot` (today window),
 * the connection banner must say connected, and a 1080p screenshot is saved for review.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import type { LiveSnapshot } from '../../backend/src/live/contract';
import type { KpiCatalogue } from '../src/api';
import { formatKpi } from '../src/format';
import { OVERVIEW_PAGE } from '../src/wall/layout';
import {
  eventually,
  FRONTEND_INDEX,
  getJson,
  launchChromium,
  postEvents,
  screenshot,
  sleep,
  startBackend,
  type Backend,
  type PulseEvent,
} from './harness';

const MINUTE = 60_000;
const BUSINESS_NAME = '云朵母婴 · 私域运营中心';
const ORDER_AMOUNTS_FEN = [8_800_000, 3_545_600]; // ¥88,000 + ¥35,456 = ¥123,456 → ¥12.3万

/** Minutes since 00:00 in Asia/Shanghai (UTC+8, no DST): backfill must stay inside "today". */
function minutesIntoShanghaiDay(now: number): number {
  return Math.floor(((now + 8 * 3_600_000) % 86_400_000) / MINUTE);
}

function knownBatch(runId: string): PulseEvent[] {
  const ev: PulseEvent[] = [];
  let n = 0;
  const id = () => `${runId}-${n++}`;
  for (let i = 1; i <= 3; i++) ev.push({ id: id(), type: 'member.join', member: `m${i}`, channel: 'wecom', community: 'c1' });
  for (let i = 1; i <= 10; i++) ev.push({ id: id(), type: 'push.delivered', member: `m${i}`, channel: 'wecom', campaign: 'double11' });
  for (let i = 1; i <= 4; i++) ev.push({ id: id(), type: 'push.open', member: `m${i}`, channel: 'wecom', campaign: 'double11' });
  for (let i = 1; i <= 40; i++) ev.push({ id: id(), type: 'page.view', member: `m${(i % 12) + 1}`, channel: 'miniprogram' });
  ORDER_AMOUNTS_FEN.forEach((amount, i) => ev.push({ id: id(), type: 'order.paid', member: `m${i + 1}`, channel: 'miniprogram', amount }));
  for (let i = 1; i <= 25; i++) ev.push({ id: id(), type: 'message', member: `m${(i % 8) + 1}`, channel: 'wecom', community: 'c1' });
  return ev;
}

/** Messages spread over the last hour (what a running wall would have seen), within today. */
function backfill(runId: string, now: number): PulseEvent[] {
  const minutes = Math.min(50, minutesIntoShanghaiDay(now) - 1);
  const ev: PulseEvent[] = [];
  for (let m = minutes; m >= 1; m--) {
    const count = 6 + Math.round(5 * Math.sin(m / 6) + 3 * Math.cos(m / 2.3)) + (m % 7 === 0 ? 6 : 0);
    for (let k = 0; k < count; k++) {
      ev.push({ id: `${runId}-bf-${m}-${k}`, type: 'message', ts: now - m * MINUTE - k * 500, member: `m${(k % 9) + 1}`, channel: 'wecom', community: 'c1' });
    }
  }
  return ev;
}

async function readTiles(page: Page): Promise<Record<string, string>> {
  return page.$$eval('[data-kpi]', (els) =>
    Object.fromEntries(els.map((el) => [el.getAttribute('data-kpi') ?? '', el.querySelector('[data-testid="kpi-value"]')?.textContent?.trim() ?? ''])),
  );
}

/** Elements whose content does not fit (clipped or ellipsed text, overflowing rows). */
async function overflowing(page: Page): Promise<string[]> {
  return page.$$eval('[data-kpi], [data-kpi] h2, .tile__head, .tile__body, .tile__foot, .tile__fresh, .tile__target, header.hdr, .panel__head', (els) =>
    els
      .filter((el) => el.scrollWidth > el.clientWidth + 1)
      .map((el) => `${el.closest('[data-kpi]')?.getAttribute('data-kpi') ?? 'page'} ${el.className}: ${el.textContent?.trim().slice(0, 60)}`),
  );
}

async function connectionState(page: Page): Promise<string | null> {
  return page.getAttribute('[data-testid="connection-state"]', 'data-state');
}

describe('wall: first page (Chromium, 1920×1080)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(FRONTEND_INDEX)) throw new Error(`${FRONTEND_INDEX} is missing: build first (npm run build)`);
    backend = await startBackend({ PULSE_BUSINESS_NAME: BUSINESS_NAME, PULSE_LATENESS_SECONDS: '3600' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('shows the snapshot’s today values, formatted, with the connection live', async () => {
    const b = backend!;
    const context = await browser!.newContext({ viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });

    // The wall is opened on a system that has been running: an hour of messages first
    // (reaches the page through the connect snapshot), then the known batch (through ticks).
    const runId = `e2e-${Date.now()}`;
    const older = backfill(runId, Date.now());
    if (older.length) await postEvents(b, older); // needs PULSE_LATENESS_SECONDS ≥ 1 h; not asserted
    await sleep(1_500);

    await page.goto(`${b.url}/?token=${encodeURIComponent(b.readToken)}`);
    await page.waitForSelector('[data-testid="connection-state"][data-state="connected"]', { timeout: 20_000 });

    const batch = knownBatch(runId);
    const result = await postEvents(b, batch);
    expect(result.rejected).toEqual([]);
    expect(result.accepted + result.duplicates).toBe(batch.length);

    const catalogue = await getJson<KpiCatalogue>(b, '/api/v1/kpis');
    const unitOf = new Map(catalogue.kpis.map((k) => [k.id, k.unit]));
    for (const tile of OVERVIEW_PAGE.tiles) expect(unitOf.has(tile.kpi), `catalogue has ${tile.kpi}`).toBe(true);

    // The backend aggregates in buckets: wait until the snapshot reflects the batch.
    const expectedGmv = ORDER_AMOUNTS_FEN.reduce((a, c) => a + c, 0);
    const snap = await eventually(
      async () => {
        const s = await getJson<LiveSnapshot>(b, '/api/v1/snapshot');
        const k = s.windows.today.kpis;
        return k.gmv?.value === expectedGmv && k.new_members?.value === 3 && k.push_open_rate?.value !== null ? s : undefined;
      },
      30_000,
      'the snapshot to include the posted events',
    );
    const today = snap.windows.today.kpis;
    // The semantics of the batch (ratios of sums over the window).
    expect(today.gmv?.value).toBe(expectedGmv);
    expect(today.new_members?.value).toBe(3);
    expect(today.push_open_rate?.value).toBeCloseTo(4 / 10, 10);
    expect(today.paid_conversion?.value).toBeCloseTo(2 / 40, 10);
    expect(today.messages?.value).toBeGreaterThanOrEqual(25);

    // The wall shows exactly the formatted snapshot values. Values can move between the two
    // reads (ticks every second), so compare a fresh snapshot with the DOM until they agree.
    let lastDiff = '';
    const shown = await eventually(
      async () => {
        const s = await getJson<LiveSnapshot>(b, '/api/v1/snapshot');
        const tiles = await readTiles(page);
        const expected = Object.fromEntries(
          OVERVIEW_PAGE.tiles.map((t) => [t.kpi, formatKpi(s.windows[t.window].kpis[t.kpi]?.value ?? null, unitOf.get(t.kpi) ?? 'count', 'zh')]),
        );
        const diff = Object.keys(expected).filter((id) => tiles[id] !== expected[id]);
        lastDiff = diff.map((id) => `${id}: shown ${JSON.stringify(tiles[id])} ≠ snapshot ${JSON.stringify(expected[id])}`).join('; ');
        return diff.length === 0 ? { tiles, expected } : undefined;
      },
      20_000,
      'the tiles to equal the formatted snapshot',
    ).catch((err: Error) => {
      throw new Error(`${err.message} — ${lastDiff}`);
    });
    expect(shown.tiles).toEqual(shown.expected);
    expect(shown.tiles.gmv).toBe('¥12.3万');
    expect(shown.tiles.new_members).toBe('3');
    expect(shown.tiles.push_open_rate).toBe('40.0%');
    expect(shown.tiles.paid_conversion).toBe('5.0%');
    expect((await page.textContent('[data-extra="paid_orders"] dd'))?.trim()).toBe('2');

    expect(await connectionState(page)).toBe('connected');
    expect(await page.locator('[data-kpi][data-stale="true"]').count()).toBe(0);
    expect((await page.textContent('[data-testid="business-name"]'))?.trim()).toBe(snap.businessName);
    expect(await page.locator('[data-testid="demo-badge"]').count()).toBe(snap.demo ? 1 : 0);
    expect(await page.locator('[data-chart="messages"] canvas').count()).toBeGreaterThan(0);
    // Nothing is clipped: labels, values, footers (no truncated Chinese labels).
    expect(await overflowing(page)).toEqual([]);

    await page.waitForTimeout(1_500); // let the chart settle for the screenshot
    await screenshot(page, 'wall-first-1080p.png');
    expect(pageErrors).toEqual([]);
    await context.close();
  });

  it('scales the 1920×1080 canvas to 4K, crisp, and speaks English with ?lang=en', async () => {
    const b = backend!;
    const context = await browser!.newContext({ viewport: { width: 3840, height: 2160 }, deviceScaleFactor: 1, timezoneId: 'UTC' });
    const page = await context.newPage();
    await page.goto(`${b.url}/?token=${encodeURIComponent(b.readToken)}&lang=en`);
    await page.waitForSelector('[data-testid="connection-state"][data-state="connected"]', { timeout: 20_000 });

    const catalogue = await getJson<KpiCatalogue>(b, '/api/v1/kpis');
    const unitOf = new Map(catalogue.kpis.map((k) => [k.id, k.unit]));
    let lastDiff = '';
    await eventually(
      async () => {
        const s = await getJson<LiveSnapshot>(b, '/api/v1/snapshot');
        const tiles = await readTiles(page);
        const diff = OVERVIEW_PAGE.tiles.filter((t) => tiles[t.kpi] !== formatKpi(s.windows[t.window].kpis[t.kpi]?.value ?? null, unitOf.get(t.kpi) ?? 'count', 'en'));
        lastDiff = diff.map((t) => `${t.kpi}: ${tiles[t.kpi]}`).join('; ');
        return diff.length === 0;
      },
      20_000,
      'English tiles to equal the formatted snapshot',
    ).catch((err: Error) => {
      throw new Error(`${err.message} — ${lastDiff}`);
    });
    expect((await page.textContent('[data-kpi="gmv"] h2'))?.trim()).toBe("Today's GMV");
    expect((await page.textContent('[data-kpi="push_open_rate"] h2'))?.trim()).toBe('Push open rate');
    expect(await connectionState(page)).toBe('connected');
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await overflowing(page)).toEqual([]);

    // transform: scale (not zoom), 2× at 4K, and the chart rendered at 2× pixel density.
    const box = await page.locator('.canvas').boundingBox();
    expect(box?.width).toBeCloseTo(3840, 0);
    expect(box?.height).toBeCloseTo(2160, 0);
    const ratio = await page.$eval('[data-chart="messages"] canvas', (c) => (c as HTMLCanvasElement).width / (c as HTMLCanvasElement).clientWidth);
    expect(ratio).toBeCloseTo(2, 1);
    // The clock follows Asia/Shanghai, not the browser's UTC.
    const clock = (await page.textContent('[data-testid="clock"] .hdr__time'))?.trim() ?? '';
    const shanghaiHour = new Intl.DateTimeFormat('en-GB', { timeZone: 'Asia/Shanghai', hour: '2-digit', hourCycle: 'h23' }).format(Date.now());
    expect(clock.slice(0, 2)).toBe(shanghaiHour);

    await page.waitForTimeout(1_000);
    await screenshot(page, 'wall-first-4k-en.png');
    await context.close();
  });

  it('without the read token the wall says it is offline (token refused)', async () => {
    const b = backend!;
    const page = await browser!.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(`${b.url}/`);
    await page.waitForSelector('[data-testid="connection-state"][data-state="offline"]', { timeout: 20_000 });
    expect(await page.textContent('[data-testid="connection-state"]')).toContain('访问令牌无效');
    await page.close();
  });

  it('shows reconnecting, then offline since, and recovers with a fresh snapshot after a restart', async () => {
    const first = backend!;
    const page = await browser!.newPage({ viewport: { width: 1920, height: 1080 } });
    await page.goto(`${first.url}/?token=${encodeURIComponent(first.readToken)}`);
    await page.waitForSelector('[data-testid="connection-state"][data-state="connected"]', { timeout: 20_000 });

    // A graceful stop (deploy / restart): the server ends the sessions itself, which Socket.IO
    // does not retry on its own — the wall must.
    await first.kill('SIGTERM');
    await page.waitForSelector('[data-testid="connection-state"][data-state="reconnecting"]', { timeout: 10_000 });
    await page.waitForSelector('[data-testid="connection-state"][data-state="offline"]', { timeout: 20_000 });
    expect(await page.textContent('[data-testid="connection-state"]')).toMatch(/离线 · 自 \d\d:\d\d:\d\d 起/);
    // Stale data is greyed out with a badge.
    expect(await page.locator('[data-kpi][data-stale="true"]').count()).toBe(OVERVIEW_PAGE.tiles.length);
    await screenshot(page, 'wall-first-offline-1080p.png');

    // Same port, same data dir and credentials: the page reconnects on its own.
    backend = await startBackend(
      {
        PULSE_BUSINESS_NAME: BUSINESS_NAME,
        PULSE_INGEST_KEYS: first.ingestKey,
        PULSE_READ_TOKEN: first.readToken,
        PULSE_ADMIN_TOKEN: first.adminToken,
      },
      { port: first.port, dataDir: first.dataDir },
    );
    await page.waitForSelector('[data-testid="connection-state"][data-state="connected"]', { timeout: 30_000 });
    await eventually(async () => (await page.locator('[data-kpi][data-stale="true"]').count()) === 0, 10_000, 'tiles to be fresh again');
    await page.close();
    // The restarted backend reuses the first one's data dir; remove it with the last stop().
    const second = backend;
    const stopSecond = second.stop.bind(second);
    second.stop = async () => {
      await stopSecond();
      await first.stop();
    };
  });
});

describe('wall: embedded demo (simulator on, no token on loopback)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    backend = await startBackend({ PULSE_INGEST_KEYS: undefined, PULSE_READ_TOKEN: undefined, PULSE_ADMIN_TOKEN: undefined, PULSE_SIMULATOR: 'on' });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('labels simulated data 演示数据 / DEMO DATA and fills the tiles without a token', async () => {
    const b = backend!;
    const snap = await getJson<LiveSnapshot>(b, '/api/v1/snapshot');
    expect(snap.demo).toBe(true);

    const context = await browser!.newContext({ viewport: { width: 1920, height: 1080 }, deviceScaleFactor: 1, timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    await page.goto(`${b.url}/`);
    await page.waitForSelector('[data-testid="connection-state"][data-state="connected"]', { timeout: 20_000 });
    const badge = page.locator('[data-testid="demo-badge"]');
    expect(await badge.isVisible()).toBe(true);
    expect(await badge.textContent()).toContain('演示数据');
    expect(await badge.textContent()).toContain('DEMO DATA');
    await eventually(async () => (await readTiles(page)).messages !== '0' && (await readTiles(page)).messages !== '—', 30_000, 'simulated messages to show');
    await page.waitForTimeout(3_000);
    expect(await overflowing(page)).toEqual([]);
    await screenshot(page, 'wall-first-demo-1080p.png');
    await context.close();
  });
});
