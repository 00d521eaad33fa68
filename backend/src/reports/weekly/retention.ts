/** Section 留存质量: churn, retention, over-cap pushes, service. */
import type { ReportSection } from '@siyu-pulse/contracts/reports';
import type { Reader } from './reader.js';
import type { Lang } from '@siyu-pulse/contracts/format';
import { dailyChart, dailyHow, lbl, metricsOf, sentence, v, vsTarget, vt, wow, type Found } from './parts.js';

export async function retention(r: Reader): Promise<ReportSection | null> {
  const ids = ['churn_rate', 'retention_7d', 'retention_30d', 'push_over_cap_share', 'activity_participation_rate', 'service_resolution_rate', 'service_frt_p50'];
  const ms = await metricsOf(r, ids);
  if (!ms.size) return null;
  const churnDaily = r.kpi('churn_rate') ? await r.daily('churn_rate', r.week) : [];
  const churn = ms.get('churn_rate');
  const kept = [ms.get('retention_7d'), ms.get('retention_30d')].filter((x): x is Found => x !== undefined && x.metric.value !== null);
  const keptText = (lang: Lang) =>
    kept.length
      ? lang === 'zh'
        ? `截至周末：${kept.map((x) => `${x.def.label.zh} ${vt(x.metric, 'zh')}${wow(x.metric, 'zh')}${vsTarget(x.def, x.metric, 'zh')}`).join('；')}（上一期活跃且本期仍活跃的成员 ÷ 上一期活跃成员）。`
        : `As of the week's end: ${kept.map((x) => `${x.def.label.en} ${vt(x.metric, 'en')}${wow(x.metric, 'en')}${vsTarget(x.def, x.metric, 'en')}`).join('; ')} (members active in the period before who are active again ÷ members active in the period before).`
      : '';
  const cap = ms.get('push_over_cap_share');
  const act = ms.get('activity_participation_rate')?.metric;
  const res = ms.get('service_resolution_rate')?.metric;
  const frt = ms.get('service_frt_p50')?.metric;
  const finding = (lang: Lang) =>
    sentence(
      lang === 'zh'
        ? [
            churn ? `流失率日均 ${vt(churn.metric, 'zh')}${dailyHow('流失', 'leavers', churn.days, 'zh')}${wow(churn.metric, 'zh')}${vsTarget(churn.def, churn.metric, 'zh')}。` : '',
            keptText('zh'),
            cap ? `超频触达占比日均 ${vt(cap.metric, 'zh')}${wow(cap.metric, 'zh')}${vsTarget(cap.def, cap.metric, 'zh')}。` : '',
            act ? `活动参与率 ${v(act, 'zh')}${wow(act, 'zh')}。` : '',
            res ? `客服解决率 ${v(res, 'zh')}${wow(res, 'zh')}${frt ? `；首次响应中位数 ${v(frt, 'zh')}` : ''}。` : '',
          ]
        : [
            churn ? `Churn rate averaged ${vt(churn.metric, 'en')} a day${dailyHow('leavers', 'leavers', churn.days, 'en')}${wow(churn.metric, 'en')}${vsTarget(churn.def, churn.metric, 'en')}.` : '',
            keptText('en'),
            cap ? `Over-cap push share averaged ${vt(cap.metric, 'en')} a day${wow(cap.metric, 'en')}${vsTarget(cap.def, cap.metric, 'en')}.` : '',
            act ? `Activity participation ${v(act, 'en')}${wow(act, 'en')}.` : '',
            res ? `Service resolution ${v(res, 'en')}${wow(res, 'en')}${frt ? `; median first response ${v(frt, 'en')}` : ''}.` : '',
          ],
      lang,
    );
  return {
    id: 'retention',
    title: lbl('留存质量', 'Retention'),
    finding: lbl(finding('zh'), finding('en')),
    metrics: [...ms.values()].map((f) => f.metric),
    chart: dailyChart(r, 'percent', lbl('每日流失率', 'Daily churn rate'), [{ name: lbl('流失率', 'Churn rate'), values: churnDaily }]),
    link: r.link(['churn_rate', 'retention_7d', 'retention_30d', 'activity_participation_rate'], { step: '1d' }),
  };
}
