/**
 * The alert engine: every interval, each rule in force is evaluated against the KpiSource
 * (current window vs baseline), each alert instance's state moves (stateMachine.ts), state
 * changes go to the AlertSink and notifications to the outlet (the dispatcher), grouped
 * per rule and evaluation. This module does the I/O and bookkeeping; the decisions are
 * in the pure modules beside it.
 */
import { randomUUID } from 'node:crypto';
import type {
  AlertEvent,
  AlertSink,
  AlertState,
  Dimension,
  KpiInfo,
  KpiSource,
  AlertNotification,
  Severity,
  WindowResult,
} from '../contract.js';
import type { RuleProvider } from '../rules/loader.js';
import { formatProblem } from '../rules/parse.js';
import type { ChangeRule, DeadmanRule, Rule, TargetRule, TimeOfDayWindow } from '../rules/schema.js';
import { needsMinuteWindows, type MinuteAligned } from '../rules/validate.js';
import { topContributors } from './contributors.js';
import { evaluateChange, evaluateDeadman, evaluateTarget, type Evaluation } from './evaluate.js';
import { decide, emptyMemory, remember, type NotifyKind, type NotifyMemory } from './notifyPolicy.js';
import { activeSilenceWindow } from './silenceWindows.js';
import { SilenceStore, type Ack, type Silence, type SilenceInput } from './silences.js';
import { adoptNewNormal, initialMachine, step, type AlertMachine, type Step } from './stateMachine.js';
import { bandHalfWidth, emptyNoise, median, planCandidates, recordNoise, type NoiseMemory } from './seasonal.js';
import type { Calendar } from '../calendar/calendar.js';
import { subjectZh, summaryZh } from './summary.js';
import type {
  ActiveAlert,
  AlertEngineOptions,
  EngineLogger,
  EngineStatus,
  EvaluationReport,
  NotificationOutlet,
  RuleStatus,
  SilencedBy,
  Split,
  SplitStatus,
} from './types.js';
import { baselineWindows, currentWindow, DAY, evaluationTime, poolWindows, type Span } from './windows.js';

interface AlertRecord {
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
  /** A level adopted as the new normal (新常态): expected += offset until `until`. */
  shift: { offset: number; until: number; since: number } | null;
  /** An admin marked the current firing as the new normal. */
  markNewNormal: { by: string; at: number } | null;
}

type WindowValueLike = { value: number; sample: number; from?: number };

/** Seasonal rules without enough comparable periods yet compare with this many recent windows. */
const RECENT_WINDOWS = 12;

interface RuleRun {
  events: AlertEvent[];
  notifications: AlertNotification[];
}

/** The deadman "KPI": data arrival, value = silence in ms. */
const DATA_ARRIVAL: Pick<KpiInfo, 'id' | 'label' | 'unit' | 'good'> = {
  id: 'data_arrival',
  label: { zh: '数据上报', en: 'Data arrival' },
  unit: 'ms',
  good: 'down',
};

const consoleLogger: EngineLogger = {
  info: () => {},
  warn: (o, m) => console.warn(m, o),
  error: (o, m) => console.error(m, o),
};

const baselineKindOf = (rule: Rule): AlertNotification['baselineKind'] => (rule.kind === 'deadman' ? 'deadman' : rule.kind === 'target' ? 'target' : rule.baseline.type);

export function alertKeyOf(ruleId: string, split: Split): string {
  return split ? `${ruleId}|${split.dim}=${split.value}` : `${ruleId}|total`;
}

