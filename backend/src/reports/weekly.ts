/**
 * The weekly report (数据周报): ten sections for one Monday–Sunday of the business time
 * zone, each compared with the week before. Every KPI number is read through SeriesService,
 * the logic behind `/api/v1/series`, so it equals what the history API answers by
 * construction:
 * - counts and money: the week's sum (`step=all`, which equals the sum of the daily points);
 * - ratios and quantiles: `step=all`, one Σ÷Σ over the whole week;
 * - KPIs with a distinct count (active members, churn rate, interactions per active member,
 *   …) cannot be added up across days, so their weekly figure is the mean of the daily
 *   values (`step=1d`) over the days that have data, labelled 日均 / daily average;
 * - month-level KPIs (月活, 人均互动频次（月）, 留存率, 复购率: each day's value already covers
 *   the 7 or 30 days ending with it) are read as of the week's last day with data
 *   (`step=1d`, the last point), labelled 截至周末 / as of the week's end.
 * Alerts come from the store's alert events (what `/api/v1/alerts/history` serves).
 * Findings are sentences built from these numbers only. Each section is its own module in
 * ./weekly/ (reader.ts reads, parts.ts holds the shared metric and wording helpers).
 */
import type { ReportSection, WeeklyReport } from '@siyu-pulse/contracts/reports';
import { addDays, previousWeek, weekId, weekLabel, type Week } from './week.js';
import { PARTIAL_GAP_HOURS, Reader, type WeeklyReportInput } from './weekly/reader.js';
import { scale } from './weekly/scale.js';
import { interaction } from './weekly/interaction.js';
import { reach } from './weekly/reach.js';
import { funnel } from './weekly/funnel.js';
import { value } from './weekly/value.js';
import { retention } from './weekly/retention.js';
import { channels } from './weekly/channels.js';
import { communities } from './weekly/communities.js';
import { alerts } from './weekly/alerts.js';
import { targets } from './weekly/targets.js';

// What tests and other modules import from here (the report's pieces live in ./weekly/, one module per section).
export { ALERT_EVENT_LIMIT, PARTIAL_GAP_HOURS, type WeeklyReportInput } from './weekly/reader.js';
export { attains, relativeChange } from './weekly/parts.js';
export { biggestDropOff } from './weekly/funnel.js';
export { rankChannels } from './weekly/channels.js';
export { alertStats, type AlertStats } from './weekly/alerts.js';

export async function generateWeeklyReport(input: WeeklyReportInput): Promise<WeeklyReport> {
  const tz = input.timezone;
  const week: Week = { from: input.weekStart, to: addDays(input.weekStart, 7, tz) };
  const prev = previousWeek(week, tz);
  const r = new Reader(input, week, prev);
  const [coverage, previousCoverage] = await Promise.all([r.coverage(week), r.coverage(prev)]);
  const partial = coverage.longestGapHours >= PARTIAL_GAP_HOURS;
  const previousPartial = previousCoverage.longestGapHours >= PARTIAL_GAP_HOURS;

  // Sections read independently (a store that answers in parallel, InfluxDB, is used so).
  const sections = (
    await Promise.all([
      scale(r, { partial, coverage, previousPartial }),
      interaction(r),
      reach(r),
      funnel(r),
      value(r),
      retention(r),
      channels(r),
      communities(r),
      alerts(r),
      targets(r),
    ])
  ).filter((s): s is ReportSection => s !== null);

  return {
    id: weekId(week.from, tz),
    kind: 'weekly',
    timezone: tz,
    week: { ...week, label: weekLabel(week, tz) },
    previousWeek: { ...prev, label: weekLabel(prev, tz) },
    generatedAt: input.now,
    trigger: input.trigger,
    partial,
    sections,
    delivery: [],
  };
}
