/**
 * Minimal i18n: zh-CN by default, English with `?lang=en`. Catalogue labels come with both
 * languages from the backend (`{ zh, en }`); UI strings are here.
 */
import { ref } from 'vue';
import type { Lang } from '@siyu-pulse/contracts/format';

export type { Lang };

const MESSAGES = {
  zh: {
    appName: '私域脉搏',
    demo: '演示数据',
    demoSub: 'DEMO DATA',
    demoHistoryFill: '演示历史填充中 {done}/{total} 天 · 历史趋势与周报尚不完整',
    connecting: '连接中…',
    connected: '实时',
    reconnecting: '重连中…',
    offline: '离线',
    offlineSince: '离线 · 自 {time} 起',
    reconnectingSince: '重连中 · 断开于 {time}',
    authFailed: '访问令牌无效',
    tokenRevoked: '令牌已撤销',
    updated: '{ago}',
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
    staleLink: '连接中断',
    waitingData: '等待数据',
    staleSource: '数据停滞',
    noBaseline: '无昨日数据可比',
    attainment: '达成 {pct}',
    limit: '上限',
    overLimit: '超出 {pct}',
    boardMissing: '未找到看板「{id}」· 显示默认看板',
    panelMessages: '消息数',
    panelOpenRate: '推送打开率',
    panelConversion: '支付转化率',
    perMinute: '每分钟',
    lastMinute: '上一分钟',
    panelFunnel: '今日转化漏斗',
    panelChannels: '渠道表现 · 今日',
    panelCommunities: '社群 · 今日',
    communityGroups: '近 30 天 {n} 个活跃社群',
    communityActive: '最活跃 · 活跃人数',
    communityActiveMessages: '最活跃 · 消息数',
    communityGrowing: '增长最快',
    communityLosing: '流失成员',
    communitySilent: '沉默群 · {n} 天无消息',
    communityNone: '暂无',
    communityUnitMessages: '条',
    communityUnitMembers: '人',
    panelAlerts: '实时告警',
    inProgress: '进行中',
    average: '均值',
    noTrend: '近 60 分钟暂无数据',
    funnelOverall: '整体转化',
    funnelDerived: '浏览 / 加购 / 下单数由支付订单数与各步转化率推算',
    funnelRatesOnly: '部分数量无法推算，仅显示转化率',
    funnelEmpty: '今日暂无浏览数据',
    channel: '渠道',
    moreChannels: '另有 {n} 个渠道未显示',
    noChannels: '今日各渠道暂无数据',
    alertsNone: '暂无告警',
    alertsNoneSub: '各项指标运行正常',
    alertsUnknown: '告警状态未知',
    alertsUnknownSub: '连接恢复后自动更新',
    alertsActive: '{n} 条进行中',
    sevCritical: '严重',
    sevWarning: '警告',
    sevFlapping: '波动频繁',
    sevPending: '待确认',
    since: '{time} 起',
    revokedTitle: '此显示令牌已被撤销',
    revokedSub: 'display token revoked',
    revokedHelp: '请管理员生成新的显示令牌，并更新此屏幕的网址。',
  },
  en: {
    appName: 'Siyu Pulse',
    demo: 'DEMO DATA',
    demoSub: '演示数据',
    demoHistoryFill: 'Demo history filling {done}/{total} days · history and reports incomplete',
    connecting: 'Connecting…',
    connected: 'Live',
    reconnecting: 'Reconnecting…',
    offline: 'Offline',
    offlineSince: 'Offline since {time}',
    reconnectingSince: 'Reconnecting · lost at {time}',
    authFailed: 'Invalid access token',
    tokenRevoked: 'token revoked',
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
    thisMinute: 'This min',
    peak: 'Peak',
    perMinuteUnit: '',
    loadingCatalogue: 'Loading the KPI catalogue…',
    staleLink: 'NO LINK',
    waitingData: 'waiting',
    staleSource: 'STALE',
    noBaseline: 'no baseline',
    attainment: '{pct}',
    limit: 'Limit',
    overLimit: '{pct} over',
    boardMissing: 'Board “{id}” not found · showing the default',
    panelMessages: 'Messages',
    panelOpenRate: 'Push open rate',
    panelConversion: 'Paid conversion',
    perMinute: '/ min',
    lastMinute: 'Last min',
    panelFunnel: "Today's funnel",
    panelChannels: 'Channels · today',
    panelCommunities: 'Communities · today',
    communityGroups: '{n} groups active in 30 days',
    communityActive: 'Most active · members',
    communityActiveMessages: 'Most active · messages',
    communityGrowing: 'Fastest growing',
    communityLosing: 'Losing members',
    communitySilent: 'Silent · {n} days',
    communityNone: 'None',
    communityUnitMessages: 'msgs',
    communityUnitMembers: '',
    panelAlerts: 'Live alerts',
    inProgress: 'in progress',
    average: 'Avg',
    noTrend: 'No data in the last 60 minutes',
    funnelOverall: 'Overall',
    funnelDerived: 'Counts derived from paid orders and the step rates',
    funnelRatesOnly: 'Some counts cannot be derived: rates only',
    funnelEmpty: 'No page views today yet',
    channel: 'Channel',
    moreChannels: '{n} more channels not shown',
    noChannels: 'No channel data today yet',
    alertsNone: 'No active alerts',
    alertsNoneSub: 'All KPIs within thresholds',
    alertsUnknown: 'Alert state unknown',
    alertsUnknownSub: 'Updates when the link is back',
    alertsActive: '{n} active',
    sevCritical: 'CRITICAL',
    sevWarning: 'WARNING',
    sevFlapping: 'FLAPPING',
    sevPending: 'PENDING',
    since: 'since {time}',
    revokedTitle: 'Display token revoked',
    revokedSub: '此显示令牌已被撤销',
    revokedHelp: 'Ask an admin for a new display token and update this screen’s URL.',
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

/**
 * A `t` for a page's own message table (the analyst pages keep theirs beside them), in the
 * same reactive language as the wall.
 */
export function translator<K extends string>(messages: Record<Lang, Record<K, string>>) {
  return (key: K, vars?: Record<string, string | number>): string => {
    let s = messages[lang.value][key];
    if (vars) for (const [k, v] of Object.entries(vars)) s = s.replaceAll(`{${k}}`, String(v));
    return s;
  };
}

/** Picks a `{ zh, en }` catalogue label in the current language. */
export function label(l: { zh: string; en: string } | undefined): string {
  return l ? l[lang.value] : '';
}
