/**
 * Feedback on firings in Chromium against the real backend and engine: an admin taps 有效
 * on the firing in the active list, then 误报 on the same firing in history (the verdict
 * is replaced, on the server too), a reader sees the verdict but no buttons, and the rules
 * tab shows the rule's precision over 30 days (0 of 1 → 0%). Screenshot at 1920×1080.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { eventually, getJson, launchChromium, membersDropRules, postEvents, screenshot, startBackend, type Backend, type PulseEvent } from './harness';

const RULE_ID = 'members_drop_fb';
const KEY = `${RULE_ID}|channel=wecom`;

interface Feedback {
  feedback: { eventId: string; verdict: string; by: string }[];
}

describe('feedback on firings (Chromium, real engine)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  let rulesDir = '';
  let page: Page;
  let eventId = '';
  const errors: string[] = [];

  beforeAll(async () => {
    rulesDir = mkdtempSync(join(tmpdir(), 'pulse-fb-rules-'));
    writeFileSync(join(rulesDir, 'e2e.yaml'), membersDropRules(RULE_ID));
    backend = await startBackend({ PULSE_RULES_DIR: rulesDir, PULSE_ALERT_INTERVAL_SECONDS: '1', PULSE_LATENESS_SECONDS: '7200' });
    browser = await launchChromium();
    page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
    page.on('pageerror', (e) => errors.push(e.message));

    const now = Date.now();
    const ev: PulseEvent[] = [{ id: 'h', type: 'message', ts: now - 20 * 60_000, channel: 'sms' }];
    for (let i = 0; i < 100; i++) ev.push({ id: `p${i}`, type: 'member.join', ts: now - 110_000 + i * 400, member: `p${i}`, channel: 'wecom' });
    for (let i = 0; i < 10; i++) ev.push({ id: `c${i}`, type: 'member.join', ts: now - 40_000 + i * 3_000, member: `c${i}`, channel: 'wecom' });
    expect((await postEvents(backend, ev)).rejected).toEqual([]);
    const active = await eventually(
      async () => (await getJson<{ alerts: { alertKey: string; state: string; eventId?: string }[] }>(backend!, '/api/v1/alerts')).alerts.find((a) => a.alertKey === KEY && a.state === 'firing' && a.eventId),
      30_000,
      'the WeCom split to fire',
    );
    eventId = active.eventId!;
  });
  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
    rmSync(rulesDir, { recursive: true, force: true });
  });

  const verdictOnServer = async () => (await getJson<Feedback>(backend!, '/api/v1/alerts/feedback')).feedback.find((f) => f.eventId === eventId);

  it('a reader sees no buttons; an admin marks the firing 有效 with one tap in the active list', async () => {
    const b = backend!;
    await page.goto(`${b.url}/alerts`);
    await page.fill('[data-test="token-input"]', b.readToken);
    await page.click('[data-test="sign-in-submit"]');
    const row = page.locator(`[data-alert-key="${KEY}"]`);
    await row.waitFor({ timeout: 20_000 });
    expect(await row.locator('[data-test="mark-valid"]').count()).toBe(0);

    await page.click('[data-test="admin-sign-in"]');
    await page.fill('.modal [data-test="token-input"]', b.adminToken);
    await page.click('.modal [data-test="sign-in-submit"]');
    await expect.poll(() => page.locator('[data-test="role"]').innerText()).toBe('管理员');
    await row.locator('[data-test="mark-valid"]').click();
    await expect.poll(async () => (await verdictOnServer())?.verdict).toBe('valid');
    await expect.poll(() => row.locator(`[data-test="feedback-${eventId}"]`).getAttribute('data-verdict')).toBe('valid');
    expect(await row.locator('[data-test="mark-valid"]').getAttribute('aria-pressed')).toBe('true');
  });

  it('in history the same firing shows 有效; one tap on 误报 replaces it', async () => {
    await page.click('[data-test="tab-history"]');
    const cell = page.locator(`[data-test="feedback-${eventId}"]`);
    await cell.waitFor();
    await expect.poll(() => cell.getAttribute('data-verdict')).toBe('valid');
    await cell.locator('[data-test="mark-false"]').click();
    await expect.poll(async () => (await verdictOnServer())?.verdict).toBe('false_alarm');
    await expect.poll(() => cell.getAttribute('data-verdict')).toBe('false_alarm');
    // Resolved / pending rows carry no buttons: only firings are judged.
    const rows = page.locator('[data-test="alert-history"] tbody tr');
    const withButtons = await rows.filter({ has: page.locator('[data-test="mark-false"]') }).count();
    const firings = await rows.filter({ hasText: '→ 告警中' }).count();
    expect(withButtons).toBe(firings);
    await screenshot(page, 'alert-center-feedback-history');
  });

  it("the rules tab shows the rule's precision over 30 days", async () => {
    await page.click('[data-test="tab-rules"]');
    const line = page.locator(`[data-rule-id="${RULE_ID}"] [data-test="rule-precision"]`);
    await expect.poll(() => line.innerText(), { timeout: 35_000 }).toBe('近30天准确率 0%（有效 0 / 已标记 1）');
    await screenshot(page, 'alert-center-rule-precision');
    expect(errors).toEqual([]);
  });
});
