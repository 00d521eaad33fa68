/**
 * Ratios over 100% on the wall (Chromium, 1920×1080, zh and en): a producer that sends opens
 * without deliveries and payments without page views. The wall shows what the data says but
 * never as a business figure: the tiles say which events are missing instead of "达成 457.5%",
 * the funnel step says "⚠" and its note names the missing counter, the channel cell is flagged;
 * step rates are labelled as conversion rates (加购率 …), not drops.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, postEvents, screenshot, startBackend, type Backend, type PulseEvent } from './harness';
import { clippedPanels, openWall, overflowing, waitConnected } from './wall-helpers';

function events(run: string): PulseEvent[] {
  const ev: PulseEvent[] = [];
  let n = 0;
  const add = (type: string, count: number, channel: string, extra: Partial<PulseEvent> = {}) => {
    for (let i = 0; i < count; i++) ev.push({ id: `${run}-${n++}`, type, member: `m${i}`, channel, ...extra });
  };
  add('push.delivered', 3, 'wecom');
  add('push.open', 9, 'wecom'); // 300%: push.delivered events missing
  // The same a minute earlier: whichever minute is the last complete one when the page is
  // read, the open-rate trend panel's 上一分钟 figure is 300% (the ratio today stays 300%).
  const minuteAgo = Date.now() - 60_000;
  add('push.delivered', 3, 'wecom', { ts: minuteAgo });
  add('push.open', 9, 'wecom', { ts: minuteAgo });
  add('page.view', 2, 'miniprogram');
  add('cart.add', 10, 'miniprogram'); // 500%: page.view events missing
  add('order.create', 5, 'miniprogram');
  add('order.paid', 4, 'miniprogram', { amount: 19_900 });
  return ev;
}

describe('wall: ratios over 100% are flagged, not presented', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    backend = await startBackend();
    expect((await postEvents(backend, events(`or-${Date.now()}`))).rejected).toEqual([]);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  for (const lang of ['zh', 'en'] as const) {
    it(`tiles, funnel and channel table (${lang})`, async () => {
      const { page, context, errors } = await openWall(browser!, backend!, { query: lang === 'en' ? 'lang=en' : '' });
      await waitConnected(page);
      const open = page.locator('[data-kpi="push_open_rate"] [data-testid="kpi-outrun"]');
      await open.waitFor({ timeout: 30_000 });
      await page.waitForTimeout(1_000);
      await screenshot(page, `wall-outrun-1080p-${lang}.png`);
      expect((await open.textContent())?.trim()).toBe(lang === 'zh' ? '⚠ 缺少送达事件？' : '⚠ push.delivered missing?');
      expect(await open.getAttribute('title')).toBe(lang === 'zh' ? '打开数多于送达数：缺少送达事件（push.delivered）？' : 'More opens than deliveries: push.delivered events missing?');
      // The value is still what the data says (300.0%), but no target attainment on it.
      expect((await page.textContent('[data-kpi="push_open_rate"] [data-testid="kpi-value"]'))?.trim()).toBe('300.0%');
      // Paid conversion 4 / 2 views = 200%: its target line ("目标 5.2% 达成 …") gives way to the flag.
      expect((await page.textContent('[data-kpi="paid_conversion"] [data-testid="kpi-outrun"]'))?.trim()).toBe(lang === 'zh' ? '⚠ 缺少浏览事件？' : '⚠ page.view missing?');
      expect(await page.locator('[data-kpi="paid_conversion"] [data-testid="kpi-attainment"]').count()).toBe(0);

      // Funnel: each step's rate is named as a conversion rate; the 500% step is flagged.
      const names = await page.$$eval('[data-panel="funnel"] .funnel__rate-name', (els) => els.map((e) => e.textContent?.trim()));
      expect(names).toEqual(lang === 'zh' ? ['加购率', '下单率', '支付率'] : ['Cart rate', 'Order rate', 'Pay rate']);
      expect(await page.locator('[data-panel="funnel"] [data-step="cart"] [data-testid="funnel-outrun"]').count()).toBe(1);
      expect((await page.textContent('[data-panel="funnel"] [data-step="cart"] [data-testid="funnel-rate"]'))?.trim()).toBe('500.0%');
      expect(await page.locator('[data-panel="funnel"] [data-step="order"] [data-testid="funnel-outrun"]').count()).toBe(0);
      expect(await page.locator('[data-panel="funnel"] .funnel__arrow').count()).toBe(0);
      expect((await page.textContent('[data-testid="funnel-overall"]'))?.trim()).toBe('⚠ 200.0%');
      expect((await page.textContent('[data-panel="funnel"] [data-testid="funnel-note"]'))?.trim()).toBe(
        lang === 'zh' ? '⚠ 加购数多于浏览数：缺少浏览事件（page.view）？' : '⚠ More cart adds than page views: page.view events missing?',
      );

      // The open-rate trend panel's last complete minute is flagged too.
      expect(await page.locator('[data-panel="trend_open_rate"] [data-testid="trend-outrun"]').count()).toBe(1);
      expect((await page.textContent('[data-panel="trend_open_rate"] [data-testid="trend-current"]'))?.trim()).toBe('300.0%');

      // Channel table: WeCom's open rate is flagged.
      const cell = page.locator('[data-panel="channels"] tr[data-channel="wecom"] [data-testid="channel-outrun"]');
      expect((await cell.textContent())?.trim()).toBe('⚠ 300.0%');
      expect(await overflowing(page)).toEqual([]);
      expect(await clippedPanels(page)).toEqual([]);
      expect(errors).toEqual([]);
      await context.close();
    });
  }
});
