/**
 * Display names of channels (the wall, the weekly report and its DingTalk text use the same
 * ones). Channels are free-form on ingest: a team names its own (PULSE_CHANNEL_NAMES, set
 * once at start-up by the composition root), the well-known ids have built-in names, and
 * any other id is shown as is.
 */
import type { Label } from './kpis.js';

export const CHANNEL_LABELS: Readonly<Record<string, Label>> = {
  wecom: { zh: '企业微信', en: 'WeCom' },
  wechat_group: { zh: '微信群', en: 'WeChat group' },
  miniprogram: { zh: '小程序', en: 'Mini-prog' },
  douyin: { zh: '抖音', en: 'Douyin' },
  sms: { zh: '短信', en: 'SMS' },
  app_push: { zh: 'App推送', en: 'App push' },
  store_qr: { zh: '门店扫码', en: 'Store QR' },
};

/**
 * Screen width of a name in columns: a CJK / full-width character takes two, others one.
 * The wall's channel column holds 16 at a reduced size (names over 12 get it), so a
 * configured name may not be wider (checked at start-up).
 */
export const MAX_NAME_COLUMNS = 16;
export const SMALL_NAME_COLUMNS = 12;
export function nameColumns(name: string): number {
  let n = 0;
  for (const ch of name) n += (ch.codePointAt(0) ?? 0) >= 0x2e80 ? 2 : 1;
  return n;
}

/** Names the team configured; they win over the built-in ones. */
let configured: Readonly<Record<string, Label>> = {};

/** Sets the configured names (start-up, or the browser once the catalogue arrives). */
export function setChannelNames(names: Readonly<Record<string, Label>>): void {
  configured = { ...names };
}

/** Every id with a name: built-in and configured (configured wins), as served to the browser. */
export function channelNames(): Record<string, Label> {
  return { ...CHANNEL_LABELS, ...configured };
}

export function channelLabel(id: string): Label {
  // Own keys only: a producer's channel may be called `constructor` or `toString`.
  if (Object.hasOwn(configured, id)) return configured[id]!;
  if (Object.hasOwn(CHANNEL_LABELS, id)) return CHANNEL_LABELS[id]!;
  return { zh: id, en: id };
}
