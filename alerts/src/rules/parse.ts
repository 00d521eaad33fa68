/**
 * One rule document (already YAML-parsed) → normalised rules + problems. A document is
 * valid only when every rule in it is; problems name the rule id and the field.
 */
import type { z } from 'zod';
import type { KpiInfo } from '../contract.js';
import type { MinuteAligned } from './validate.js';
import { checkAgainstCatalogue } from './validate.js';
import type { Rule, ShapeIssue } from './schema.js';
import { changeRuleSchema, deadmanRuleSchema, normaliseChange, normaliseDeadman, normaliseTarget, ruleFileSchema, targetRuleSchema } from './schema.js';

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

export function formatProblem(p: RuleProblem): string {
  const where = p.line ? `${p.file}:${p.line}` : p.file;
  const rule = p.ruleId ? ` rule "${p.ruleId}"` : '';
  const field = p.field ? ` field ${p.field}` : '';
  return `${where}${rule}${field}: ${p.message}`;
}

export interface ParseContext {
  file: string;
  catalogue: ReadonlyMap<string, KpiInfo>;
  minuteAligned?: MinuteAligned;
  /** Configured notifier ids; when given, `notify` entries are checked against them. */
  notifiers?: ReadonlySet<string>;
}

type Path = (string | number)[];
const toPath = (p: readonly PropertyKey[]): Path => p.map((k) => (typeof k === 'number' ? k : String(k)));

/** zod issues → located issues; an unknown key (a typo such as `min_sampel`) is named as the field. */
function shapeIssues(error: z.ZodError): ShapeIssue[] {
  return error.issues.flatMap((i) =>
    i.code === 'unrecognized_keys'
      ? i.keys.map((k) => ({ path: [...toPath(i.path), k], message: 'unknown field' }))
      : [{ path: toPath(i.path), message: i.message }],
  );
}

export function parseRuleDocument(doc: unknown, ctx: ParseContext): { rules: Rule[]; problems: RuleProblem[] } {
  const problems: RuleProblem[] = [];
  // An empty document is an empty rule list (the loader refuses empty files before this).
  if (doc === null || doc === undefined) return { rules: [], problems };
  const top = ruleFileSchema.safeParse(doc);
  if (!top.success) {
    for (const i of shapeIssues(top.error)) {
      problems.push({ file: ctx.file, path: i.path, ...(i.path.length ? { field: i.path.join('.') } : {}), message: i.message });
    }
    return { rules: [], problems };
  }

  const rules: Rule[] = [];
  const seen = new Map<string, number>();
  top.data.rules.forEach((raw, index) => {
    const base: Path = ['rules', index];
    const rawId = typeof raw === 'object' && raw && 'id' in raw && typeof raw.id === 'string' ? raw.id : undefined;
    const report = (issues: ShapeIssue[]): void => {
      for (const i of issues) {
        problems.push({
          file: ctx.file,
          ruleId: rawId ?? `#${index + 1}`,
          ...(i.path.length ? { field: i.path.join('.') } : {}),
          path: [...base, ...i.path],
          message: i.message,
        });
      }
    };
    const kind = typeof raw === 'object' && raw && 'kind' in raw ? raw.kind : undefined;
    if (kind !== undefined && kind !== 'change' && kind !== 'deadman' && kind !== 'target') {
      report([{ path: ['kind'], message: `kind must be change, deadman or target, got ${JSON.stringify(kind)}` }]);
      return;
    }
    let rule: Rule;
    if (kind === 'deadman') {
      const r = deadmanRuleSchema.safeParse(raw);
      if (!r.success) return report(shapeIssues(r.error));
      rule = normaliseDeadman(r.data, ctx.file);
    } else if (kind === 'target') {
      const r = targetRuleSchema.safeParse(raw);
      if (!r.success) return report(shapeIssues(r.error));
      const n = normaliseTarget(r.data, ctx.file);
      const issues = [...n.issues, ...checkAgainstCatalogue(n.rule, ctx.catalogue, ctx.minuteAligned)];
      if (issues.length) return report(issues);
      rule = n.rule;
    } else {
      const r = changeRuleSchema.safeParse(raw);
      if (!r.success) return report(shapeIssues(r.error));
      const n = normaliseChange(r.data, ctx.file);
      const issues = [...n.issues, ...checkAgainstCatalogue(n.rule, ctx.catalogue, ctx.minuteAligned)];
      if (issues.length) return report(issues);
      rule = n.rule;
    }
    if (ctx.notifiers) {
      const known = ctx.notifiers;
      const list = [...known].join(', ') || 'none';
      const bad = rule.notify.flatMap((n, i) =>
        known.has(n) ? [] : [{ path: ['notify', i], message: `unknown notifier "${n}" (configured: ${list})` }],
      );
      if (bad.length) return report(bad);
    }
    const first = seen.get(rule.id);
    if (first !== undefined) {
      report([{ path: ['id'], message: `duplicate rule id (also rule #${first + 1} in this file)` }]);
      return;
    }
    seen.set(rule.id, index);
    rules.push(rule);
  });
  return { rules, problems };
}
