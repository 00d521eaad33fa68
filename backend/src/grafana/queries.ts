/**
 * InfluxQL for the Grafana panels, derived from the KPI catalogue and the InfluxDB schema
 * (store/influx/adapter.ts). Raw-mode queries with Grafana's macros left in place:
 * `$timeFilter`, `$__interval` and `$channel` (a multi-value / All variable, which Grafana
 * interpolates as a regex alternation `(a|b)`, so it is always used with `=~ /^…$/`).
 *
 * Semantics kept from the README ("Reading data", "KPIs"):
 * - ratios are Σnum / Σden per time bucket (math between aggregates, which InfluxQL has
 *   supported since 0.13 / verified on 1.6.7), never a mean of 10 s ratios;
 * - a bucket whose denominator is 0 shows nothing (InfluxQL answers 0 for 0/0, so the ratio
 *   is filtered in an outer query, the InfluxQL stand-in for SQL's HAVING);
 * - money is integer fen in storage, shown in yuan (÷100 in the query);
 * - distinct counts are read at one fixed granularity, never summed over time;
 * - time buckets are aligned to Asia/Shanghai with an offset on GROUP BY time(): InfluxQL
 *   aligns to the UTC epoch, which only agrees with Shanghai for steps that divide 8 h.
 */
import { GRANULARITIES, HISTOGRAMS, histogramCounters, type Granularity, type HistogramId, type MemberSetId } from '@siyu-pulse/contracts/catalogue';
import { distinctGranularities, type KpiDef, type RatioSide, type Term } from '@siyu-pulse/contracts/catalogue';
import { quoteIdent, quoteString } from '../store/influx/influxql.js';
import { HOUR, tzOffsetMs } from '../time/zone.js';

/** The dashboards are drawn for this zone (the product default, PULSE_TIMEZONE). */
export const DASHBOARD_TIMEZONE = 'Asia/Shanghai';
export const CHANNEL_VARIABLE = 'channel';

/**
 * Distinct panels read the hour points of pulse_distinct: minute points give ~1,440 dots a
 * day (noise on a 24 h view) and day points give one or two dots on the default 24 h range.
 */
export const DISTINCT_GRANULARITY = 'hour' as const;
export const DISTINCT_STEP = '1h';
const STEP_OF: Record<Granularity, string> = { minute: '1m', hour: '1h', day: '1d' };

/**
 * The stored period a distinct-based panel reads: the hour (above), unless the KPI is not
 * defined per hour (push_over_cap_share: members cross the cap once a day), then its
 * coarsest period.
 */
export function distinctGranularityOf(def: KpiDef): Granularity {
  const gs = distinctGranularities(def);
  return gs.length === 0 || gs.includes(DISTINCT_GRANULARITY) ? DISTINCT_GRANULARITY : gs[gs.length - 1]!;
}

const COUNTS = quoteIdent('pulse_counts');
const DISTINCT = quoteIdent('pulse_distinct');
const ALERTS = quoteIdent('pulse_alerts');
const MONTH = quoteIdent('pulse_month');
const CHANNEL = quoteIdent('channel');

/** Where a query looks: the all-channel total (overview) or one series per selected channel. */
export type Scope = 'total' | 'byChannel';

/**
 * One panel's data:
 * - `single`: one statement whose column `value` is the KPI;
 * - `distinctRatio`: a counter sum (A) over a distinct count (B), divided by a Grafana math
 *   expression — InfluxQL cannot join two measurements;
 * - `histogram`: the bucket counts of a latency histogram (one column per bucket).
 */
export type PanelQuery =
  | { shape: 'single'; query: string }
  | { shape: 'distinctRatio'; num: string; den: string; expression: string }
  | { shape: 'histogram'; query: string; buckets: { column: string; counter: string }[] };

/** GROUP BY time() offset that puts bucket boundaries on local midnight (e.g. `-8h`). */
export function zoneOffset(tz = DASHBOARD_TIMEZONE): string {
  // Fixed instants keep the output deterministic; a zone with DST would need tz(), which
  // changes the bucket length twice a year — refuse rather than draw wrong days.
  const jan = tzOffsetMs(tz, Date.UTC(2026, 0, 1));
  const jul = tzOffsetMs(tz, Date.UTC(2026, 6, 1));
  if (jan !== jul) throw new Error(`${tz} has daylight saving time; the dashboards assume a fixed UTC offset`);
  if (jan % HOUR !== 0) throw new Error(`${tz} is not a whole number of hours from UTC`);
  return `${-jan / HOUR}h`;
}

