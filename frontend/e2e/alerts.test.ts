/**
 * The alert ticker and the tile flash, with the backend's real alert engine. A rule that
 * fires within seconds: new members per channel, 1-minute window against the minute before
 * (环比), down ≥ 15% fires, ≥ 50% is critical, evaluated every second. Backfilled events
 * (PULSE_LATENESS_SECONDS) put 100 WeCom joins in the previous minute and 10 in the current
 * one: a 90% drop → critical. The open wall gets it as a socket `alert` event: a red row in
 * the ticker and the 新增成员 tile flashing red; a wall opened afterwards gets it from the
 * snapshot's `alerts`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import type { LiveSnapshot } from '@siyu-pulse/contracts/live';
import { eventually, getJson, launchChromium, postEvents, screenshot, startBackend, type Backend, type PulseEvent, membersDropRules } from './harness';
import { openWall, waitConnected } from './wall-helpers';

const RULES = membersDropRules('members_drop_e2e', { group: 'e2e' });

const tickerRows = (page: Page) =>
  page.$$eval('[data-testid="alert-ticker"] [data-alert-key]', (els) =>
    els.map((el) => ({
      key: el.getAttribute('data-alert-key'),
      kpi: el.getAttribute('data-alert-kpi'),
      tone: el.getAttribute('data-tone'),
      text: (el as HTMLElement).innerText.replace(/\s+/g, ' '),
      edge: getComputedStyle(el).borderLeftColor,
    })),
  );

describe('wall: alert ticker and tile flash (real alert engine)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  let rulesDir = '';

  beforeAll(async () => {
    rulesDir = mkdtempSync(join(tmpdir(), 'pulse-wall-rules-'));
    writeFileSync(join(rulesDir, 'e2e.yaml'), RULES);
    backend = await startBackend({ PULSE_RULES_DIR: rulesDir, PULSE_ALERT_INTERVAL_SECONDS: '1', PULSE_LATENESS_SECONDS: '7200' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
    rmSync(rulesDir, { recursive: true, force: true });
  });

  it('shows a firing alert in red and flashes the affected tile', async () => {
    const b = backend!;
    const { page, context, errors } = await openWall(browser!, b);
    await waitConnected(page);
    expect(await page.locator('[data-testid="alerts-none"]').count()).toBe(1);

    const now = Date.now();
    const ev: PulseEvent[] = [];
    // 100 joins in the previous minute's window, 10 in the current one (all WeCom).
    for (let i = 0; i < 100; i++) ev.push({ id: `prev-${i}`, type: 'member.join', ts: now - 110_000 + i * 400, member: `p${i}`, channel: 'wecom' });
    for (let i = 0; i < 10; i++) ev.push({ id: `cur-${i}`, type: 'member.join', ts: now - 40_000 + i * 3_000, member: `c${i}`, channel: 'wecom' });
    const r = await postEvents(b, ev);
    expect(r.rejected).toEqual([]);

    const rows = await eventually(async () => {
      const rs = await tickerRows(page);
      return rs.length > 0 && rs[0]!.tone === 'critical' ? rs : undefined;
    }, 30_000, 'a critical alert in the ticker');
    expect(rows[0]!.key).toBe('members_drop_e2e|channel=wecom');
    expect(rows[0]!.kpi).toBe('new_members');
    expect(rows[0]!.text).toContain('严重');
    expect(rows[0]!.text).toContain('新增成员 · 企业微信');
    expect(rows[0]!.text).toMatch(/↓ \d+\.\d%/);
    expect(rows[0]!.edge).toBe('rgb(239, 68, 68)'); // critical red
    // The tile of the alert's KPI flashes red, and keeps a red edge while the alert lasts.
    const tile = page.locator('section.tile[data-kpi="new_members"]');
    expect(await tile.getAttribute('data-flash')).toBe('critical');
    expect(await tile.getAttribute('data-alert')).toBe('critical');
    expect(await page.locator('section.tile[data-flash]:not([data-flash=""])').count()).toBe(1);
    expect(await page.textContent('[data-testid="alert-count"]')).toContain('1 条进行中');
    await page.waitForTimeout(400);
    await screenshot(page, 'wall-alert-1080p.png');

    // The snapshot carries the active list: a wall opened now shows it at once.
    const snap = await getJson<LiveSnapshot>(b, '/api/v1/snapshot');
    if (snap.alerts.some((a) => a.alertKey === 'members_drop_e2e|channel=wecom')) {
      const other = await openWall(browser!, b);
      await waitConnected(other.page);
      const rs = await tickerRows(other.page);
      expect(rs.map((x) => x.key)).toContain('members_drop_e2e|channel=wecom');
      await other.context.close();
    }

    // The flash stops after a few seconds; the edge stays while the alert is active.
    await eventually(async () => (await tile.getAttribute('data-flash')) === '', 15_000, 'the flash to end');
    expect(errors).toEqual([]);
    await context.close();
  });
});
