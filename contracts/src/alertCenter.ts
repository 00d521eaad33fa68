/**
 * The alert center's REST answers: engine status per rule and split, active alerts, silences
 * and acks, rule-file problems and the notifiers' delivery log. The alerts package produces
 * them; the alert center pages read them.
 */
import type { AlertState, Band, Dimension, Severity } from './alerts.js';
import type { GroupRule, Rule } from './rules.js';

export type Split = { dim: Dimension; value: string } | null;

export type SilencedBy =
  | { type: 'silence'; id: string; by: string; until: number; reason: string }
  | { type: 'silence_window'; from: string; to: string };

export interface SplitStatus {
  alertKey: string;
  split: Split;
  value: number | null;
  baseline: number | null;
  change: number | null;
  state: AlertState;
  severity: Severity | null;
  notEnoughHistory: boolean;
  lastEvaluatedAt: number;
  /** When the current state was entered. */
  since: number;
  /** Why there was no decision, or which guard held a crossed threshold back. */
  reason?: string;
  /** The normal range of a noise-aware rule at the last evaluation. */
  band?: Band;
  /** Two-proportion test of the last evaluation, when configured. */
  significance?: { z: number; p: number };
  silencedBy?: SilencedBy;
  ackedBy?: Ack;
  /** The last notification held back, and why. */
  heldBy?: Hold;
}

export interface RuleStatus {
  /** The rule in force (the 社群 kinds included: one status per rule listing its groups). */
  rule: Rule | GroupRule;
  /** The instant the data was read up to (aligned down to the bucket, or the minute). */
  lastEvaluatedAt: number | null;
  /** When the engine last ran the rule, by its clock ("最近评估 … 前" is measured from this). */
  lastRunAt: number | null;
  /** The rule's evaluation failed (logged); the others went on. */
  error?: string;
  /** Baseline unavailable for the whole rule (history shorter than the baseline). */
  notEnoughHistory: boolean;
  splits: SplitStatus[];
}

export interface EngineStatus {
  running: boolean;
  lastEvaluationAt: number | null;
  /** When the last evaluation ran, by the engine's clock. */
  lastRunAt: number | null;
  /** The engine's clock when it answered: ages are measured on it, not the browser's clock. */
  now: number;
  /** The evaluation loop's period. */
  intervalMs: number;
  rules: RuleStatus[];
  /** Rule-file problems (from the loader); those files' previous rules stay in force. */
  problems: RuleProblem[];
  problemText: string[];
}

export interface ActiveAlert extends SplitStatus {
  ruleId: string;
  ruleName: string;
  kpi: string;
}

export type Hold = 'silence_window' | 'silence' | 'ack' | 'cooldown';

export interface SilenceMatchers {
  ruleId?: string;
  kpi?: string;
  dim?: Dimension;
  value?: string;
}

export interface Silence {
  id: string;
  matchers: SilenceMatchers;
  createdAt: number;
  until: number;
  by: string;
  reason: string;
  /** Set when removed before `until`. */
  endedAt?: number;
  endedBy?: string;
}

export interface Ack {
  alertKey: string;
  by: string;
  reason: string;
  at: number;
}

export interface RuleProblem {
  file: string;
  ruleId?: string;
  /** Dotted field inside the rule (`thresholds.clear`), or inside the file for file-level problems. */
  field?: string;
  /** 1-based line, when the loader could locate the field. */
  line?: number;
  message: string;
  /** Path from the document root, for locating the line. */
  path: (string | number)[];
}

export type RetryClass = 'throttled' | 'backoff' | 'never';

/** What one message carried: an alert's notification, a report, a test. */
export interface CarriedItem {
  key: string;
  kind: 'firing' | 'resolved' | 'flapping' | 'report' | 'brief' | 'test';
  ruleId: string;
  ruleName: string;
  /** `rule|dim=value` for alerts (the alert center's alert key); absent for reports and tests. */
  alertKey?: string;
}

export interface DeliveryAttempt {
  ts: number;
  keys: string[];
  /** The message's title as the group saw it (【告警】推送打开率（渠道 企业微信）… / 数据周报 …). */
  title?: string;
  /** Which alerts or report the message carried. */
  carried?: CarriedItem[];
  digest: boolean;
  test: boolean;
  ok: boolean;
  retry?: RetryClass;
  code?: string;
  message?: string;
  explanation?: string;
}

export interface NotifierStatus {
  id: string;
  /** The notifier kind (a `KINDS` type). */
  type: string;
  /** Endpoint without credentials. */
  target: string;
  maxPerMinute: number;
  /** Notifications waiting (including those waiting out a backoff or throttle). */
  pending: number;
  /** Notifications given up ('never' answers, expired). */
  failed: number;
  throttledUntil: number | null;
  backoffUntil: number | null;
  counters: { attempts: number; messagesSent: number; notificationsSent: number; failedAttempts: number; throttled: number };
  lastError: DeliveryAttempt | null;
  /** The most recent failed notifications with the reason (newest first). */
  failures: { key: string; at: number; code: string; message: string; explanation: string }[];
  /** The last attempts, newest first. */
  log: DeliveryAttempt[];
}