const money = (def: KpiDef) => def.unit === 'fen';

/** Σ(sign × counter) as InfluxQL aggregates: `sum("a") - sum("b")`. */
function sumTerms(terms: readonly Term[]): string {
  return terms
    .map(([counter, sign], i) => {
      const s = `sum(${quoteIdent(counter)})`;
      if (i === 0) return sign === 1 ? s : `0 - ${s}`;
      return `${sign === 1 ? '+' : '-'} ${s}`;
    })
    .join(' ');
}

function channelFilter(scope: Scope): string {
  return scope === 'byChannel' ? `${CHANNEL} =~ /^$${CHANNEL_VARIABLE}$/ AND ` : '';
}

const byChannel = (scope: Scope) => (scope === 'byChannel' ? `, ${CHANNEL}` : '');

function distinctWhere(set: MemberSetId, scope: Scope, granularity: Granularity = DISTINCT_GRANULARITY): string {
  const channel = scope === 'byChannel' ? `${CHANNEL} =~ /^$${CHANNEL_VARIABLE}$/` : `${CHANNEL} = ''`;
  return `${quoteIdent('granularity')} = ${quoteString(granularity)} AND ${quoteIdent('member_set')} = ${quoteString(set)} AND ${channel}`;
}

export function kpiQuery(def: KpiDef, scope: Scope, tz = DASHBOARD_TIMEZONE): PanelQuery {
  const off = zoneOffset(tz);
  const f = def.formula;
  const where = `${channelFilter(scope)}$timeFilter`;
  const granularity = distinctGranularityOf(def);
  const fixedStep = `time(${STEP_OF[granularity]}, ${off})`;
  switch (f.kind) {
    case 'sum': {
      const sum = sumTerms(f.terms);
      const expr = money(def) ? `${f.terms.length > 1 ? `(${sum})` : sum} / 100` : sum;
      // fill(0): a bucket without events is a real zero for a count.
      return {
        shape: 'single',
        query: `SELECT ${expr} AS "value" FROM ${COUNTS} WHERE ${where} GROUP BY time($__interval, ${off})${byChannel(scope)} fill(0)`,
      };
    }
    case 'ratio': {
      if ('distinct' in f.den) {
        const scale = money(def) ? ' / 100' : '';
        // A distinct numerator is read like the denominator: one stored point per period.
        // Its zero is stored too (the collector writes push_over_cap beside push_reached),
        // so a period with nobody over the cap shows 0, not a gap.
        const num = (n: RatioSide) =>
          'distinct' in n
            ? `SELECT "value" AS "num" FROM ${DISTINCT} WHERE ${distinctWhere(n.distinct, scope, granularity)} AND $timeFilter${scope === 'byChannel' ? ` GROUP BY ${CHANNEL}` : ''}`
            : `SELECT ${sumTerms(n)} AS "num" FROM ${COUNTS} WHERE ${where} GROUP BY ${fixedStep}${byChannel(scope)} fill(0)`;
        return {
          shape: 'distinctRatio',
          num: num(f.num),
          // No active member → no point → no ratio (Grafana math joins on timestamps).
          den: `SELECT "value" AS "den" FROM ${DISTINCT} WHERE ${distinctWhere(f.den.distinct, scope, granularity)} AND "value" > 0 AND $timeFilter${scope === 'byChannel' ? ` GROUP BY ${CHANNEL}` : ''}`,
          expression: `$A / $B${scale}`,
        };
      }
      // A distinct count over a counter sum would need the counter read at the same fixed
      // period and its zeros filtered; no KPI needs it yet.
      if ('distinct' in f.num) throw new Error(`${def.id}: a distinct numerator over a counter denominator has no Grafana query yet`);
      const scale = money(def) ? ' / 100' : '';
      // fill(0), not fill(none): a row carries only its non-zero counters (the store writes them
      // sparse), so a bucket with deliveries and no opens has no "opens" to sum: that is 0, and
      // a bucket without events gets den 0 and is dropped below.
      const inner = `SELECT ${sumTerms(f.num)} AS "num", ${sumTerms(f.den)} AS "den" FROM ${COUNTS} WHERE ${where} GROUP BY time($__interval, ${off})${byChannel(scope)} fill(0)`;
      return {
        shape: 'single',
        query: `SELECT "num" / "den"${scale} AS "value" FROM (${inner}) WHERE "den" != 0${scope === 'byChannel' ? ` GROUP BY ${CHANNEL}` : ''}`,
      };
    }
    case 'distinct':
      // One point per period (its start): last() over a bucket of exactly one period is
      // that point; fill(0) gives periods without active members their zero.
      return {
        shape: 'single',
        query: `SELECT last("value") AS "value" FROM ${DISTINCT} WHERE ${distinctWhere(f.set, scope, granularity)} AND $timeFilter GROUP BY ${fixedStep}${byChannel(scope)} fill(0)`,
      };
    case 'quantile':
      return histogramQuery(f.histogram, scope, tz);
    case 'span': {
      // Unions of day sketches cannot be computed in InfluxQL: the server writes each day's
      // value to pulse_month (grafana/monthValues.ts); one point per local day.
      const channel = scope === 'byChannel' ? `${CHANNEL} =~ /^$${CHANNEL_VARIABLE}$/` : `${CHANNEL} = ''`;
      return {
        shape: 'single',
        query: `SELECT last("value") AS "value" FROM ${MONTH} WHERE ${quoteIdent('kpi')} = ${quoteString(def.id)} AND ${channel} AND $timeFilter GROUP BY time(1d, ${off})${byChannel(scope)} fill(none)`,
      };
    }
  }
}

