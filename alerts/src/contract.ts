/**
 * The alert engine's boundary. The engine knows nothing of the backend's modules: the
 * composition root hands it a KpiSource (live state + store history), an AlertSink (store
 * + live socket) and a clock. Notifications leave through the Dispatcher (notify/).
 */

// The wire types (what the socket streams and the history API returns) live in the
// contracts package; the engine's own boundary (KpiSource, AlertSink, notifications) stays here.
import type { AlertEvent, AlertState, BaselineKind, Band, Dimension, Severity } from '@siyu-pulse/contracts/alerts';
export type { AlertEvent, AlertState, BaselineKind, Band, Dimension, Severity };

export interface KpiInfo {
  id: string;
  label: { zh: string; en: string };
  unit: 'count' | 'percent' | 'fen' | 'ms' | 'multiple' | 'per_member';
  /** Which direction is good for the business (a rise in churn is bad). */
  good: 'up' | 'down' | 'neutral';
  /** Ratio of sums: value = num / den. */
  ratio: boolean;
  /** Dimensions this KPI can be split by. */
  splits: Dimension[];
  /**
   * A distinct count (members do not add up across periods): answered only over the stored
   * 1m / 1h / 1d periods. When absent the engine guesses from `splits` (older sources).
   */
  distinct?: boolean;
  /**
   * The only window lengths (ms) the source answers for this KPI, when it is limited: a
   * month-level KPI (月活, 30 日留存率) exists per day only. Absent: 1m / 1h / 1d for distinct
   * counts, any window for the others.
   */
  windows?: readonly number[];
  /** Target in the KPI's unit (configured or the catalogue's), for `target` rules. */
  target?: number;
  /** Per-channel targets that replace `target` for that channel. */
  channelTargets?: Readonly<Record<string, number>>;
}

export interface WindowValue {
  /** null when undefined (0/0, no samples). */
  value: number | null;
  /** Ratio KPIs: numerator and denominator sums (for sample guards and significance). */
  num?: number;
  den?: number | null;
  /** The sample behind the value: the denominator for ratios, the value itself for counts. */
  sample: number;
}

export interface WindowResult {
  total: WindowValue;
  /** Per split value, when `by` was given. */
  splits: Record<string, WindowValue>;
}

export interface KpiSource {
  catalogue(): KpiInfo[];
  /**
   * The KPI over [from, to) as a ratio of sums, total and per split value of `by`.
   * Resolves null when [from, to) starts before the data history does ("not enough history").
   */
  window(kpi: string, from: number, to: number, by?: Dimension): Promise<WindowResult | null>;
  /** Last time (epoch ms) each value of `by` sent any event, for deadman rules. */
  lastSeen(by: Dimension): Record<string, number>;
  /**
   * Members per value of `by` from the latest size snapshot (社群 member counts), for group
   * rules (退群潮); absent or empty when the source has no sizes.
   */
  sizes?(by: Dimension): Record<string, number>;
}

export interface AlertSink {
  /** Persist (pulse_alerts) and broadcast (live socket). Must not throw into the engine. */
  publish(events: AlertEvent[]): Promise<void>;
}

/** What the engine asks the dispatcher to deliver about an alert. Formatting belongs to notify/. */
export interface AlertNotification {
  /** Idempotency key: the same key is delivered at most once per notifier. */
  key: string;
  kind: 'firing' | 'resolved' | 'flapping';
  ruleId: string;
  ruleName: string;
  /** Rules in one group are digested together under a storm. */
  group: string;
  severity: Severity | 'info';
  kpi: Pick<KpiInfo, 'id' | 'label' | 'unit' | 'good'>;
  split: { dim: Dimension; value: string } | null;
  value: number | null;
  baseline: number | null;
  baselineKind: BaselineKind | 'deadman' | 'target' | null;
  change: number | null;
  threshold: number | null;
  /** Which moves the rule watches (change rules): the threshold reads ±15% only for `both`. */
  direction?: 'up' | 'down' | 'both';
  /** A resolution not caused by the data: the rule was deleted or changed while the alert was open. */
  reason?: 'rule_deleted' | 'rule_changed';
  /** The normal range, for rules with a noise-aware baseline (当前 … · 正常区间 …). */
  band?: Band;
  windowMinutes: number;
  ts: number;
  /**
   * The kind's own words for what happened to this split (group rules: "1 天净流失 60 人，占群成员
   * 12.0%"), read instead of the generic movement.
   */
  headline?: string;
  /** How much this one matters within a digest (group rules: members lost, expected messages): a long digest lists the heaviest. */
  weight?: number;
  /** Largest contributors when the swing is in the total (top 3). */
  contributors?: { dim: Dimension; value: string; current: number | null; baseline: number | null; change: number | null }[];
  /** Link to the KPI's trend page (absolute URL). */
  link: string;
  /** Link to the alert's landing page (absolute URL, signed read-only): what a phone opens. */
  landing?: string;
  /** Notifier ids to deliver to. */
  targets: string[];
}

/**
 * A message its sender rendered itself — the weekly report, the morning brief, a notifier
 * test: title, markdown text, links and targets, delivered as it is through the same outbox,
 * limiter, signing and retries as alerts. Never folded into an alert digest.
 */
export interface PlainMessage {
  /** Idempotency key: the same key is delivered at most once per notifier. */
  key: string;
  kind: 'report' | 'brief' | 'test';
  /** Digest group; a plain message is its own group (its key). */
  group: string;
  title: string;
  /** Markdown, starting with the title as a heading, already fitted to the target's size limit. */
  text: string;
  /** The links in the text, for webhook receivers and tests. */
  links: { label: string; url: string }[];
  /** Notifier ids to deliver to. */
  targets: string[];
  ts: number;
}

/** Anything the dispatcher delivers. */
export type Notification = AlertNotification | PlainMessage;

export function isPlainMessage(n: Notification): n is PlainMessage {
  return n.kind === 'report' || n.kind === 'brief' || n.kind === 'test';
}

/**
 * `rec[key]` for the record's own keys only. Keys such as channel ids are chosen by
 * producers: `rec['constructor']` on a plain object would read Object's constructor.
 */
export function ownValue<T>(rec: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return rec !== undefined && Object.hasOwn(rec, key) ? rec[key] : undefined;
}
