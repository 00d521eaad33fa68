/**
 * The built-in `wecom` board in Chromium at 1920×1080, filled only by WeCom 客户联系
 * callbacks sent to the real server the way WeCom sends them (encrypted, signed): 3 customers
 * added (one callback retried), 2 deleted their staff member, 1 customer group created →
 * 新增成员 3, 流失成员 2, 被客户删除 2, 净增长 1, 新建客户群 1; six tiles in one row, nothing
 * clipped. Screenshot: test-artifacts/wall-wecom-1080p.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { eventXml, sendCallback, type CallbackParty } from '../../backend/test/harness/fakeWecom';
import { eventually, FRONTEND_INDEX, launchChromium, screenshot, startBackend, type Backend } from './harness';
import { boardsOf, clippedPanels, openWall, overflowing, readTiles, waitConnected } from './wall-helpers';

const party: CallbackParty = { corpId: 'wwe2ecorp0000001', token: 'E2eToken', aesKey: 'ZYXWVUTSRQPONMLKJIHGFEDCBAzyxwvutsrqponmlkj' };

describe('wall: WeCom board filled by callbacks (Chromium, 1920×1080)', () => {
  let backend: Backend | undefined;
  let browser: Browser | undefined;

  beforeAll(async () => {
    if (!existsSync(FRONTEND_INDEX)) throw new Error(`${FRONTEND_INDEX} is missing: build first (npm run build)`);
    backend = await startBackend({ WECOM_CORP_ID: party.corpId, WECOM_CALLBACK_TOKEN: party.token, WECOM_CALLBACK_AES_KEY: party.aesKey });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await backend?.stop();
  });

  it('shows joins, 被客户删除 and groups from the callbacks, without clipping', async () => {
    const b = backend!;
    const board = (await boardsOf(b)).boards.find((x) => x.id === 'wecom')!;
    expect(board.tiles).toContain('deleted_by_customer');

    const t = Math.floor(Date.now() / 1000);
    const contact = (i: number, change: string, customer: string, extra: Record<string, string> = {}) =>
      eventXml({ CreateTime: t - 30 + i, Event: 'change_external_contact', ChangeType: change, UserID: 'zhangsan', ExternalUserID: customer, ...extra });
    const sent = [
      contact(0, 'add_external_contact', 'wmA', { State: 'qr_spring' }),
      contact(0, 'add_external_contact', 'wmA', { State: 'qr_spring' }), // WeCom's retry
      contact(1, 'add_external_contact', 'wmB', { State: 'qr_spring' }),
      contact(2, 'add_external_contact', 'wmC', { State: 'link_vip' }),
      contact(3, 'del_follow_user', 'wmD'),
      contact(4, 'del_follow_user', 'wmE'),
      eventXml({ CreateTime: t - 20, Event: 'change_external_chat', ChangeType: 'create', ChatId: 'wrE2eChat' }),
    ];
    for (const xml of sent) expect((await sendCallback(b.url, party, xml)).text).toBe('success');

    const wall = await openWall(browser!, b, { query: 'board=wecom' });
    await waitConnected(wall.page);
    expect((await wall.page.textContent('[data-testid="board-title"]'))?.trim()).toBe('企业微信客户联系');
    const tiles = await eventually(async () => {
      const r = await readTiles(wall.page);
      return r.deleted_by_customer === '2' && r.groups_created === '1' ? r : undefined;
    }, 20_000, 'the WeCom tiles to show the callbacks');
    expect(Object.keys(tiles)).toEqual(board.tiles);
    expect([tiles.new_members, tiles.lost_members, tiles.deleted_by_customer, tiles.net_growth, tiles.groups_created]).toEqual(['3', '2', '2', '1', '1']);
    expect((await wall.page.textContent('[data-kpi="deleted_by_customer"] h2'))?.trim()).toBe('被客户删除');
    await wall.page.waitForTimeout(1_500); // let the charts settle
    await screenshot(wall.page, 'wall-wecom-1080p.png');
    expect(await overflowing(wall.page)).toEqual([]);
    expect(await clippedPanels(wall.page)).toEqual([]);
    for (const p of board.panels) expect(await wall.page.locator(`[data-panel="${p}"]`).count(), `panel ${p}`).toBe(1);
    expect(wall.errors).toEqual([]);
    await wall.context.close();
  });
});
