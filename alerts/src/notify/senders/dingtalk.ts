/**
 * DingTalk custom group robot (自定义机器人): markdown message, 加签, keyword, @mentions,
 * body ≤ 20,000 bytes. Success is `errcode === 0` only: failures also arrive as HTTP 200.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { fitJson } from '../bytes.js';
import type { OutboundMessage, SendFailure, SendResult, Sender } from '../types.js';
import { DEFAULT_TIMEOUT_MS, postJson, readRobotAnswer, redactUrl } from './http.js';
import { defineKind, httpUrl, mobile, notifierId, timeoutMs } from './kind.js';

export const DINGTALK_MAX_BODY_BYTES = 20_000;
/** DingTalk allows 20 a minute, then blocks the robot for 10 minutes: keep a margin. */
export const DINGTALK_MAX_PER_MINUTE = 18;

export const dingtalkConfigSchema = z.strictObject({
  id: notifierId,
  type: z.literal('dingtalk'),
  /** https://oapi.dingtalk.com/robot/send?access_token=… (contains the token: never log it). */
  webhook: httpUrl,
  /** 加签 secret (SEC…). */
  secret: z.string().min(1).optional(),
  /** A custom keyword the robot requires in every message. */
  keyword: z.string().min(1).optional(),
  atMobiles: z.array(mobile).optional(),
  atUserIds: z.array(z.string().min(1)).optional(),
  isAtAll: z.boolean().optional(),
  /** Own rate limit: DingTalk blocks a robot for 10 minutes above 20 a minute. */
  maxPerMinute: z.number().int().min(1).max(20).optional(),
  timeoutMs,
});
export type DingTalkConfig = z.infer<typeof dingtalkConfigSchema>;

export const dingtalkKind = defineKind({
  type: 'dingtalk',
  schema: dingtalkConfigSchema,
  env: {
    trigger: 'webhook',
    vars: { webhook: 'DINGTALK_WEBHOOK', secret: 'DINGTALK_SECRET', keyword: 'DINGTALK_KEYWORD', atMobiles: 'DINGTALK_AT_MOBILES' },
    lists: ['atMobiles'],
  },
  create: (config) => createDingTalkSender(config),
});

/** A signed COPY of the webhook URL (appending to the stored URL each send makes it grow). */
export function signDingTalkUrl(webhook: string, secret: string, timestamp: number): string {
  const sign = createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
  const sep = webhook.includes('?') ? '&' : '?';
  return `${webhook}${sep}timestamp=${timestamp}&sign=${encodeURIComponent(sign)}`;
}

/** Puts `keyword` into a markdown text (inside its leading heading if it has one). */
export function withKeyword(text: string, keyword: string): string {
  if (text.includes(keyword)) return text;
  const heading = /^#{1,6} /.exec(text);
  return heading ? `${heading[0]}${keyword} ${text.slice(heading[0].length)}` : `${keyword} ${text}`;
}

export function buildDingTalkBody(config: DingTalkConfig, message: OutboundMessage): { body: string; truncated: boolean } {
  const keyword = config.keyword;
  const title = keyword && !message.title.includes(keyword) ? `${keyword} ${message.title}` : message.title;
  const text = keyword ? withKeyword(message.text, keyword) : message.text;
  // The @ must also be in the text for DingTalk to highlight the mention.
  const mentions = [...(config.atMobiles ?? []), ...(config.atUserIds ?? [])].map((m) => `@${m}`).join(' ');
  const at = { atMobiles: config.atMobiles ?? [], atUserIds: config.atUserIds ?? [], isAtAll: config.isAtAll ?? false };
  const build = (t: string) => ({
    msgtype: 'markdown',
    markdown: { title, text: mentions ? `${t}\n\n${mentions}` : t },
    at,
  });
  return fitJson(text, build, DINGTALK_MAX_BODY_BYTES);
}

