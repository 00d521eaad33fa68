/**
 * Shared shapes of the delivery half: notifier configs, the message a sender receives and
 * the classified answer it gives back.
 */
import type { Notification } from '../contract.js';

export interface DingTalkConfig {
  id: string;
  type: 'dingtalk';
  /** https://oapi.dingtalk.com/robot/send?access_token=… (contains the token: never log it). */
  webhook: string;
  /** 加签 secret (SEC…). */
  secret?: string;
  /** A custom keyword the robot requires in every message. */
  keyword?: string;
  atMobiles?: string[];
  atUserIds?: string[];
  isAtAll?: boolean;
  /** Own rate limit, below DingTalk's 20/min. */
  maxPerMinute?: number;
  timeoutMs?: number;
}

export interface WeComConfig {
  id: string;
  type: 'wecom';
  /** https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=… (the key is the credential). */
  webhook: string;
  /** WeCom markdown cannot mention by mobile, so these switch the message to `text`. */
  mentionedMobiles?: string[];
  /** `<@userid>` works inside markdown. */
  mentionedUserIds?: string[];
  maxPerMinute?: number;
  timeoutMs?: number;
}

export interface WebhookConfig {
  id: string;
  type: 'webhook';
  url: string;
  /** HMAC-SHA256 key for X-Pulse-Signature. */
  secret?: string;
  headers?: Record<string, string>;
  maxPerMinute?: number;
  timeoutMs?: number;
}

export type NotifierConfig = DingTalkConfig | WeComConfig | WebhookConfig;
export type NotifierType = NotifierConfig['type'];

/** Formatted markdown: `title` for session lists, `text` the full body (starts with the title as a heading). */
export interface FormattedMessage {
  title: string;
  text: string;
}

/** What a sender is asked to deliver: one notification, a digest of several, or a test. */
export interface OutboundMessage extends FormattedMessage {
  kind: Notification['kind'] | 'digest';
  notifications: Notification[];
}

export type RetryClass = 'throttled' | 'backoff' | 'never';

export type SendFailure = {
  ok: false;
  retry: RetryClass;
  /** errcode as text (`310000`), or `http_500`, `timeout`, `network`, … */
  code: string;
  /** The endpoint's own message (errmsg), kept verbatim. */
  message: string;
  /** What it means and what to do, in plain words (中文 / English). */
  explanation: string;
  /** When the endpoint said how long to wait (Retry-After). */
  retryAfterMs?: number;
};

export type SendResult = { ok: true } | SendFailure;

export interface Sender {
  readonly id: string;
  readonly type: NotifierType;
  /** Where it sends, without credentials (for status pages). */
  readonly target: string;
  /** Messages per minute this sender allows itself. */
  readonly maxPerMinute: number;
  send(message: OutboundMessage): Promise<SendResult>;
}
