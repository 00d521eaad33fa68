/**
 * The notifier kinds. A new kind is one file in this folder (schema, size limit, errcode
 * reading, sender) and one line in KINDS.
 */
import type { Sender } from '../types.js';
import { dingtalkKind, type DingTalkConfig } from './dingtalk.js';
import type { NotifierKind } from './kind.js';
import { webhookKind, type WebhookConfig } from './webhook.js';
import { wecomKind, type WeComConfig } from './wecom.js';

export type { DingTalkConfig } from './dingtalk.js';
export type { WeComConfig } from './wecom.js';
export type { WebhookConfig } from './webhook.js';

export const KINDS = [dingtalkKind, wecomKind, webhookKind] as const;

export type NotifierConfig = DingTalkConfig | WeComConfig | WebhookConfig;
export type NotifierType = NotifierConfig['type'];

/**
 * The kinds looked up by type. Each kind's `create` only ever receives what its own `schema`
 * produced (config.ts validates with `kindOf(type).schema`), so the per-kind config type can
 * be erased here.
 */
export const ANY_KINDS = KINDS as unknown as readonly NotifierKind[];

export function kindOf(type: string): NotifierKind | undefined {
  return ANY_KINDS.find((k) => k.type === type);
}

export function createSender(config: NotifierConfig): Sender {
  const kind = kindOf(config.type);
  if (!kind) throw new Error(`no notifier kind "${config.type}"`);
  return kind.create(config);
}
