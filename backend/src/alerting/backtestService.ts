/**
 * The rule preview: one rule in YAML, replayed by the alerts package's backtest (the real
 * AlertEngine with a stepped clock) over stored history, read through a HistoryReader so a
 * month of minute-by-minute evaluations costs a few dozen store queries, not 10⁵.
 *
 * Bounded because it runs on the same process as ingest and the live engine: at most 31
 * days per run, one run at a time (a second caller is told to retry), a rule text of at most
 * 16 KB and a single rule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { backtest, formatProblem, parseRuleYaml, type BacktestFiring, type Calendar, type KpiInfo, type RuleProblem } from '@siyu-pulse/alerts';
import { KPI_BY_ID } from '@siyu-pulse/contracts/catalogue';
import type { TargetedKpi } from '../catalogue/targets.js';
import { countersFor } from '../query/series.js';
import type { MetricStore } from '../store/port.js';
import { DAY, MINUTE, floorTo } from '../time/zone.js';
import { HistoryReader } from './historyReader.js';
import { createKpiSource } from './kpiSource.js';

export const MAX_BACKTEST_DAYS = 31;
export const MAX_RULE_BYTES = 16 * 1024;
/**
 * Evaluations are the rule's window apart, at most 5 minutes (a 15-minute window is judged
 * every 5 minutes), and at most MAX_EVALUATIONS per run: the engine takes ~1–2 ms per
 * evaluation, so 30 days of 5-minute steps (8,640) is a preview of seconds, not minutes.
 */
export const MAX_STEP_MS = 5 * MINUTE;
export const MAX_EVALUATIONS = 10_000;
export function backtestStep(windowMs: number, rangeMs: number): number {
  const step = Math.min(MAX_STEP_MS, Math.max(MINUTE, floorTo(windowMs, MINUTE)));
  return Math.max(step, Math.ceil(rangeMs / MAX_EVALUATIONS / MINUTE) * MINUTE);
}

export class BacktestError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 429,
    readonly problems?: RuleProblem[],
  ) {
    super(message);
    this.name = 'BacktestError';
  }
}

export interface BacktestServiceOptions {
  store: MetricStore;
  /** The catalogue as the engine sees it (KpiSource's) and with targets (the backend's). */
  catalogue: () => readonly KpiInfo[];
  kpis: readonly TargetedKpi[];
  timezone: string;
  alignMs: number;
  /** Oldest instant with data: earlier baselines are "not enough history", as in the live engine. */
  historySince: () => number;
  calendar: Calendar;
  /** The rules directory, whose `templates:` (generic.yaml) a previewed rule may extend. */
  rulesDir: string;
  now?: () => number;
}

export interface BacktestAnswer {
  rule: { id: string; name: string; kind: string; kpi: string | null; by: string | null };
  from: number;
  to: number;
  stepMs: number;
  evaluations: number;
  /** Store queries the preview made. */
  queries: number;
  elapsedMs: number;
  count: number;
  firings: BacktestFiring[];
}

export class BacktestService {
  private running = false;
  private readonly now: () => number;

  constructor(private readonly o: BacktestServiceOptions) {
    this.now = o.now ?? Date.now;
  }

  async run(text: string, range: { from?: number; to?: number }): Promise<BacktestAnswer> {
    if (Buffer.byteLength(text, 'utf8') > MAX_RULE_BYTES) throw new BacktestError(`the rule is longer than ${MAX_RULE_BYTES / 1024} KB`, 400);
    const to = floorTo(Math.min(range.to ?? this.now(), this.now()), MINUTE);
    const from = floorTo(range.from ?? to - 30 * DAY, MINUTE);
    if (!(from < to)) throw new BacktestError('from must be before to', 400);
    if (to - from > MAX_BACKTEST_DAYS * DAY) throw new BacktestError(`at most ${MAX_BACKTEST_DAYS} days per preview (asked for ${((to - from) / DAY).toFixed(1)})`, 400);

    const catalogue = new Map(this.o.catalogue().map((k) => [k.id, k]));
    const parsed = parseRuleYaml(text, { catalogue, file: 'preview.yaml', templates: this.templates() });
    if (parsed.problems.length) throw new BacktestError(parsed.problems.map(formatProblem).join('; '), 400, parsed.problems);
    if (parsed.rules.length !== 1) throw new BacktestError(`paste exactly one rule (found ${parsed.rules.length})`, 400);
    const rule = parsed.rules[0]!;
    if (rule.kind === 'deadman') throw new BacktestError('a deadman rule watches data arriving live; there is nothing to replay', 400);
    const def = KPI_BY_ID.get(rule.kpi);
    if (!def) throw new BacktestError(`unknown KPI ${rule.kpi}`, 400);

    if (this.running) throw new BacktestError('another preview is running; try again in a few seconds', 429);
    this.running = true;
    const started = performance.now();
    try {
      const reader = new HistoryReader({ store: this.o.store, counters: countersFor(def) });
      const source = createKpiSource({ store: this.o.store, reader, timezone: this.o.timezone, historySince: this.o.historySince, kpis: this.o.kpis, now: this.now });
      const stepMs = backtestStep(rule.windowMs, to - from);
      const result = await backtest({ rules: [rule], source, from, to, stepMs, calendar: this.o.calendar, alignMs: this.o.alignMs, timezone: this.o.timezone });
      return {
        rule: { id: rule.id, name: rule.name, kind: rule.kind, kpi: rule.kpi, by: rule.by ?? null },
        from,
        to,
        stepMs,
        evaluations: result.evaluations,
        queries: reader.queries,
        elapsedMs: Math.round(performance.now() - started),
        count: result.firings.length,
        firings: result.firings,
      };
    } finally {
      this.running = false;
    }
  }

  /** `templates:` of every rule file, first definition wins (as the loader merges them). */
  private templates(): Map<string, Record<string, unknown>> {
    const out = new Map<string, Record<string, unknown>>();
    let files: string[];
    try {
      files = readdirSync(this.o.rulesDir).filter((f) => /^[^.].*\.ya?ml$/i.test(f)).sort();
    } catch {
      return out;
    }
    for (const f of files) {
      try {
        const doc = parseYaml(readFileSync(path.join(this.o.rulesDir, f), 'utf8')) as { templates?: unknown };
        if (!Array.isArray(doc?.templates)) continue;
        for (const t of doc.templates) {
          if (t && typeof t === 'object' && typeof (t as { id?: unknown }).id === 'string' && !out.has((t as { id: string }).id)) out.set((t as { id: string }).id, t as Record<string, unknown>);
        }
      } catch {
        // A broken file is the loader's to report.
      }
    }
    return out;
  }
}