export class AlertEngine {
  private readonly source: KpiSource;
  private readonly sink: AlertSink;
  private readonly outlet: NotificationOutlet;
  private readonly provider: RuleProvider;
  private readonly intervalMs: number;
  private readonly alignMs: number;
  private readonly timezone: string;
  private readonly now: () => number;
  private readonly log: EngineLogger;
  private readonly minuteAligned: MinuteAligned;
  private readonly deadmanLookbackMs: number;
  private readonly calendar: Calendar | undefined;
  private readonly store: SilenceStore;
  private readonly records = new Map<string, AlertRecord>();
  private readonly ruleStatus = new Map<string, Omit<RuleStatus, 'rule' | 'splits' | 'lastRunAt'>>();
  private lastRules: Rule[] = [];
  private lastEvaluationAt: number | null = null;
  private lastRunAt: number | null = null;
  /** Rule id → when it last ran (the engine's clock, not the aligned data instant). */
  private readonly ruleRanAt = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  /** Evaluations run one at a time, in call order. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: AlertEngineOptions) {
    this.source = opts.source;
    this.sink = opts.sink;
    this.outlet = opts.outlet;
    const rules = opts.rules;
    this.provider = typeof rules === 'function' ? { rules, problems: () => [] } : rules;
    this.intervalMs = opts.intervalMs ?? 10_000;
    this.alignMs = opts.alignMs ?? 1_000;
    this.timezone = opts.timezone ?? 'Asia/Shanghai';
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? consoleLogger;
    this.minuteAligned = opts.minuteAligned ?? needsMinuteWindows;
    this.deadmanLookbackMs = opts.deadmanLookbackMs ?? DAY;
    this.calendar = opts.calendar;
    this.store = new SilenceStore(opts.dataDir, this.now, (err, msg) => this.log.error({ err }, msg));
  }

  // ---- loop ----------------------------------------------------------------------------

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.tick();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => {});
  }

  private tick(): void {
    // A slow source must not stack evaluations: skip a tick rather than queue it.
    if (this.busy) {
      this.log.warn({ intervalMs: this.intervalMs }, 'alerts: evaluation still running, tick skipped');
      return;
    }
    void this.evaluateOnce().catch((err: unknown) => this.log.error({ err }, 'alerts: evaluation failed'));
  }

  /** One full evaluation of every rule at `now` (default: the clock). */
  evaluateOnce(now?: number): Promise<EvaluationReport> {
    const run = this.chain.then(() => this.run(now ?? this.now()));
    this.chain = run.catch(() => {});
    return run;
  }

  private async run(nowMs: number): Promise<EvaluationReport> {
    this.busy = true;
    try {
      const t = evaluationTime(nowMs, false, this.alignMs);
      const rules = this.provider.rules();
      const catalogue = new Map(this.source.catalogue().map((k) => [k.id, k]));
      const retired = this.retireRules(rules, t, catalogue);
      this.forgetRemovedRules(rules);
      // A copy: the provider may hand back the same array, edited in place.
      this.lastRules = [...rules];
      const evaluated = await Promise.all(
        rules.map((rule) =>
          this.evaluateRule(rule, t, catalogue).catch((err: unknown): RuleRun => {
            this.log.error({ err, ruleId: rule.id }, 'alerts: rule evaluation failed');
            this.ruleStatus.set(rule.id, {
              lastEvaluatedAt: t,
              error: err instanceof Error ? err.message : String(err),
              notEnoughHistory: false,
            });
            return { events: [], notifications: [] };
          }),
        ),
      );
      const runs = [...retired, ...evaluated];
      this.lastEvaluationAt = t;
      this.lastRunAt = nowMs;
      for (const rule of rules) this.ruleRanAt.set(rule.id, nowMs);
      const events = runs.flatMap((r) => r.events);
      if (events.length) {
        try {
          await this.sink.publish(events);
        } catch (err) {
          this.log.error({ err, events: events.length }, 'alerts: sink.publish failed');
        }
      }
      const batches = runs.map((r) => r.notifications).filter((b) => b.length > 0);
      for (const batch of batches) {
        try {
          await this.outlet.enqueue(batch);
        } catch (err) {
          this.log.error({ err, ruleId: batch[0]?.ruleId }, 'alerts: outlet.enqueue failed');
        }
      }
      return { ts: t, events, notifications: batches };
    } finally {
      this.busy = false;
    }
  }

  /**
   * An alert whose rule was deleted, or changed, while it was open (pending, firing,
   * flapping) ends here: a `resolved` event for the history and, when the group was told
   * it fired, a message saying why (规则已删除 / 规则已修改), so the group's last word is not
   * 【告警】 or 【波动频繁】 forever. A changed rule's alerts start over under the new rule.
   */
  private retireRules(rules: Rule[], t: number, catalogue: ReadonlyMap<string, KpiInfo>): RuleRun[] {
    const before = new Map(this.lastRules.map((r) => [r.id, r]));
    const now = new Map(rules.map((r) => [r.id, r]));
    const runs = new Map<string, RuleRun>();
    for (const [key, rec] of this.records) {
      const old = before.get(rec.ruleId);
      if (!old) continue;
      const current = now.get(rec.ruleId);
      const reason = !current ? 'rule_deleted' : sameRule(old, current) ? null : 'rule_changed';
      if (!reason) continue;
      const open = rec.machine.state === 'pending' || rec.machine.state === 'firing' || rec.machine.state === 'flapping';
      if (!open) continue;
      const kpi = catalogue.get(rec.kpi);
      const label = kpi?.label.zh ?? DATA_ARRIVAL.label.zh;
      const st = rec.status;
      const run = runs.get(old.id) ?? { events: [], notifications: [] };
      runs.set(old.id, run);
      const words = reason === 'rule_deleted' ? '规则已删除' : '规则已修改';
      run.events.push({
        id: randomUUID(),
        alertKey: key,
        ruleId: old.id,
        ruleName: old.name,
        kpi: rec.kpi,
        split: rec.split,
        from: rec.machine.state,
        state: 'resolved',
        severity: null,
        ts: t,
        value: st?.value ?? null,
        baseline: st?.baseline ?? null,
        baselineKind: baselineKindOf(old),
        change: st?.change ?? null,
        threshold: null,
        summary: `${subjectZh(label, rec.split)}：${words}，告警结束`,
      });
      if (rec.mem.told === 'firing' || rec.mem.told === 'flapping') {
        const ev: Evaluation = { value: st?.value ?? null, baseline: st?.baseline ?? null, change: st?.change ?? null, notEnoughHistory: false, observation: null };
        const n = this.notification(old, kpi, rec.split, key, 'resolved', rec.machine, ev, t);
        run.notifications.push({ ...n, key: `${key}|${reason}|${t}`, reason, threshold: null });
      }
      this.store.clearAck(key);
      this.records.delete(key);
    }
    return [...runs.values()];
  }

