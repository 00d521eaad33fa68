/**
 * Wall-specific helpers for the Chromium tests: open a wall page, read what it shows, post
 * admin commands, backfill simulated history, and measure the JS heap over CDP.
 */
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import type { BoardsResponse } from '@siyu-pulse/contracts/live';
import { REPO_ROOT, type Backend, postEvents, sleep } from './harness';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface WallPage {
  context: BrowserContext;
  page: Page;
  /** Uncaught page errors and console errors. */
  errors: string[];
}

export interface OpenOptions {
  /** Extra query string (without the token), e.g. `board=push&staleAfter=4`. */
  query?: string;
  width?: number;
  height?: number;
  timezoneId?: string;
  /** Token in the URL; default the backend's read token; null for none. */
  token?: string | null;
  /** Called with the page before it navigates (attach listeners that must see the first requests). */
  beforeGoto?: (page: Page) => void;
}

export async function openWall(browser: Browser, b: Backend, opts: OpenOptions = {}): Promise<WallPage> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1920, height: opts.height ?? 1080 },
    deviceScaleFactor: 1,
    locale: 'zh-CN',
    timezoneId: opts.timezoneId ?? 'Asia/Shanghai',
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    // The browser logs failed socket/REST requests while the backend is down: expected in restart tests.
    if (m.type() === 'error' && !/Failed to load resource|ERR_CONNECTION_REFUSED|WebSocket connection/.test(m.text())) errors.push(m.text());
  });
  opts.beforeGoto?.(page);
  const token = opts.token === undefined ? b.readToken : opts.token;
  const params = [token ? `token=${encodeURIComponent(token)}` : '', opts.query ?? ''].filter(Boolean).join('&');
  await page.goto(`${b.url}/${params ? `?${params}` : ''}`);
  return { context, page, errors };
}

export async function waitConnected(page: Page, timeout = 20_000): Promise<void> {
  await page.waitForSelector('[data-testid="connection-state"][data-state="connected"]', { timeout });
}

export async function connectionState(page: Page): Promise<string | null> {
  return page.getAttribute('[data-testid="connection-state"]', 'data-state');
}

/** Tile KPI id → the value text it shows. */
export async function readTiles(page: Page): Promise<Record<string, string>> {
  return page.$$eval('section.tile[data-kpi]', (els) =>
    Object.fromEntries(els.map((el) => [el.getAttribute('data-kpi') ?? '', el.querySelector('[data-testid="kpi-value"]')?.textContent?.trim() ?? ''])),
  );
}

export async function staleTiles(page: Page): Promise<Record<string, string>> {
  return page.$$eval('section.tile[data-kpi]', (els) => Object.fromEntries(els.map((el) => [el.getAttribute('data-kpi') ?? '', el.getAttribute('data-stale-reason') ?? ''])));
}

/** Elements whose content does not fit (clipped or ellipsed text, overflowing rows). */
export async function overflowing(page: Page): Promise<string[]> {
  return page.$$eval(
    [
      'section.tile',
      '.tile__label',
      '.tile__head',
      '.tile__body',
      '.tile__meta',
      '.tile__fresh',
      '.tile__target',
      'header.hdr',
      '.board__caption',
      '.panel__head',
      '.panel__title-text',
      '.funnel__bar',
      '.funnel__note',
      '.ch td',
      '.tick__name',
      '.tick__detail',
    ].join(', '),
    (els) =>
      els
        // Horizontally everything; vertically the boxes that hold rows (a glyph's own ascent
        // may overflow a tight line box without anything being cut).
        .filter((el) => el.scrollWidth > el.clientWidth + 1 || (el.matches('section.tile, .board__caption, header.hdr') && el.scrollHeight > el.clientHeight + 1))
        .map((el) => `${el.closest('[data-kpi],[data-panel]')?.getAttribute('data-kpi') ?? el.closest('[data-panel]')?.getAttribute('data-panel') ?? 'page'} .${el.className}: ${el.textContent?.trim().slice(0, 60)}`),
  );
}

