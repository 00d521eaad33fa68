/**
 * A rule kind as a module: one folder under kinds/ holds its schema (YAML shape, normalised
 * rule, checks), its baseline, its evaluation and its summary wording, and exports one
 * `RuleKind`. kinds/registry.ts lists them; the parser and the engine dispatch through it,
 * so adding a kind is one folder and one registry line.
 */
import type { z } from 'zod';
import type { AlertEvent, AlertNotification, AlertState, Dimension, KpiInfo, KpiSource, Severity } from '../contract.js';
import type { Calendar } from '../calendar/calendar.js';
import type { AlertMachine, Step } from '../engine/stateMachine.js';
import type { NotifyMemory } from '../engine/notifyPolicy.js';
import type { Span } from '../engine/windows.js';
import type { Evaluation } from './common/evaluation.js';
import type { RuleCommon, ShapeIssue } from './common/schema.js';
import type { NoiseMemory } from './seasonal/baseline.js';
import type { SplitStatus } from '../engine/types.js';

import type { Split } from '@siyu-pulse/contracts/alertCenter';
export type { Split };

/** Any rule a kind produces: the common fields plus its own (`kind` names the YAML kind). */
export type AnyRule = RuleCommon & { kind: string; kpi?: string; by?: Dimension; windowMs?: number };

/** One alert instance's memory in the engine (a rule × split value). */
export interface AlertRecord {
  key: string;
  ruleId: string;
  kpi: string;
  split: Split;
  machine: AlertMachine;
  mem: NotifyMemory;
  /** Set by the first evaluation. */
  status?: SplitStatus;
  /** Closed firing episodes (current window included): baselines leave them out (no echo). */
  firingSpans: (Span & { move: 'up' | 'down' | null })[];
  /** Observed noise (seasonal rules with a band). */
  noise: NoiseMemory;
  /** Observed noise against the recent-window stand-in baseline (young KPIs). */
  noiseRecent: NoiseMemory;
  /** Deviations seen while pending (band.pending: hold), learnt only if the episode ends without firing. */
  heldNoise?: HeldNoise[] | undefined;
  /** Observed noise of a seasonal rule's extra windows (short / accumulated), by window length in ms. */
  noiseExtra?: Record<string, NoiseMemory>;
  /** A level adopted as the new normal (新常态): expected += offset until `until`. */
  shift: {
    offset: number;
    /** Multiplicative form (value ÷ expected at adoption) for KPIs ≥ 0: a +50% day is +50% at night too. */
    ratio?: number | null;
    until: number;
    since: number;
    /** Since when the KPI matches its old normal again (the shift ends after a window of it). */
    backSince?: number | null;
  } | null;
  /** An admin marked the current firing as the new normal. */
  markNewNormal: { by: string; at: number } | null;
}

/** A deviation waiting to be learnt as noise: memory key (main, recent, or an extra window's length), time, size, window. */
export interface HeldNoise {
  key: string;
  t: number;
  dev: number;
  w: number;
  /** The scale of the expected value it was measured against (noiseScale), when known. */
  scale?: number | undefined;
}

export interface Instance {
  split: Split;
  evaluation: Evaluation;
}

export interface RuleRun {
  events: AlertEvent[];
  notifications: AlertNotification[];
}

/** What the engine lends a kind while it evaluates one rule. */
export interface KindHost {
  readonly source: KpiSource;
  readonly calendar: Calendar | undefined;
  readonly deadmanLookbackMs: number;
  /** The evaluation instant for this KPI (aligned to the bucket, or the minute for distinct counts). */
  evaluationTime(tNow: number, kpi: KpiInfo): number;
  record(alertKey: string): AlertRecord | undefined;
  /** Split values of a rule whose alert is not at rest. */
  openValues(ruleId: string, dim: Dimension): string[];
  setRuleStatus(ruleId: string, status: { lastEvaluatedAt: number; notEnoughHistory: boolean }): void;
  /** Step every instance's state and collect events and notifications (the engine's bookkeeping). */
  advance(rule: AnyRule, kpi: KpiInfo | undefined, instances: Instance[], t: number): RuleRun;
  warn(obj: object, msg: string): void;
}

export interface SummaryInput<R extends AnyRule = AnyRule> {
  rule: R;
  kpiLabel: string;
  split: { dim: Dimension; value: string } | null;
  from: AlertState;
  state: AlertState;
  value: number | null;
  change: number | null;
  flips?: number;
  band?: AlertEvent['band'];
}

/** What a kind may do around the state machine's step (seasonal: 新常态, noise; change: firing spans). */
export interface StepHookInput<R extends AnyRule = AnyRule> {
  rule: R;
  rec: AlertRecord;
  step: Step;
  evaluation: Evaluation;
  t: number;
  /** The machine before the step. */
  prev: AlertMachine;
}

export interface RuleKind<R extends AnyRule = AnyRule> {
  /** The module's name ('change', 'seasonal', 'target', 'deadman', …). */
  id: string;
  /** The YAML `kind:` it reads. A kind that refines another's YAML (seasonal) gives the same and no `parse`. */
  yamlKind: string;
  /** Whether a normalised rule is this module's (the most specific module listed first wins). */
  owns(rule: AnyRule): boolean;
  /** The YAML shape (zod) and its normalisation with cross-field issues. Absent on refinements. */
  schema?: z.ZodType;
  normalise?(data: unknown, file: string): { rule: R; issues: ShapeIssue[] };
  /** Checks against the KPI the rule names, beyond the shared ones (KPI exists, split, window). */
  checkKpi?(rule: R, kpi: KpiInfo): ShapeIssue[];
  /** Evaluate the rule at tNow: read its windows, evaluate each instance, hand them to host.advance. */
  evaluate(host: KindHost, rule: R, tNow: number, catalogue: ReadonlyMap<string, KpiInfo>): Promise<RuleRun>;
  /** The engine may change the step (seasonal: adopt 新常态). Returns the (possibly new) step and whether a shift was adopted. */
  adjustStep?(input: StepHookInput<R>): { step: Step; adopted: boolean };
  /** After the step is committed (firing spans, noise). */
  afterStep?(input: StepHookInput<R> & { adopted: boolean }): void;
  /** Short Chinese event text. */
  summary(s: SummaryInput<R>, adopted?: boolean): string;
  baselineKind(rule: R): AlertNotification['baselineKind'];
  /** The span a notification links to (the window, the target's run, the deadman's silence). */
  spanMs(rule: R): number;
  threshold(rule: R, state: AlertState, severity: Severity | null): number | null;
  /** Per-instance wording and weight a notification carries (group rules name what happened to each group). */
  notice?(rule: R, evaluation: Evaluation): Pick<AlertNotification, 'headline' | 'weight'>;
  /** Fields a notification of this kind adds (change: direction). */
  notificationExtras?(rule: R): Partial<AlertNotification>;
}
