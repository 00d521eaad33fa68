/**
 * Alert rules as the rules API answers them (the normalised form of a rule file's YAML):
 * the alerts package's rule kinds produce these, the alert center reads them. Each kind's
 * YAML schema (zod), checks, evaluation and wording stay in its folder under alerts/src/kinds/.
 */
import type { BaselineKind, Dimension } from './alerts.js';

/** How a rule treats holidays and campaigns (the business calendar). */
export type CalendarMode = 'normal' | 'mute' | 'comparable';

export type Direction = 'up' | 'down' | 'both';

/** `{ from: '00:00', to: '07:00' }` in the engine's time zone; from > to wraps midnight. */
export interface TimeOfDayWindow {
  from: string;
  to: string;
}

export interface RuleCommon {
  id: string;
  /** Chinese display name. */
  name: string;
  /** Digest group for the dispatcher (default: the rule id). */
  group: string;
  /** Notifier ids (default `['dingtalk']`). */
  notify: string[];
  silenceWindows: TimeOfDayWindow[];
  /** Consecutive evaluations the condition must hold before firing (`pending_for: 3`). */
  pendingFor: number;
  /** How long the condition must hold before firing (`pending_for: 10m`); 0 = count only. */
  pendingForMs: number;
  /**
   * `clear` (`pending_while: clear`): a pending episode lives on through an evaluation that
   * only holds the clear side (beyond the clear threshold, outside half the band), as a firing
   * one does, and fires at a later evaluation that fires once pending_for has passed since it
   * began. Absent: any evaluation that does not fire ends it.
   */
  pendingWhile?: 'clear';
  /** How long a cleared condition must stay cleared before the alert resolves. */
  keepFiringForMs: number;
  /** Minimum time between two firing notifications of one alert. */
  cooldownMs: number;
  flapping: { maxFlips: number; withinMs: number };
  /** Only these values of `by` (e.g. one deadman rule per channel); all when absent. */
  values?: string[];
  /** The file the rule came from (for status and errors); '' when built in code. */
  file: string;
}

/**
 * The expected value: the robust median of the same window in the last `periods` comparable
 * periods (same hour of day, or same weekday and hour), leaving out windows that were firing
 * or fell on holidays / campaigns. `days: comparable` (period 1d) uses only days of the same
 * type (workdays incl. 调休 vs weekends / holidays).
 */
export interface SeasonalBaseline {
  periodMs: number;
  periods: number;
  minPeriods: number;
  days: 'comparable' | 'all';
}

/**
 * The band: |value − expected| must exceed k × the `quantile` of the KPI's own recent
 * deviations |value − expected| (measured at each evaluation outside alerts over `spanMs`).
 * Until `minHistoryMs` of deviations are known the rule takes no decision.
 */
export interface NoiseBand {
  quantile: number;
  k: number;
  spanMs: number;
  minHistoryMs: number;
  /**
   * A deviation is learnt as at most `clip` × the current band's half-width (Huber-style):
   * an incident the rule did not catch, or a one-off, cannot blow the band up for a whole
   * `span` and hide the next incident; a lasting change of noise still widens it, by up to
   * `clip` each turn. Absent: learnt as seen.
   */
  clip?: number;
  /** Learn noise on holidays and campaign days too (default). false: those days never widen the ordinary band. */
  learnOnCalendarDays: boolean;
  /**
   * The band from deviations learnt within ± this of the current time of day only (noise
   * differs by hour: a night's counts are small, so a band learnt at the evening peak hides a
   * night's −30%). Falls back to all deviations until that time of day has been seen on two
   * days. Absent: one band for the whole day.
   */
  timeOfDayMs?: number;
  /**
   * `hold`: deviations seen while an alert is pending are learnt only when the episode ends
   * without firing (it was noise); an incident's first minutes never widen the band that is
   * judging it. `learn` (default): learnt at once, like any deviation at rest.
   */
  pending: 'learn' | 'hold';
  /**
   * `level`: each deviation is remembered with the scale of the expected value it was measured
   * against, and rescaled to the current one (a count's noise grows with √level, a ratio's
   * falls with √denominator): a band learnt on ordinary days fits a holiday at half their
   * level or a campaign at twice it. Absent: deviations are used as seen, in the KPI's unit.
   * `uplift`: only where the calendar says the level differs: on the first days of a holiday or
   * a campaign, whose expected value is ordinary days × the period's level ratio r so far, a
   * count's band (learnt on ordinary days) is scaled by √r (Poisson, the cautious law: half the
   * level gives 0.71 × the band, not 0.5 ×). Other windows, and ratios, as seen.
   */
  scale?: 'level' | 'uplift';
}