/**
 * Bucket counts of a histogram, one column per bucket named by its upper bound in ms
 * (`+Inf` for the last), which is what Grafana's heatmap reads as `le` rows. The channel
 * dashboard filters to $channel but does not split: a heatmap cannot hold one per channel.
 */
export function histogramQuery(id: HistogramId, scope: Scope, tz = DASHBOARD_TIMEZONE): PanelQuery {
  const bounds = HISTOGRAMS[id].boundsMs;
  const buckets = histogramCounters(id).map((counter, i) => ({ counter, column: i < bounds.length ? String(bounds[i]) : '+Inf' }));
  const select = buckets.map((b) => `sum(${quoteIdent(b.counter)}) AS ${quoteIdent(b.column)}`).join(', ');
  return {
    shape: 'histogram',
    buckets,
    query: `SELECT ${select} FROM ${COUNTS} WHERE ${channelFilter(scope)}$timeFilter GROUP BY time($__interval, ${zoneOffset(tz)}) fill(0)`,
  };
}

/** The channel variable: every channel tag value ever written (1.6 ignores a time filter here). */
export const CHANNEL_VALUES_QUERY = `SHOW TAG VALUES FROM ${COUNTS} WITH KEY = ${CHANNEL}`;

/** Columns the annotation definitions map (see store/influx/alerts.ts for the encoding). */
export const ALERT_ANNOTATION_COLUMNS = { title: 'rule_name', text: 'summary', tags: ['kpi', 'severity', 'split_value'] } as const;

/**
 * Alert state changes of one state from pulse_alerts. On the channel dashboard, alerts split
 * by channel show only for the selected channels; total and other splits always show.
 */
export function alertAnnotationQuery(state: 'firing' | 'resolved', scope: Scope): string {
  const { title, text, tags } = ALERT_ANNOTATION_COLUMNS;
  const columns = [title, text, ...tags].map(quoteIdent).join(', ');
  const channel =
    scope === 'byChannel' ? ` AND (${quoteIdent('split_dim')} != 'channel' OR ${quoteIdent('split_value')} =~ /^$${CHANNEL_VARIABLE}$/)` : '';
  return `SELECT ${columns} FROM ${ALERTS} WHERE ${quoteIdent('state')} = ${quoteString(state)}${channel} AND $timeFilter`;
}

/** Milliseconds of the fixed distinct step (for callers comparing with the series API). */
export const DISTINCT_STEP_MS = GRANULARITIES[DISTINCT_GRANULARITY];
