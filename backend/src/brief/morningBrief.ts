/**
 * Morning brief (日报): yesterday's headline KPIs vs the day before and vs target, the
 * biggest movers by channel, the alerts that fired, and one link to the phone overview —
 * one message per subscribed robot (which KPIs go to which robot: PULSE_BRIEF_SUBSCRIPTIONS).
 * Numbers come from the series query (the same code path as `/api/v1/series` and the trends
 * page), days are business-time days (PULSE_TIMEZONE). The message is a plain message
 * through the alert dispatcher: outbox, per-robot limiter, 加签, retries; its key is
 * `brief|<day>|<robot>`, so a second run on the same day (a restart) does not send it again.
 */
import { Cron } from 'croner';
import type { Logger } from 'pino';
import { formatValue, type Dispatcher, type PlainMessage } from '@siyu-pulse/alerts';
import { channelLabel } from '@siyu-pulse/contracts/catalogue';
import type { TargetedKpi } from '../catalogue/targets.js';
import type { SeriesService } from '../query/series.js';
import type { MetricStore } from '../store/port.js';
import { dayStart } from '../time/zone.js';

export const DEFAULT_BRIEF_CRON = '0 9 * * *';

export interface BriefSubscription {
  /** Notifier id (robot). */
  notifier: string;
  kpis: string[];
}

export interface BriefKpiLine {
  kpi: string;
  label: string;
  unit: TargetedKpi['unit'];
  good: TargetedKpi['good'];
  yesterday: number | null;
  dayBefore: number | null;
  change: number | null;
  target: number | null;
}

export interface BriefMover {
  kpi: string;
  label: string;
  unit: TargetedKpi['unit'];
  channel: string;
  channelName: string;
  yesterday: number | null;
  dayBefore: number | null;
  change: number;
}

export interface Brief {
  /** The reported business day, YYYY-MM-DD. */
  day: string;
  from: number;
  to: number;
  kpis: BriefKpiLine[];
  movers: BriefMover[];
  alerts: { total: number; lines: { ts: number; ruleName: string; where: string }[] };
}

export interface MorningBriefOptions {
  series: SeriesService;
  store: MetricStore;
  dispatcher: Pick<Dispatcher, 'enqueue' | 'status'>;
  kpis: () => readonly TargetedKpi[];
  subscriptions: BriefSubscription[];
  timezone: string;
  businessName: string;
  /** Absolute, signed URL of the phone overview. */
  overviewUrl: () => string;
  demo?: boolean;
  logger: Logger;
  now?: () => number;
}

const rel = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : (a - b) / Math.abs(b));
const pct = (c: number) => `${c > 0 ? '+' : c < 0 ? '−' : ''}${Math.abs(c * 100).toFixed(1)}%`;

function dayLabel(ts: number, tz: string): { iso: string; zh: string } {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ts);
  const wd = new Intl.DateTimeFormat('zh-CN', { timeZone: tz, weekday: 'short' }).format(ts);
  return { iso: parts, zh: `${parts.slice(5)}（${wd}）` };
}

export class MorningBrief {
  private readonly now: () => number;
  constructor(private readonly o: MorningBriefOptions) {
    this.now = o.now ?? Date.now;
  }

  subscriptionList(): readonly BriefSubscription[] {
    return this.o.subscriptions;
  }

  /** The business day before `at` (default now): [from, to). */
  yesterday(at = this.now()): { from: number; to: number; dayBeforeFrom: number } {
    const to = dayStart(at, this.o.timezone);
    const from = dayStart(to - 1, this.o.timezone);
    return { from, to, dayBeforeFrom: dayStart(from - 1, this.o.timezone) };
  }

