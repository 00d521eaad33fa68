/**
 * Generic webhook: `{kind, notifications, text}` as JSON, optionally signed so the receiver
 * can check origin and freshness:
 *   X-Pulse-Timestamp: <epoch ms>
 *   X-Pulse-Signature: sha256=<hex HMAC-SHA256(secret, `${timestamp}.${rawBody}`)>
 * The timestamp is inside the MAC so a captured request cannot be replayed with a new one.
 */
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import type { OutboundMessage, SendFailure, SendResult, Sender } from '../types.js';
import { DEFAULT_TIMEOUT_MS, postJson, redactUrl, statusFailure } from './http.js';
import { defineKind, httpUrl, notifierId, timeoutMs } from './kind.js';

export const WEBHOOK_MAX_PER_MINUTE = 60;

export const webhookConfigSchema = z.strictObject({
  id: notifierId,
  type: z.literal('webhook'),
  url: httpUrl,
  /** HMAC-SHA256 key for X-Pulse-Signature. */
  secret: z.string().min(1).optional(),
  headers: z.record(z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a header name'), z.string()).optional(),
  maxPerMinute: z.number().int().min(1).max(10_000).optional(),
  timeoutMs,
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

export const webhookKind = defineKind({ type: 'webhook', schema: webhookConfigSchema, create: (config) => createWebhookSender(config) });

export function signWebhook(secret: string, timestamp: number, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`, 'utf8').digest('hex')}`;
}

export function buildWebhookBody(message: OutboundMessage): string {
  return JSON.stringify({ kind: message.kind, title: message.title, text: message.text, notifications: message.notifications });
}

export function createWebhookSender(config: WebhookConfig, opts: { now?: () => number } = {}): Sender {
  const now = opts.now ?? Date.now;
  return {
    id: config.id,
    type: 'webhook',
    target: redactUrl(config.url),
    maxPerMinute: config.maxPerMinute ?? WEBHOOK_MAX_PER_MINUTE,
    async send(message) {
      const body = buildWebhookBody(message);
      const headers: Record<string, string> = { ...config.headers };
      if (config.secret) {
        const ts = now();
        headers['x-pulse-timestamp'] = String(ts);
        headers['x-pulse-signature'] = signWebhook(config.secret, ts, body);
      }
      const answer = await postJson(config.url, body, { timeoutMs: config.timeoutMs ?? DEFAULT_TIMEOUT_MS, headers });
      if (answer.kind === 'error') return answer.failure;
      return classifyWebhook(answer.status, answer.body, answer.headers.get('retry-after'));
    },
  };
}

export function classifyWebhook(status: number, body: string, retryAfter: string | null): SendResult {
  if (status >= 200 && status < 300) return { ok: true };
  const server = statusFailure(status, body);
  if (server) return server;
  const message = body.slice(0, 200);
  if (status === 429) {
    const failure: SendFailure = {
      ok: false,
      retry: 'throttled',
      code: 'http_429',
      message,
      explanation: '接收方限流 / the receiver is rate limiting (HTTP 429); waiting as it asked',
    };
    const ms = retryAfterMs(retryAfter);
    return ms === undefined ? failure : { ...failure, retryAfterMs: ms };
  }
  const explanation =
    status === 401 || status === 403
      ? `HTTP ${status}：鉴权失败 / the receiver refused the credentials or signature; check the secret and headers`
      : `HTTP ${status}：接收方拒绝 / the receiver rejected the request; not retried`;
  return { ok: false, retry: 'never', code: `http_${status}`, message, explanation };
}

/** Retry-After is seconds or an HTTP date. */
function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const s = Number(value);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