  private forgetRemovedRules(rules: Rule[]): void {
    const ids = new Set(rules.map((r) => r.id));
    for (const [key, rec] of this.records) {
      if (!ids.has(rec.ruleId)) this.records.delete(key);
    }
    for (const id of this.ruleStatus.keys()) if (!ids.has(id)) this.ruleStatus.delete(id);
    for (const id of this.ruleRanAt.keys()) if (!ids.has(id)) this.ruleRanAt.delete(id);
  }

  // ---- evaluation ----------------------------------------------------------------------

  private async evaluateRule(rule: Rule, t: number, catalogue: ReadonlyMap<string, KpiInfo>): Promise<RuleRun> {
    if (rule.kind === 'deadman') return this.evaluateDeadmanRule(rule, t);
    if (rule.kind === 'target') return this.evaluateTargetRule(rule, t, catalogue);
    return this.evaluateChangeRule(rule, t, catalogue);
  }

  private async evaluateTargetRule(rule: TargetRule, tNow: number, catalogue: ReadonlyMap<string, KpiInfo>): Promise<RuleRun> {
    const kpi = catalogue.get(rule.kpi);
    if (!kpi) throw new Error(`KPI ${rule.kpi} is no longer in the catalogue`);
    const t = evaluationTime(tNow, this.minuteAligned(kpi), this.alignMs);
    // Newest first: [t − W, t), [t − 2W, t − W), …
    const spans = Array.from({ length: rule.count }, (_, k) => ({ from: t - (k + 1) * rule.windowMs, to: t - k * rule.windowMs }));
    const results = await Promise.all(spans.map((s) => this.source.window(kpi.id, s.from, s.to, rule.by)));
    const notEnoughHistory = results.some((r) => r === null);
    const targetFor = (value: string | null): number | undefined =>
      rule.target ?? (value !== null && rule.by === 'channel' ? (kpi.channelTargets?.[value] ?? kpi.target) : kpi.target);
    // A window before history is passed as null so the evaluation says why.
    const pick = (r: WindowResult | null, value: string | null) => (r === null ? null : value === null ? r.total : r.splits[value]);

    const instances: { split: Split; evaluation: Evaluation }[] = [];
    if (rule.by) {
      const dim = rule.by;
      const values = new Set([...results.flatMap((r) => Object.keys(r?.splits ?? {})), ...this.openValues(rule.id, dim)]);
      for (const value of values) {
        instances.push({ split: { dim, value }, evaluation: evaluateTarget(rule, kpi, results.map((r) => pick(r, value)), targetFor(value)) });
      }
    } else {
      instances.push({ split: null, evaluation: evaluateTarget(rule, kpi, results.map((r) => pick(r, null)), targetFor(null)) });
    }
    this.ruleStatus.set(rule.id, { lastEvaluatedAt: t, notEnoughHistory });
    return this.advance(rule, kpi, instances, t);
  }

