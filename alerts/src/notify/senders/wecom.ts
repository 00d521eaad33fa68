/**
 * WeCom (企业微信) group robot: the `key` in the URL is the only credential; markdown
 * content ≤ 4096 bytes, text content ≤ 2048 bytes, 20 messages a minute.
 */
import { z } from 'zod';
import { truncateBytes } from '../bytes.js';
import type { OutboundMessage, SendFailure, SendResult, Sender } from '../types.js';
import { DEFAULT_TIMEOUT_MS, postJson, readRobotAnswer, redactUrl } from './http.js';
import { defineKind, httpUrl, mobile, notifierId, timeoutMs } from './kind.js';

export const WECOM_MAX_MARKDOWN_BYTES = 4096;
export const WECOM_MAX_TEXT_BYTES = 2048;
export const WECOM_MAX_PER_MINUTE = 18;

export const wecomConfigSchema = z.strictObject({
  id: notifierId,
  type: z.literal('wecom'),
  /** https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=… (the key is the credential). */
  webhook: httpUrl,
  /** WeCom markdown cannot mention by mobile, so these switch the message to `text`. */
  mentionedMobiles: z.array(mobile).optional(),
  /** `<@userid>` works inside markdown. */
  mentionedUserIds: z.array(z.string().min(1)).optional(),
  maxPerMinute: z.number().int().min(1).max(20).optional(),
  timeoutMs,
});
export type WeComConfig = z.infer<typeof wecomConfigSchema>;

export const wecomKind = defineKind({
  type: 'wecom',
  schema: wecomConfigSchema,
  env: { trigger: 'webhook', vars: { webhook: 'WECOM_WEBHOOK', mentionedMobiles: 'WECOM_MENTIONED_MOBILES' }, lists: ['mentionedMobiles'] },
  create: (config) => createWeComSender(config),
});

/** Markdown → plain text for the `text` message type (which has no markup). */
export function markdownToPlain(md: string): string {
  return md
    .replace(/^#{1,6} /gm, '')
    .replace(/\*\*(.+?)\*\*/g, '$1')
    .replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1：$2');
}

export function buildWeComBody(config: WeComConfig, message: OutboundMessage): unknown {
  // Markdown cannot mention by mobile; only `text` has mentioned_mobile_list.
  if (config.mentionedMobiles?.length) {
    return {
      msgtype: 'text',
      text: {
        content: truncateBytes(markdownToPlain(message.text), WECOM_MAX_TEXT_BYTES),
        mentioned_mobile_list: config.mentionedMobiles,
      },
    };
  }
  const mentions = (config.mentionedUserIds ?? []).map((u) => `<@${u}>`).join(' ');
  const suffix = mentions ? `\n\n${mentions}` : '';
  const room = WECOM_MAX_MARKDOWN_BYTES - Buffer.byteLength(suffix, 'utf8');
  return { msgtype: 'markdown', markdown: { content: truncateBytes(message.text, room) + suffix } };
}

export function createWeComSender(config: WeComConfig): Sender {
  return {
    id: config.id,
    type: 'wecom',
    target: redactUrl(config.webhook),
    maxPerMinute: config.maxPerMinute ?? WECOM_MAX_PER_MINUTE,
    async send(message) {
      const body = JSON.stringify(buildWeComBody(config, message));
      const answer = await postJson(config.webhook, body, { timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS });
      if (answer.kind === 'error') return answer.failure;
      return classifyWeCom(answer.status, answer.body);
    },
  };
}

export function classifyWeCom(status: number, body: string): SendResult {
  const answer = readRobotAnswer(status, body);
  if ('ok' in answer) return answer;
  const { errcode, errmsg } = answer;
  const code = String(errcode);
  if (errcode === 45009) {
    return fail('throttled', code, errmsg, '发送过快被限流 / throttled: over 20 messages a minute; pending alerts will follow as one digest');
  }
  if (errcode === -1) return fail('backoff', code, errmsg, '企业微信系统繁忙 / WeCom is busy; will retry with backoff');
  return fail('never', code, errmsg, EXPLANATIONS[errcode] ?? `未知错误码 ${errcode} / unknown errcode: see errmsg; not retried`);
}

const EXPLANATIONS: Record<number, string> = {
  93000: 'webhook 地址无效 / invalid webhook URL: the robot key does not exist or the robot was removed',
  93004: '机器人已停用 / the robot is disabled',
  40058: '内容过长或参数不合法 / content too long or a parameter is invalid',
  40008: '不支持的消息类型 / unsupported message type',
  44004: '消息内容为空 / the message is empty',
};

function fail(retry: SendFailure['retry'], code: string, message: string, explanation: string): SendFailure {
  return { ok: false, retry, code, message, explanation };
}
