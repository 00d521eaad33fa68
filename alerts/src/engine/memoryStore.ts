/**
 * What the engine has learnt about each alert instance, kept across restarts: the noise
 * memory of noise-aware rules (the band), the closed firing episodes baselines leave out
 * (no echo after a restart) and an adopted 新常态 shift. Without it a restart forgets the band
 * and a seasonal rule stays silent for `min_history` (12 h by default) while it learns again.
 * Also each open alert's state machine and what its group was told: a restart neither sends
 * a second 【告警】 for a firing the group already has nor forgets to send its 【恢复】.
 *
 * One JSON file in the data dir, written atomically (temp file + rename, as silences.json)
 * at most every `everyMs` and on stop. Entries carry the rule's shape: an instance whose rule
 * changed what it measures (KPI, split, window, baseline, band) starts over, as in memory.
 */
import { readJsonFile, writeJsonFile } from './jsonFile.js';
import { DocumentWriter, type StateDocuments } from './stateDocuments.js';
import type { AlertRecord } from '../kinds/types.js';
import type { NoiseMemory } from '../kinds/seasonal/baseline.js';
import type { Rule } from '../rules/schema.js';
import type { NotifyMemory } from './notifyPolicy.js';
import type { AlertMachine } from './stateMachine.js';
import type { AlertNotification } from '../contract.js';

export interface RememberedInstance {
  ruleId: string;
  kpi: string;
  split: AlertRecord['split'];
  /** The rule's shape when this was learnt (see shapeOf). */
  shape: string;
  noise: NoiseMemory;
  noiseRecent: NoiseMemory;
  /** Extra windows' noise (short / accumulated), by window length in ms. */
  noiseExtra?: Record<string, NoiseMemory>;
  firingSpans: AlertRecord['firingSpans'];
  shift: AlertRecord['shift'];
  /** The alert's state machine and what was told, when it was not at rest (any rule kind). */
  machine?: AlertMachine;
  told?: NotifyMemory;
}

interface FileShape {
  version: 1;
  savedAt: number;
  instances: Record<string, RememberedInstance>;
  /**
   * Shared documents only: the notifications of the evaluation that wrote this version, saved
   * with the state that says they were told, before they go to the outbox. A node taking over
   * enqueues them again (the outbox ignores keys it has), so a crash between the two writes
   * neither loses them nor sends them twice.
   */
  notifications?: AlertNotification[][];
}

/** What an instance's learning depends on; anything else (name, notify, thresholds) may change freely. */
export function shapeOf(rule: Rule): string {
  if (rule.kind !== 'change') return rule.kind;
  return JSON.stringify({ kpi: rule.kpi, by: rule.by ?? null, windowMs: rule.windowMs, baseline: rule.baseline, band: rule.band ?? null });
}

const STATES = new Set(['ok', 'pending', 'firing', 'resolved', 'flapping']);
const isMachine = (x: unknown): x is AlertMachine => {
  const m = x as AlertMachine;
  return typeof m === 'object' && m !== null && STATES.has(m.state) && STATES.has(m.inner) && Array.isArray(m.flips) && m.flips.every((f) => typeof f === 'number') && typeof m.since === 'number';
};
const isTold = (x: unknown): x is NotifyMemory => {
  const t = x as NotifyMemory;
  return typeof t === 'object' && t !== null && (t.told === null || t.told === 'firing' || t.told === 'resolved' || t.told === 'flapping');
};

const isNoise = (x: unknown): x is NoiseMemory =>
  typeof x === 'object' && x !== null && Array.isArray((x as NoiseMemory).samples) && (x as NoiseMemory).samples.every((s) => Array.isArray(s) && (s.length === 2 || s.length === 3) && s.every((n) => typeof n === 'number' && Number.isFinite(n)));

export class MemoryStore {
  private remembered = new Map<string, RememberedInstance>();
  private lastSavedAt: number | null = null;
  private owed: AlertNotification[][] = [];
  private readonly file: string;
  private readonly shared: DocumentWriter | null;

  /** `where`: the file, or shared documents ('alert-memory'; empty until `replace`). */
  constructor(
    where: string | StateDocuments,
    private readonly everyMs: number,
    private readonly onError: (err: unknown, msg: string) => void,
  ) {
    if (typeof where === 'string') {
      this.file = where;
      this.shared = null;
      this.load();
    } else {
      this.file = 'the shared alert memory';
      this.shared = new DocumentWriter((json) => where.write('alert-memory', json), (err) => this.onError(err, 'could not persist the shared alert memory (this node may no longer evaluate)'));
    }
  }

  /** Takes what a stored document holds, forgetting anything not taken yet (a node taking the evaluation over). */
  replace(raw: unknown): void {
    this.remembered.clear();
    this.lastSavedAt = null;
    this.owed = [];
    if (raw === undefined || raw === null) return;
    const notifications = (raw as Partial<FileShape>).notifications;
    if (Array.isArray(notifications)) this.owed = notifications.filter((b) => Array.isArray(b));
    try {
      this.interpret(raw);
    } catch (err) {
      this.onError(err, `${this.file} unreadable; the noise bands will be learnt again`);
    }
  }

