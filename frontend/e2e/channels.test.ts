/**
 * The wall's channel panel on a team's own channels (Chromium, 1920×1080, zh and en): the
 * seven simulator channels plus the team's `taobao`, which has the largest GMV. The panel
 * ranks by the GMV bar it draws (taobao first, the smallest channels under "另有 N 个渠道未显示"),
 * names channels as PULSE_CHANNEL_NAMES says (raw id otherwise), and cuts nothing off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import type { KpiCatalogue } from '../src/api';
import { eventually, getJson, launchChromium, postEvents, screenshot, startBackend, type Backend, type PulseEvent } from './harness';
import { clippedPanels, openWall, overflowing, waitConnected } from './wall-helpers';

const SIM = ['wecom', 'wechat_group', 'miniprogram', 'douyin', 'sms', 'app_push', 'store_qr'];

function events(runId: string): PulseEvent[] {
  const ev: PulseEvent[] = [];
  let n = 0;
  const paid = (channel: string, amount: number) => ev.push({ id: `${runId}-${n++}`, type: 'order.paid', member: `m${n}`, channel, amount });
  // Simulator channels: ¥700 (wecom) … ¥100 (store_qr); the team's taobao ¥90,000; jd ¥450, unnamed.
  SIM.forEach((ch, i) => paid(ch, (SIM.length - i) * 10_000));
  paid('taobao', 9_000_000);
  paid('jd', 45_000);
  return ev;
}

describe('wall: channel panel on the team’s own channels', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    backend = await startBackend({ PULSE_CHANNEL_NAMES: 'taobao=淘宝天猫旗舰店铺|Tmall flagship 1, wecom=企微社群' });
    browser = await launchChromium();
    const r = await postEvents(backend, events(`ch-${Date.now()}`));
    expect(r.rejected).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('serves the configured names with the catalogue', async () => {
    const c = await getJson<KpiCatalogue>(backend!, '/api/v1/kpis');
    // The widest names the setting admits (8 Chinese / 16 Latin columns) must still fit.
    expect(c.channels?.taobao).toEqual({ zh: '淘宝天猫旗舰店铺', en: 'Tmall flagship 1' });
    expect(c.channels?.wecom).toEqual({ zh: '企微社群', en: '企微社群' });
    expect(c.channels?.sms).toEqual({ zh: '短信', en: 'SMS' });
  });

  for (const lang of ['zh', 'en'] as const) {
    it(`ranks by GMV, names as configured and clips nothing (${lang}, 1080p)`, async () => {
      const { page, context, errors } = await openWall(browser!, backend!, { query: lang === 'en' ? 'lang=en' : '' });
      await waitConnected(page);
      const rows = await eventually(
        async () => {
          const r = await page.$$eval('[data-panel="channels"] tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-channel'), tr.querySelector('.ch__name')?.textContent?.trim()]));
          return r.length > 0 && r[0]?.[0] === 'taobao' ? r : undefined;
        },
        30_000,
        'the channel rows with taobao',
      );
      await page.waitForTimeout(1_000);
      await screenshot(page, `wall-channels-1080p-${lang}.png`); // before the checks: a failure leaves the picture
      // 9 channels; room for 7 rows, so 6 rows + the note, by GMV: jd (¥450) between
      // miniprogram and douyin; sms, app_push and store_qr are the three not shown.
      expect(rows.map((r) => r[0])).toEqual(['taobao', 'wecom', 'wechat_group', 'miniprogram', 'jd', 'douyin']);
      const names = Object.fromEntries(rows);
      expect(names.taobao).toBe(lang === 'zh' ? '淘宝天猫旗舰店铺' : 'Tmall flagship 1');
      expect(names.wecom).toBe('企微社群');
      expect(names.jd).toBe('jd');
      expect(names.wechat_group).toBe(lang === 'zh' ? '微信群' : 'WeChat group');
      const more = page.locator('[data-panel="channels"] .ch__more');
      expect((await more.textContent())?.trim()).toBe(lang === 'zh' ? '另有 3 个渠道未显示' : '3 more channels not shown');
      expect(await clippedPanels(page)).toEqual([]);
      expect(await overflowing(page)).toEqual([]);
      // The note is inside the visible part of its panel (the frame hides overflow).
      const inside = await page.$eval('[data-panel="channels"]', (p) => {
        const note = p.querySelector('.ch__more')!.getBoundingClientRect();
        const frame = p.getBoundingClientRect();
        return note.top >= frame.top && note.bottom <= frame.bottom - 2;
      });
      expect(inside).toBe(true);
      expect(errors).toEqual([]);
      await context.close();
    });
  }
});
