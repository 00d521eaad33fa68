/**
 * Managers on the phone, in Chromium against the real backend, engine and a signature-
 * checking DingTalk stand-in: the alert message's 查看详情 link opens the landing at 390×844
 * read-only (no token typed; the link leaves the address bar), the numbers are the landing
 * API's, the trend link opens read-only too; an admin pastes the admin token once and taps
 * 确认 and 标记误报 (the server records both); an expired or altered link shows a page that
 * says why; /m, the landing and the analyst pages pass the layout checks (no sideways
 * scroll, nothing wider than the viewport, no label wrapped per character, no console
 * errors) at 390×844 and 1920×1080. Screenshots under test-artifacts/.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { FakeDingTalkRobot } from '../../alerts/test/fakes/dingtalkRobot';
import { LinkSigner } from '../../backend/src/links/signedLinks';
import { eventually, getJson, launchChromium, membersDropRules, postEvents, screenshot, startBackend, type Backend, type PulseEvent } from './harness';
import { layoutProblems, layoutReport } from './layout';

const SECRET = 'SEC0123456789abcdef0123456789abcdef';
const RULE_ID = 'members_drop_phone';
const KEY = `${RULE_ID}|channel=wecom`;
const DAY = 86_400_000;
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1920, height: 1080 };
/** The narrowest phone the issue names: no label may wrap per character at 360 px either. */
const NARROW = { width: 360, height: 740 };

