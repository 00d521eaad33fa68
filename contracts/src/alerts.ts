/**
 * Alerts as they cross the wire: the state changes the engine streams on the live socket
 * (`alert`) and stores, and the history API's rows. The alerts package and the backend import
 * these; the wall and the alert pages read them.
 */
import type { Dimension } from './catalogue/events.js';

export type { Dimension };

export type AlertState = 'ok' | 'pending' | 'firing' | 'resolved' | 'flapping';
export type Severity = 'warning' | 'critical';
export type BaselineKind = 'previous_window' | 'same_window_yesterday' | 'same_window_last_week' | 'trailing_mean' | 'seasonal';

/**
 * The normal range of a noise-aware (seasonal) baseline: the robust expected value ± the
 * KPI's own observed noise. `periods` comparable periods were used (近4周同一时段: 4, week).
 */
export interface Band {
  low: number;
  high: number;
  periods: number;
  /** `recent`: a young KPI's last windows stand in until enough comparable periods exist. */
  period: 'day' | 'week' | 'recent';
  /**
   * Comparable days only: same day type (`workday` / `restday`), rest days and earlier holidays
   * (`holiday`), earlier days of the same holiday (`holiday_own`) or campaign (`campaign`).
   */
  comparable?: 'workday' | 'restday' | 'holiday' | 'holiday_own' | 'campaign';
  /**
   * A young KPI with fewer than min_periods days of its type: this many of the `periods` are
   * days of the other type, scaled by how its own type of day ran against them (近2个休息日及5个
   * 工作日（按休息日水平折算）同一时段).
   */
  otherDays?: number;
  /**
   * The window that fired when it is not the rule's own: a short window (`short`: a 15–60
   * minute incident a 1 h window averages away) or an accumulated long one (`sum` / `mean`:
   * a slow move summed over hours). Absent: the rule's window.
   */
  window?: { minutes: number; kind: 'short' | 'sum' | 'mean' };
}

/** One state change of one rule for one split (or the total). Stored in `pulse_alerts` and streamed. */
export interface AlertEvent {
  /** Unique id of this event. */
  id: string;
  /** Stable id of the alert instance: `${ruleId}|${dim}=${value}` or `${ruleId}|total`. */
  alertKey: string;
  ruleId: string;
  ruleName: string;
  kpi: string;
  split: { dim: Dimension; value: string } | null;
  from: AlertState;
  state: AlertState;
  severity: Severity | null;
  ts: number;
  value: number | null;
  baseline: number | null;
  baselineKind: BaselineKind | 'deadman' | 'target' | null;
  /** Relative change (value − baseline) / |baseline|. */
  change: number | null;
  /** The threshold crossed (a fraction, e.g. 0.15). */
  threshold: number | null;
  /** Short human text (Chinese). */
  summary: string;
  /** The normal range, for rules with a noise-aware baseline. */
  band?: Band;
}


/**
 * An alert state change (the alerts package's AlertEvent, flattened for storage). In
 * InfluxDB it is `pulse_alerts` (tags rule, kpi, state, severity, split_dim, split_value),
 * usable directly as Grafana annotations.
 */
export interface AlertRow {
  id: string;
  ts: number;
  alertKey: string;
  ruleId: string;
  ruleName: string;
  kpi: string;
  splitDim: string;
  splitValue: string;
  from: string;
  state: string;
  severity: string;
  value: number | null;
  baseline: number | null;
  baselineKind: string;
  change: number | null;
  threshold: number | null;
  summary: string;
}
