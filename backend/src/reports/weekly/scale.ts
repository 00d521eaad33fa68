/** Section 规模增长: members joined, lost, net, active members and 月活. */
import type { ReportSection } from '@siyu-pulse/contracts/reports';
import type { Coverage, Reader } from './reader.js';
import { formatSigned, formatKpi as formatValue, type Lang } from '@siyu-pulse/contracts/format';
import { dailyChart, lbl, metricsOf, sentence, v, wow } from './parts.js';

export async function scale(r: Reader, c: { partial: boolean; coverage: Coverage; previousPartial: boolean }): Promise<ReportSection> {
  const ms = await metricsOf(r, ['new_members', 'lost_members', 'net_growth', 'active_members', 'active_members_30d']);
  const [joins, leaves, net] = await Promise.all(['new_members', 'lost_members', 'net_growth'].map((id) => (r.kpi(id) ? r.daily(id, r.week) : Promise.resolve([]))));
  const n = ms.get('new_members')?.metric;
  const l = ms.get('lost_members')?.metric;
  const g = ms.get('net_growth')?.metric;
  const a = ms.get('active_members');
  const mau = ms.get('active_members_30d')?.metric;
  const gap = c.coverage.hours - c.coverage.hoursWithData;
  const netZh = g?.value === null || g === undefined ? '' : g.value < 0 ? `；净减少 ${formatValue(-g.value, 'count', 'zh')}` : `；净增 ${v(g, 'zh')}`;
  const activeDays = (lang: Lang) => (a?.days !== undefined && a.days < 7 ? (lang === 'zh' ? `（${a.days} 天平均）` : ` (over ${a.days} days)`) : '');
  const finding = (lang: Lang) =>
    sentence(
      lang === 'zh'
        ? [
            c.partial ? `注意：本周有 ${gap} 小时没有任何数据（如系统刚上线或采集中断），以下数字只覆盖有数据的时段。` : '',
            `新增成员 ${v(n, 'zh')}${wow(n, 'zh')}；流失 ${v(l, 'zh')}${wow(l, 'zh')}${netZh}。`,
            a ? `日均活跃成员 ${v(a.metric, 'zh')}${activeDays('zh')}${wow(a.metric, 'zh')}。` : '',
            mau && mau.value !== null ? `月活（截至周末的 30 天）${v(mau, 'zh')}${wow(mau, 'zh')}。` : '',
            c.previousPartial && !c.partial ? '上周数据不完整，环比仅供参考。' : '',
          ]
        : [
            c.partial ? `Note: ${gap} hours of this week have no data at all (a new install or a collection gap); the figures cover only the time with data.` : '',
            `New members ${v(n, 'en')}${wow(n, 'en')}; lost ${v(l, 'en')}${wow(l, 'en')}; net ${formatSigned(g?.value, 'count', 'en')}.`,
            a ? `Daily active members averaged ${v(a.metric, 'en')}${activeDays('en')}${wow(a.metric, 'en')}.` : '',
            mau && mau.value !== null ? `30-day active members ${v(mau, 'en')} as of the week's end${wow(mau, 'en')}.` : '',
            c.previousPartial && !c.partial ? 'The week before is incomplete: treat the comparison with care.' : '',
          ],
      lang,
    );
  return {
    id: 'scale',
    title: lbl('用户规模', 'Scale and growth'),
    finding: lbl(finding('zh'), finding('en')),
    metrics: [...ms.values()].map((f) => f.metric),
    chart: dailyChart(r, 'count', lbl('每日新增 / 流失 / 净增', 'Daily joined / left / net'), [
      { name: lbl('新增', 'Joined'), values: joins ?? [] },
      { name: lbl('流失', 'Left'), values: leaves ?? [] },
      { name: lbl('净增', 'Net'), values: net ?? [] },
    ]),
    link: r.link(['new_members', 'lost_members', 'net_growth'], { step: '1d' }),
  };
}
