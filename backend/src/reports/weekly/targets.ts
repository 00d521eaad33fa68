/** Section 目标达成: every KPI with a target, met or missed. */
import type { Reader } from './reader.js';
import type { ReportMetric, ReportSection } from '@siyu-pulse/contracts/reports';
import { formatAgainst, type Lang } from '@siyu-pulse/contracts/format';
import { HOUR } from '../../time/zone.js';
import type { Week } from '../week.js';
import { dailyLabel, kpiMetric, lbl, weekLabelOf, type Value } from './parts.js';

/**
 * The week's value compared with a KPI's target: ratios as Σ÷Σ, distinct-based KPIs as the
 * mean of daily values, and counts and money as the daily average, because their targets
 * are per day (what the wall's "today" tile compares against; see catalogue/targets.ts).
 */
export async function targets(r: Reader): Promise<ReportSection | null> {
  const defs = r.catalogue().filter((d) => r.targetOf(d) !== undefined);
  if (!defs.length) return null;
  const metrics = await Promise.all(
    defs.map(async (def) => {
      const target = r.targetOf(def)!;
      const p = await r.pair(def);
      if (def.formula.kind === 'sum') {
        const perDay = (x: Value, w: Week) => (x === null ? null : x / Math.round((w.to - w.from) / (24 * HOUR)));
        return kpiMetric(def, { value: perDay(p.value, r.week), previous: perDay(p.previous, r.prev) }, { label: dailyLabel(def.label), target });
      }
      const label = weekLabelOf(def);
      return kpiMetric(def, p, { target, ...(label ? { label } : {}) });
    }),
  );
  const missed = metrics.filter((m) => m.attained === false);
  const met = metrics.filter((m) => m.attained === true).length;
  const noData = metrics.filter((m) => m.attained === undefined).length;
  const line = (m: ReportMetric, lang: Lang) => {
    const [value, target] = formatAgainst(m.value, m.target!, m.unit, lang);
    return `${m.label[lang]} ${value}${lang === 'zh' ? `（目标 ${target}）` : ` (target ${target})`}`;
  };
  const allMet = !missed.length && !noData;
  return {
    id: 'targets',
    title: lbl('目标达成', 'Target attainment'),
    finding: lbl(
      `${metrics.length} 项目标达成 ${met} 项${noData ? `，${noData} 项无数据` : ''}${allMet ? '，全部达成' : ''}。` + (missed.length ? `未达成：${missed.map((m) => line(m, 'zh')).join('；')}。` : ''),
      `${met} of ${metrics.length} targets met${noData ? `, ${noData} without data` : ''}.` + (missed.length ? ` Missed: ${missed.map((m) => line(m, 'en')).join('; ')}.` : ''),
    ),
    metrics,
    link: r.link(defs.map((d) => d.id)),
  };
}
