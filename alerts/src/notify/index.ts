/** Delivery of alert notifications: formatting, senders, outbox, limiter, dispatcher, config. */
export * from './types.js';
export * from './format.js';
export * from './bytes.js';
export * from './limiter.js';
export * from './outbox.js';
export * from './dispatcher.js';
export * from './config.js';
export { createSender, KINDS, kindOf, type NotifierConfig, type NotifierType, type DingTalkConfig, type WeComConfig, type WebhookConfig } from './senders/index.js';
export type { NotifierKind } from './senders/kind.js';
export { createDingTalkSender, signDingTalkUrl, classifyDingTalk, DINGTALK_MAX_BODY_BYTES, DINGTALK_MAX_PER_MINUTE } from './senders/dingtalk.js';
export { createWeComSender, classifyWeCom, WECOM_MAX_MARKDOWN_BYTES, WECOM_MAX_TEXT_BYTES } from './senders/wecom.js';
export { createWebhookSender, classifyWebhook, signWebhook } from './senders/webhook.js';
