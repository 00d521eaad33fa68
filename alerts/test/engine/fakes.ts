/**
 * Test doubles for the engine's boundary: an in-memory KpiSource over a table of counters
 * per minute per channel (windows are ratios of sums), a scripted source for state
 * sequences, a recording sink and outlet, and an engine factory with an injected clock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { AlertEvent, AlertSink, Dimension, KpiInfo, KpiSource, AlertNotification as Notification, WindowResult, WindowValue } from '../../src/contract.js';
import { AlertEngine } from '../../src/engine/engine.js';
import type { AlertEngineOptions, EvaluationReport, NotificationOutlet } from '../../src/engine/types.js';
import { parseRuleDocument } from '../../src/rules/parse.js';
import type { ChangeRule, DeadmanRule, Rule } from '../../src/rules/schema.js';
import { CATALOGUE, CATALOGUE_MAP } from '../rules/catalogueFixture.js';

export const MIN = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;
/** Monday 2025-03-10 12:00 Asia/Shanghai (04:00Z). */
export const T = Date.UTC(2025, 2, 10, 4, 0);

/** How the fake computes each KPI from counters (a subset of the backend's formulas). */
const FORMULAS: Record<string, { num: string; den: string } | { sum: string }> = {
  push_open_rate: { num: 'push_open', den: 'push_delivered' },
  push_click_rate: { num: 'push_click', den: 'push_delivered' },
  paid_conversion: { num: 'order_paid', den: 'page_view' },
  churn_rate: { num: 'member_leave', den: 'active' },
  gmv: { sum: 'order_paid_fen' },
  new_members: { sum: 'member_join' },
  active_members: { sum: 'active' }, // a per-minute distinct count; fine for a fake
};

type Counters = Record<string, number>;

export interface WindowCall {
  kpi: string;
  from: number;
  to: number;
  by: Dimension | undefined;
}

export class MemorySource implements KpiSource {
  /** minute start → channel → counters */
  private readonly table = new Map<number, Map<string, Counters>>();
  readonly calls: WindowCall[] = [];
  seen: Record<string, number> = {};
  failKpi: string | undefined;

  constructor(public historyStart: number) {}

  catalogue(): KpiInfo[] {
    return CATALOGUE;
  }

  /** Add counters for one channel in the minute starting at `minute`. */
  put(minute: number, channel: string, counters: Counters): this {
    if (minute % MIN !== 0) throw new Error('minute-aligned only');
    let row = this.table.get(minute);
    if (!row) this.table.set(minute, (row = new Map()));
    const c = row.get(channel) ?? {};
    for (const [k, v] of Object.entries(counters)) c[k] = (c[k] ?? 0) + v;
    row.set(channel, c);
    return this;
  }

  /** The same counters every minute in [from, to). */
  fill(from: number, to: number, channel: string, counters: Counters): this {
    for (let m = from; m < to; m += MIN) this.put(m, channel, counters);
    return this;
  }

  async window(kpi: string, from: number, to: number, by?: Dimension): Promise<WindowResult | null> {
    this.calls.push({ kpi, from, to, by });
    if (kpi === this.failKpi) throw new Error(`store down for ${kpi}`);
    if (from < this.historyStart) return null;
    const f = FORMULAS[kpi];
    if (!f) throw new Error(`fake has no formula for ${kpi}`);
    const total: Counters = {};
    const per = new Map<string, Counters>();
    for (const [minute, row] of this.table) {
      if (minute < from || minute >= to) continue;
      for (const [channel, c] of row) {
        const acc = per.get(channel) ?? {};
        for (const [k, v] of Object.entries(c)) {
          acc[k] = (acc[k] ?? 0) + v;
          total[k] = (total[k] ?? 0) + v;
        }
        per.set(channel, acc);
      }
    }
    const value = (c: Counters): WindowValue => {
      if ('sum' in f) {
        const v = c[f.sum] ?? 0;
        return { value: v, sample: v };
      }
      const num = c[f.num] ?? 0;
      const den = c[f.den] ?? 0;
      return { value: den > 0 ? num / den : null, num, den, sample: den };
    };
    const splits: Record<string, WindowValue> = {};
    if (by === 'channel') for (const [ch, c] of per) splits[ch] = value(c);
    else if (by) throw new Error('fake splits by channel only');
    return { total: value(total), splits };
  }

