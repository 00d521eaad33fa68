/**
 * The weekly report as a robot message (DingTalk / WeCom markdown): the title, one block per
 * section — its finding, then its key numbers — and a link to the full report page last.
 * Robots limit the message in bytes (DingTalk's JSON body 20,000, WeCom's markdown 4,096),
 * so whole sections are left out from the end until it fits: a manager gets complete
 * sentences and always the link, never a number cut in half.
 */
import type { ReportMetric, ReportSection, WeeklyReport } from '@siyu-pulse/contracts/reports';
import { formatAgainst, formatChange, formatPercent, formatKpi as formatValue } from '@siyu-pulse/contracts/format';

export interface MarkdownBudget {
  /** Size of a rendered text as the channel counts it. */
  measure(text: string): number;
  max: number;
}

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * DingTalk counts the whole JSON body (20,000 bytes), where each newline is two bytes; the
 * title, keyword, @mentions and the envelope take the rest, with room to spare.
 */
export const DINGTALK_BUDGET: MarkdownBudget = { measure: (t) => utf8(JSON.stringify(t)), max: 18_000 };
/** WeCom counts the markdown content (4,096 bytes); `<@userid>` mentions are appended to it. */
export const WECOM_BUDGET: MarkdownBudget = { measure: utf8, max: 3_800 };

export function reportTitle(report: Pick<WeeklyReport, 'week'>, businessName: string): string {
  return `【数据周报】${report.week.label} ${businessName}`;
}

/** Targets: one line each, value against target and whether it was met. */
function targetLines(s: ReportSection): string[] {
  return s.metrics.map((m: ReportMetric) => {
    if (m.outrun) return `- ${m.label.zh}：${formatValue(m.value, m.unit, 'zh')}，⚠ ${m.outrun.note.zh}`;
    if (m.target === undefined) return `- ${m.label.zh}：${formatValue(m.value, m.unit, 'zh')}`;
    const [value, target] = formatAgainst(m.value, m.target, m.unit, 'zh');
    const verdict = m.attained === undefined ? '无数据' : m.attained ? '达成' : '**未达成**';
    return `- ${m.label.zh}：${value}，目标 ${target}，${verdict}`;
  });
}

/** Channel ranking: the first rows of the table, one line each. */
function rankingLines(s: ReportSection, rows = 5): string[] {
  return (s.table?.rows ?? []).slice(0, rows).map((row) => {
    const [rank, ch, gmv, , change] = row as [number, string, number | null, number | null, number | null];
    const c = change === null ? '' : formatChange(change) === '0.0%' ? '，环比持平' : `，环比 ${formatChange(change)}`;
    return `${rank}. ${ch}：${formatValue(gmv, 'fen', 'zh')}${c}`;
  });
}

/** Reach: every channel's open rate on one line, highest first. */
function openRateLine(s: ReportSection): string[] {
  const rows = (s.table?.rows ?? []) as [string, number | null][];
  return rows.length ? [`各渠道打开率：${rows.map(([ch, rate]) => `${ch} ${formatPercent(rate)}`).join(' · ')}`] : [];
}

/** Funnel: the step rates in order. */
function funnelLine(s: ReportSection): string[] {
  const steps = s.chart?.kind === 'funnel' ? s.chart.steps : [];
  return steps.length ? [steps.map((x) => `${x.label.zh} ${formatPercent(x.rate)}`).join(' → ')] : [];
}

/**
 * 社群健康: the best and the worst ten, one line each, under their list's name
 * ("1. 北京望京店 VIP 7 群 1,234 条，56 人活跃，环比 +12.0%，净增 5").
 */
function communityLines(s: ReportSection): string[] {
  // Cells found by the table's column keys (reports/weekly/communities.ts), not by label or position.
  const keys = s.table?.keys ?? storedBeforeKeys(s.table);
  const at = (key: string) => keys.indexOf(key);
  const rows = ((s.table?.rows ?? []) as (string | number | null)[][]).map((row) => {
    const cell = String(row[at('list')]);
    const m = /^(.*) (\d+)$/.exec(cell);
    const members = at('active_members') >= 0 ? (row[at('active_members')] as number) : null;
    return { list: m?.[1] ?? cell, rank: m?.[2] ?? '', name: String(row[at('community')]), messages: row[at('messages')] as number, members, change: row[at('change')] as number | null, net: row[at('net')] as number };
  });
  const out: string[] = [];
  for (const list of [...new Set(rows.map((r) => r.list))]) {
    out.push(`**${list} ${rows.filter((r) => r.list === list).length} 个群**`);
    for (const { rank, name, messages, members, change, net } of rows.filter((r) => r.list === list)) {
      const p = members === null ? '' : `，${formatValue(members, 'count', 'zh')} 人活跃`;
      const c = change === null ? '' : formatChange(change) === '0.0%' ? '，环比持平' : `，环比 ${formatChange(change)}`;
      const n = net < 0 ? `净减少 ${formatValue(-net, 'count', 'zh')}` : `净增 ${formatValue(net, 'count', 'zh')}`;
      out.push(`${rank}. ${name} ${formatValue(messages, 'count', 'zh')} 条${p}${c}，${n}`);
    }
  }
  return out;
}

/** Reports stored before tables had column keys: the 社群健康 columns as they were laid out then. */
function storedBeforeKeys(t: ReportSection['table']): string[] {
  const members = t?.columns.length === 6;
  return ['list', 'community', 'messages', ...(members ? ['active_members'] : []), 'change', 'net'];
}

/**
 * One section's block: heading, the finding (which carries the section's headline numbers),
 * then the numbers a finding cannot hold in a sentence: per-channel rates, funnel steps,
 * the ranking, the targets.
 */
export function sectionBlock(s: ReportSection): string {
  const extra = s.id === 'reach' ? openRateLine(s) : s.id === 'funnel' ? funnelLine(s) : s.id === 'channels' ? rankingLines(s) : s.id === 'communities' ? communityLines(s) : s.id === 'targets' ? targetLines(s) : [];
  // Shares over 100% anywhere else in the section: the producer gap, said once per KPI.
  if (s.id !== 'targets') for (const m of s.metrics) if (m.outrun) extra.push(`⚠ ${m.label.zh} ${formatValue(m.value, m.unit, 'zh')}：${m.outrun.note.zh}`);
  return [`#### ${s.title.zh}`, s.finding.zh, ...(extra.length ? ['', ...extra] : [])].join('\n');
}

export interface RenderedReport {
  title: string;
  text: string;
  /** Sections left out to fit the budget. */
  omitted: number;
}

/** Renders the message; with a budget, leaves out whole sections from the end until it fits. */
export function renderReportMarkdown(report: WeeklyReport, opts: { businessName: string; reportUrl: string; budget?: MarkdownBudget }): RenderedReport {
  const title = reportTitle(report, opts.businessName);
  const head = [`### ${title}`];
  if (report.partial) head.push('> 注意：本周部分时段没有数据，以下数字只覆盖有数据的时段。');
  const link = `[查看完整周报（图表、各渠道明细）](${opts.reportUrl})`;
  const blocks = report.sections.map(sectionBlock);
  const compose = (n: number) => {
    const omitted = blocks.length - n;
    const tail = omitted ? [`（篇幅所限，另有 ${omitted} 个板块未列出，见完整周报）`, link] : [link];
    return [...head, ...blocks.slice(0, n), ...tail].join('\n\n');
  };
  let n = blocks.length;
  let text = compose(n);
  while (opts.budget && n > 0 && opts.budget.measure(text) > opts.budget.max) text = compose(--n);
  return { title, text, omitted: blocks.length - n };
}
