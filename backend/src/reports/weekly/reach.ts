/** Section 触达效果: open and click rates per channel. */
import type { ReportSection, ReportTable } from '@siyu-pulse/contracts/reports';
import { enName, zhName } from './channels.js';
import type { Reader } from './reader.js';
import { formatPercent, type Lang } from '@siyu-pulse/contracts/format';
import { lbl, metricsOf, relativeChange, v, wow, type Value } from './parts.js';

export async function reach(r: Reader): Promise<ReportSection | null> {
  const ms = await metricsOf(r, ['push_open_rate', 'push_click_rate']);
  const open = ms.get('push_open_rate')?.metric;
  const click = ms.get('push_click_rate')?.metric;
  if (!open && !click) return null;
  const per = async (id: string) => (r.kpi(id) ? Promise.all([r.wholeByChannel(id, r.week), r.wholeByChannel(id, r.prev)]) : [new Map<string, Value>(), new Map<string, Value>()]);
  const [[openNow, openBefore], [clickNow, clickBefore]] = await Promise.all([per('push_open_rate'), per('push_click_rate')]);
  const rows = [...new Set([...openNow.keys(), ...clickNow.keys()])]
    .map((ch) => ({ ch, open: openNow.get(ch) ?? null, click: clickNow.get(ch) ?? null, openPrev: openBefore.get(ch) ?? null, clickPrev: clickBefore.get(ch) ?? null }))
    .filter((x) => x.open !== null || x.click !== null)
    .sort((a, b) => (b.open ?? -1) - (a.open ?? -1) || a.ch.localeCompare(b.ch));
  const table: ReportTable = {
    columns: [lbl('渠道', 'Channel'), lbl('打开率', 'Open rate'), lbl('打开率环比', 'Open rate WoW'), lbl('点击率', 'Click rate'), lbl('点击率环比', 'Click rate WoW')],
    units: ['text', 'percent', 'percent', 'percent', 'percent'],
    rows: rows.map((x) => [zhName(x.ch), x.open, relativeChange(x.open, x.openPrev), x.click, relativeChange(x.click, x.clickPrev)]),
  };
  const ranked = rows.filter((x) => x.open !== null);
  const best = ranked[0];
  const worst = ranked.length > 1 ? ranked[ranked.length - 1] : undefined;
  const finding = (lang: Lang) =>
    lang === 'zh'
      ? `推送打开率 ${v(open, 'zh')}${wow(open, 'zh')}；点击率 ${v(click, 'zh')}${wow(click, 'zh')}（全周打开、点击数 ÷ 送达数）。` +
        (best && worst ? `打开率最高的渠道是${zhName(best.ch)}（${formatPercent(best.open)}），最低是${zhName(worst.ch)}（${formatPercent(worst.open)}）。` : '')
      : `Push open rate ${v(open, 'en')}${wow(open, 'en')}; click rate ${v(click, 'en')}${wow(click, 'en')} (the week's opens and clicks ÷ deliveries).` +
        (best && worst ? ` Highest open rate: ${enName(best.ch)} (${formatPercent(best.open)}); lowest: ${enName(worst.ch)} (${formatPercent(worst.open)}).` : '');
  return {
    id: 'reach',
    title: lbl('触达效果', 'Reach'),
    finding: lbl(finding('zh'), finding('en')),
    metrics: [...ms.values()].map((f) => f.metric),
    table,
    chart: { kind: 'bar', unit: 'percent', label: lbl('各渠道推送打开率', 'Push open rate by channel'), categories: rows.map((x) => zhName(x.ch)), values: rows.map((x) => x.open) },
    link: r.link(['push_open_rate', 'push_click_rate'], { by: 'channel' }),
  };
}
