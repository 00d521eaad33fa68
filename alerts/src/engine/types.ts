/** The engine's boundary types: its options, its outlet, and what status() / active() show. */
import type { Calendar } from '../calendar/calendar.js';
import type { AlertEvent, AlertNotification, AlertSink, KpiSource, Notification } from '../contract.js';
import type { RuleProvider } from '../rules/loader.js';
import type { Rule } from '../rules/schema.js';
import type { MinuteAligned } from '../rules/validate.js';
import type { StateDocuments } from './stateDocuments.js';
import type { ActiveAlert, EngineStatus, RuleStatus, SilencedBy, SplitStatus } from '@siyu-pulse/contracts/alertCenter';

// What the alert center's API answers: the shapes live in the contracts package.
export type { ActiveAlert, EngineStatus, RuleStatus, SilencedBy, SplitStatus };

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

import type { Split } from '@siyu-pulse/contracts/alertCenter';
export type { Split };

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
  /**
   * Shared state documents (a cluster): silences, acks and the alert memory live there instead
   * of in `dataDir` / `memoryFile`; `reload()` reads them when this node takes the evaluation over.
   */
  state?: StateDocuments;
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

export interface EvaluationReport {
  ts: number;
  events: AlertEvent[];
  /** One batch per rule that produced notifications (as enqueued). */
  notifications: AlertNotification[][];
}

