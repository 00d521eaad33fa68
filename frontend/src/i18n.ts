/**
 * Minimal i18n: zh-CN by default, English with `?lang=en`. Catalogue labels come with both
 * languages from the backend (`{ zh, en }`); UI strings are here.
 */
import { ref } from 'vue';
import type { Lang } from './format';

export type { Lang };

const MESSAGES = {
  zh: {
    appName: '私域脉搏',
    demo: '演示数据',
    demoSub: 'DEMO DATA',
    connecting: '连接中…',
    connected: '实时',
    reconnecting: '重连中…',
    offline: '离线',
    offlineSince: '离线 · 自 {time} 起',
    reconnectingSince: '重连中 · 断开于 {time}',
    authFailed: '访问令牌无效',
    updated: '更新于 {ago}',
    stale: '数据延迟',
    noData: '暂无数据',
    vsYesterday: '较昨日',
    vsPrevious: '较前 5 分钟',
    target: '目标',
    targetMet: '已达标',
    today: '今日',
    todaySince: '今日累计 · 北京时间 00:00 起 · 对比昨日同一时刻',
    lastEvent: '最近事件 {ago}',
    noEvents: '今日暂无事件',
    messagesPerMinute: '每分钟消息数',
    last60min: '近 60 分钟',
    thisMinute: '本分钟',
    peak: '峰值',
    perMinuteUnit: '条',
    loadingCatalogue: '正在加载指标目录…',
  },
  en: {
    appName: 'Siyu Pulse',
    demo: 'DEMO DATA',
    demoSub: '演示数据',
    connecting: 'Connecting…',
    connected: 'Live',
    reconnecting: 'Reconnecting…',
    offline: 'Offline',
    offlineSince: 'Offline since {time}',
    reconnectingSince: 'Reconnecting · lost at {time}',
    authFailed: 'Invalid access token',
    updated: '{ago}',
    stale: 'STALE',
    noData: 'No data',
    vsYesterday: 'vs yesterday',
    vsPrevious: 'vs previous 5 min',
    target: 'Target',
    targetMet: 'met',
    today: 'Today',
    todaySince: 'Today so far · since 00:00 Beijing time · compared with yesterday at this time',
    lastEvent: 'Last event {ago}',
    noEvents: 'No events today',
    messagesPerMinute: 'Messages per minute',
    last60min: 'last 60 minutes',
    thisMinute: 'This minute',
    peak: 'Peak',
    perMinuteUnit: '',
    loadingCatalogue: 'Loading the KPI catalogue…',
  },
} as const satisfies Record<Lang, Record<string, string>>;

export type MessageKey = keyof (typeof MESSAGES)['zh'];

export function langFromUrl(search: string): Lang {
  const v = new URLSearchParams(search).get('lang')?.toLowerCase();
  return v === 'en' || v?.startsWith('en-') ? 'en' : 'zh';
}

/** The wall's language (reactive). */
export const lang = ref<Lang>(typeof location === 'undefined' ? 'zh' : langFromUrl(location.search));

export function setLang(l: Lang): void {
  lang.value = l;
  if (typeof document !== 'undefined') document.documentElement.lang = l === 'zh' ? 'zh-CN' : 'en';
}

/** Switches zh ⇄ en and keeps the choice in the URL (other parameters, e.g. the token, stay). */
export function toggleLang(): void {
  const next: Lang = lang.value === 'zh' ? 'en' : 'zh';
  setLang(next);
  if (typeof location !== 'undefined' && typeof history !== 'undefined') {
    const url = new URL(location.href);
    if (next === 'en') url.searchParams.set('lang', 'en');
    else url.searchParams.delete('lang');
    history.replaceState(history.state, '', url);
  }
}

/** Translates a UI string, filling `{name}` placeholders. */
export function t(key: MessageKey, vars?: Record<string, string | number>): string {
  let s: string = MESSAGES[lang.value][key];
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, String(v));
  return s;
}

/** Picks a `{ zh, en }` catalogue label in the current language. */
export function label(l: { zh: string; en: string } | undefined): string {
  return l ? l[lang.value] : '';
}
