/** The engine's boundary types: its options, its outlet, and what status() / active() show. */
import type { Calendar } from '../calendar/calendar.js';
import type { AlertEvent, AlertNotification, Band, AlertSink, AlertState, Dimension, KpiSource, Notification, Severity } from '../contract.js';
import type { RuleProvider } from '../rules/loader.js';
import type { RuleProblem } from '../rules/parse.js';
import type { Rule } from '../rules/schema.js';
import type { MinuteAligned } from '../rules/validate.js';
import type { Hold } from './notifyPolicy.js';
import type { Ack } from './silences.js';

/**
 * Where notifications go: the dispatcher (notify/) implements it. The result is awaited
 * and otherwise ignored (`unknown`, so the Dispatcher's EnqueueResult fits as it is).
 */
export interface NotificationOutlet {
  enqueue(ns: Notification[]): unknown;
}

/** Structurally a subset of pino's logger. */
export interface EngineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export type Split = { dim: Dimension; value: string } | null;

export interface AlertEngineOptions {
  source: KpiSource;
  sink: AlertSink;
  outlet: NotificationOutlet;
  /** The rules in force: a RulesLoader (its problems show in status()) or a function. */
  rules: RuleProvider | (() => Rule[]);
  /** Evaluation period (default 10 s). */
  intervalMs?: number;
  /**
   * Window edges are aligned down to this (default 1 s). Pass the collector's bucket
   * (10 s) so windows fall on bucket edges: the backend then answers from memory.
   */
  alignMs?: number;
  /** Zone of silence windows (default Asia/Shanghai). */
  timezone?: string;
  /** Absolute link to the KPI's trend page around [from, to). */
  linkFor: (kpi: string, split: Split, from: number, to: number) => string;
  /** Absolute link to the alert's phone landing page (signed, read-only); none: trend link only. */
  landingFor?: (alertKey: string, ts: number) => string;
  /** Silences and acks persist in `<dataDir>/silences.json`. */
  dataDir: string;
  now?: () => number;
  logger?: EngineLogger;
  /** Which KPIs are answered only at minute boundaries (default: distinct-count KPIs). */
  minuteAligned?: MinuteAligned;
  /** Deadman rules watch split values seen within this long (default 1 day). */
  deadmanLookbackMs?: number;
  /**
   * Holidays, 调休 and campaigns for seasonal baselines and calendar modes. Hand over the
   * instance the admin API edits: campaigns added there apply at the next evaluation.
   * Without one, weekends are the only rest days and nothing is muted.
   */
  calendar?: Calendar;
  /**
   * Keep what noise-aware rules learnt (noise bands, firing episodes, 新常态) in this file
   * across restarts (e.g. `<dataDir>/alert-memory.json`); without it a restart re-learns for
   * `min_history`. Saved every `memorySaveEveryMs` (default 5 min) and on stop.
   */
  memoryFile?: string;
  memorySaveEveryMs?: number;
}

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
  rule: Rule;
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

export interface EvaluationReport {
  ts: number;
  events: AlertEvent[];
  /** One batch per rule that produced notifications (as enqueued). */
  notifications: AlertNotification[][];
}

