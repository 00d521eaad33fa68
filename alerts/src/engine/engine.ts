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
} from '../contract.js';
import type { RuleProvider } from '../rules/loader.js';
import { formatProblem } from '../rules/parse.js';
import type { Rule, TimeOfDayWindow } from '../rules/schema.js';
import { needsMinuteWindows, type MinuteAligned } from '../rules/validate.js';
import { alertKeyOf } from '../kinds/common/keys.js';
import { kindOf } from '../kinds/registry.js';
import { emptyNoise } from '../kinds/seasonal/baseline.js';
import type { AlertRecord, Instance, KindHost, RuleRun } from '../kinds/types.js';
import type { Evaluation } from './evaluate.js';
import { decide, emptyMemory, remember, type NotifyKind } from './notifyPolicy.js';
import { activeSilenceWindow } from './silenceWindows.js';
import { MemoryStore } from './memoryStore.js';
import { SilenceStore, type Ack, type Silence, type SilenceInput } from './silences.js';
import { initialMachine, step, type AlertMachine, type Step } from './stateMachine.js';
import type { Calendar } from '../calendar/calendar.js';
import { subjectZh } from '../wording.js';
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
import { DAY, evaluationTime, withOwnSplits } from './windows.js';

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

export { alertKeyOf };

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
  private readonly memory: MemoryStore | undefined;
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
    this.source = withOwnSplits(opts.source);
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
    this.store = new SilenceStore(opts.state ?? opts.dataDir, this.now, (err, msg) => this.log.error({ err }, msg));
    const memoryAt = opts.state ?? opts.memoryFile;
    this.memory = memoryAt ? new MemoryStore(memoryAt, opts.memorySaveEveryMs ?? 5 * 60_000, (err, msg) => this.log.error({ err }, msg)) : undefined;
    this.host = {
      source: this.source,
      calendar: this.calendar,
      deadmanLookbackMs: this.deadmanLookbackMs,
      evaluationTime: (tNow, kpi) => evaluationTime(tNow, this.minuteAligned(kpi), this.alignMs),
      record: (key) => this.records.get(key),
      openValues: (ruleId, dim) => this.openValues(ruleId, dim),
      setRuleStatus: (ruleId, st) => this.ruleStatus.set(ruleId, st),
      advance: (rule, kpi, instances, t) => this.advance(rule as Rule, kpi, instances, t),
      warn: (obj, msg) => this.log.warn(obj, msg),
    };
  }

  // ---- loop ----------------------------------------------------------------------------

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.tick();
  }

  async stop(): Promise<void> {
    const wasRunning = this.timer !== undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => {});
    // Shared state is the evaluator's: a node that never evaluated has nothing to write there.
    if (wasRunning || !this.opts.state) await this.saveMemory(true);
  }

  /**
   * Shared state (`state`): reads silences, acks and the alert memory again and forgets what
   * this engine held, so a node taking the evaluation over (again) starts from what the last
   * evaluator wrote: an alert it left firing goes on firing, with no second 【告警】.
   * Call while stopped. Without `state` there is nothing to read: the files are this node's.
   */
  async reload(): Promise<void> {
    const state = this.opts.state;
    if (!state) return;
    await this.chain.catch(() => {});
    const [silences, memory] = await Promise.all([state.read('silences'), state.read('alert-memory')]);
    this.store.replace(silences);
    this.memory?.replace(memory);
    this.records.clear();
    this.ruleStatus.clear();
    this.ruleRanAt.clear();
    this.lastRules = [];
    this.lastEvaluationAt = null;
    this.lastRunAt = null;
    // The last evaluator's notifications, saved with its state: enqueued again in case it died
    // before its outbox had them (the outbox ignores the keys it already has).
    for (const batch of this.memory?.takeNotifications() ?? []) await this.outlet.enqueue(batch);
  }

  /** Resolves when every silence / ack change so far is persisted; rejects when one could not be. */
  persisted(): Promise<void> {
    return this.store.persisted();
  }

  /**
   * Saves the alert memory (when due, or `force`), with `notifications` when the state is
   * shared; resolves false when it could not be persisted (the failure is logged).
   */
  private async saveMemory(force = false, notifications: AlertNotification[][] = []): Promise<boolean> {
    this.memory?.maybeSave(this.records.values(), new Map(this.lastRules.map((r) => [r.id, r])), this.now(), force, notifications);
    return (await this.memory?.persisted().then(() => true, () => false)) ?? true;
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
      // What each instance learnt before a restart (its band, its firing episodes, a 新常态) and
      // where its alert stood: an open firing goes on (no second 【告警】; its 【恢复】 follows).
      for (const [key, kept] of this.memory?.take(rules) ?? []) {
        if (this.records.has(key)) continue;
        this.records.set(key, { key, ruleId: kept.ruleId, kpi: kept.kpi, split: kept.split, machine: kept.machine ?? initialMachine(t), mem: kept.told ?? emptyMemory(), firingSpans: kept.firingSpans, noise: kept.noise, noiseRecent: kept.noiseRecent, ...(kept.noiseExtra ? { noiseExtra: kept.noiseExtra } : {}), shift: kept.shift, markNewNormal: null });
      }
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
      const changed = events.length > 0 || batches.length > 0;
      // Shared state (a cluster): the new state is written first, with the notifications it
      // says were told, so that a crash before the outbox has them loses nothing (the next
      // evaluator enqueues them from the state) and sends nothing twice. A write refused (this
      // node no longer holds the lease) sends nothing.
      if (this.opts.state && !(await this.saveMemory(changed, batches))) {
        if (batches.length) this.log.warn({ batches: batches.length }, 'alerts: state not saved (no longer the evaluator?); its notifications are not sent by this node');
        return { ts: t, events, notifications: [] };
      }
      for (const batch of batches) {
        try {
          await this.outlet.enqueue(batch);
        } catch (err) {
          this.log.error({ err, ruleId: batch[0]?.ruleId }, 'alerts: outlet.enqueue failed');
        }
      }
      // A state change is saved at once, after its notifications are in the outbox: a crash
      // right after a 【告警】 must not send it again (in between, at least once: it may).
      if (!this.opts.state) await this.saveMemory(changed);
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
        baselineKind: kindOf(old).baselineKind(old),
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

  private evaluateRule(rule: Rule, t: number, catalogue: ReadonlyMap<string, KpiInfo>): Promise<RuleRun> {
    return kindOf(rule).evaluate(this.host, rule, t, catalogue);
  }

  /** What a rule kind's module may use of the engine while it evaluates (kinds/types.ts). */
  private readonly host: KindHost;


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
   * Mark the current firing of a seasonal rule as the new normal (新常态): it resolves at the
   * next evaluation and its level becomes the baseline instead of firing again.
   */
  markNewNormal(alertKey: string, by: string): void {
    const rec = this.records.get(alertKey);
    const rule = this.lastRules.find((r) => r.id === rec?.ruleId);
    if (!rec || !rule || kindOf(rule).id !== 'seasonal') throw new Error(`alert ${alertKey} has no seasonal baseline to adopt a new normal into`);
    if (rec.machine.inner !== 'firing') throw new Error(`alert ${alertKey} is not firing`);
    rec.markNewNormal = { by, at: this.now() };
    this.log.info({ alertKey, by }, 'alerts: marked as new normal');
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
  private advance(rule: Rule, kpi: KpiInfo | undefined, instances: Instance[], t: number): RuleRun {
    const kpiId = kpi?.id ?? DATA_ARRIVAL.id;
    const label = kpi?.label.zh ?? DATA_ARRIVAL.label.zh;
    const events: AlertEvent[] = [];
    const notifications: AlertNotification[] = [];
    const seen = new Set<string>();
    const window = activeSilenceWindow(rule.silenceWindows, t, this.timezone);

    const mod = kindOf(rule);
    const only = rule.values ? new Set(rule.values) : undefined;
    for (const { split, evaluation: ev } of instances) {
      if (only && split && !only.has(split.value)) continue;
      const key = alertKeyOf(rule.id, split);
      seen.add(key);
      const rec = this.recordFor(rule, kpiId, split, t);
      const prev = rec.machine;
      let s: Step = step(rec.machine, ev.observation, t, rule);
      let adopted = false;
      if (mod.adjustStep) ({ step: s, adopted } = mod.adjustStep({ rule, rec, step: s, evaluation: ev, t, prev }));
      rec.machine = s.machine;
      const m = s.machine;
      mod.afterStep?.({ rule, rec, step: s, evaluation: ev, t, prev, adopted });

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
          baselineKind: mod.baselineKind(rule),
          change: ev.change,
          threshold: mod.threshold(rule, m.state, m.severity),
          summary: mod.summary({ rule, kpiLabel: label, split, from: s.from, state: m.state, value: ev.value, change: ev.change, flips: m.flips.length, ...(ev.band ? { band: ev.band } : {}) }, adopted),
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
    const mod = kindOf(rule);
    // An extra window that fired (short / accumulated) is the span the message is about.
    const spanMs = ev.band?.window ? ev.band.window.minutes * 60_000 : mod.spanMs(rule);
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
      baselineKind: mod.baselineKind(rule),
      change: ev.change,
      threshold: mod.threshold(rule, kind === 'resolved' ? 'resolved' : 'firing', m.severity),
      ...(mod.notificationExtras?.(rule) ?? {}),
      ...(mod.notice?.(rule, ev) ?? {}),
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