  /** The numbers for one list of KPIs, through the series query (step 1d over the two days). */
  async build(kpiIds: readonly string[], at = this.now()): Promise<Brief> {
    const { from, to, dayBeforeFrom } = this.yesterday(at);
    const defs = new Map(this.o.kpis().map((k) => [k.id, k]));
    const kpis: BriefKpiLine[] = [];
    const movers: BriefMover[] = [];
    for (const id of kpiIds) {
      const def = defs.get(id);
      if (!def) continue;
      const res = await this.o.series.series({ kpi: id, from: String(dayBeforeFrom), to: String(to), step: '1d', filter: {} });
      const at = (pts: [number, number | null][] | undefined, ts: number) => pts?.find((p) => p[0] === ts)?.[1] ?? null;
      const pts = res.series[0]?.points;
      const yesterday = at(pts, from);
      const dayBefore = at(pts, dayBeforeFrom);
      kpis.push({ kpi: id, label: def.label.zh, unit: def.unit, good: def.good, yesterday, dayBefore, change: rel(yesterday, dayBefore), target: def.target ?? null });
      try {
        const byCh = await this.o.series.series({ kpi: id, from: String(dayBeforeFrom), to: String(to), step: '1d', by: 'channel', filter: {} });
        for (const s of byCh.series) {
          const channel = s.tags.channel;
          if (!channel) continue;
          const y = at(s.points, from);
          const b = at(s.points, dayBeforeFrom);
          const c = rel(y, b);
          if (c === null || c === 0) continue;
          movers.push({ kpi: id, label: def.label.zh, unit: def.unit, channel, channelName: channelLabel(channel).zh, yesterday: y, dayBefore: b, change: c });
        }
      } catch {
        // A KPI that cannot be split by channel has no movers.
      }
    }
    movers.sort((a, b) => Math.abs(b.change) - Math.abs(a.change) || a.channel.localeCompare(b.channel));
    const fired = (await this.o.store.queryAlertEvents({ from, to, state: 'firing', limit: 500 })).sort((a, b) => a.ts - b.ts);
    return {
      day: dayLabel(from, this.o.timezone).iso,
      from,
      to,
      kpis,
      movers: movers.slice(0, 5),
      alerts: {
        total: fired.length,
        lines: fired.slice(0, 5).map((r) => ({ ts: r.ts, ruleName: r.ruleName, where: r.splitDim ? `${r.splitDim === 'channel' ? channelLabel(r.splitValue).zh : r.splitValue}` : '整体' })),
      },
    };
  }

  /** The message for one robot. */
  render(brief: Brief, notifier: string): PlainMessage {
    const tz = this.o.timezone;
    const demo = this.o.demo ? '【演示数据】' : '';
    const title = `${demo}【日报】${dayLabel(brief.from, tz).zh} ${this.o.businessName}`;
    const url = this.o.overviewUrl();
    const time = (ts: number) => new Intl.DateTimeFormat('zh-CN', { timeZone: tz, hour: '2-digit', minute: '2-digit', hour12: false }).format(ts);
    const lines = [`### ${title}`];
    if (this.o.demo) lines.push('> 演示数据：由内置模拟器生成，不是真实业务数据');
    lines.push('', '**昨日核心指标**（较前日 · 目标）');
    for (const k of brief.kpis) {
      const parts = [`较前日 ${k.change === null ? '—' : pct(k.change)}`];
      if (k.target !== null && k.yesterday !== null) {
        const ceiling = k.good === 'down';
        const met = ceiling ? k.yesterday <= k.target : k.yesterday >= k.target;
        parts.push(`${ceiling ? '上限' : '目标'} ${formatValue(k.target, k.unit)}${met ? ' 已达标' : ceiling ? ' 超出' : ` 达成 ${Math.round((k.yesterday / k.target) * 100)}%`}`);
      }
      lines.push(`- ${k.label}：**${formatValue(k.yesterday, k.unit)}**（${parts.join('，')}）`);
    }
    if (brief.movers.length) {
      lines.push('', '**渠道变化最大**');
      for (const m of brief.movers) lines.push(`- ${m.channelName} · ${m.label}：${formatValue(m.dayBefore, m.unit)} → ${formatValue(m.yesterday, m.unit)}（${pct(m.change)}）`);
    }
    lines.push('', brief.alerts.total ? `**昨日告警**（${brief.alerts.total} 次）` : '**昨日告警**：无');
    for (const a of brief.alerts.lines) lines.push(`- ${time(a.ts)} ${a.ruleName}（${a.where}）`);
    if (brief.alerts.total > brief.alerts.lines.length) lines.push(`- 另有 ${brief.alerts.total - brief.alerts.lines.length} 次，见告警中心`);
    lines.push('', `[手机查看今日概览](${url})`);
    const key = `brief|${brief.day}|${notifier}`;
    return { key, kind: 'brief', group: key, title, text: lines.join('\n'), links: [{ label: '手机查看今日概览', url }], targets: [notifier], ts: this.now() };
  }

