/**
 * WeCom 客户联系 callbacks into a real Siyu Pulse: WeCom's official vector, URL
 * verification, every mapped event type counted through the ingest path (checked through
 * the series API after a flush to the store), a retry counted once, and every refusal
 * (signature, receive id, stale timestamp, undecryptable, entity declarations) counting
 * nothing. The sender is the fake WeCom's own node:crypto code, not the server's library.
 */
import { createDecipheriv } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { msgSignature, openMessage, sealMessage } from '../src/connectors/wecom/crypto.js';
import { mapCallback, parseWeComXml } from '../src/connectors/wecom/events.js';
import { loadConfig, type ConfigError } from '../src/config/config.js';
import { FakeDingTalkRobot } from '../../alerts/test/fakes/dingtalkRobot.js';
import { READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';
import { eventXml, sendCallback, wecomDecrypt, wecomEncrypt, wecomSign, type CallbackParty } from './harness/fakeWecom.js';

// WeCom's published test vector (加解密方案说明).
const V = {
  token: 'QDG6eK',
  aesKey: 'jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C',
  corpId: 'wx5823bf96d3bd56c7',
  timestamp: '1409659589',
  nonce: '263014780',
  echostr: 'P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==',
  signature: '5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3',
  plaintext: '1616140317555161061',
};

describe('WeCom crypto', () => {
  it('passes the official vector: signature and plaintext', () => {
    expect(msgSignature(V.token, V.timestamp, V.nonce, V.echostr)).toBe(V.signature);
    expect(openMessage(V.aesKey, V.corpId, V.echostr)).toBe(V.plaintext);
    // The fake's independent implementation agrees, and the vector's padding is WeCom's 32-byte kind.
    const fake = wecomDecrypt(V.aesKey, V.echostr);
    expect(fake).toMatchObject({ message: V.plaintext, receiveId: V.corpId });
    expect(wecomSign(V.token, V.timestamp, V.nonce, V.echostr)).toBe(V.signature);
  });

  it('32-byte PKCS#7: Node’s automatic padding check rejects what WeCom sends, the connector opens it', () => {
    // 16 + 4 + 24 + 20 (corp id) = 64 bytes: a whole number of blocks, so WeCom pads a full 32 bytes (0x20).
    const message = 'x'.repeat(64 - 20 - 'wwfake0123456789abcd'.length);
    const corp = 'wwfake0123456789abcd';
    const encrypted = wecomEncrypt(V.aesKey, corp, message);
    expect(Buffer.from(encrypted, 'base64').length).toBe(96);
    expect(wecomDecrypt(V.aesKey, encrypted).pad).toBe(32);
    const key = Buffer.from(`${V.aesKey}=`, 'base64');
    const auto = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
    expect(() => Buffer.concat([auto.update(Buffer.from(encrypted, 'base64')), auto.final()])).toThrow();
    expect(openMessage(V.aesKey, corp, encrypted)).toBe(message);
    // Every padding length 1…32 round-trips both ways between the two implementations.
    for (let len = 0; len < 32; len++) {
      const m = '中'.repeat(len) + 'a'.repeat(len % 3);
      expect(openMessage(V.aesKey, corp, wecomEncrypt(V.aesKey, corp, m))).toBe(m);
      expect(wecomDecrypt(V.aesKey, sealMessage(V.aesKey, corp, m)).message).toBe(m);
    }
  });

  it('refuses another corp’s receive id, a wrong key and non-block input', () => {
    const enc = wecomEncrypt(V.aesKey, 'wwsomeoneelse', 'hello');
    expect(() => openMessage(V.aesKey, V.corpId, enc)).toThrow(/receive id/);
    const otherKey = 'a'.repeat(43);
    expect(() => openMessage(otherKey, V.corpId, V.echostr)).toThrow(/receive id|decrypt/);
    expect(() => openMessage(V.aesKey, V.corpId, 'AAAA')).toThrow(/decrypt/);
  });

  it('refuses DOCTYPE / ENTITY (no entity expansion) and oversized XML', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><Event>&b;</Event></xml>';
    expect(() => parseWeComXml(bomb)).toThrow(/DOCTYPE/);
    expect(() => parseWeComXml(`<xml><A>${'a'.repeat(70_000)}</A></xml>`)).toThrow(/larger than/);
    expect(() => parseWeComXml('<xml><A>')).toThrow(/well-formed|root/);
  });

  it('start-up validation names the setting', () => {
    const base = { PULSE_INGEST_KEYS: 'k'.repeat(20), PULSE_READ_TOKEN: 'r'.repeat(20), WECOM_CORP_ID: V.corpId, WECOM_CALLBACK_TOKEN: V.token };
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env);
        return '';
      } catch (err) {
        return (err as ConfigError).message;
      }
    };
    expect(problems({ ...base, WECOM_CALLBACK_AES_KEY: V.aesKey.slice(0, 42) })).toMatch(/WECOM_CALLBACK_AES_KEY: must be the 43-character EncodingAESKey .*got 42/);
    expect(problems({ ...base, WECOM_CALLBACK_AES_KEY: `${V.aesKey.slice(0, 42)}=` })).toMatch(/WECOM_CALLBACK_AES_KEY: must contain only base64 characters/);
    expect(problems({ ...base })).toMatch(/WECOM_CALLBACK_TOKEN: WECOM_CALLBACK_TOKEN and WECOM_CALLBACK_AES_KEY go together/);
    expect(problems({ ...base, WECOM_CORP_ID: '', WECOM_CALLBACK_AES_KEY: V.aesKey })).toMatch(/WECOM_CORP_ID: required/);
    expect(problems({ ...base, WECOM_CALLBACK_TOKEN: 'has space', WECOM_CALLBACK_AES_KEY: V.aesKey })).toMatch(/WECOM_CALLBACK_TOKEN: must be the callback Token/);
    // The key's value is never echoed in the message.
    expect(problems({ ...base, WECOM_CALLBACK_AES_KEY: 'short-secret-value' })).not.toContain('short-secret-value');
    expect(loadConfig({ ...base, WECOM_CALLBACK_AES_KEY: V.aesKey }).wecom.callback).toMatchObject({ corpId: V.corpId, token: V.token, maxAgeMs: 300_000 });
  });

  it('maps del_external_contact with Source=DELETE_BY_TRANSFER to nothing (a handover is not churn)', () => {
    const f = parseWeComXml(eventXml({ CreateTime: 1_700_000_000, Event: 'change_external_contact', ChangeType: 'del_external_contact', UserID: 'u', ExternalUserID: 'c', Source: 'DELETE_BY_TRANSFER' }));
    expect(mapCallback(f)).toMatchObject({ events: [], ignored: expect.stringMatching(/handover/) });
  });
});