/**
 * Windows judged beside the rule's own, each with its own expected value (same method) and
 * its own noise memory: `shortMs` catches a 15–60 minute incident the rule's window averages
 * away, `accumulateMs` a slow move that stays inside the hourly band but adds up over hours
 * (the last N hours summed, or averaged for ratios, against the same hours on comparable
 * days: a moving-sum, CUSUM-like accumulation a manager reads as "近6小时累计高出 22%").
 */
export interface ExtraWindows {
  shortMs?: number;
  accumulateMs?: number;
}

export interface ChangeRule extends RuleCommon {
  kind: 'change';
  kpi: string;
  by?: Dimension;
  windowMs: number;
  /** `windows` is the number of pooled windows for trailing_mean (1 for the others). */
  baseline: { type: BaselineKind; windows: number; seasonal?: SeasonalBaseline };
  /** Noise band (seasonal baselines): an alert also needs a move outside normal noise. */
  band?: NoiseBand;
  /** A move persisting this long becomes the new baseline (新常态) instead of firing on. */
  levelShift?: { adoptAfterMs: number };
  /** Seasonal rules: a short and / or an accumulated window judged beside `windowMs`, each against its own noise. */
  extraWindows?: ExtraWindows;
  /** Holidays and campaigns: ordinary days (normal), no decision (mute), or like with like (comparable). */
  calendar: { holidays: CalendarMode; campaigns: CalendarMode };
  /** Fractions of the baseline: fire at |change| ≥ fire, clear below `clear`. */
  thresholds: { fire: number; clear: number; critical?: number };
  direction: Direction;
  /**
   * Ratio KPIs: both windows' denominators must reach it. Sums / counts: the larger of the
   * two windows must reach it, so a collapse to zero still fires (see evaluate.ts).
   */
  minSample: number;
  /** |value − baseline| in the KPI's unit (a fraction for percent KPIs). */
  minAbsChange: number;
  /** Two-proportion z-test for percent ratio KPIs: fire only when p-value < p. */
  significance?: { p: number };
}

export interface DeadmanRule extends RuleCommon {
  kind: 'deadman';
  by: Dimension;
  /** Silence that fires the alert for a split value that was sending. */
  afterMs: number;
}

/**
 * "Below target for N hours": the KPI misses its target (below it when more is better,
 * above it when less is better) in every one of the last `count` windows.
 */
export interface TargetRule extends RuleCommon {
  kind: 'target';
  kpi: string;
  by?: Dimension;
  windowMs: number;
  /** Consecutive windows that must all miss (for / window). */
  count: number;
  /** null: the KPI's configured target (per channel when set). */
  target: number | null;
  /** Which side of the target is a miss; from the KPI's good direction when absent. */
  direction?: 'below' | 'above';
  /** Each window's sample (denominator / count) must reach it for the window to count. */
  minSample: number;
}

/** What every 社群 rule holds beyond the common fields: split by community, a window of whole days, its own pace. */
export interface GroupRuleBase extends RuleCommon {
  by: 'community';
  /** The window looked at: whole days ending now. */
  windowMs: number;
  /** How often the rule evaluates. */
  everyMs: number;
}

export interface GroupSilenceRule extends GroupRuleBase {
  kind: 'group_silence';
  /** Always `messages` split by community (the rule is about groups talking). */
  kpi: 'messages';
  /** Earlier days whose median daily messages say what "normally active" is. */
  periods: number;
  /** Messages the group would normally send in the window for a silence to count. */
  minExpected: number;
}

export interface GroupExodusRule extends GroupRuleBase {
  kind: 'group_exodus';
  /** Always `net_growth` split by community: joins − leaves per group. */
  kpi: 'net_growth';
  /** Net loss ÷ members at the window's start that fires (0.1 = 10%). */
  threshold: number;
  /** Groups smaller than this are not judged (3 of 10 leaving is not a trend). */
  minMembers: number;
  /** At least this many members lost (net) in the window. */
  minLost: number;
}

/** The built-in rule kinds every engine knows. */
export type Rule = ChangeRule | DeadmanRule | TargetRule;
/** The 社群 rule kinds (one alert per rule listing the groups). */
export type GroupRule = GroupSilenceRule | GroupExodusRule;
