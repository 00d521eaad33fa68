/** The target kind's schema: "below target for N hours" (or above, when less is better). */
import { z } from 'zod';
import type { KpiInfo } from '../../contract.js';
import { common, commonOf, DIMENSIONS, positiveDurationMs, type ShapeIssue } from '../common/schema.js';
import type { TargetRule } from '@siyu-pulse/contracts/rules';

// The normalised rule is what the rules API answers: its shape lives in the contracts package.
export type { TargetRule };

export const targetRuleSchema = z.strictObject({
  ...common,
  kind: z.literal('target'),
  kpi: z.string().min(1),
  by: z.enum(DIMENSIONS).optional(),
  window: positiveDurationMs.default(3_600_000),
  for: positiveDurationMs,
  target: z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : /^\s*-?\d+(\.\d+)?\s*%\s*$/.test(v) ? Number(v.trim().slice(0, -1).trim()) / 100 : NaN;
    if (!Number.isFinite(n)) {
      ctx.addIssue({ code: 'custom', message: `must be a number in the KPI's unit or a percentage ('5.2%'), got ${JSON.stringify(v)}` });
      return z.NEVER;
    }
    return n;
  }).optional(),
  direction: z.enum(['below', 'above']).optional(),
  min_sample: z.number().min(0).default(0),
});

export function normaliseTarget(r: z.output<typeof targetRuleSchema>, file: string): { rule: TargetRule; issues: ShapeIssue[] } {
  const issues: ShapeIssue[] = [];
  const count = r.for / r.window;
  if (!Number.isInteger(count) || count < 1) issues.push({ path: ['for'], message: `for (${r.for / 60_000} min) must be a whole number of windows (window ${r.window / 60_000} min)` });
  else if (count > 48) issues.push({ path: ['for'], message: `for covers ${count} windows; at most 48 (use a longer window)` });
  if (r.values && !r.by) issues.push({ path: ['values'], message: '`values` needs `by`' });
  const rule: TargetRule = {
    kind: 'target',
    // `for` already demands the miss to persist: fire on the first evaluation that sees it.
    ...commonOf(r, file, 1),
    kpi: r.kpi,
    ...(r.by ? { by: r.by } : {}),
    windowMs: r.window,
    count: Number.isInteger(count) ? count : 1,
    target: r.target ?? null,
    ...(r.direction ? { direction: r.direction } : {}),
    minSample: r.min_sample,
  };
  return { rule, issues };
}


export function checkTargetKpi(rule: TargetRule, kpi: KpiInfo): ShapeIssue[] {
  if (rule.target === null && kpi.target === undefined && !kpi.channelTargets) {
    return [{ path: ['target'], message: `KPI ${kpi.id} has no target: configure one (PULSE_TARGETS_FILE) or give \`target:\` in the rule` }];
  }
  return [];
}
