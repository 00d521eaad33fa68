import type { NotifierConfig, Sender } from '../types.js';
import { createDingTalkSender } from './dingtalk.js';
import { createWeComSender } from './wecom.js';
import { createWebhookSender } from './webhook.js';

export function createSender(config: NotifierConfig): Sender {
  switch (config.type) {
    case 'dingtalk':
      return createDingTalkSender(config);
    case 'wecom':
      return createWeComSender(config);
    case 'webhook':
      return createWebhookSender(config);
  }
}