describe('WeCom callback receiver (real server)', () => {
  let pulse: TestPulse;
  let robot: FakeDingTalkRobot;
  const ROBOT_SECRET = 'SECwecomtest0123456789';
  const party: CallbackParty = { corpId: 'wwtestcorp000001', token: 'TestToken123', aesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' };
  const t0 = Math.floor(Date.now() / 1000) - 60;
  let seq = 0;
  const ct = () => t0 + seq++;

  beforeAll(async () => {
    robot = await FakeDingTalkRobot.start({ secret: ROBOT_SECRET });
    pulse = await startTestPulse({
      env: {
        DINGTALK_WEBHOOK: robot.webhook,
        DINGTALK_SECRET: ROBOT_SECRET,
        WECOM_CORP_ID: party.corpId,
        WECOM_CALLBACK_TOKEN: party.token,
        WECOM_CALLBACK_AES_KEY: party.aesKey,
        // Events from 2 h ago give the alert engine an hour of history for the storm rule.
        PULSE_LATENESS_SECONDS: '86400',
        PULSE_ALERT_INTERVAL_SECONDS: '1',
      },
    });
  });
  afterAll(async () => {
    await pulse?.stopAndClean();
    await robot?.close();
  });

  const sum = async (kpi: string, extra = ''): Promise<Record<string, number>> => {
    await pulse.flushToStore();
    const from = (t0 - 3600) * 1000;
    const r = await pulse.get(`/api/v1/series?kpi=${kpi}&from=${from}&to=${Date.now() + 60_000}&step=all&channel=wecom${extra}`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    const out: Record<string, number> = {};
    for (const s of (r.json as { series: { tags: Record<string, string>; points: [number, number | null][] }[] }).series) {
      const key = Object.keys(s.tags).length ? Object.values(s.tags).join('|') : 'all';
      const total = s.points.reduce((a, [, v]) => a + (v ?? 0), 0);
      // A split whose rows hold only other counters answers 0: left out.
      if (total !== 0) out[key] = total;
    }
    return out;
  };
  const metric = async (outcome: string) => {
    const text = (await pulse.get('/metrics', READ_TOKEN)).json as string;
    const lines = text.split('\n').filter((l) => l.startsWith('pulse_wecom_callbacks_total{') && l.includes(`outcome="${outcome}"`));
    return lines.reduce((a, l) => a + Number(l.split(' ').pop()), 0);
  };

  it('URL verification: answers the decrypted echostr; the official request itself is refused as stale', async () => {
    const now = String(Math.floor(Date.now() / 1000));
    const echostr = wecomEncrypt(party.aesKey, party.corpId, '1616140317555161061');
    const q = new URLSearchParams({ msg_signature: wecomSign(party.token, now, '263014780', echostr), timestamp: now, nonce: '263014780', echostr });
    const ok = await fetch(`${pulse.url}/api/v1/connectors/wecom/callback?${q}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('1616140317555161061');
    // Unencoded '+' (decoded to a space by the query parser) still verifies.
    const raw = `msg_signature=${wecomSign(party.token, now, '1', echostr)}&timestamp=${now}&nonce=1&echostr=${echostr.replaceAll('/', '%2F').replaceAll('=', '%3D')}`;
    const plus = await fetch(`${pulse.url}/api/v1/connectors/wecom/callback?${raw}`);
    expect(plus.status).toBe(200);
    const bad = await fetch(`${pulse.url}/api/v1/connectors/wecom/callback?${new URLSearchParams({ msg_signature: '0'.repeat(40), timestamp: now, nonce: '1', echostr })}`);
    expect(bad.status).toBe(403);
    expect(await bad.text()).toMatch(/msg_signature does not match/);
  });

  it('the official vector through the real server with its own corp', async () => {
    const other = await startTestPulse({ env: { WECOM_CORP_ID: V.corpId, WECOM_CALLBACK_TOKEN: V.token, WECOM_CALLBACK_AES_KEY: V.aesKey } });
    try {
      const official = new URLSearchParams({ msg_signature: V.signature, timestamp: V.timestamp, nonce: V.nonce, echostr: V.echostr });
      const stale = await fetch(`${other.url}/api/v1/connectors/wecom/callback?${official}`);
      expect(stale.status).toBe(403);
      expect(await stale.text()).toMatch(/timestamp 1409659589 is more than 300 s/);
      // The same echostr signed now (WeCom signs each request afresh) answers the vector's plaintext.
      const now = String(Math.floor(Date.now() / 1000));
      const fresh = new URLSearchParams({ msg_signature: wecomSign(V.token, now, V.nonce, V.echostr), timestamp: now, nonce: V.nonce, echostr: V.echostr });
      const res = await fetch(`${other.url}/api/v1/connectors/wecom/callback?${fresh}`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(V.plaintext);
    } finally {
      await other.stopAndClean();
    }
  });

  it('counts every mapped event type once, a retry once, and nothing for ignored events', async () => {
    const send = (fields: Record<string, string | number | string[]>, o: Parameters<typeof sendCallback>[3] = {}) => sendCallback(pulse.url, party, eventXml(fields), o);
    const contact = (change: string, extra: Record<string, string>) => ({ CreateTime: ct(), Event: 'change_external_contact', ChangeType: change, UserID: 'zhangsan', ...extra });
    const answers: { status: number; text: string }[] = [];
    // 3 adds: two from the 联系我 code "qr_spring", one from the 获客链接 "link_vip"; the first is retried twice (WeCom's 5 s retry).
    const firstAdd = contact('add_external_contact', { ExternalUserID: 'wmC1', State: 'qr_spring', WelcomeCode: 'W1' });
    answers.push(await send(firstAdd), await send(firstAdd), await send(firstAdd));
    answers.push(await send(contact('add_external_contact', { ExternalUserID: 'wmC2', State: 'qr_spring', WelcomeCode: 'W2' })));
    answers.push(await send(contact('add_external_contact', { ExternalUserID: 'wmC3', State: 'link_vip', WelcomeCode: 'W3' })));
    // 2 staff deleting customers, 1 handover (not churn).
    answers.push(await send(contact('del_external_contact', { ExternalUserID: 'wmC4', Source: '' })));
    answers.push(await send(contact('del_external_contact', { ExternalUserID: 'wmC5' })));
    answers.push(await send(contact('del_external_contact', { ExternalUserID: 'wmC6', Source: 'DELETE_BY_TRANSFER' })));
    // 2 customers deleting the staff member: 被客户删除 and member.leave; one retried.
    const delFollow = contact('del_follow_user', { ExternalUserID: 'wmC7' });
    answers.push(await send(delFollow), await send(delFollow));
    answers.push(await send(contact('del_follow_user', { ExternalUserID: 'wmC8' })));
    // Customer groups: 2 created, 1 dismissed; 3 members join chat A by QR code (JoinScene 3), 2 leave (count only).
    const chat = (change: string, chatId: string, extra: Record<string, string | number | string[]> = {}) => ({ CreateTime: ct(), Event: 'change_external_chat', ChatId: chatId, ChangeType: change, ...extra });
    answers.push(await send(chat('create', 'wrChatA')), await send(chat('create', 'wrChatB')), await send(chat('dismiss', 'wrChatB')));
    const join = chat('update', 'wrChatA', { UpdateDetail: 'add_member', JoinScene: 3, MemChangeCnt: 3, MemChangeList: ['wmC1', 'wmC9', 'wmC10'] });
    answers.push(await send(join), await send(join));
    answers.push(await send(chat('update', 'wrChatA', { UpdateDetail: 'del_member', QuitScene: 0, MemChangeCnt: 2 })));
    answers.push(await send(chat('update', 'wrChatA', { UpdateDetail: 'change_name' })));
    answers.push(await send(contact('edit_external_contact', { ExternalUserID: 'wmC1' })));
    expect(answers.map((a) => `${a.status} ${a.text}`)).toEqual(Array(answers.length).fill('200 success'));
    expect(answers).toHaveLength(19);

    expect(await sum('new_members', '&by=campaign')).toEqual({ qr_spring: 2, link_vip: 1, '': 3 });
    expect(await sum('new_members', '&by=community')).toEqual({ '': 3, wrChatA: 3 });
    expect(await sum('lost_members', '&by=community')).toEqual({ '': 4, wrChatA: 2 });
    expect(await sum('deleted_by_customer')).toEqual({ all: 2 });
    expect(await sum('groups_created', '&by=community')).toEqual({ wrChatA: 1, wrChatB: 1 });
    expect(await sum('groups_dismissed')).toEqual({ all: 1 });
    // 12 distinct callbacks with events, 4 retries, 3 not counted (handover, change_name, edit): 19 answers.
    expect(await metric('counted')).toBe(12);
    expect(await metric('duplicate')).toBe(4);
    expect(await metric('ignored')).toBe(2 + 1);
  });

  it('refuses a wrong signature, another corp, a stale timestamp, garbage and entity declarations, counting nothing', async () => {
    const before = await sum('lost_members');
    const xml = () => eventXml({ CreateTime: ct(), Event: 'change_external_contact', ChangeType: 'del_follow_user', UserID: 'u', ExternalUserID: `x${seq}` });
    const refusals = [
      await sendCallback(pulse.url, party, xml(), { signature: 'f'.repeat(40) }),
      await sendCallback(pulse.url, { ...party, token: 'OtherToken' }, xml()),
      await sendCallback(pulse.url, party, xml(), { receiveId: 'wwanothercorp' }),
      await sendCallback(pulse.url, party, xml(), { timestamp: Math.floor(Date.now() / 1000) - 3600 }),
      await sendCallback(pulse.url, party, xml(), { timestamp: Math.floor(Date.now() / 1000) + 3600 }),
      await sendCallback(pulse.url, party, '<!DOCTYPE x [<!ENTITY a "a">]><xml><Event>&a;</Event></xml>'),
      await sendCallback(pulse.url, party, xml(), { envelope: () => '<!DOCTYPE x [<!ENTITY a "a">]><xml><Encrypt>&a;</Encrypt></xml>' }),
      await sendCallback(pulse.url, party, xml(), { envelope: () => 'not xml at all' }),
    ];
    expect(refusals.map((r) => r.status)).toEqual(Array(8).fill(403));
    expect(refusals[0]!.text).toMatch(/msg_signature does not match/);
    expect(refusals[2]!.text).toMatch(/receive id does not match WECOM_CORP_ID/);
    expect(refusals[3]!.text).toMatch(/more than 300 s/);
    expect(refusals[5]!.text).toMatch(/DOCTYPE/);
    expect(await sum('lost_members')).toEqual(before);
    // + the GET with a bad signature in the URL-verification test.
    expect(await metric('refused_signature')).toBe(3);
    expect(await metric('refused_receive_id')).toBe(1);
    expect(await metric('refused_stale')).toBe(2);
    expect(await metric('refused_malformed')).toBe(3);
  });

  it('被客户删除 is a KPI with alert rules: the storm rule fires on more than 10 in an hour', async () => {
    const rules = (await pulse.get('/api/v1/rules')).json as { rules: { rule: { id: string } }[]; problems: unknown[] };
    expect(rules.problems).toEqual([]);
    expect(rules.rules.map((r) => r.rule.id)).toEqual(expect.arrayContaining(['deleted_by_customer_rise', 'deleted_by_customer_storm']));
    const kpis = (await pulse.get('/api/v1/kpis')).json as { kpis: { id: string; label: { zh: string } }[] };
    expect(kpis.kpis.find((k) => k.id === 'deleted_by_customer')?.label.zh).toBe('被客户删除');
    // An hour of history (an ordinary event 2 h ago), then 9 more deletions: 2 + 9 = 11 > 10.
    expect((await pulse.post(JSON.stringify([{ type: 'message', channel: 'wecom', ts: Date.now() - 2 * 3_600_000 }]))).status).toBe(202);
    for (let i = 0; i < 9; i++) {
      const r = await sendCallback(pulse.url, party, eventXml({ CreateTime: ct(), Event: 'change_external_contact', ChangeType: 'del_follow_user', UserID: 'u', ExternalUserID: `storm${i}` }));
      expect(r.text).toBe('success');
    }
    const deadline = Date.now() + 20_000;
    let storm: { state: string; value: number | null } | undefined;
    while (Date.now() < deadline) {
      const active = (await pulse.get('/api/v1/alerts')).json as { alerts: { ruleId: string; state: string; value: number | null }[] };
      storm = active.alerts.find((a) => a.ruleId === 'deleted_by_customer_storm');
      if (storm?.state === 'firing') break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(storm).toMatchObject({ state: 'firing', value: 11 });
    // The manager's DingTalk push names the KPI, the count and the ceiling.
    const until = Date.now() + 20_000;
    const pushed = () => robot.messages.find((m) => (m.body.markdown?.text ?? m.body.text?.content ?? '').includes('被客户删除'));
    while (!pushed() && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    const text = pushed()?.body.markdown?.text ?? '';
    console.info(`[wecom storm] DingTalk markdown:\n${text}`);
    expect(text).toContain('1 小时内被客户删除超过 10 人');
    expect(text).toMatch(/\b11\b/);
  });
});
