/**
 * The rule preview in Chromium against the real backend: 4 days of per-minute member joins
 * are stored (WeCom drops 60% for an hour, three times); an admin pastes a rule, picks
 * 近7天, presses 预演 and sees "近7天将触发 3 次" with three firing markers on the KPI's chart
 * and three rows; the count equals the API's answer for the same rule; a broken YAML shows
 * the server's reason with its line; a rule in force loads into the editor; a reader sees
 * no editor. Screenshot at 1920×1080.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { COUNTERS } from '@siyu-pulse/contracts/catalogue';
import { createDuckDbStore } from '../../backend/src/store/duckdb/adapter';
import type { CounterRow } from '../../backend/src/store/port';
import { launchChromium, screenshot, startBackend, type Backend } from './harness';

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;

const RULE = `rules:
  - id: preview_joins
    name: 新增成员骤降（预演）
    kpi: new_members
    by: channel
    window: 15m
    baseline: { type: same_window_yesterday }
    thresholds: { fire: 0.3, clear: 0.15, critical: 0.5 }
    direction: down
    min_sample: 40
    pending_for: 1
    cooldown: 0s
`;
const IN_FORCE = `rules:
  - id: gmv_hourly
    name: 成交额小时波动
    kpi: gmv
    window: 1h
    baseline: { type: previous_window }
    thresholds: { fire: 0.5, clear: 0.2 }
`;

describe('rule preview (Chromium)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let dataDir = '';
  let rulesDir = '';
  const errors: string[] = [];

  beforeAll(async () => {
    // History is written straight into the data dir's DuckDB file before the server starts.
    dataDir = mkdtempSync(join(tmpdir(), 'pulse-preview-'));
    rulesDir = mkdtempSync(join(tmpdir(), 'pulse-preview-rules-'));
    writeFileSync(join(rulesDir, 'rules.yaml'), IN_FORCE);
    const store = await createDuckDbStore({ file: join(dataDir, 'pulse.duckdb') });
    await store.init();
    const now = Date.now();
    const start = Math.floor((now - 4 * DAY) / MIN) * MIN;
    const drops = [start + 2 * DAY + 9 * H, start + 3 * DAY + 2 * H, start + 3 * DAY + 14 * H];
    const rows: CounterRow[] = [];
    for (const [channel, scale] of [['wecom', 6], ['sms', 3]] as const) {
      for (let ts = start; ts < now - 2 * MIN; ts += MIN) {
        const hour = ((ts + 8 * H) % DAY) / H;
        let n = Math.round(scale * (1.5 + Math.sin((hour / 24) * 2 * Math.PI)) + ((ts / MIN) % 3));
        if (channel === 'wecom' && drops.some((d) => ts >= d && ts < d + H)) n = Math.round(n * 0.4);
        const counters: Record<string, number> = Object.fromEntries(COUNTERS.map((c) => [c, 0]));
        counters.member_join = n;
        rows.push({ ts, tags: { channel, community: '', campaign: '' }, counters });
      }
    }
    for (let i = 0; i < rows.length; i += 5000) await store.writeCounters(rows.slice(i, i + 5000));
    await store.close();

    backend = await startBackend({ PULSE_RULES_DIR: rulesDir }, { dataDir });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
    page.on('pageerror', (e) => errors.push(e.message));
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
    for (const d of [dataDir, rulesDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it('an admin previews a rule: 近7天将触发 3 次, three firings on the chart and in the table', async () => {
    const b = backend!;
    await page.goto(`${b.url}/alerts?tab=rules`);
    await page.fill('[data-test="token-input"]', b.adminToken);
    await page.click('[data-test="sign-in-submit"]');
    const card = page.locator('[data-test="rule-preview"]');
    await card.waitFor({ timeout: 20_000 });
    await card.locator('[data-test="preview-yaml"]').fill(RULE);
    await card.locator('[data-test="preview-days"]').selectOption('7');
    await card.locator('[data-test="preview-run"]').click();
    const count = card.locator('[data-test="preview-count"]');
    await count.waitFor({ timeout: 60_000 });
    expect(await count.locator('strong').innerText()).toBe('近7天将触发 3 次');
    await expect.poll(() => card.locator('[data-test="preview-chart"]').getAttribute('data-firing-markers')).toBe('3');
    expect(Number(await card.locator('[data-test="preview-chart"]').getAttribute('data-points'))).toBeGreaterThan(50);
    const rows = card.locator('[data-test="preview-firings"] tbody tr');
    expect(await rows.count()).toBe(3);
    for (const row of await rows.all()) expect((await row.innerText()).replace(/\s+/g, ' ')).toMatch(/渠道 · 企业微信 (严重|警告) \d+ \d+ −\d+\.\d%/);

    // The same rule through the API directly: the same count.
    const res = await fetch(`${b.url}/api/v1/rules/backtest`, { method: 'POST', headers: { authorization: `Bearer ${b.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ rule: RULE, from: Date.now() - 7 * DAY }) });
    expect(((await res.json()) as { count: number }).count).toBe(Number(await count.getAttribute('data-count')));
    await page.waitForTimeout(300);
    await screenshot(page, 'alert-center-rule-preview');
  });

  it("a broken rule shows the server's reason with its line; a rule in force loads into the editor", async () => {
    const card = page.locator('[data-test="rule-preview"]');
    await card.locator('[data-test="preview-yaml"]').fill(RULE.replace('window: 15m', 'window: 15 minutes'));
    await card.locator('[data-test="preview-run"]').click();
    const error = card.locator('[data-test="preview-error"]');
    await error.waitFor();
    expect(await error.innerText()).toMatch(/^规则有误：preview\.yaml:6 rule "preview_joins" field window/);
    expect(await card.locator('[data-test="preview-count"]').count()).toBe(0);
    await screenshot(page, 'alert-center-rule-preview-error');

    await card.locator('[data-test="preview-load"]').selectOption('gmv_hourly');
    await expect.poll(() => card.locator('[data-test="preview-yaml"]').inputValue()).toBe(IN_FORCE);
  });

  it('a reader sees the rules but no editor', async () => {
    const b = backend!;
    const reader = await browser!.newPage({ viewport: { width: 1920, height: 1080 } });
    await reader.goto(`${b.url}/alerts?tab=rules`);
    await reader.fill('[data-test="token-input"]', b.readToken);
    await reader.click('[data-test="sign-in-submit"]');
    await reader.locator('[data-rule-id="gmv_hourly"]').waitFor({ timeout: 20_000 });
    expect(await reader.locator('[data-test="rule-preview"]').count()).toBe(0);
    await reader.close();
    expect(errors).toEqual([]);
  });
});
