/**
 * 社群 names and member counts from WeCom (connectors/wecom/groupInfo.ts): a customer group the
 * callback reports as created or changed is looked up with groupchat/get on a stand-in WeCom
 * (real HTTP, token flow included), and its name and size land where the admin API puts them.
 * - Through the real server: a signed create callback → GET /api/v1/communities/names names
 *   the group; its member count is kept in community-sizes.json; a dismissed group is not looked up.
 * - The lookup itself: one call per group per interval (a burst of join / leave callbacks is
 *   one lookup, a change after the interval another), a group WeCom does not know costs its
 *   own lookup only, a name too long for the names file is cut at a whole character.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommunityNames, MAX_NAME_LENGTH } from '../src/communities/names.js';
import { CommunitySizes } from '../src/communities/sizes.js';
import { WeComApi } from '../src/connectors/wecom/api.js';
import { WeComGroupInfo } from '../src/connectors/wecom/groupInfo.js';
import { eventXml, FakeWeCom, sendCallback, type CallbackParty } from './harness/fakeWecom.js';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

const fake = new FakeWeCom(2);
beforeAll(() => fake.start());
afterAll(() => fake.close());

const lookups = () => fake.calls.filter((c) => c.api === 'externalcontact/groupchat/get').map((c) => String(c.body?.chat_id));

describe('WeCom customer groups named and sized (real server)', () => {
  let pulse: TestPulse;
  let dataDir = '';
  const party: CallbackParty = { corpId: fake.corpId, token: 'GroupToken123', aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' };

  beforeAll(async () => {
    fake.chats.set('wrGroupA', { name: '望京店会员1群', members: 183 });
    fake.chats.set('wrGroupB', { name: '国贸店福利群', members: 40 });
    dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-wecom-groups-'));
    pulse = await startTestPulse({
      dataDir,
      env: {
        WECOM_CORP_ID: fake.corpId,
        WECOM_CORP_SECRET: fake.secret,
        WECOM_API_BASE: fake.url,
        WECOM_CALLBACK_TOKEN: party.token,
        WECOM_CALLBACK_AES_KEY: party.aesKey,
        WECOM_STATS_CRON: 'off',
        WECOM_STATS_BACKFILL_DAYS: '1',
      },
    });
  });
  afterAll(async () => {
    await pulse?.stopAndClean();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('a created group gets its WeCom name and member count; a dismissed one is not looked up', async () => {
    const t = Math.floor(Date.now() / 1000);
    const chat = (change: string, chatId: string, extra: Record<string, string | number> = {}) =>
      sendCallback(pulse.url, party, eventXml({ CreateTime: t, Event: 'change_external_chat', ChatId: chatId, ChangeType: change, ...extra }));
    expect((await chat('create', 'wrGroupA')).text).toBe('success');
    expect((await chat('update', 'wrGroupB', { UpdateDetail: 'change_name' })).text).toBe('success');
    expect((await chat('dismiss', 'wrGroupC')).text).toBe('success');
    await expect
      .poll(async () => ((await pulse.get('/api/v1/communities/names?ids=wrGroupA,wrGroupB')).json as { names: Record<string, string> }).names, { timeout: 15_000 })
      .toEqual({ wrGroupA: '望京店会员1群', wrGroupB: '国贸店福利群' });
    await expect.poll(() => {
      try {
        return JSON.parse(readFileSync(path.join(dataDir, 'community-sizes.json'), 'utf8')) as Record<string, { members: number }>;
      } catch {
        return {};
      }
    }).toMatchObject({ wrGroupA: { members: 183 }, wrGroupB: { members: 40 } });
    expect(lookups()).not.toContain('wrGroupC');
  });
});

describe('WeComGroupInfo', () => {
  it('looks a group up once per interval, keeps the others when one fails, cuts a long name at a whole character', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pulse-wecom-groupinfo-'));
    try {
      let now = 1_800_000_000_000;
      const long = `${'长'.repeat(MAX_NAME_LENGTH - 1)}😀尾`;
      fake.chats.set('wrBusy', { name: '三里屯店宝妈群', members: 250 });
      fake.chats.set('wrLong', { name: long, members: 12 });
      const names = new CommunityNames({ dataDir: dir });
      const sizes = new CommunitySizes({ dataDir: dir, now: () => now });
      const info = new WeComGroupInfo({ api: new WeComApi({ baseUrl: fake.url, corpId: fake.corpId, secret: fake.secret }), names, sizes, logger: pino({ level: 'silent' }), minIntervalMs: 600_000, now: () => now });
      const before = lookups().length;
      // A burst: five join / leave callbacks of one group, one unknown group, one long name.
      for (let i = 0; i < 5; i++) info.changed('wrBusy');
      info.changed('wrGone');
      info.changed('wrLong');
      info.changed('bad\nid'); // never a store tag value: ignored
      await info.idle();
      expect(lookups().slice(before).sort()).toEqual(['wrBusy', 'wrGone', 'wrLong']);
      expect(info.failures).toBe(1);
      expect(names.name('wrBusy')).toBe('三里屯店宝妈群');
      expect(names.name('wrGone')).toBeNull();
      // 59 + the emoji (2 UTF-16 units) would be 61: the emoji goes whole.
      expect(names.name('wrLong')).toBe('长'.repeat(MAX_NAME_LENGTH - 1));
      expect(sizes.all()).toMatchObject({ wrBusy: 250, wrLong: 12 });

      // Within the interval: remembered, not looked up; after it: looked up again.
      fake.chats.set('wrBusy', { name: '三里屯店宝妈群', members: 231 });
      info.changed('wrBusy');
      await info.idle();
      expect(lookups().slice(before).filter((id) => id === 'wrBusy')).toHaveLength(1);
      now += 600_000;
      info.changed('wrBusy');
      await info.idle();
      expect(lookups().slice(before).filter((id) => id === 'wrBusy')).toHaveLength(2);
      expect(sizes.all().wrBusy).toBe(231);
      info.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
