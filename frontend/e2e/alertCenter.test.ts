/**
 * The alert center in Chromium against the real backend, alert engine and a fake DingTalk
 * robot on loopback: a reader sees the firing alert but no silence button; an admin signs
 * in on the page, silences the alert for one channel with a reason, and the silence is in
 * force on the server (who, why, what it matches) and shown on the row. The rules tab shows
 * the last evaluation, history the stored event, and the notifier tab DingTalk's errcode
 * when the robot refuses a test message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FakeDingTalkRobot } from '../../alerts/test/fakes/dingtalkRobot';
import { eventually, getJson, launchChromium, postEvents, screenshot, startBackend, type Backend, type PulseEvent, membersDropRules } from './harness';

const SECRET = 'SECtest-alert-center-secret';
const RULES = membersDropRules('members_drop_center', { group: 'e2e' });

interface SilenceList {
  silences: { id: string; matchers: Record<string, string>; by: string; reason: string; until: number; endedAt?: number }[];
}

describe('alert center (Chromium, real engine, fake DingTalk robot)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;
  let robot: FakeDingTalkRobot | undefined;
  let rulesDir = '';
  let context: BrowserContext;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    robot = await FakeDingTalkRobot.start({ secret: SECRET });
    rulesDir = mkdtempSync(join(tmpdir(), 'pulse-center-rules-'));
    writeFileSync(join(rulesDir, 'e2e.yaml'), RULES);
    backend = await startBackend({
      PULSE_RULES_DIR: rulesDir,
      PULSE_ALERT_INTERVAL_SECONDS: '1',
      PULSE_LATENESS_SECONDS: '7200',
      DINGTALK_WEBHOOK: robot.webhook,
      DINGTALK_SECRET: SECRET,
    });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    // The pages must run under the Content Security Policy: a violation is a console error.
    page.on('console', (m) => {
      if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) errors.push(m.text());
    });

    // 100 WeCom joins in the previous minute, 10 in the current one: −90% → critical.
    // Douyin doubles (20 → 40): the rule watches drops only, so that split stays 正常.
    const now = Date.now();
    const ev: PulseEvent[] = [];
    for (let i = 0; i < 100; i++) ev.push({ id: `prev-${i}`, type: 'member.join', ts: now - 110_000 + i * 400, member: `p${i}`, channel: 'wecom' });
    for (let i = 0; i < 10; i++) ev.push({ id: `cur-${i}`, type: 'member.join', ts: now - 40_000 + i * 3_000, member: `c${i}`, channel: 'wecom' });
    for (let i = 0; i < 20; i++) ev.push({ id: `dy-prev-${i}`, type: 'member.join', ts: now - 110_000 + i * 2_000, member: `dp${i}`, channel: 'douyin' });
    for (let i = 0; i < 40; i++) ev.push({ id: `dy-cur-${i}`, type: 'member.join', ts: now - 40_000 + i * 750, member: `dc${i}`, channel: 'douyin' });
    expect((await postEvents(backend, ev)).rejected).toEqual([]);
    await eventually(
      async () => (await getJson<{ alerts: { alertKey: string; state: string }[] }>(backend!, '/api/v1/alerts')).alerts.find((a) => a.state === 'firing'),
      30_000,
      'the WeCom split to fire',
    );
  });
  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
    await robot?.close();
    rmSync(rulesDir, { recursive: true, force: true });
  });

  it('asks for a token, and a reader sees the alert without silence buttons', async () => {
    const b = backend!;
    await page.goto(`${b.url}/alerts`);
    await page.locator('[data-test="sign-in"]').waitFor();
    // A wrong token is refused with the server's reason and nothing is stored.
    await page.fill('[data-test="token-input"]', 'wrong-token-0123456789');
    await page.click('[data-test="sign-in-submit"]');
    await expect.poll(() => page.locator('[data-test="sign-in-problem"]').innerText()).toMatch(/not recognised/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    await page.fill('[data-test="token-input"]', b.readToken);
    await page.click('[data-test="sign-in-submit"]');
    const row = page.locator('[data-alert-key="members_drop_center|channel=wecom"]');
    await row.waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-test="role"]').innerText()).toBe('只读');
    const text = (await row.innerText()).replace(/\s+/g, ' ');
    expect(text).toContain('严重');
    expect(text).toContain('告警中');
    expect(text).toContain('新增成员骤降（分渠道）');
    expect(text).toContain('渠道 · 企业微信');
    expect(text).toContain('−90.0%');
    expect(await row.locator('[data-test="silence"]').count()).toBe(0);
    expect(await page.locator('[data-alert-key="members_drop_center|channel=douyin"]').count()).toBe(0);
    // The token stays in this tab's session storage only, never in the URL.
    expect(page.url()).not.toContain(b.readToken);
  });

  it('an admin signs in on the page and silences the alert for one channel', async () => {
    const b = backend!;
    await page.click('[data-test="admin-sign-in"]');
    await page.fill('.modal [data-test="token-input"]', b.adminToken);
    await page.click('.modal [data-test="sign-in-submit"]');
    await expect.poll(() => page.locator('[data-test="role"]').innerText()).toBe('管理员');

    const row = page.locator('[data-alert-key="members_drop_center|channel=wecom"]');
    await row.locator('[data-test="silence"]').click();
    const dialog = page.locator('[data-test="silence-dialog"]');
    await dialog.waitFor();
    await screenshot(page, 'alert-center-silence-dialog');
    // The server refuses an empty reason; the dialog shows why and stays open.
    await dialog.locator('[data-test="action-by"]').fill('王运营');
    await dialog.locator('[data-test="action-reason"]').fill('   ');
    await dialog.locator('[data-test="action-reason"]').evaluate((el) => el.removeAttribute('required'));
    await dialog.locator('[data-test="action-submit"]').click();
    await expect.poll(() => dialog.locator('[data-test="action-problem"]').innerText()).toMatch(/reason/);

    await dialog.locator('[data-test="silence-minutes"]').selectOption('120');
    await dialog.locator('[data-test="action-reason"]').fill('企微群发模板切换中，已知问题');
    const before = Date.now();
    await dialog.locator('[data-test="action-submit"]').click();
    await dialog.waitFor({ state: 'detached' });

    const list = await getJson<SilenceList>(b, '/api/v1/silences');
    expect(list.silences).toHaveLength(1);
    const s = list.silences[0]!;
    expect(s.matchers).toEqual({ ruleId: 'members_drop_center', dim: 'channel', value: 'wecom' });
    expect(s.by).toBe('王运营');
    expect(s.reason).toBe('企微群发模板切换中，已知问题');
    expect(s.until - before).toBeGreaterThan(119 * 60_000);
    expect(s.until - before).toBeLessThan(121 * 60_000);

    await expect.poll(() => row.locator('[data-test="silenced-badge"]').innerText().catch(() => ''), { timeout: 15_000 }).toMatch(/已静默至 .*王运营/);
    await screenshot(page, 'alert-center-active');
  });

  it('shows the rules with their last evaluation and the stored history', async () => {
    await page.click('[data-test="tab-rules"]');
    expect(page.url()).toContain('tab=rules');
    const rule = page.locator('[data-rule-id="members_drop_center"]');
    await rule.waitFor();
    const text = (await rule.innerText()).replace(/\s+/g, ' ');
    expect(text).toMatch(/窗口 1 分钟 · 环比（上一窗口） · 触发 ±15% · 恢复 ±10% · 严重 ±50%/);
    expect(text).toMatch(/渠道 · 企业微信 告警中 10 100 −90\.0%/);
    expect(text).toMatch(/渠道 · 抖音 正常/);

    await page.click('[data-test="tab-history"]');
    const fired = page.locator('[data-test="alert-history"] tbody tr', { hasText: '企业微信' }).first();
    await fired.waitFor();
    expect((await fired.innerText()).replace(/\s+/g, ' ')).toMatch(/告警中.*新增成员骤降/);
    await page.locator('[data-test="history-state"]').selectOption('resolved');
    expect(page.url()).toContain('state=resolved');
    await expect.poll(() => page.locator('[data-test="alert-history"]').innerText()).toContain('此范围内没有告警记录');
    await screenshot(page, 'alert-center-history');
  });

  it("shows DingTalk's errcode and a plain explanation when the robot refuses a test", async () => {
    robot!.failNext(310000);
    await page.click('[data-test="tab-notifiers"]');
    const card = page.locator('[data-notifier-id="dingtalk"]');
    await card.waitFor();
    await card.locator('[data-test="notifier-test"]').click();
    await expect.poll(() => card.locator('[data-test="notifier-test-result"]').innerText()).toMatch(/310000/);
    await expect.poll(() => card.locator('[data-test="notifier-last-error"]').innerText()).toMatch(/errcode 310000/);
    // Each log row says what the message carried (here the firing alert of the earlier step, and the test).
    await expect.poll(() => card.locator('[data-test="delivery-title"]').allInnerTexts()).toContain('【测试】私域脉搏告警通道');
    expect((await card.locator('[data-test="delivery-title"]').allInnerTexts()).some((x) => x.startsWith('【'))).toBe(true);
    await screenshot(page, 'alert-center-notifiers');
    expect(errors).toEqual([]);
  });
});
