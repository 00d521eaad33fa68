/**
 * The screenshots people look at (and the README shows): the overview board on realistic
 * data at 1920×1080 and 3840×2160. The product's simulator, held at a fixed 150 events/s
 * whatever hour the test runs at (at night its day curve is too thin for the alert rules'
 * minimum samples and for every panel to have data), feeds the backend: an hour of history first, then live, as one continuous stream (see SimFeed: the
 * built-in PULSE_SIMULATOR=on would start fresh flows at server start, so its first minutes
 * would show payments missing after the backfill). A push-open-rate dip on WeCom over the
 * last 15 minutes is what an alert rule turns into a live alert for the ticker. The rule is
 * the test's own (15 minutes against the 15 before): the shipped default rules compare with
 * the same hour on earlier comparable days and need days of history this hour does not have.
 * The shots must have nothing clipped, overflowing, empty or stale.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { eventually, launchChromium, screenshot, startBackend, type Backend } from './harness';
import { clippedPanels, openWall, overflowing, SimFeed, waitConnected } from './wall-helpers';

const MINUTE = 60_000;
const RATE = 150;
const DIP = { kpi: 'push_open_rate', channel: 'wecom', factor: 0.55 };
const RULES = `
rules:
  - id: push_open_rate_swing
    name: 推送打开率波动（分渠道）
    group: push
    kpi: push_open_rate
    by: channel
    window: 15m
    baseline: { type: previous_window }
    thresholds: { fire: 0.15, clear: 0.10, critical: 0.30 }
    direction: both
    min_sample: 200
    min_abs_change: 0.01
    pending_for: 3
    cooldown: 30m
    notify: [dingtalk]
`;

describe('wall: screenshots on simulated traffic', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  let feed: SimFeed | undefined;
  let rulesDir = '';

  beforeAll(async () => {
    rulesDir = mkdtempSync(join(tmpdir(), 'pulse-shots-rules-'));
    writeFileSync(join(rulesDir, 'shots.yaml'), RULES);
    backend = await startBackend({
      PULSE_RULES_DIR: rulesDir,
      PULSE_BUSINESS_NAME: '云朵母婴 · 私域运营中心',
      PULSE_LATENESS_SECONDS: '4200',
      PULSE_ALERT_INTERVAL_SECONDS: '2',
      PULSE_INGEST_RATE: '10000000',
      PULSE_INGEST_BURST: '100000000',
    });
    const now = Date.now();
    feed = await SimFeed.create(backend, { rate: RATE, fixedRate: true, swings: [{ ...DIP, startAt: now - 15 * MINUTE }] });
    const events = await feed.backfill(now - 60 * MINUTE, Date.now());
    feed.start();
    console.info(`[screenshots] backfilled ${events} simulated events (the last hour), then live at ${RATE}/s peak`);
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    feed?.stop();
    await browser?.close();
    await backend?.stop();
    if (rulesDir) rmSync(rulesDir, { recursive: true, force: true });
  });

  it('1920×1080 and 3840×2160, overview board, nothing clipped', async () => {
    const b = backend!;
    const hd = await openWall(browser!, b);
    await waitConnected(hd.page);
    // The default rule (15-minute window vs the 15 before) sees the WeCom dip.
    await eventually(async () => (await hd.page.locator('[data-testid="alert-ticker"] [data-alert-key]').count()) > 0, 60_000, 'the WeCom open-rate alert in the ticker');
    await hd.page.waitForTimeout(20_000); // ~20 s of live simulated traffic on the wall
    expect(await overflowing(hd.page)).toEqual([]);
    expect(await clippedPanels(hd.page)).toEqual([]);
    expect(await hd.page.locator('[data-panel] [data-testid="panel-empty"]').count()).toBe(0);
    expect(await hd.page.locator('section.tile[data-stale="true"], [data-panel][data-stale="true"]').count()).toBe(0);
    await screenshot(hd.page, 'wall-1080p.png');
    expect(hd.errors).toEqual([]);
    await hd.context.close();

    const uhd = await openWall(browser!, b, { width: 3840, height: 2160 });
    await waitConnected(uhd.page);
    await uhd.page.waitForTimeout(3_000);
    expect(await overflowing(uhd.page)).toEqual([]);
    const ratio = await uhd.page.$eval('[data-chart="messages"] canvas', (c) => (c as HTMLCanvasElement).width / (c as HTMLCanvasElement).clientWidth);
    expect(ratio).toBeCloseTo(2, 1);
    await screenshot(uhd.page, 'wall-4k.png');
    expect(uhd.errors).toEqual([]);
    await uhd.context.close();
  }, 180_000);
});