  lastSeen(): Record<string, number> {
    return this.seen;
  }
}

/**
 * A source whose current and baseline open rates are set directly per channel, for
 * state sequences (flapping, cooldown) where real windows would only add arithmetic.
 */
export class ScriptedSource implements KpiSource {
  /** channel → [current rate, baseline rate]; deliveries fixed at `den`. */
  rates: Record<string, [number, number]> = {};
  den = 10_000;

  catalogue(): KpiInfo[] {
    return CATALOGUE;
  }

  async window(_kpi: string, _from: number, to: number, by?: Dimension): Promise<WindowResult> {
    // The current window ends at the evaluation time; baselines end earlier.
    const isCurrent = to === this.currentTo;
    const splits: Record<string, WindowValue> = {};
    let num = 0;
    let den = 0;
    for (const [ch, [cur, base]] of Object.entries(this.rates)) {
      const rate = isCurrent ? cur : base;
      const n = Math.round(rate * this.den);
      splits[ch] = { value: n / this.den, num: n, den: this.den, sample: this.den };
      num += n;
      den += this.den;
    }
    return { total: { value: den ? num / den : null, num, den, sample: den }, splits: by ? splits : {} };
  }

  /** The `to` of the current window (the harness sets it before each evaluation). */
  currentTo = 0;

  lastSeen(): Record<string, number> {
    return {};
  }
}

export class RecordingSink implements AlertSink {
  readonly events: AlertEvent[] = [];
  async publish(events: AlertEvent[]): Promise<void> {
    this.events.push(...events);
  }
}

export class RecordingOutlet implements NotificationOutlet {
  readonly batches: Notification[][] = [];
  enqueue(ns: Notification[]): { queued: number } {
    this.batches.push(ns);
    return { queued: ns.length }; // like the Dispatcher's EnqueueResult: the engine ignores it
  }
  get all(): Notification[] {
    return this.batches.flat();
  }
  kinds(): string[] {
    return this.all.map((n) => `${n.kind}:${n.split?.value ?? 'total'}`);
  }
}

/** Parse a rule written as in YAML (snake_case) against the catalogue fixture. */
export function ruleFrom(raw: Record<string, unknown>): Rule {
  const { rules, problems } = parseRuleDocument({ rules: [raw] }, { file: 'test.yaml', catalogue: CATALOGUE_MAP });
  if (problems.length || !rules[0]) throw new Error(`bad test rule: ${JSON.stringify(problems)}`);
  return rules[0];
}
export const changeRule = (raw: Record<string, unknown>): ChangeRule => ruleFrom(raw) as ChangeRule;
export const deadmanRule = (raw: Record<string, unknown>): DeadmanRule => ruleFrom(raw) as DeadmanRule;

const made: string[] = [];
/** A fresh data dir, removed after the importing test file (hook registered on import). */
export function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-alerts-'));
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

export interface Harness {
  engine: AlertEngine;
  sink: RecordingSink;
  outlet: RecordingOutlet;
  dataDir: string;
  clock: { t: number };
  /** Move the clock to `ts` and run one evaluation there. */
  at(ts: number): Promise<EvaluationReport>;
}

export function makeEngine(source: KpiSource, rules: Rule[], extra: Partial<AlertEngineOptions> = {}): Harness {
  const sink = new RecordingSink();
  const outlet = new RecordingOutlet();
  const dataDir = extra.dataDir ?? tempDir();
  const clock = { t: T };
  const engine = new AlertEngine({
    source,
    sink,
    outlet,
    rules: () => rules,
    dataDir,
    linkFor: (kpi, split, from, to) => `https://pulse.example/trend/${kpi}?${split ? `${split.dim}=${split.value}&` : ''}from=${from}&to=${to}`,
    now: () => clock.t,
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    ...extra,
  });
  const at = (ts: number): Promise<EvaluationReport> => {
    clock.t = ts;
    if (source instanceof ScriptedSource) source.currentTo = Math.floor(ts / 1000) * 1000;
    return engine.evaluateOnce(ts);
  };
  return { engine, sink, outlet, dataDir, clock, at };
}