/** Panels (by id) whose content is cut off at the bottom: a row that does not fit. */
export async function clippedPanels(page: Page): Promise<string[]> {
  return page.$$eval('[data-panel]', (panels) =>
    panels
      .filter((p) => {
        const body = p.querySelector('.panel__body');
        if (!body) return false;
        const box = body.getBoundingClientRect();
        return [...body.querySelectorAll('tr, li, .funnel__note, .ch__more')].some((el) => el.getBoundingClientRect().bottom > box.bottom + 1);
      })
      .map((p) => p.getAttribute('data-panel') ?? '?'),
  );
}

/** Admin-scoped request. */
export async function admin(b: Backend, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${b.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${b.adminToken}`, 'content-type': 'application/json', accept: 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : null };
}

export async function boardsOf(b: Backend): Promise<BoardsResponse> {
  const res = await fetch(`${b.url}/api/v1/boards`, { headers: { authorization: `Bearer ${b.readToken}` } });
  if (!res.ok) throw new Error(`GET /api/v1/boards → ${res.status}`);
  return (await res.json()) as BoardsResponse;
}

interface SimEvent {
  id: string;
  type: string;
  ts: number;
  channel: string;
  [k: string]: unknown;
}
export interface SwingSpec {
  kpi: string;
  channel?: string;
  factor: number;
  startAt?: number;
  durationMs?: number;
}
interface SimulatorLike {
  generate(from: number, to: number): SimEvent[];
  injectSwing(s: SwingSpec): unknown;
  start(): void;
  stop(): void;
}
type SimulatorCtor = new (
  sink: (events: SimEvent[]) => Promise<unknown>,
  opts: { seed: number; peakEventsPerSecond: number; tickMs?: number; levelAt?: (ts: number) => number; onError?: (err: unknown) => void },
) => SimulatorLike;

/**
 * The product's own traffic simulator (the class behind PULSE_SIMULATOR=on, loaded from the
 * built backend at run time: the frontend does not compile backend code), driven from the
 * test: first an hour of history (`backfill`), then live from where the history ended
 * (`start`, posting every `tickMs`), as ONE continuous stream — flows started in the history
 * (a page view now, the payment minutes later) complete live, so the last minutes do not
 * dip the way two separate simulators would make them.
 */
export class SimFeed {
  posted = 0;
  posts = 0;
  failures = 0;
  private constructor(
    private readonly b: Backend,
    private readonly sim: SimulatorLike,
  ) {}

  /**
   * `rate`: events per second at the simulator's daily peak. `fixedRate`: hold that rate at
   * every hour instead of following the day curve (~4% of the peak at 04:00 Beijing), so a
   * test that needs a known load passes whatever hour it runs at.
   */
  static async create(b: Backend, opts: { rate: number; fixedRate?: boolean; seed?: number; tickMs?: number; swings?: SwingSpec[] }): Promise<SimFeed> {
    const { Simulator } = (await import(pathToFileURL(join(REPO_ROOT, 'backend/dist/simulator/simulator.js')).href)) as { Simulator: SimulatorCtor };
    const self: { feed?: SimFeed } = {};
    const sim = new Simulator((events) => self.feed!.post(events), {
      seed: opts.seed ?? 11,
      peakEventsPerSecond: opts.rate,
      tickMs: opts.tickMs ?? 250,
      ...(opts.fixedRate ? { levelAt: () => 1 } : {}),
      onError: () => self.feed!.failures++,
    });
    for (const s of opts.swings ?? []) sim.injectSwing(s);
    self.feed = new SimFeed(b, sim);
    return self.feed;
  }

  private async post(events: SimEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 10_000) {
      const part = events.slice(i, i + 10_000);
      await postEvents(this.b, part as never);
      this.posted += part.length;
      this.posts++;
    }
  }

  /** Posts the simulated traffic of [from, to) (needs PULSE_LATENESS_SECONDS to cover `from`). */
  async backfill(from: number, to: number): Promise<number> {
    const before = this.posted;
    for (let a = from; a < to; a += 5 * 60_000) await this.post(this.sim.generate(a, Math.min(to, a + 5 * 60_000)));
    return this.posted - before;
  }

  start(): void {
    this.sim.start();
  }
  stop(): void {
    this.sim.stop();
  }
}

/** JS heap of the page after a forced full GC (CDP), in bytes. */
export async function heapAfterGc(cdp: CDPSession): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await cdp.send('HeapProfiler.collectGarbage');
    await sleep(150);
  }
  const h = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
  return h.usedSize;
}

export const MB = 1024 * 1024;
