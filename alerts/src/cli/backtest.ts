#!/usr/bin/env node
/**
 * npm run -s backtest -- --rules rule.yaml --series kpi.csv --kind sum|mean [--rule id]
 * (kpi.csv: `timestamp,value`, or `timestamp,value,sample` for a ratio with its denominator)
 *
 * Runs the alert engine over a KPI series given as CSV (`timestamp,value`, one row per
 * bucket) and prints one JSON line per firing: {"ts","state":"firing","value","baseline",…}.
 * `ts` is the row whose arrival fired the alert (the last row of the window).
 *
 * The rule file may hold `rules:` (each is run on the series: its kpi and split are replaced
 * by the series) or only `templates:` (generic.yaml): then `--rule` picks one, by default
 * count_default for --kind sum and level_default for --kind mean. Templates of
 * alerts/rules/generic.yaml are always available to `extends:`.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { Calendar } from '../calendar/calendar.js';
import { backtest, parseRuleYaml } from '../backtest/backtest.js';
import { parseSeriesCsv, seriesSource, SERIES_KPI, type SeriesKind } from '../backtest/series.js';
import { formatProblem, templatesOf } from '../rules/parse.js';

const GENERIC = fileURLToPath(new URL('../../rules/generic.yaml', import.meta.url));

function fail(msg: string): never {
  process.stderr.write(`backtest: ${msg}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      rules: { type: 'string' },
      series: { type: 'string' },
      kind: { type: 'string' },
      rule: { type: 'string' },
      'no-calendar': { type: 'boolean' },
    },
    strict: true,
  });
  if (!values.rules || !values.series || !values.kind) fail('usage: --rules rule.yaml --series kpi.csv --kind sum|mean [--rule id]');
  const kind = values.kind;
  if (kind !== 'sum' && kind !== 'mean') fail(`--kind must be sum or mean, got ${JSON.stringify(kind)}`);

  let text: string;
  let csv: string;
  try {
    text = readFileSync(values.rules, 'utf8');
    csv = readFileSync(values.series, 'utf8');
  } catch (err) {
    fail((err as Error).message);
  }
  const { rows, texts } = (() => {
    try {
      return parseSeriesCsv(csv);
    } catch (err) {
      fail(`${values.series}: ${(err as Error).message}`);
    }
  })();

  const templates = new Map<string, Record<string, unknown>>();
  try {
    for (const [id, t] of templatesOf(parse(readFileSync(GENERIC, 'utf8')))) templates.set(id, t);
  } catch {
    // generic.yaml missing: only the file's own templates.
  }
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    fail(`${values.rules}: YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const own = templatesOf(doc);
  for (const [id, t] of own) templates.set(id, t);
  const given = typeof doc === 'object' && doc !== null && Array.isArray((doc as { rules?: unknown }).rules) ? ((doc as { rules: unknown[] }).rules) : [];

  let ruleDocs: Record<string, unknown>[];
  if (given.length) {
    // Each rule runs on the series: the series is the KPI, unsplit.
    ruleDocs = given
      .filter((r): r is Record<string, unknown> => typeof r === 'object' && r !== null)
      .filter((r) => !values.rule || r.id === values.rule)
      .map(({ by: _by, values: _v, ...r }) => ({ ...r, kpi: SERIES_KPI }));
    if (!ruleDocs.length) fail(`no rule ${JSON.stringify(values.rule)} in ${values.rules}`);
  } else {
    const pick = values.rule ?? (own.size === 1 ? [...own.keys()][0] : kind === 'sum' ? 'count_default' : 'level_default');
    if (!pick || !templates.has(pick)) fail(`no rule or template ${JSON.stringify(pick)} in ${values.rules}`);
    ruleDocs = [{ id: pick, name: pick, extends: pick, kpi: SERIES_KPI }];
  }

  const source = (() => {
    try {
      return seriesSource(rows, kind as SeriesKind);
    } catch (err) {
      fail(`${values.series}: ${(err as Error).message}`);
    }
  })();
  const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
  const { stringify } = await import('yaml');
  const parsed = parseRuleYaml(stringify({ rules: ruleDocs }), { catalogue, templates, file: values.rules });
  if (parsed.problems.length) fail(parsed.problems.map(formatProblem).join('\n'));

  const bucket = source.bucketMs;
  const first = rows[0]?.ts ?? 0;
  const last = rows.at(-1)?.ts ?? 0;
  const rowText = new Map(rows.map((r, i) => [r.ts, texts[i] ?? '']));
  const result = await backtest({
    rules: parsed.rules,
    source,
    from: first + bucket,
    to: last + bucket,
    stepMs: bucket,
    ...(values['no-calendar'] ? {} : { calendar: Calendar.shipped() }),
  });
  const out: string[] = [];
  for (const f of result.firings) {
    const rowTs = f.ts - bucket;
    const ts = rowText.get(rowTs) ?? new Date(rowTs).toISOString();
    out.push(
      JSON.stringify({
        ts,
        state: 'firing',
        value: f.value,
        baseline: f.baseline,
        ...(f.change !== null ? { change: Math.round(f.change * 10_000) / 10_000 } : {}),
        ...(f.band ? { band: [f.band.low, f.band.high] } : {}),
        // A seasonal rule's extra window fired (short / accumulated), not the rule's own.
        ...(f.band?.window ? { window: `${f.band.window.minutes}m ${f.band.window.kind}` } : {}),
        ...(parsed.rules.length > 1 ? { rule: f.ruleId } : {}),
      }),
    );
  }
  if (out.length) process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => fail(err instanceof Error ? (err.stack ?? err.message) : String(err)));
