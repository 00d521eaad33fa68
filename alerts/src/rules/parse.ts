/**
 * One rule document (already YAML-parsed) → normalised rules + problems. A document is
 * valid only when every rule in it is; problems name the rule id and the field.
 */
import type { z } from 'zod';
import type { KpiInfo } from '../contract.js';
import type { MinuteAligned } from './validate.js';
import { checkAgainstCatalogue } from './validate.js';
import type { Rule, ShapeIssue } from './schema.js';
import { parserFor, yamlKinds } from '../kinds/registry.js';
import type { AnyRule } from '../kinds/types.js';
import { changeRuleSchema, normaliseChange, ruleFileSchema } from './schema.js';
import type { RuleProblem } from '@siyu-pulse/contracts/alertCenter';

// What the alert center's API answers: the shapes live in the contracts package.
export type { RuleProblem };

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
  /** Templates (`templates:` of any rule file, e.g. generic.yaml) that rules name with `extends:`. */
  templates?: ReadonlyMap<string, Record<string, unknown>>;
}

/** Nested rule fields a rule merges with its template's (the rule's keys win). */
const MERGED = new Set(['baseline', 'band', 'thresholds', 'calendar', 'level_shift', 'flapping']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The templates a parsed document declares (`templates:`), by id; malformed entries are left to validation. */
export function templatesOf(doc: unknown): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  if (!isObject(doc) || !Array.isArray(doc.templates)) return out;
  for (const t of doc.templates) if (isObject(t) && typeof t.id === 'string') out.set(t.id, t);
  return out;
}

/** A rule with `extends: <template>` → the template's fields overlaid with the rule's own. */
export function applyTemplate(raw: Record<string, unknown>, template: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, name: _name, description: _d, ...fields } = template;
  const out: Record<string, unknown> = { ...fields };
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'extends') continue;
    const t = out[k];
    out[k] = MERGED.has(k) && isObject(t) && isObject(v) ? { ...t, ...v } : v;
  }
  return out;
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

  const templates = new Map([...(ctx.templates ?? []), ...templatesOf(doc)]);
  // Templates are checked as rules of their own (on a placeholder KPI), so a bad default is found where it is written.
  (top.data.templates ?? []).forEach((raw, index) => {
    const path: Path = ['templates', index];
    if (!isObject(raw) || typeof raw.id !== 'string') {
      problems.push({ file: ctx.file, path, field: 'id', message: 'a template needs an id' });
      return;
    }
    const { id, description: _d, ...fields } = raw;
    const r = changeRuleSchema.safeParse({ ...fields, id, name: typeof raw.name === 'string' ? raw.name : id, kpi: '_template' });
    const issues = r.success ? normaliseChange(r.data, ctx.file).issues : shapeIssues(r.error);
    for (const i of issues) problems.push({ file: ctx.file, ruleId: id, ...(i.path.length ? { field: i.path.join('.') } : {}), path: [...path, ...i.path], message: i.message });
  });

  const rules: Rule[] = [];
  const seen = new Map<string, number>();
  top.data.rules.forEach((given, index) => {
    let raw: unknown = given;
    if (isObject(given) && given.extends !== undefined) {
      const name = given.extends;
      const tpl = typeof name === 'string' ? templates.get(name) : undefined;
      if (!tpl) {
        const rid = typeof given.id === 'string' ? given.id : `#${index + 1}`;
        const known = [...templates.keys()].join(', ') || 'none';
        problems.push({ file: ctx.file, ruleId: rid, field: 'extends', path: ['rules', index, 'extends'], message: `unknown template ${JSON.stringify(name)} (known: ${known})` });
        return;
      }
      raw = applyTemplate(given, tpl);
    }
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
    const mod = typeof kind === 'string' || kind === undefined ? parserFor(kind ?? 'change') : undefined;
    if (!mod?.schema || !mod.normalise) {
      const names = yamlKinds();
      const list = names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}` : names.join('');
      report([{ path: ['kind'], message: `kind must be ${list}, got ${JSON.stringify(kind)}` }]);
      return;
    }
    const r = mod.schema.safeParse(raw);
    if (!r.success) return report(shapeIssues(r.error));
    const n = mod.normalise(r.data, ctx.file);
    // A kind whose rules name a KPI is checked against the catalogue (deadman watches data arrival).
    const named = n.rule as AnyRule;
    const issues = [...n.issues, ...(named.kpi !== undefined && named.windowMs !== undefined ? checkAgainstCatalogue({ ...named, kpi: named.kpi, windowMs: named.windowMs }, ctx.catalogue, ctx.minuteAligned) : [])];
    if (issues.length) return report(issues);
    const rule = n.rule as Rule;
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
