/**
 * `POST /api/v1/rules/backtest {rule, from?, to?}` (admin): the rule preview. Admin, not
 * read: it changes nothing, but one call replays up to a month of minute-by-minute
 * evaluations against the store, and it belongs to editing rules, which is an admin's job;
 * read tokens sit on wall screens and in analysts' bookmarks. The service bounds the range
 * (31 days) and runs one preview at a time.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import express, { Router } from 'express';
import { LineCounter, isMap, isSeq, parseDocument } from 'yaml';
import { z } from 'zod';
import { BacktestError, MAX_RULE_BYTES, type BacktestService } from '../alerting/backtestService.js';
import { requireScope, type AccessPolicy } from './auth.js';

const instant = z.union([
  z.number().int().nonnegative(),
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/, 'an ISO 8601 time with a zone, or epoch ms')
    .transform((v) => Date.parse(v))
    .refine((v) => Number.isFinite(v), 'not a valid time'),
]);
const Body = z.strictObject({
  rule: z.string().min(1, 'paste a rule in YAML').max(MAX_RULE_BYTES, `the rule is longer than ${MAX_RULE_BYTES / 1024} KB`),
  from: instant.optional(),
  to: instant.optional(),
});

export interface BacktestRouteOptions {
  policy: AccessPolicy;
  service: BacktestService;
  rulesDir: string;
  /** Rule id → the file (in rulesDir) it is loaded from. */
  fileOf(ruleId: string): string | undefined;
}

/**
 * One rule of a rule file as YAML text of its own (`rules:` with that rule), cut from the
 * file as written (comments and flow style kept) and re-indented, for the preview's editor.
 */
export function ruleYaml(text: string, ruleId: string): string | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines });
  const rules = doc.get('rules', true);
  if (!isSeq(rules)) return undefined;
  const item = rules.items.find((n) => isMap(n) && n.get('id') === ruleId);
  if (!item || !isMap(item) || !item.range) return undefined;
  const [start, , end] = item.range;
  const col = lines.linePos(start).col - 1;
  const [first = '', ...rest] = text.slice(start, end).replace(/\s+$/, '').split('\n');
  const body = rest.map((l) => (l.trim() === '' ? '' : `    ${l.slice(Math.min(col, l.length - l.trimStart().length))}`));
  return ['rules:', `  - ${first}`, ...body].join('\n') + '\n';
}

export function backtestRouter(o: BacktestRouteOptions): Router {
  const r = Router();
  r.get('/api/v1/rules/:id/yaml', requireScope(o.policy, 'read'), async (req, res) => {
    const id = req.params.id as string;
    const file = o.fileOf(id);
    if (!file) return void res.status(404).json({ error: `no rule ${JSON.stringify(id)} in force` });
    let text: string;
    try {
      text = await readFile(path.join(o.rulesDir, path.basename(file)), 'utf8');
    } catch (err) {
      return void res.status(404).json({ error: `cannot read ${path.basename(file)}: ${(err as Error).message}` });
    }
    const yaml = ruleYaml(text, id);
    if (!yaml) return void res.status(404).json({ error: `rule ${JSON.stringify(id)} is no longer in ${path.basename(file)}` });
    res.json({ id, file: path.basename(file), yaml });
  });
  r.post('/api/v1/rules/backtest', requireScope(o.policy, 'admin'), express.json({ limit: '64kb' }), async (req, res) => {
    const b = Body.safeParse(req.body);
    if (!b.success) {
      return void res.status(400).json({ error: b.error.issues.map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message)).join('; ') });
    }
    try {
      res.json(await o.service.run(b.data.rule, { ...(b.data.from !== undefined ? { from: b.data.from } : {}), ...(b.data.to !== undefined ? { to: b.data.to } : {}) }));
    } catch (err) {
      if (!(err instanceof BacktestError)) throw err;
      if (err.status === 429) res.set('Retry-After', '5');
      res.status(err.status).json({ error: err.message, ...(err.problems ? { problems: err.problems.map(({ line, field, ruleId, message }) => ({ line, field, ruleId, message })) } : {}) });
    }
  });
  return r;
}
