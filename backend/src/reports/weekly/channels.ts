/** Section 渠道排名: channels by GMV, best and worst movers. */
import type { Reader } from './reader.js';
import { channelLabel } from '@siyu-pulse/contracts/catalogue';
import type { ReportMetric, ReportSection } from '@siyu-pulse/contracts/reports';
import { formatChange, formatPercent, formatSigned, formatKpi as formatValue, type Lang } from '@siyu-pulse/contracts/format';
import { lbl, relativeChange, toneOf, type Value } from './parts.js';

/** Channel names as the wall shows them (企业微信 …); tables and charts use the Chinese one. */
export const zhName = (id: string) => channelLabel(id).zh;
export const enName = (id: string) => channelLabel(id).en;

export interface ChannelRow {
  ch: string;
  gmv: number;
  before: number;
  delta: number;
  change: Value;
}

/** Channels by GMV (highest first) with their change; movers by the change in money. */
export function rankChannels(now: Map<string, Value>, before: Map<string, Value>): { rows: ChannelRow[]; best: ChannelRow | null; worst: ChannelRow | null } {
  const rows = [...new Set([...now.keys(), ...before.keys()])]
    .map((ch) => {
      const gmv = now.get(ch) ?? 0;
      const b = before.get(ch) ?? 0;
      return { ch, gmv, before: b, delta: gmv - b, change: relativeChange(gmv, b) };
    })
    .filter((x) => x.gmv !== 0 || x.before !== 0)
    .sort((a, b) => b.gmv - a.gmv || a.ch.localeCompare(b.ch));
  if (rows.length < 2) return { rows, best: null, worst: null };
  const byDelta = [...rows].sort((a, b) => b.delta - a.delta || a.ch.localeCompare(b.ch));
  return { rows, best: byDelta[0]!, worst: byDelta[byDelta.length - 1]! };
}

export async function channels(r: Reader): Promise<ReportSection | null> {
  const gmvDef = r.kpi('gmv');
  if (!gmvDef) return null;
  const [now, before] = await Promise.all([r.wholeByChannel('gmv', r.week), r.wholeByChannel('gmv', r.prev)]);
  const { rows, best, worst } = rankChannels(now, before);
  const total = rows.reduce((s, x) => s + x.gmv, 0);
  const top = rows[0];
  const metrics: ReportMetric[] = [];
  const channelMetric = (zh: string, en: string, x: ChannelRow): ReportMetric => ({
    label: lbl(`${zh}：${zhName(x.ch)}`, `${en}: ${enName(x.ch)}`), unit: 'fen', value: x.gmv, previous: x.before, change: x.change, tone: toneOf(gmvDef.good, x.change),
  });
  if (top) metrics.push(channelMetric('GMV 第一', 'Top GMV', top));
  if (best && best.delta > 0) metrics.push(channelMetric('增长最多', 'Best mover', best));
  if (worst && worst.delta < 0) metrics.push(channelMetric('下降最多', 'Worst mover', worst));
  const mover = (x: ChannelRow, lang: Lang) => {
    const pct = x.change === null ? '' : lang === 'zh' ? `（${formatChange(x.change)}）` : ` (${formatChange(x.change)})`;
    return `${lang === 'zh' ? zhName(x.ch) : enName(x.ch)} ${formatSigned(x.delta, 'fen', lang)}${pct}`;
  };
  const share = top && total ? formatPercent(top.gmv / total) : '—';
  const zh = top
    ? `GMV 最高的渠道是${zhName(top.ch)}：${formatValue(top.gmv, 'fen', 'zh')}，占 ${share}。` +
      (best && best.delta > 0 ? `增长最多：${mover(best, 'zh')}。` : '') +
      (worst && worst.delta < 0 ? `下降最多：${mover(worst, 'zh')}。` : '')
    : '本周各渠道都没有成交。';
  const en = top
    ? `Top channel by GMV: ${enName(top.ch)}, ${formatValue(top.gmv, 'fen', 'en')} (${share} of the total).` +
      (best && best.delta > 0 ? ` Best mover: ${mover(best, 'en')}.` : '') +
      (worst && worst.delta < 0 ? ` Worst mover: ${mover(worst, 'en')}.` : '')
    : 'No channel had sales this week.';
  return {
    id: 'channels',
    title: lbl('渠道排名', 'Channel ranking'),
    finding: lbl(zh, en),
    metrics,
    table: {
      columns: [lbl('排名', 'Rank'), lbl('渠道', 'Channel'), lbl('成交额', 'GMV'), lbl('上周', 'Week before'), lbl('环比', 'WoW'), lbl('占比', 'Share')],
      units: ['count', 'text', 'fen', 'fen', 'percent', 'percent'],
      rows: rows.map((x, i) => [i + 1, zhName(x.ch), x.gmv, x.before, x.change, total ? x.gmv / total : null]),
    },
    chart: { kind: 'bar', unit: 'fen', label: lbl('各渠道成交额', 'GMV by channel'), categories: rows.map((x) => zhName(x.ch)), values: rows.map((x) => x.gmv) },
    link: r.link(['gmv'], { by: 'channel' }),
  };
}
