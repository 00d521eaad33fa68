/**
 * Display names of the well-known channels (the wall, the weekly report and its DingTalk
 * text use the same ones). Channels are free-form on ingest: an unknown id is shown as is.
 */
import type { Label } from './kpis.js';

export const CHANNEL_LABELS: Readonly<Record<string, Label>> = {
  wecom: { zh: '企业微信', en: 'WeCom' },
  wechat_group: { zh: '微信群', en: 'WeChat grp' },
  miniprogram: { zh: '小程序', en: 'Mini-prog' },
  douyin: { zh: '抖音', en: 'Douyin' },
  sms: { zh: '短信', en: 'SMS' },
  app_push: { zh: 'App推送', en: 'App push' },
  store_qr: { zh: '门店扫码', en: 'Store QR' },
};

export function channelLabel(id: string): Label {
  return CHANNEL_LABELS[id] ?? { zh: id, en: id };
}
