/**
 * What the 社群 rule kinds (group_silence, group_exodus) share: they watch every group of a
 * brand (20,000 and more) with a few split queries per evaluation — never one per group — at
 * their own pace (`every`, a ranking over 20,000 groups costs seconds), and they hand the
 * engine only the groups that fire or are still open, so a quiet group costs no alert memory.
 */
import type { z } from 'zod';
import type { Dimension, KpiInfo } from '../../contract.js';
import type { AnyRule, Instance, KindHost, RuleKind, RuleRun } from '../types.js';
import type { Evaluation } from './evaluation.js';
import type { GroupRuleBase } from '@siyu-pulse/contracts/rules';
import { commonOf, positiveDurationMs, type common } from './schema.js';

export const DAY_MS = 86_400_000;
export const GROUP_DIM: Dimension = 'community';

/** `every`: how often the rule evaluates (default 10 minutes). */
export const every = positiveDurationMs.default(600_000);

/** A window of whole days ('1d', '2d'): group rules compare with whole earlier days. */
export const wholeDays = positiveDurationMs.refine((ms) => ms % DAY_MS === 0, 'must be whole days (1d, 2d, …)');

export const groupFields = { every, window: wholeDays.default(DAY_MS) };
export type GroupFields = z.output<z.ZodObject<typeof groupFields>>;

/** The shared part of a group rule's normalisation (pending for 1: a group fires on its first bad evaluation). */
export function groupRuleOf(r: z.output<z.ZodObject<typeof common>> & GroupFields, file: string): GroupRuleBase {
  return { ...commonOf(r, file, 1), by: 'community', windowMs: r.window, everyMs: r.every };
}

/** What one evaluation of a group kind decided: the instances for the engine, and whether history was short. */
export interface GroupJudgement {
  instances: Instance[];
  notEnoughHistory: boolean;
}

/**
 * The instances a group kind hands the engine: the candidates that fire, and every group that
 * is still open (so it can resolve). A quiet group costs nothing.
 */
export function firingOrOpen(candidates: Iterable<string>, open: ReadonlySet<string>, evaluate: (group: string) => Evaluation): Instance[] {
  const instances: Instance[] = [];
  for (const g of new Set([...candidates, ...open])) {
    const ev = evaluate(g);
    if (ev.observation?.fire || open.has(g)) instances.push({ split: { dim: GROUP_DIM, value: g }, evaluation: ev });
  }
  return instances;
}

/**
 * A group rule kind from its own parts: the schema, the normalisation of its own fields and
 * the judgement of one evaluation. The rest (KPI lookup, evaluation time, its own pace, the
 * rule status and handing the instances to the engine) is the same for every group kind.
 */
export function defineGroupKind<R extends GroupRuleBase & AnyRule & { kpi: string }, S extends z.ZodType>(parts: {
  id: R['kind'];
  schema: S;
  normalise(data: z.output<S>, file: string): R;
  judge(host: KindHost, rule: R, kpi: KpiInfo, t: number): Promise<GroupJudgement>;
  summary: RuleKind<R>['summary'];
  notice: NonNullable<RuleKind<R>['notice']>;
  baselineKind: RuleKind<R>['baselineKind'];
  threshold: RuleKind<R>['threshold'];
}): RuleKind<R> {
  return {
    id: parts.id,
    yamlKind: parts.id,
    owns: (rule) => rule.kind === parts.id,
    schema: parts.schema,
    normalise: (data, file) => ({ rule: parts.normalise(data as z.output<S>, file), issues: [] }),
    async evaluate(host, rule, tNow, catalogue) {
      const kpi = catalogue.get(rule.kpi);
      if (!kpi) throw new Error(`KPI ${rule.kpi} is no longer in the catalogue`);
      const t = host.evaluationTime(tNow, kpi);
      if (!due(host, rule.id, rule.everyMs, t)) return skipped();
      const { instances, notEnoughHistory } = await parts.judge(host, rule, kpi, t);
      host.setRuleStatus(rule.id, { lastEvaluatedAt: t, notEnoughHistory });
      return host.advance(rule, kpi, instances, t);
    },
    summary: parts.summary,
    notice: parts.notice,
    baselineKind: parts.baselineKind,
    spanMs: (rule) => rule.windowMs,
    threshold: parts.threshold,
  };
}

/** Last evaluation per engine (its host) and rule: two engines in one process keep their own pace. */
const lastRun = new WeakMap<KindHost, Map<string, number>>();

/** Whether the rule is due at t (its previous evaluation is `every` ago); records the run. */
export function due(host: KindHost, ruleId: string, everyMs: number, t: number): boolean {
  let runs = lastRun.get(host);
  if (!runs) lastRun.set(host, (runs = new Map()));
  const last = runs.get(ruleId);
  if (last !== undefined && t >= last && t - last < everyMs) return false;
  runs.set(ruleId, t);
  return true;
}

export const skipped = (): RuleRun => ({ events: [], notifications: [] });

export function median(xs: readonly number[]): number {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export const daysOf = (ms: number) => Math.round(ms / DAY_MS);