  private async evaluateChangeRule(rule: ChangeRule, tNow: number, catalogue: ReadonlyMap<string, KpiInfo>): Promise<RuleRun> {
    const kpi = catalogue.get(rule.kpi);
    if (!kpi) throw new Error(`KPI ${rule.kpi} is no longer in the catalogue`);
    if (rule.baseline.seasonal) return this.evaluateSeasonalRule(rule, tNow, kpi);
    const t = evaluationTime(tNow, this.minuteAligned(kpi), this.alignMs);
    const cur = currentWindow(t, rule.windowMs);
    const spans = baselineWindows(rule.baseline.type, rule.baseline.windows, t, rule.windowMs);
    const [current, ...bases] = await Promise.all([cur, ...spans].map((s) => this.source.window(kpi.id, s.from, s.to, rule.by)));
    // Any baseline window before the start of history = not enough history (never an alert).
    const baseline = current && bases.every((b): b is WindowResult => b !== null) ? poolWindows(bases) : null;

    const instances: { split: Split; evaluation: Evaluation }[] = [];
    if (rule.by) {
      const dim = rule.by;
      const values = new Set([
        ...Object.keys(current?.splits ?? {}),
        ...Object.keys(baseline?.splits ?? {}),
        ...this.openValues(rule.id, dim),
      ]);
      for (const value of values) {
        const split = { dim, value };
        instances.push({ split, evaluation: this.echoGuard(rule, split, spans, evaluateChange(rule, kpi, current?.splits[value], baseline?.splits[value])) });
      }
    } else {
      instances.push({ split: null, evaluation: this.echoGuard(rule, null, spans, evaluateChange(rule, kpi, current?.total, baseline?.total)) });
    }

    this.ruleStatus.set(rule.id, { lastEvaluatedAt: t, notEnoughHistory: baseline === null });
    const run = this.advance(rule, kpi, instances, t);

    // Root cause for a swing in the total: the channels that moved it most.
    if (!rule.by && kpi.splits.includes('channel')) {
      const firing = run.notifications.filter((n) => n.kind === 'firing');
      if (firing.length) {
        try {
          const [c, ...b] = await Promise.all([cur, ...spans].map((s) => this.source.window(kpi.id, s.from, s.to, 'channel')));
          if (c && b.every((x): x is WindowResult => x !== null)) {
            const contributors = topContributors(kpi, 'channel', c, poolWindows(b));
            for (const n of firing) n.contributors = contributors;
          }
        } catch (err) {
          this.log.warn({ err, ruleId: rule.id }, 'alerts: contributors query failed');
        }
      }
    }
    return run;
  }

  /**
   * A baseline window that overlapped this alert's own last firing holds the spike itself:
   * comparing with it would fire a second, opposite alert (an echo). No decision instead.
   */
  private echoGuard(rule: ChangeRule, split: Split, spans: readonly Span[], ev: Evaluation): Evaluation {
    const rec = this.records.get(alertKeyOf(rule.id, split));
    if (!rec || !ev.observation || rec.machine.inner === 'firing') return ev;
    // Only the opposite move is an echo: the same move again is the KPI moving (or flapping).
    const fire = ev.observation.fire;
    if (!fire) return ev;
    const hit = spans.some((b) => rec.firingSpans.some((f) => f.move !== fire && b.from < f.to && f.from < b.to));
    return hit ? { ...ev, observation: { ...ev.observation, fire: null }, reason: 'baseline window holds this alert\'s last firing: an opposite move now is its echo' } : ev;
  }

  private recordFor(rule: Rule, kpiId: string, split: Split, t: number): AlertRecord {
    const key = alertKeyOf(rule.id, split);
    let rec = this.records.get(key);
    if (!rec) {
      rec = { key, ruleId: rule.id, kpi: kpiId, split, machine: initialMachine(t), mem: emptyMemory(), firingSpans: [], noise: emptyNoise(), noiseRecent: emptyNoise(), shift: null, markNewNormal: null };
      this.records.set(key, rec);
    }
    return rec;
  }