  /** The notifications the last evaluator saved with its state (see FileShape), taken once. */
  takeNotifications(): AlertNotification[][] {
    const out = this.owed;
    this.owed = [];
    return out;
  }

  /** Resolves when every save so far is persisted; rejects when one could not be. */
  persisted(): Promise<void> {
    return this.shared ? this.shared.flushed() : Promise.resolve();
  }

  /**
   * What was learnt under the rules in force, taken once (the engine's records own it then);
   * an instance whose rule changed shape is dropped.
   */
  take(rules: readonly Rule[]): [string, RememberedInstance][] {
    if (!this.remembered.size) return [];
    const byId = new Map(rules.map((r) => [r.id, r]));
    const out: [string, RememberedInstance][] = [];
    for (const [key, r] of this.remembered) {
      const rule = byId.get(r.ruleId);
      if (!rule) continue;
      this.remembered.delete(key);
      if (r.shape === shapeOf(rule)) out.push([key, r]);
    }
    return out;
  }

  /** Save when `everyMs` passed since the last save (or `force`). */
  maybeSave(records: Iterable<AlertRecord>, rules: ReadonlyMap<string, Rule>, now: number, force = false, notifications: AlertNotification[][] = []): void {
    if (!force && this.lastSavedAt !== null && now - this.lastSavedAt < this.everyMs) return;
    this.lastSavedAt = now;
    const instances: Record<string, RememberedInstance> = {};
    // Instances not evaluated since the start (a rule not run yet) keep what they had.
    for (const [k, v] of this.remembered) instances[k] = v;
    for (const rec of records) {
      const rule = rules.get(rec.ruleId);
      if (!rule) continue;
      // An alert at rest that nobody was told about has no state worth keeping.
      const open = rec.machine.state !== 'ok' || rec.mem.told !== null;
      const learnt = rule.kind === 'change' && (rec.noise.samples.length || rec.noiseRecent.samples.length || rec.firingSpans.length || rec.shift);
      if (!open && !learnt) continue;
      instances[rec.key] = {
        ...(open ? { machine: rec.machine, told: rec.mem } : {}), ruleId: rec.ruleId, kpi: rec.kpi, split: rec.split, shape: shapeOf(rule), noise: rec.noise, noiseRecent: rec.noiseRecent, ...(rec.noiseExtra ? { noiseExtra: rec.noiseExtra } : {}), firingSpans: rec.firingSpans, shift: rec.shift };
    }
    const data: FileShape = { version: 1, savedAt: now, instances, ...(this.shared && notifications.length ? { notifications } : {}) };
    // The same JSON as the file: an open-ended 新常态 (Infinity) becomes null.
    if (this.shared) return this.shared.save(data);
    try {
      // Infinity (an open-ended 新常态) is not JSON: written as null, read back as Infinity.
      writeJsonFile(this.file, data);
    } catch (err) {
      this.onError(err, `could not persist ${this.file}: the noise bands will be learnt again after a restart`);
    }
  }

  private load(): void {
    readJsonFile(
      this.file,
      (raw) => this.interpret(raw),
      // Learn again rather than refuse to alert.
      (err, aside) => this.onError(err, `${this.file} unreadable, moved to ${aside}; the noise bands will be learnt again`),
      Date.now(),
    );
  }

  private interpret(raw: unknown): void {
        const data = raw as Partial<FileShape>;
        if (data.version !== 1 || typeof data.instances !== 'object' || data.instances === null) throw new Error('not a version 1 alert memory file');
        for (const [key, v] of Object.entries(data.instances)) {
          if (typeof v?.shape !== 'string' || typeof v.ruleId !== 'string' || typeof v.kpi !== 'string' || !isNoise(v.noise) || !isNoise(v.noiseRecent) || !Array.isArray(v.firingSpans)) continue;
          const shift = v.shift ? { ...v.shift, until: v.shift.until ?? Number.POSITIVE_INFINITY } : null;
          const split = v.split && typeof v.split.dim === 'string' && typeof v.split.value === 'string' ? { dim: v.split.dim, value: v.split.value } : null;
          const extra = v.noiseExtra && typeof v.noiseExtra === 'object' ? Object.fromEntries(Object.entries(v.noiseExtra).filter(([, m]) => isNoise(m))) : undefined;
          const state = isMachine(v.machine) && isTold(v.told) ? { machine: v.machine, told: v.told } : {};
          this.remembered.set(key, { ruleId: v.ruleId, kpi: v.kpi, split, shape: v.shape, noise: v.noise, noiseRecent: v.noiseRecent, ...(extra ? { noiseExtra: extra } : {}), firingSpans: v.firingSpans, shift, ...state });
        }
  }
}
