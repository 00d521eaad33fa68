import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { loadNotifiers, NotifierConfigError } from '../../src/notify/config.js';
import { tempDir } from './helpers.js';

const dirs: (() => void)[] = [];
afterEach(() => dirs.splice(0).forEach((c) => c()));

function yamlFile(text: string): string {
  const d = tempDir();
  dirs.push(d.cleanup);
  const file = join(d.dir, 'notifiers.yaml');
  writeFileSync(file, text);
  return file;
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(NotifierConfigError);
    return (err as Error).message;
  }
  throw new Error('expected an error');
}

const TOKEN = 'abcdef0123456789secrettoken';

describe('loadNotifiers', () => {
  test('a YAML file with all three types, ${ENV} references resolved', () => {
    const file = yamlFile(`
notifiers:
  - id: ops-ding
    type: dingtalk
    webhook: https://oapi.dingtalk.com/robot/send?access_token=\${OPS_TOKEN}
    secret: \${OPS_SECRET}
    keyword: 脉搏
    atMobiles: ["13800000000"]
  - id: ops-wecom
    type: wecom
    webhook: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k
    mentionedUserIds: [zhangsan]
  - id: bi
    type: webhook
    url: https://bi.example.com/hooks/pulse
    secret: s
    headers: { X-Team: ops }
`);
    const ns = loadNotifiers({ file, env: { OPS_TOKEN: TOKEN, OPS_SECRET: 'SECxyz' } });
    expect(ns).toEqual([
      { id: 'ops-ding', type: 'dingtalk', webhook: `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`, secret: 'SECxyz', keyword: '脉搏', atMobiles: ['13800000000'] },
      { id: 'ops-wecom', type: 'wecom', webhook: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k', mentionedUserIds: ['zhangsan'] },
      { id: 'bi', type: 'webhook', url: 'https://bi.example.com/hooks/pulse', secret: 's', headers: { 'X-Team': 'ops' } },
    ]);
  });

  test('errors name the file, the notifier and the field, never the value', () => {
    const file = yamlFile(`
notifiers:
  - id: ops-ding
    type: dingtalk
    webhook: not a url ${TOKEN}
    secrte: SECleaked
    atMobiles: ["138", "13800000000"]
`);
    const msg = errorOf(() => loadNotifiers({ file, env: {} }));
    expect(msg).toContain(`${file}: notifier "ops-ding": field "webhook": must be an http(s) URL`);
    expect(msg).toContain(`${file}: notifier "ops-ding": field "atMobiles.0": must be a phone number`);
    expect(msg).toContain(`${file}: notifier "ops-ding": unknown field "secrte"`);
    expect(msg).not.toContain(TOKEN);
    expect(msg).not.toContain('SECleaked');
  });

  test('every notifier is checked; one run reports them all', () => {
    const file = yamlFile('notifiers:\n  - { id: a, type: dingtalk, webhook: "https://x.y/z", maxPerMinute: 50 }\n  - { type: wecom }\n');
    expect(errorOf(() => loadNotifiers({ file, env: {} })).split('\n')).toEqual([
      `${file}: notifier "a": field "maxPerMinute": Too big: expected number to be <=20`,
      `${file}: notifier #2: field "id": required`,
      `${file}: notifier #2: field "webhook": required`,
    ]);
  });

  test('unknown type, missing env reference, duplicate ids', () => {
    const bad = yamlFile('notifiers:\n  - { id: x, type: slack, url: https://a.b }\n');
    expect(errorOf(() => loadNotifiers({ file: bad, env: {} }))).toBe(`${bad}: notifier "x": field "type": must be one of dingtalk, wecom, webhook`);
    const ref = yamlFile('notifiers:\n  - { id: x, type: dingtalk, webhook: "https://o.d.com/robot/send?access_token=${NOPE}" }\n');
    expect(errorOf(() => loadNotifiers({ file: ref, env: {} }))).toBe(`${ref}: notifier "x": field "webhook": environment variable NOPE is not set`);
    const dup = yamlFile('notifiers:\n  - { id: dingtalk, type: webhook, url: "https://a.b/x" }\n');
    expect(errorOf(() => loadNotifiers({ file: dup, env: { DINGTALK_WEBHOOK: 'https://oapi.dingtalk.com/robot/send?access_token=t' } }))).toContain(
      'notifier id "dingtalk" is defined twice',
    );
    expect(errorOf(() => loadNotifiers({ file: '/nonexistent/notifiers.yaml', env: {} }))).toBe('/nonexistent/notifiers.yaml: file not found');
  });

  test('the one-robot environment config', () => {
    const ns = loadNotifiers({
      env: {
        DINGTALK_WEBHOOK: `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`,
        DINGTALK_SECRET: 'SECabc',
        DINGTALK_KEYWORD: '告警',
        DINGTALK_AT_MOBILES: '13800000000, 13900000001,',
      },
    });
    expect(ns).toEqual([
      {
        id: 'dingtalk',
        type: 'dingtalk',
        webhook: `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`,
        secret: 'SECabc',
        keyword: '告警',
        atMobiles: ['13800000000', '13900000001'],
      },
    ]);
    expect(loadNotifiers({ env: {} })).toEqual([]);
  });

  test('environment errors name the variable, not its value', () => {
    expect(errorOf(() => loadNotifiers({ env: { DINGTALK_WEBHOOK: `oapi.dingtalk.com/robot/send?access_token=${TOKEN}` } }))).toBe(
      'environment: DINGTALK_WEBHOOK: must be an http(s) URL',
    );
    expect(errorOf(() => loadNotifiers({ env: { DINGTALK_WEBHOOK: 'https://o.d.com/x', DINGTALK_AT_MOBILES: '138x' } }))).toBe(
      'environment: DINGTALK_AT_MOBILES (item 1): must be a phone number',
    );
    expect(errorOf(() => loadNotifiers({ env: { DINGTALK_SECRET: 'SEC1' } }))).toBe('environment: DINGTALK_SECRET set but DINGTALK_WEBHOOK is not');
  });
});

describe('notifier kinds: one file and one registry line each', () => {
  test('every kind in the registry is loadable by its type, and an unknown type names them all', async () => {
    const { KINDS, createSender } = await import('../../src/notify/senders/index.js');
    expect(KINDS.map((k) => k.type)).toEqual(['dingtalk', 'wecom', 'webhook']);
    const file = yamlFile(`
notifiers:
  - { id: a, type: dingtalk, webhook: "https://oapi.dingtalk.com/robot/send?access_token=t" }
  - { id: b, type: wecom, webhook: "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k" }
  - { id: c, type: webhook, url: "https://example.invalid/hook" }
`);
    const configs = loadNotifiers({ file, env: {} });
    // The sender built for each config is the kind its type names.
    expect(configs.map((c) => createSender(c).type)).toEqual(['dingtalk', 'wecom', 'webhook']);
    const bad = yamlFile('notifiers:\n  - { id: x, type: feishu, url: "https://x.invalid" }\n');
    expect(errorOf(() => loadNotifiers({ file: bad, env: {} }))).toMatch(/must be one of dingtalk, wecom, webhook/);
  });

  test('an environment form: a stray variable without its webhook is an error for every kind', () => {
    expect(errorOf(() => loadNotifiers({ env: { WECOM_MENTIONED_MOBILES: '13800000000' } }))).toBe(
      'environment: WECOM_MENTIONED_MOBILES set but WECOM_WEBHOOK is not',
    );
    expect(errorOf(() => loadNotifiers({ env: { DINGTALK_SECRET: 'SEC1' } }))).toBe('environment: DINGTALK_SECRET set but DINGTALK_WEBHOOK is not');
  });
});
