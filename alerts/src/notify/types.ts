/**
 * Shared shapes of the delivery half: the message a sender receives and the classified
 * answer it gives back. Each notifier kind's config lives with its sender (senders/).
 */
import type { Notification } from '../contract.js';
import type { RetryClass } from '@siyu-pulse/contracts/alertCenter';

// What the alert center's API answers: the shapes live in the contracts package.
export type { RetryClass };

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
  /** The notifier kind (`dingtalk`, `wecom`, `webhook`, …). */
  readonly type: string;
  /** Where it sends, without credentials (for status pages). */
  readonly target: string;
  /** Messages per minute this sender allows itself. */
  readonly maxPerMinute: number;
  send(message: OutboundMessage): Promise<SendResult>;
}