  /**
   * Seasonal rules: expected = the median of the same window in the last N comparable
   * periods (per split value, since channel campaigns differ), band = the instance's own
   * observed noise. See seasonal.ts.
   */
  private async evaluateSeasonalRule(rule: ChangeRule, tNow: number, kpi: KpiInfo): Promise<RuleRun> {
    const seasonal = rule.baseline.seasonal;
    if (!seasonal) throw new Error('not a seasonal rule');
    const t = evaluationTime(tNow, this.minuteAligned(kpi), this.alignMs);
    const cur = currentWindow(t, rule.windowMs);
    const cache = new Map<number, Promise<WindowResult | null>>();
    const fetch = (s: Span): Promise<WindowResult | null> => {
      let p = cache.get(s.from);
      if (!p) cache.set(s.from, (p = this.source.window(kpi.id, s.from, s.to, rule.by)));
      return p;
    };
    const current = await fetch(cur);
    const period: 'day' | 'week' = seasonal.periodMs === DAY ? 'day' : 'week';

    const evaluateOne = async (split: Split): Promise<Evaluation> => {
      const channel = split?.dim === 'channel' ? split.value : undefined;
      const plan = planCandidates(t, rule.windowMs, seasonal, rule.calendar, this.calendar, channel);
      const curValue = current ? (split ? current.splits[split.value] : current.total) : undefined;
      if (plan.mute) return { value: curValue?.value ?? null, baseline: null, change: null, notEnoughHistory: false, observation: null, reason: plan.mute };
      const rec = this.records.get(alertKeyOf(rule.id, split));
      const episode: Span[] = rec?.machine.inner === 'firing' && rec.machine.firingSince !== null ? [{ from: rec.machine.firingSince - rule.windowMs, to: t }] : [];
      const blocked = [...(rec?.firingSpans ?? []), ...episode];
      const spans = plan.spans.filter((b) => !blocked.some((f) => b.from < f.to && f.from < b.to));
      const results = await Promise.all(spans.map(fetch));
      const values: WindowValueLike[] = [];
      results.forEach((r, i) => {
        if (!r) return;
        const v = split ? (r.splits[split.value] ?? (kpi.ratio ? undefined : { value: 0, sample: 0 })) : r.total;
        if (v && v.value !== null) values.push({ value: v.value, sample: v.sample, from: spans[i]?.from ?? 0 });
      });
      let periodsUsed = values.length;
      let basis: 'day' | 'week' | 'recent' = period;
      if (values.length < seasonal.minPeriods && !plan.comparable?.match(/^(holiday|campaign)$/)) {
        // A KPI younger than min_periods comparable periods: the recent windows before this one
        // (robust median of the last 12) stand in until the seasonal history exists.
        const recent = Array.from({ length: RECENT_WINDOWS }, (_, j) => ({ from: cur.from - (j + 1) * rule.windowMs, to: cur.to - (j + 1) * rule.windowMs })).filter(
          (b) => !blocked.some((f) => b.from < f.to && f.from < b.to),
        );
        const rs = await Promise.all(recent.map(fetch));
        const rv: WindowValueLike[] = [];
        rs.forEach((r, i) => {
          if (!r) return;
          const v = split ? (r.splits[split.value] ?? (kpi.ratio ? undefined : { value: 0, sample: 0 })) : r.total;
          if (v && v.value !== null) rv.push({ value: v.value, sample: v.sample, from: recent[i]?.from ?? 0 });
        });
        if (rv.length * 2 >= RECENT_WINDOWS) {
          values.splice(0, values.length, ...rv);
          periodsUsed = rv.length;
          basis = 'recent';
        }
      }
      if (basis !== 'recent' && values.length < seasonal.minPeriods) {
        return {
          value: curValue?.value ?? (kpi.ratio ? null : 0),
          baseline: null,
          change: null,
          notEnoughHistory: true,
          observation: null,
          reason: `${values.length} comparable period(s) with data, min_periods ${seasonal.minPeriods}`,
        };
      }
      // 新常态: windows from before an adopted shift are lifted by it; later ones already hold it.
      const shift = rec?.shift;
      const lifted = values.map((v) => (shift && v.from !== undefined && v.from < shift.since ? v.value + shift.offset : v.value));
      if (shift && values.every((v) => v.from === undefined || v.from >= shift.since) && rec) rec.shift = null;
      const base = { value: median(lifted) ?? 0, sample: median(values.map((v) => v.sample)) ?? 0 };
      // A young KPI's recent-window baseline has its own noise (it does not know the day's
      // shape): kept apart so it never widens the seasonal band learnt later.
      const memory = rec ? (basis === 'recent' ? rec.noiseRecent : rec.noise) : emptyNoise();
      const half = rule.band ? bandHalfWidth(memory, t, rule.band, rule.windowMs) : undefined;
      const ev = evaluateChange(
        rule,
        kpi,
        curValue,
        base,
        rule.band
          ? { halfWidth: half ?? null, periods: periodsUsed, period: basis === 'recent' ? 'recent' : period, ...(plan.comparable && basis !== 'recent' ? { comparable: plan.comparable } : {}) }
          : undefined,
      );
      return basis === 'recent' ? { ...ev, basis: 'recent' } : ev;
    };

    const instances: { split: Split; evaluation: Evaluation }[] = [];
    if (rule.by) {
      const dim = rule.by;
      // Split values: those in the current window, in the last comparable window, and open alerts.
      const last = await fetch({ from: cur.from - seasonal.periodMs, to: cur.to - seasonal.periodMs });
      const values = new Set([...Object.keys(current?.splits ?? {}), ...Object.keys(last?.splits ?? {}), ...this.openValues(rule.id, dim)]);
      for (const value of values) instances.push({ split: { dim, value }, evaluation: await evaluateOne({ dim, value }) });
    } else {
      instances.push({ split: null, evaluation: await evaluateOne(null) });
    }
    this.ruleStatus.set(rule.id, { lastEvaluatedAt: t, notEnoughHistory: instances.every((i) => i.evaluation.notEnoughHistory) });
    return this.advance(rule, kpi, instances, t);
  }

