/** Section 互动活跃. */
import type { ReportSection } from '@siyu-pulse/contracts/reports';
import type { Reader } from './reader.js';
import type { Lang } from '@siyu-pulse/contracts/format';
import { dailyChart, dailyHow, lbl, metricsOf, v, vsTarget, vt, wow } from './parts.js';

export async function interaction(r: Reader): Promise<ReportSection> {
  const ms = await metricsOf(r, ['messages', 'interactions', 'interactions_per_active', 'interactions_per_member_month']);
  const [messages, interactions] = await Promise.all(['messages', 'interactions'].map((id) => (r.kpi(id) ? r.daily(id, r.week) : Promise.resolve([]))));
  const m = ms.get('messages')?.metric;
  const i = ms.get('interactions')?.metric;
  const per = ms.get('interactions_per_active');
  const month = ms.get('interactions_per_member_month');
  const finding = (lang: Lang) =>
    lang === 'zh'
      ? `消息 ${v(m, 'zh')}${wow(m, 'zh')}；互动 ${v(i, 'zh')}${wow(i, 'zh')}。` +
        (per ? `人均互动日均 ${vt(per.metric, 'zh')}${dailyHow('互动', 'interactions', per.days, 'zh')}${wow(per.metric, 'zh')}${vsTarget(per.def, per.metric, 'zh')}。` : '') +
        (month && month.metric.value !== null ? `人均互动频次（月）${vt(month.metric, 'zh')}（截至周末的 30 天互动 ÷ 月活）${wow(month.metric, 'zh')}${vsTarget(month.def, month.metric, 'zh')}。` : '')
      : `Messages ${v(m, 'en')}${wow(m, 'en')}; interactions ${v(i, 'en')}${wow(i, 'en')}.` +
        (per ? ` Interactions per active member averaged ${vt(per.metric, 'en')} a day${dailyHow('interactions', 'interactions', per.days, 'en')}${wow(per.metric, 'en')}${vsTarget(per.def, per.metric, 'en')}.` : '') +
        (month && month.metric.value !== null ? ` Interactions per member over the 30 days to the week's end: ${vt(month.metric, 'en')} (÷ 30-day active members)${wow(month.metric, 'en')}${vsTarget(month.def, month.metric, 'en')}.` : '');
  return {
    id: 'interaction',
    title: lbl('互动深度', 'Interaction depth'),
    finding: lbl(finding('zh'), finding('en')),
    metrics: [...ms.values()].map((f) => f.metric),
    chart: dailyChart(r, 'count', lbl('每日消息 / 互动', 'Daily messages / interactions'), [
      { name: lbl('消息', 'Messages'), values: messages ?? [] },
      { name: lbl('互动', 'Interactions'), values: interactions ?? [] },
    ]),
    link: r.link(['messages', 'interactions', 'interactions_per_active', 'interactions_per_member_month'], { step: '1d' }),
  };
}
