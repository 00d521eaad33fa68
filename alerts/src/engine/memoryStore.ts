/**
 * What the engine has learnt about each alert instance, kept across restarts: the noise
 * memory of noise-aware rules (the band), the closed firing episodes baselines leave out
 * (no echo after a restart) and an adopted 新常态 shift. Without it a restart forgets the band
 * and a seasonal rule stays silent for `min_history` (12 h by default) while it learns again.
 *
 * One JSON file in the data dir, written atomically (temp file + rename, as silences.json)
 * at most every `everyMs` and on stop. Entries carry the rule's shape: an instance whose rule
 * changed what it measures (KPI, split, window, baseline, band) starts over, as in memory.
 */
import { readJsonFile, writeJsonFile } from './jsonFile.js';
import type { AlertRecord } from '../kinds/types.js';
import type { NoiseMemory } from '../kinds/seasonal/baseline.js';
import type { Rule } from '../rules/schema.js';

export interface RememberedInstance {
  ruleId: string;
  kpi: string;
  split: AlertRecord['split'];
  /** The rule's shape when this was learnt (see shapeOf). */
  shape: string;
  noise: NoiseMemory;
  noiseRecent: NoiseMemory;
  firingSpans: AlertRecord['firingSpans'];
  shift: AlertRecord['shift'];
}

interface FileShape {
  version: 1;
  savedAt: number;
  instances: Record<string, RememberedInstance>;
}

/** What an instance's learning depends on; anything else (name, notify, thresholds) may change freely. */
export function shapeOf(rule: Rule): string {
  if (rule.kind !== 'change') return rule.kind;
  return JSON.stringify({ kpi: rule.kpi, by: rule.by ?? null, windowMs: rule.windowMs, baseline: rule.baseline, band: rule.band ?? null });
}

const isNoise = (x: unknown): x is NoiseMemory =>
  typeof x === 'object' && x !== null && Array.isArray((x as NoiseMemory).samples) && (x as NoiseMemory).samples.every((s) => Array.isArray(s) && s.length === 2 && s.every((n) => typeof n === 'number' && Number.isFinite(n)));

export class MemoryStore {
  private remembered = new Map<string, RememberedInstance>();
  private lastSavedAt: number | null = null;

  constructor(
    private readonly file: string,
    private readonly everyMs: number,
    private readonly onError: (err: unknown, msg: string) => void,
  ) {
    this.load();
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
  maybeSave(records: Iterable<AlertRecord>, rules: ReadonlyMap<string, Rule>, now: number, force = false): void {
    if (!force && this.lastSavedAt !== null && now - this.lastSavedAt < this.everyMs) return;
    this.lastSavedAt = now;
    const instances: Record<string, RememberedInstance> = {};
    // Instances not evaluated since the start (a rule not run yet) keep what they had.
    for (const [k, v] of this.remembered) instances[k] = v;
    for (const rec of records) {
      const rule = rules.get(rec.ruleId);
      if (!rule || rule.kind !== 'change') continue;
      if (!rec.noise.samples.length && !rec.noiseRecent.samples.length && !rec.firingSpans.length && !rec.shift) continue;
      instances[rec.key] = { ruleId: rec.ruleId, kpi: rec.kpi, split: rec.split, shape: shapeOf(rule), noise: rec.noise, noiseRecent: rec.noiseRecent, firingSpans: rec.firingSpans, shift: rec.shift };
    }
    const data: FileShape = { version: 1, savedAt: now, instances };
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
      (raw) => {
        const data = raw as Partial<FileShape>;
        if (data.version !== 1 || typeof data.instances !== 'object' || data.instances === null) throw new Error('not a version 1 alert memory file');
        for (const [key, v] of Object.entries(data.instances)) {
          if (typeof v?.shape !== 'string' || typeof v.ruleId !== 'string' || typeof v.kpi !== 'string' || !isNoise(v.noise) || !isNoise(v.noiseRecent) || !Array.isArray(v.firingSpans)) continue;
          const shift = v.shift ? { ...v.shift, until: v.shift.until ?? Number.POSITIVE_INFINITY } : null;
          const split = v.split && typeof v.split.dim === 'string' && typeof v.split.value === 'string' ? { dim: v.split.dim, value: v.split.value } : null;
          this.remembered.set(key, { ruleId: v.ruleId, kpi: v.kpi, split, shape: v.shape, noise: v.noise, noiseRecent: v.noiseRecent, firingSpans: v.firingSpans, shift });
        }
      },
      // Learn again rather than refuse to alert.
      (err, aside) => this.onError(err, `${this.file} unreadable, moved to ${aside}; the noise bands will be learnt again`),
      Date.now(),
    );
  }
}