  /**
   * Mark the current firing of a seasonal rule as the new normal (新常态): it resolves at the
   * next evaluation and its level becomes the baseline instead of firing again.
   */
  markNewNormal(alertKey: string, by: string): void {
    const rec = this.records.get(alertKey);
    const rule = this.lastRules.find((r) => r.id === rec?.ruleId);
    if (!rec || !rule || rule.kind !== 'change' || !rule.baseline.seasonal) throw new Error(`alert ${alertKey} has no seasonal baseline to adopt a new normal into`);
    if (rec.machine.inner !== 'firing') throw new Error(`alert ${alertKey} is not firing`);
    rec.markNewNormal = { by, at: this.now() };
    this.log.info({ alertKey, by }, 'alerts: marked as new normal');
  }

  private async evaluateDeadmanRule(rule: DeadmanRule, t: number): Promise<RuleRun> {
    const seen = this.source.lastSeen(rule.by);
    const values = new Set(Object.keys(seen).filter((v) => t - (seen[v] ?? 0) <= this.deadmanLookbackMs));
    // A value still alerting stays watched even past the lookback: it is still silent.
    for (const v of this.openValues(rule.id, rule.by)) values.add(v);
    const instances = [...values].map((value) => ({
      split: { dim: rule.by, value },
      evaluation: evaluateDeadman(rule, seen[value], t),
    }));
    this.ruleStatus.set(rule.id, { lastEvaluatedAt: t, notEnoughHistory: false });
    return this.advance(rule, undefined, instances, t);
  }

  /** Split values of a rule whose alert is not at rest. */
  private openValues(ruleId: string, dim: Dimension): string[] {
    const out: string[] = [];
    for (const rec of this.records.values()) {
      if (rec.ruleId === ruleId && rec.split?.dim === dim && rec.machine.state !== 'ok') out.push(rec.split.value);
    }
    return out;
  }

