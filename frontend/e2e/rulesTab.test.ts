/**
 * The alert center's rules tab on the shipped rules and the default 10 s evaluation loop
 * (Chromium): min_sample in its unit (¥ for money, the ratio's denominator), a deadman
 * rule's current value as a silence (not "15633"), and "评估于 N 秒前" no older than the loop
 * plus the page's 5 s refresh (it read 17–21 s when it was dated by the aligned data instant).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, postEvents, screenshot, startBackend, type Backend } from './harness';

describe('alert center: rules tab units and freshness', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    backend = await startBackend(); // shipped rules, PULSE_ALERT_INTERVAL_SECONDS default 10
    const r = await postEvents(backend, [{ id: 'rt-1', type: 'message', member: 'm1', channel: 'wecom' }]);
    expect(r.accepted).toBe(1);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('prints units and a true evaluation age', async () => {
    const b = backend!;
    const context = await browser!.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const page = await context.newPage();
    await page.goto(`${b.url}/alerts?tab=rules`);
    await page.fill('[data-test="token-input"]', b.readToken);
    await page.click('[data-test="sign-in-submit"]');
    const line = async (id: string) => ((await page.locator(`[data-rule-id="${id}"] .line`).innerText()) ?? '').replace(/\s+/g, ' ');
    await page.locator('[data-rule-id="gmv_swing"]').waitFor({ timeout: 20_000 });
    expect(await line('gmv_swing')).toContain('最小样本 ¥2,000.00');
    expect(await line('push_open_rate_swing')).toContain('最小样本 200 送达数');
    expect(await line('paid_conversion_below_target')).toContain('最小样本 500 浏览数');

    // The deadman rule for WeCom has seen the message: its value is a silence.
    const wecom = page.locator('[data-rule-id="channel_silent_wecom"] [data-test="split-value"]');
    await wecom.first().waitFor({ timeout: 30_000 });
    expect((await wecom.first().innerText()).trim()).toMatch(/^\d+(\.\d)? (毫秒|秒|分钟)无数据$/);

    // Over 25 s (2½ loops), every rule's age stays within loop + refresh (+1 s of rounding).
    const ages: number[] = [];
    const t0 = Date.now();
    while (Date.now() - t0 < 25_000) {
      const texts = await page.locator('[data-test="rule-evaluated"]').allInnerTexts();
      expect(texts.length).toBeGreaterThan(5);
      for (const t of texts) {
        const m = /评估于 (?:(\d+) 秒前|刚刚)/.exec(t);
        expect(m, t).not.toBeNull();
        ages.push(m![1] === undefined ? 0 : Number(m![1]));
      }
      await page.waitForTimeout(1_000);
    }
    console.info(`[rules-tab] evaluation ages seen: min ${Math.min(...ages)} s, max ${Math.max(...ages)} s over ${ages.length} readings`);
    expect(Math.max(...ages)).toBeLessThanOrEqual(16);
    await screenshot(page, 'alert-center-rules-units.png');
    await context.close();
  });
});