describe('phone landing, signed links and /m (Chromium)', () => {
  let backend: Backend;
  let browser: Browser;
  let robot: FakeDingTalkRobot;
  let rulesDir = '';
  let landingUrl = '';
  const errors: string[] = [];
  const contexts: BrowserContext[] = [];

  /** `refusal`: the page is opened with a bad link, so the session check's 401 is the expected answer. */
  async function newPage(viewport: { width: number; height: number }, refusal = false): Promise<Page> {
    const context = await browser.newContext({ viewport, deviceScaleFactor: viewport.width < 640 ? 2 : 1, isMobile: viewport.width < 640, hasTouch: viewport.width < 640 });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !(refusal && /status of 401/.test(m.text()))) errors.push(`${page.url()}: ${m.text()}`);
    });
    return page;
  }

  async function expectLayoutFine(page: Page, what: string): Promise<void> {
    const report = await layoutReport(page);
    expect(layoutProblems(report), `${what} at ${report.viewport}px`).toEqual([]);
    expect(report.textsMeasured).toBeGreaterThan(5);
  }

  beforeAll(async () => {
    robot = await FakeDingTalkRobot.start({ secret: SECRET });
    rulesDir = mkdtempSync(join(tmpdir(), 'pulse-phone-rules-'));
    writeFileSync(join(rulesDir, 'e2e.yaml'), membersDropRules(RULE_ID));
    backend = await startBackend({
      PULSE_RULES_DIR: rulesDir,
      PULSE_ALERT_INTERVAL_SECONDS: '1',
      PULSE_LATENESS_SECONDS: '7200',
      DINGTALK_WEBHOOK: robot.webhook,
      DINGTALK_SECRET: SECRET,
    });
    browser = await launchChromium();
    // WeCom: 100 joins in the previous minute, 10 now (−90%, critical); Douyin doubles.
    const now = Date.now();
    const ev: PulseEvent[] = [];
    for (let i = 0; i < 100; i++) ev.push({ id: `p${i}`, type: 'member.join', ts: now - 110_000 + i * 400, member: `p${i}`, channel: 'wecom' });
    for (let i = 0; i < 10; i++) ev.push({ id: `c${i}`, type: 'member.join', ts: now - 40_000 + i * 3_000, member: `c${i}`, channel: 'wecom' });
    for (let i = 0; i < 20; i++) ev.push({ id: `dp${i}`, type: 'member.join', ts: now - 110_000 + i * 2_000, member: `dp${i}`, channel: 'douyin' });
    for (let i = 0; i < 40; i++) ev.push({ id: `dc${i}`, type: 'member.join', ts: now - 40_000 + i * 750, member: `dc${i}`, channel: 'douyin' });
    for (let i = 0; i < 30; i++) ev.push({ id: `o${i}`, type: 'order.paid', ts: now - 60_000 + i * 1000, member: `c${i % 10}`, channel: 'wecom', amount: 9_900 });
    expect((await postEvents(backend, ev)).rejected).toEqual([]);
    // The DingTalk message (signed, checked by the stand-in) carries the landing link.
    const text = await eventually(async () => robot.messages.map((m) => m.body.markdown?.text ?? '').find((t) => t.includes('查看详情')), 30_000, 'the alert message with its landing link');
    landingUrl = /\[查看详情\]\(([^)]+)\)/.exec(text)![1]!;
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => {});
    await browser?.close();
    await backend?.stop();
    await robot?.close();
    rmSync(rulesDir, { recursive: true, force: true });
  });

  it('the message links the landing with a signed read-only link', () => {
    const u = new URL(landingUrl);
    expect(u.pathname).toBe('/alert');
    expect(u.searchParams.get('key')).toBe(KEY);
    expect(u.searchParams.get('link')).toMatch(/^pl1\.r\./);
    expect(landingUrl).not.toContain(backend.readToken);
    expect(landingUrl).not.toContain(backend.adminToken);
  });

  it('opens read-only at 390×844 without typing a token, with the numbers of the landing API', async () => {
    const page = await newPage(PHONE);
    await page.goto(landingUrl);
    await page.locator('[data-test="landing-head"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-test="sign-in"]').count()).toBe(0);
    expect(page.url()).not.toContain('link=');
    const u = new URL(landingUrl);
    const api = await getJson<{ firing: { ts: number; value: number; baseline: number; change: number } | null; active: { value: number; baseline: number } | null; contributors: { value: string }[]; chart: { points: unknown[] } }>(
      backend,
      `/api/v1/alerts/landing?key=${encodeURIComponent(KEY)}&at=${u.searchParams.get('at')}`,
    );
    const value = api.active?.value ?? api.firing!.value;
    const baseline = api.active?.baseline ?? api.firing!.baseline;
    expect(await page.locator('[data-test="landing-value"]').innerText()).toBe(String(value));
    expect(await page.locator('[data-test="landing-baseline"]').innerText()).toBe(String(baseline));
    expect(await page.locator('[data-test="landing-where"]').innerText()).toBe('渠道 · 企业微信');
    expect(await page.locator('[data-test="landing-kpi"]').innerText()).toBe('新增成员');
    expect(await page.locator('[data-test="landing-contributors"]').innerText()).toContain('抖音');
    // The chart runs to "now", which moves on between the page's fetch and ours: one step apart at most.
    expect(Math.abs(Number(await page.locator('[data-test="mini-chart"]').getAttribute('data-points')) - api.chart.points.length)).toBeLessThanOrEqual(1);
    expect(JSON.parse((await page.locator('[data-test="mini-chart"]').getAttribute('data-marks'))!)).toEqual([api.firing!.ts]);
    expect(await page.locator('[data-test="landing-actions"]').count()).toBe(0);
    expect(await page.locator('[data-test="role"]').count()).toBe(1);
    await expectLayoutFine(page, 'landing');
    await screenshot(page, 'phone-landing-390');

    // The menu: folded under 640 px, opens on tap.
    expect(await page.locator('nav#analyst-nav').isVisible()).toBe(false);
    await page.click('[data-test="nav-menu"]');
    expect(await page.locator('nav#analyst-nav').isVisible()).toBe(true);
    expect(await page.locator('[data-test="role"]').innerText()).toBe('只读链接');
    await expectLayoutFine(page, 'landing with the menu open');
    await screenshot(page, 'phone-landing-menu-390');
    await page.click('[data-test="nav-menu"]');

    // The trend it links to opens read-only as well (same tab, the link signed it in).
    await page.click('[data-test="landing-trends"]');
    await page.waitForURL(/\/trends\?/);
    await page.locator('[data-test="trends-chart"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('[data-test="sign-in"]').count()).toBe(0);
    await expectLayoutFine(page, 'trends from the landing');
    await screenshot(page, 'phone-trends-390');

    // Reading works; administering does not, whatever the page tries.
    const token = await page.evaluate(() => sessionStorage.getItem('siyu-pulse.token'));
    expect(token).toMatch(/^pl1\.r\./);
    const silence = await fetch(`${backend.url}/api/v1/silences`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify({ matchers: { ruleId: RULE_ID }, durationMinutes: 5, by: 'x', reason: 'y' }) });
    expect(silence.status).toBe(401);
  });

  it('an admin pastes the admin token once and taps 确认, then 标记误报', async () => {
    const page = await newPage(PHONE);
    await page.goto(landingUrl);
    await page.locator('[data-test="landing-admin-sign-in"]').click();
    await page.fill('[data-test="landing-admin-hint"] [data-test="token-input"]', backend.adminToken);
    await page.click('[data-test="landing-admin-hint"] [data-test="sign-in-submit"]');
    await page.locator('[data-test="landing-actions"]').waitFor();
    await page.fill('[data-test="landing-operator"]', '王经理');
    await screenshot(page, 'phone-landing-admin-390');
    await page.click('[data-test="landing-ack"]');
    await page.locator('[data-test="landing-acked"]').waitFor();
    const acks = await getJson<{ acks: { alertKey: string; by: string }[] }>(backend, '/api/v1/silences');
    expect(acks.acks.find((a) => a.alertKey === KEY)?.by).toBe('王经理');

    await page.click('[data-test="landing-false-alarm"]');
    await page.locator('[data-test="landing-feedback"]').waitFor();
    const fb = await getJson<{ feedback: { verdict: string; by: string }[] }>(backend, '/api/v1/alerts/feedback');
    expect(fb.feedback.map((f) => [f.verdict, f.by])).toContainEqual(['false_alarm', '王经理']);
    // Remembered for the tab: a reload stays admin (the link does not downgrade it).
    await page.reload();
    await page.locator('[data-test="landing-actions"]').waitFor();
    await expectLayoutFine(page, 'landing (admin)');
    await screenshot(page, 'phone-landing-admin-done-390');
  });

  it('an expired link and an altered link are refused with a page that says why', async () => {
    const secret = readFileSync(join(backend.dataDir, 'link-secret'), 'utf8').trim();
    // Signed with a clock eight days back: a seven-day link that ran out a day ago.
    const old = new LinkSigner({ secret, ttlMs: 7 * DAY, now: () => Date.now() - 8 * DAY }).sign();
    const u = new URL(landingUrl);
    u.searchParams.set('link', old);
    const page = await newPage(PHONE, true);
    await page.goto(u.toString());
    const refused = page.locator('[data-test="link-refused"]');
    await refused.waitFor({ timeout: 20_000 });
    expect(await refused.locator('h1').first().innerText()).toBe('链接已过期');
    expect(await page.locator('[data-test="landing-head"]').count()).toBe(0);
    await expectLayoutFine(page, 'expired link page');
    await screenshot(page, 'phone-link-expired-390');

    const fresh = new URL(landingUrl).searchParams.get('link')!;
    u.searchParams.set('link', `${fresh.slice(0, -3)}${fresh.endsWith('AAA') ? 'BBB' : 'AAA'}`);
    const page2 = await newPage(PHONE, true);
    await page2.goto(u.toString());
    await page2.locator('[data-test="link-refused"]').waitFor({ timeout: 20_000 });
    expect(await page2.locator('[data-test="link-refused"] h1').first().innerText()).toBe('链接无效');
    await screenshot(page2, 'phone-link-tampered-390');
  });

  it('/m shows the headline KPIs with targets and the open alert, at 390 and 1920', async () => {
    const link = new URL(landingUrl).searchParams.get('link')!;
    for (const [viewport, name] of [
      [PHONE, 'phone-overview-390'],
      [DESKTOP, 'phone-overview-1920'],
    ] as const) {
      const page = await newPage(viewport);
      await page.goto(`${backend.url}/m?link=${encodeURIComponent(link)}`);
      await page.locator('[data-test="phone-kpi"]').first().waitFor({ timeout: 20_000 });
      const kpis = await page.locator('[data-test="phone-kpi"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-kpi')));
      expect(kpis).toEqual(['gmv', 'paid_conversion', 'push_open_rate', 'active_members', 'new_members', 'churn_rate']);
      await page.locator('[data-test="phone-alert"]').first().waitFor({ timeout: 20_000 });
      expect(await page.locator('[data-test="phone-alerts"]').innerText()).toContain('新增成员 · 渠道 · 企业微信');
      expect(await page.locator('[data-test="phone-kpi"][data-kpi="gmv"]').innerText()).toContain('2,970');
      await expectLayoutFine(page, '/m');
      await screenshot(page, name);
      if (viewport === PHONE) {
        await page.locator('[data-test="phone-alert"]').first().click();
        await page.locator('[data-test="landing-head"]').waitFor();
        expect(page.url()).toContain('/alert?key=');
      }
    }
  });

  it('the landing and /m at 360×740 (the narrowest phone) pass the layout checks', async () => {
    const page = await newPage({ width: 360, height: 740 });
    await page.goto(landingUrl);
    await page.locator('[data-test="landing-head"]').waitFor({ timeout: 20_000 });
    await expectLayoutFine(page, 'landing');
    await screenshot(page, 'phone-landing-360');
    await page.goto(`${backend.url}/m`);
    await page.locator('[data-test="phone-kpi"]').first().waitFor({ timeout: 20_000 });
    await expectLayoutFine(page, '/m');
    await screenshot(page, 'phone-overview-360');
  });

  it('the landing at 1920×1080 and the analyst pages at 360, 390 and 1920 px pass the layout checks', async () => {
    for (const viewport of [NARROW, PHONE, DESKTOP]) {
      const page = await newPage(viewport);
      await page.goto(landingUrl);
      await page.locator('[data-test="landing-head"]').waitFor({ timeout: 20_000 });
      await expectLayoutFine(page, 'landing');
      if (viewport === DESKTOP) {
        expect(await page.locator('nav#analyst-nav').isVisible()).toBe(true);
        expect(await page.locator('[data-test="nav-menu"]').isVisible()).toBe(false);
        await screenshot(page, 'phone-landing-1920');
      }
      const w = viewport.width;
      for (const [path, ready] of [
        ['/trends', '[data-test="trends"][data-loading="false"]'],
        ['/alerts', '[data-test="tab-active"]'],
        ['/alerts?tab=history', '[data-test="tab-history"]'],
        ['/alerts?tab=rules', '[data-test="tab-rules"]'],
        ['/alerts?tab=silences', '[data-test="tab-silences"]'],
        ['/alerts?tab=notifiers', '[data-test="tab-notifiers"]'],
        ["/reports", "h1"],
      ] as const) {
        await page.goto(`${backend.url}${path}`);
        await page.locator(ready).first().waitFor({ timeout: 20_000 });
        await page.waitForTimeout(800);
        await expectLayoutFine(page, path);
        await screenshot(page, `phone-analyst${path.replace(/[/?=]/g, '-')}-${w}`);
      }
    }
    expect(errors).toEqual([]);
  });
});