  /** Step every instance's state, collect events and this rule's notifications. */
  private advance(rule: Rule, kpi: KpiInfo | undefined, instances: { split: Split; evaluation: Evaluation }[], t: number): RuleRun {
    const kpiId = kpi?.id ?? DATA_ARRIVAL.id;
    const label = kpi?.label.zh ?? DATA_ARRIVAL.label.zh;
    const events: AlertEvent[] = [];
    const notifications: AlertNotification[] = [];
    const seen = new Set<string>();
    const window = activeSilenceWindow(rule.silenceWindows, t, this.timezone);

    const only = rule.values ? new Set(rule.values) : undefined;
    for (const { split, evaluation: ev } of instances) {
      if (only && split && !only.has(split.value)) continue;
      const key = alertKeyOf(rule.id, split);
      seen.add(key);
      const rec = this.recordFor(rule, kpiId, split, t);
      const firingSince = rec.machine.firingSince;
      const firingMove = rec.machine.move;
      let s: Step = step(rec.machine, ev.observation, t, rule);
      let adopted = false;
      if (rule.kind === 'change' && rule.baseline.seasonal && s.machine.inner === 'firing' && s.machine.firingSince !== null && ev.value !== null && ev.baseline !== null) {
        const due = rule.levelShift && t - s.machine.firingSince >= rule.levelShift.adoptAfterMs;
        if (due || rec.markNewNormal) {
          // 新常态: the level becomes the baseline until the comparable periods hold it themselves.
          // Windows from before the shift are lifted by (level now − expected now) from here on.
          rec.shift = { offset: ev.value - ev.baseline + (rec.shift?.offset ?? 0), since: s.machine.firingSince - rule.windowMs, until: Number.POSITIVE_INFINITY };
          const wasChanged = s.changed;
          s = adoptNewNormal(s.machine, t);
          s = { ...s, from: wasChanged ? s.from : s.from, changed: s.changed || wasChanged };
          rec.markNewNormal = null;
          adopted = true;
        }
      }
      rec.machine = s.machine;
      const m = s.machine;
      if (rule.kind === 'change') {
        // A closed episode: its windows must not teach the baseline (no echo).
        // An adopted shift is the new normal: it must teach the baseline, not be left out.
        if (firingSince !== null && m.inner !== 'firing' && !adopted) rec.firingSpans.push({ from: firingSince - rule.windowMs, to: t, move: firingMove });
        const keep = rule.baseline.seasonal ? (rule.baseline.seasonal.periods * 5 + 12) * rule.baseline.seasonal.periodMs : 8 * DAY;
        rec.firingSpans = rec.firingSpans.filter((f) => f.to > t - keep);
        // Noise is learnt while the alert is at rest: the deviations a normal KPI shows.
        if (rule.band && m.inner !== 'firing' && !adopted && ev.value !== null && ev.baseline !== null) {
          recordNoise(ev.basis === 'recent' ? rec.noiseRecent : rec.noise, t, ev.value - ev.baseline, rule.band, rule.windowMs);
        }
      }

      if (s.changed || s.escalated) {
        events.push({
          id: randomUUID(),
          alertKey: key,
          ruleId: rule.id,
          ruleName: rule.name,
          kpi: kpiId,
          split,
          from: s.from,
          state: m.state,
          severity: m.state === 'ok' ? null : m.severity,
          ts: t,
          value: ev.value,
          baseline: ev.baseline,
          baselineKind: baselineKindOf(rule),
          change: ev.change,
          threshold: this.thresholdOf(rule, m.state, m.severity),
          summary: adopted
            ? `${summaryZh({ rule, kpiLabel: label, split, from: s.from, state: 'firing', value: ev.value, change: ev.change })}，已持续，按新常态处理（不再告警）`
            : summaryZh({ rule, kpiLabel: label, split, from: s.from, state: m.state, value: ev.value, change: ev.change, flips: m.flips.length, ...(ev.band ? { band: ev.band } : {}) }),
          ...(ev.band ? { band: ev.band } : {}),
        });
      }
      // An ack covers one firing episode.
      if (s.changed && (m.state === 'resolved' || m.state === 'ok')) this.store.clearAck(key);

      const silence = this.store.match({ ruleId: rule.id, kpi: kpiId, split }, t);
      const ack = this.store.ackFor(key);
      const d = decide(m.state, m.severity, rec.mem, { silenceWindow: !!window, silence: !!silence, acked: !!ack }, rule.cooldownMs, t);
      if (d.kind) {
        notifications.push(this.notification(rule, kpi, split, key, d.kind, m, ev, t));
        rec.mem = remember(rec.mem, d.kind, m.severity, t);
      }

      rec.status = {
        alertKey: key,
        split,
        value: ev.value,
        baseline: ev.baseline,
        change: ev.change,
        state: m.state,
        severity: m.state === 'ok' ? null : m.severity,
        notEnoughHistory: ev.notEnoughHistory,
        lastEvaluatedAt: t,
        since: m.since,
        ...(ev.reason ? { reason: ev.reason } : {}),
        ...(ev.significance ? { significance: ev.significance } : {}),
        ...(ev.band ? { band: ev.band } : {}),
        ...(silence ? { silencedBy: silenceInfo(silence) } : window ? { silencedBy: windowInfo(window) } : {}),
        ...(ack ? { ackedBy: ack } : {}),
        ...(d.heldBy ? { heldBy: d.heldBy } : {}),
      };
    }

    // Forget quiet alerts that vanished from the data, once their cooldown can no longer matter.
    for (const [key, rec] of this.records) {
      if (rec.ruleId !== rule.id || seen.has(key)) continue;
      const quiet = rec.machine.state === 'ok' && rec.mem.told !== 'firing' && rec.mem.told !== 'flapping';
      const cooled = rec.mem.lastFiringAt === null || t - rec.mem.lastFiringAt >= rule.cooldownMs;
      // A rule edited to split differently: its old instances are gone for good.
      const sameDim = rec.split?.dim === rule.by;
      if (!sameDim || (quiet && cooled)) this.records.delete(key);
    }
    return { events, notifications };
  }

  private thresholdOf(rule: Rule, state: AlertState, severity: Severity | null): number | null {
    if (rule.kind !== 'change') return null;
    if (state === 'resolved' || state === 'ok') return rule.thresholds.clear;
    return severity === 'critical' && rule.thresholds.critical !== undefined ? rule.thresholds.critical : rule.thresholds.fire;
  }

  private notification(
    rule: Rule,
    kpi: KpiInfo | undefined,
    split: Split,
    key: string,
    kind: NotifyKind,
    m: AlertMachine,
    ev: Evaluation,
    t: number,
  ): AlertNotification {
    const info = kpi ? { id: kpi.id, label: kpi.label, unit: kpi.unit, good: kpi.good } : DATA_ARRIVAL;
    const spanMs = rule.kind === 'deadman' ? rule.afterMs : rule.kind === 'target' ? rule.windowMs * rule.count : rule.windowMs;
    // The trend page opens on the hour around the swing: the window and the one before it
    // (the 环比 baseline), at least the last hour.
    const link = this.opts.linkFor(info.id, split, t - Math.max(2 * spanMs, 3_600_000), t);
    return {
      key: `${key}|${kind}|${t}`,
      kind,
      ruleId: rule.id,
      ruleName: rule.name,
      group: rule.group,
      severity: kind === 'firing' ? (m.severity ?? 'warning') : kind === 'flapping' ? 'warning' : 'info',
      kpi: info,
      split,
      value: ev.value,
      baseline: ev.baseline,
      baselineKind: baselineKindOf(rule),
      change: ev.change,
      threshold: this.thresholdOf(rule, kind === 'resolved' ? 'resolved' : 'firing', m.severity),
      ...(rule.kind === 'change' ? { direction: rule.direction } : {}),
      ...(ev.band ? { band: ev.band } : {}),
      windowMinutes: spanMs / 60_000,
      ts: t,
      link,
      ...(this.opts.landingFor ? { landing: this.opts.landingFor(key, t) } : {}),
      targets: [...rule.notify],
    };
  }