  /** Builds and queues one brief per subscription; returns what was queued. */
  async send(at = this.now()): Promise<{ notifier: string; brief: Brief; message: PlainMessage; queued: boolean }[]> {
    const known = new Set(this.o.dispatcher.status().map((n) => n.id));
    const out: { notifier: string; brief: Brief; message: PlainMessage; queued: boolean }[] = [];
    for (const sub of this.o.subscriptions) {
      if (!known.has(sub.notifier)) {
        this.o.logger.warn({ notifier: sub.notifier }, 'morning brief: no such notifier configured; skipped');
        continue;
      }
      const brief = await this.build(sub.kpis, at);
      const message = this.render(brief, sub.notifier);
      const r = this.o.dispatcher.enqueue([message]);
      out.push({ notifier: sub.notifier, brief, message, queued: r.queued > 0 });
    }
    return out;
  }
}

/** Cron in the business time zone (croner), like the weekly report's. */
export class MorningBriefSchedule {
  private job: Cron | null = null;
  constructor(private readonly o: { cron: string; timezone: string; brief: MorningBrief; logger: Logger }) {}
  start(): void {
    this.job = new Cron(this.o.cron, { timezone: this.o.timezone, protect: true, unref: true }, () => this.run());
    this.o.logger.info({ cron: this.o.cron, timezone: this.o.timezone, next: this.job.nextRun()?.toISOString() }, 'morning brief scheduled');
  }
  nextRun(): Date | null {
    return this.job?.nextRun() ?? null;
  }
  stop(): void {
    this.job?.stop();
    this.job = null;
  }
  async run(): Promise<void> {
    try {
      const sent = await this.o.brief.send();
      this.o.logger.info({ robots: sent.map((s) => s.notifier) }, 'morning brief queued');
    } catch (err) {
      this.o.logger.error({ err }, 'morning brief failed');
    }
  }
}

/**
 * `dingtalk:gmv,paid_conversion;push_team:push_open_rate` → subscriptions, or the problems.
 * Unset: the default board's tiles to `dingtalk` (when configured); `none`: no brief.
 */
export function parseSubscriptions(text: string | undefined, kpiIds: ReadonlySet<string>): { subs: BriefSubscription[] | null; problems: string[] } {
  if (text === undefined || text.trim() === '') return { subs: null, problems: [] };
  if (text.trim() === 'none') return { subs: [], problems: [] };
  const problems: string[] = [];
  const subs: BriefSubscription[] = [];
  for (const part of text.split(';').map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z0-9_-]+)\s*:\s*(.+)$/.exec(part);
    if (!m) {
      problems.push(`"${part}" must be <notifier id>:<kpi>,<kpi>… (e.g. dingtalk:gmv,paid_conversion;push_team:push_open_rate)`);
      continue;
    }
    const kpis = m[2]!.split(',').map((k) => k.trim()).filter(Boolean);
    const unknown = kpis.filter((k) => !kpiIds.has(k));
    if (unknown.length) problems.push(`unknown KPI ${unknown.map((k) => JSON.stringify(k)).join(', ')} for ${m[1]} (GET /api/v1/kpis lists them)`);
    subs.push({ notifier: m[1]!, kpis });
  }
  return { subs, problems };
}
