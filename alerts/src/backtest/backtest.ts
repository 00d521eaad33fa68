/**
 * Backtest: the real AlertEngine (same evaluation, baselines, calendar, state machine) run
 * over history with a stepped clock. Nothing is notified; silences live in a temp dir that
 * is removed afterwards. The backend's API hands it a KpiSource over stored history; the
 * CLI one over a CSV series (series.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import type { AlertEvent, Band, KpiInfo, KpiSource, Severity } from '../contract.js';
import type { Calendar } from '../calendar/calendar.js';
import { AlertEngine } from '../engine/engine.js';
import type { Split } from '../engine/types.js';
import { parseRuleDocument, type RuleProblem } from '../rules/parse.js';
import type { Rule } from '../rules/schema.js';
import type { MinuteAligned } from '../rules/validate.js';

export interface BacktestOptions {
  /** Parsed rules; deadman rules are skipped (they watch live arrival, not history). */
  rules: Rule[];
  source: KpiSource;
  /** First evaluation instant (epoch ms). */
  from: number;
  /** Last evaluation instant (inclusive). */
  to: number;
  /** Evaluate every stepMs (the store's bucket, or a minute). */
  stepMs: number;
  calendar?: Calendar;
  alignMs?: number;
  timezone?: string;
  minuteAligned?: MinuteAligned;
}

export interface BacktestFiring {
  ruleId: string;
  alertKey: string;
  split: Split;
  /** Evaluation instant at which the alert went into firing. */
  ts: number;
  state: 'firing';
  value: number | null;
  baseline: number | null;
  change: number | null;
  /** The normal range, for noise-aware rules. */
  band: Band | null;
  severity: Severity | null;
  summary: string;
}

export interface BacktestResult {
  firings: BacktestFiring[];
  /** Every state change, as the live engine would have published it. */
  events: AlertEvent[];
  evaluations: number;
}

/** At most this many evaluations per run (a year of 5-minute steps): a guard for API callers. */
export const MAX_BACKTEST_STEPS = 120_000;

export async function backtest(o: BacktestOptions): Promise<BacktestResult> {
  if (!(o.stepMs > 0)) throw new Error('stepMs must be > 0');
  if (!(o.to >= o.from)) throw new Error('to must not be before from');
  const steps = Math.floor((o.to - o.from) / o.stepMs) + 1;
  if (steps > MAX_BACKTEST_STEPS) throw new Error(`${steps} evaluations requested; at most ${MAX_BACKTEST_STEPS} (use a longer step or a shorter range)`);
  const rules = o.rules.filter((r) => r.kind !== 'deadman');
  const events: AlertEvent[] = [];
  const dataDir = mkdtempSync(join(tmpdir(), 'pulse-backtest-'));
  let clock = o.from;
  try {
    const engine = new AlertEngine({
      source: o.source,
      sink: { publish: async (es) => void events.push(...es) },
      outlet: { enqueue: () => undefined },
      rules: () => rules,
      dataDir,
      linkFor: () => '',
      now: () => clock,
      logger: { info: () => {}, warn: () => {}, error: () => {} },
      ...(o.calendar ? { calendar: o.calendar } : {}),
      ...(o.alignMs !== undefined ? { alignMs: o.alignMs } : {}),
      ...(o.timezone ? { timezone: o.timezone } : {}),
      ...(o.minuteAligned ? { minuteAligned: o.minuteAligned } : {}),
    });
    let n = 0;
    for (let t = o.from; t <= o.to; t += o.stepMs) {
      clock = t;
      await engine.evaluateOnce(t);
      n++;
    }
    const firings = events
      .filter((e) => e.state === 'firing' && e.from !== 'firing')
      .map(
        (e): BacktestFiring => ({
          ruleId: e.ruleId,
          alertKey: e.alertKey,
          split: e.split,
          ts: e.ts,
          state: 'firing',
          value: e.value,
          baseline: e.baseline,
          change: e.change,
          band: e.band ?? null,
          severity: e.severity,
          summary: e.summary,
        }),
      );
    return { firings, events, evaluations: n };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * Rule YAML text → rules, with the loader's checks (catalogue, templates, notifiers);
 * problems carry line numbers like the loader's.
 */
export function parseRuleYaml(
  text: string,
  ctx: {
    catalogue: ReadonlyMap<string, KpiInfo>;
    file?: string;
    templates?: ReadonlyMap<string, Record<string, unknown>>;
    minuteAligned?: MinuteAligned;
  },
): { rules: Rule[]; problems: RuleProblem[] } {
  const file = ctx.file ?? 'rule.yaml';
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true });
  if (doc.errors.length) {
    return {
      rules: [],
      problems: doc.errors.map((e) => ({ file, path: [], ...(e.linePos ? { line: e.linePos[0].line } : {}), message: `YAML: ${e.message.split('\n')[0] ?? e.code}` })),
    };
  }
  const parsed = parseRuleDocument(doc.toJS(), {
    file,
    catalogue: ctx.catalogue,
    ...(ctx.templates ? { templates: ctx.templates } : {}),
    ...(ctx.minuteAligned ? { minuteAligned: ctx.minuteAligned } : {}),
  });
  for (const p of parsed.problems) {
    for (let n = p.path.length; n >= 0; n--) {
      const node = doc.getIn(p.path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) {
        p.line = lines.linePos(node.range[0]).line;
        break;
      }
    }
  }
  return parsed;
}