export function createDingTalkSender(config: DingTalkConfig, opts: { now?: () => number } = {}): Sender {
  const now = opts.now ?? Date.now;
  return {
    id: config.id,
    type: 'dingtalk',
    target: redactUrl(config.webhook),
    maxPerMinute: config.maxPerMinute ?? DINGTALK_MAX_PER_MINUTE,
    async send(message) {
      const { body } = buildDingTalkBody(config, message);
      const url = config.secret ? signDingTalkUrl(config.webhook, config.secret, now()) : config.webhook;
      const answer = await postJson(url, body, { timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS });
      if (answer.kind === 'error') return answer.failure;
      return classifyDingTalk(answer.status, answer.body, { signed: Boolean(config.secret) });
    },
  };
}

export function classifyDingTalk(status: number, body: string, ctx: { signed: boolean }): SendResult {
  if (status >= 300 && status < 400) {
    return fail('throttled', `http_${status}`, `HTTP ${status}`, '钉钉返回重定向，通常表示机器人处于限流惩罚期 / DingTalk redirects while the robot is penalised for sending too fast; waiting out the throttle window');
  }
  const answer = readRobotAnswer(status, body);
  if ('ok' in answer) return answer;
  const { errcode, errmsg } = answer;
  const code = String(errcode);
  switch (errcode) {
    case 130101:
    case 410100:
      return fail('throttled', code, errmsg, '发送过快被限流 / throttled: more than 20 messages a minute; DingTalk blocks the robot for 10 minutes, pending alerts will follow as one digest');
    case -1:
      return fail('backoff', code, errmsg, '钉钉系统繁忙 / DingTalk is busy; will retry with backoff');
    case 310000:
      return fail('never', code, errmsg, explainSecurity(errmsg, ctx.signed));
    default:
      return fail('never', code, errmsg, EXPLANATIONS[errcode] ?? `未知错误码 ${errcode} / unknown errcode: see errmsg; not retried`);
  }
}

const TOKEN_MISSING = 'access_token 不存在 / access token does not exist: check the webhook URL (DINGTALK_WEBHOOK)';
const EXPLANATIONS: Record<number, string> = {
  400013: '群已解散 / the group has been dissolved',
  400101: TOKEN_MISSING,
  300001: TOKEN_MISSING,
  300005: TOKEN_MISSING,
  400102: '机器人已停用 / the robot is disabled in the group settings',
  400105: '不支持的消息类型 / unsupported message type',
  400106: '机器人不存在或不在群内 / the robot does not exist or was removed from the group',
  430101: '含有不安全的链接 / the message contains a link DingTalk considers unsafe',
  430102: '内容不合适 / the text was rejected by content moderation',
  430103: '图片不合适 / an image was rejected by content moderation',
  430104: '内容不合适 / the content was rejected by content moderation',
  460101: '消息过长 / message too long: the body exceeds 20,000 bytes',
  101002: '消息过长 / message too long',
  40035: '缺少参数 / missing parameter: the body is not the JSON DingTalk expects',
  90030: '超出调用额度 / over quota: the robot has used up its call quota',
};

function explainSecurity(errmsg: string, signed: boolean): string {
  const m = errmsg.toLowerCase();
  if (m.includes('keywords not in content')) {
    return '关键词不匹配 / keyword missing: the robot requires a keyword the message does not contain; set DINGTALK_KEYWORD to one of the robot\'s keywords';
  }
  if (m.includes('timestamp')) {
    return '时间戳无效 / timestamp rejected: this server\'s clock differs from DingTalk\'s by more than 1 hour (check NTP)';
  }
  if (m.includes('sign')) {
    return signed
      ? '签名不匹配 / signature does not match: check DINGTALK_SECRET'
      : '签名缺失 / the robot uses 加签 but no secret is configured: set DINGTALK_SECRET';
  }
  if (m.includes('whitelist') || /\bip\b/.test(m)) {
    return 'IP 不在白名单 / this server\'s IP is not in the robot\'s IP allow-list';
  }
  return '安全设置校验失败 / the robot\'s security settings (keyword, 加签 or IP) rejected the message';
}

function fail(retry: SendFailure['retry'], code: string, message: string, explanation: string): SendFailure {
  return { ok: false, retry, code, message, explanation };
}