  // ---- silences and acks ----------------------------------------------------------------

  silence(input: SilenceInput): Silence {
    const s = this.store.silence(input);
    this.log.info({ silence: s }, 'alerts: silence added');
    return s;
  }

  unsilence(id: string, by: string): Silence | undefined {
    const s = this.store.unsilence(id, by);
    if (s) this.log.info({ id, by }, 'alerts: silence ended');
    return s;
  }

  silences(opts: { includeEnded?: boolean } = {}): Silence[] {
    return this.store.list(opts);
  }

  /** Acknowledge a firing (or flapping) alert: no further firing messages this episode. */
  ack(alertKey: string, by: string, reason: string): Ack {
    const rec = this.records.get(alertKey);
    if (!rec || (rec.machine.state !== 'firing' && rec.machine.state !== 'flapping')) {
      throw new Error(`alert ${alertKey} is not firing`);
    }
    const a = this.store.ack(alertKey, by, reason);
    this.log.info({ ack: a }, 'alerts: acked');
    return a;
  }

  acks(): Ack[] {
    return this.store.acks();
  }

  // ---- views ---------------------------------------------------------------------------

  status(): EngineStatus {
    const problems = this.provider.problems();
    return {
      running: this.timer !== undefined,
      lastEvaluationAt: this.lastEvaluationAt,
      lastRunAt: this.lastRunAt,
      now: this.now(),
      intervalMs: this.intervalMs,
      rules: this.provider.rules().map((rule) => {
        const st = this.ruleStatus.get(rule.id);
        return {
          rule,
          lastEvaluatedAt: st?.lastEvaluatedAt ?? null,
          lastRunAt: this.ruleRanAt.get(rule.id) ?? null,
          ...(st?.error ? { error: st.error } : {}),
          notEnoughHistory: st?.notEnoughHistory ?? false,
          splits: [...this.records.values()]
            .filter((r) => r.ruleId === rule.id)
            .flatMap((r) => (r.status ? [this.view(r, r.status)] : []))
            .sort((a, b) => a.alertKey.localeCompare(b.alertKey)),
        };
      }),
      problems,
      problemText: problems.map(formatProblem),
    };
  }

  /** Alerts pending, firing or flapping. */
  active(): ActiveAlert[] {
    const names = new Map(this.lastRules.map((r) => [r.id, r.name]));
    const open: AlertState[] = ['pending', 'firing', 'flapping'];
    return [...this.records.values()].flatMap((r) =>
      r.status && open.includes(r.machine.state)
        ? [{ ...this.view(r, r.status), ruleId: r.ruleId, ruleName: names.get(r.ruleId) ?? r.ruleId, kpi: r.kpi }]
        : [],
    );
  }

  /** Silences and acks change between evaluations: show the current ones. */
  private view(r: AlertRecord, st: SplitStatus): SplitStatus {
    const { silencedBy: last, ackedBy: _ack, ...rest } = st;
    const silence = this.store.match({ ruleId: r.ruleId, kpi: r.kpi, split: r.split });
    const ack = this.store.ackFor(r.key);
    const silencedBy = silence ? silenceInfo(silence) : last?.type === 'silence_window' ? last : undefined;
    return { ...rest, ...(silencedBy ? { silencedBy } : {}), ...(ack ? { ackedBy: ack } : {}) };
  }
}

/** The same rule, wherever its file is: anything else edited changes what its alerts mean. */
function sameRule(a: Rule, b: Rule): boolean {
  const { file: _a, ...x } = a;
  const { file: _b, ...y } = b;
  return JSON.stringify(x) === JSON.stringify(y);
}

function silenceInfo(s: Silence): SilencedBy {
  return { type: 'silence', id: s.id, by: s.by, until: s.until, reason: s.reason };
}

function windowInfo(w: TimeOfDayWindow): SilencedBy {
  return { type: 'silence_window', from: w.from, to: w.to };
}
