/** Section 转化漏斗: step rates and the biggest drop-off. */
import type { ReportSection } from '@siyu-pulse/contracts/reports';
import type { Reader } from './reader.js';
import { formatPercent, type Lang } from '@siyu-pulse/contracts/format';
import { lbl, metricsOf, vsTarget, vt, wow, type Value } from './parts.js';

export const FUNNEL_STEPS = ['view_to_cart_rate', 'cart_to_order_rate', 'order_to_paid_rate'] as const;

/** The funnel step with the lowest pass-through rate (where most are lost), or null. */
export function biggestDropOff(rates: { id: string; rate: Value }[]): { id: string; rate: number } | null {
  let worst: { id: string; rate: number } | null = null;
  for (const s of rates) if (s.rate !== null && (worst === null || s.rate < worst.rate)) worst = { id: s.id, rate: s.rate };
  return worst;
}

export async function funnel(r: Reader): Promise<ReportSection | null> {
  const ms = await metricsOf(r, [...FUNNEL_STEPS, 'paid_conversion']);
  const steps = FUNNEL_STEPS.filter((id) => ms.has(id)).map((id) => ({ id, def: ms.get(id)!.def, rate: ms.get(id)!.metric.value }));
  if (!steps.length) return null;
  const drop = biggestDropOff(steps);
  const dropDef = drop ? r.kpi(drop.id)! : null;
  const paid = ms.get('paid_conversion');
  const finding = (lang: Lang) =>
    lang === 'zh'
      ? (drop && dropDef ? `流失最大的环节是「${dropDef.label.zh}」：只有 ${formatPercent(drop.rate)} 进入下一步。` : '本周漏斗没有数据。') +
        (paid ? `整体支付转化率 ${vt(paid.metric, 'zh')}${wow(paid.metric, 'zh')}${vsTarget(paid.def, paid.metric, 'zh')}。` : '')
      : (drop && dropDef ? `The biggest drop-off is ${dropDef.label.en}: only ${formatPercent(drop.rate)} go on to the next step.` : 'No funnel data this week.') +
        (paid ? ` Overall paid conversion ${vt(paid.metric, 'en')}${wow(paid.metric, 'en')}${vsTarget(paid.def, paid.metric, 'en')}.` : '');
  return {
    id: 'funnel',
    title: lbl('转化漏斗', 'Conversion funnel'),
    finding: lbl(finding('zh'), finding('en')),
    metrics: [...ms.values()].map((f) => f.metric),
    chart: { kind: 'funnel', steps: steps.map((s) => ({ label: s.def.label, rate: s.rate })) },
    link: r.link([...steps.map((s) => s.id), ...(paid ? ['paid_conversion'] : [])]),
  };
}
