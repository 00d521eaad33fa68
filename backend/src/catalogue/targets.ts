/**
 * KPI targets: the seed's defaults, overridden (and extended per channel) by an optional
 * YAML file (`PULSE_TARGETS_FILE`). Targets are in the KPI's own unit — a fraction or
 * '5.2%' for percent KPIs, fen for money, a plain number otherwise — and, for counts and
 * money, per day (what the wall's "today" tile and the daily trend compare against).
 *
 * ```yaml
 * targets:
 *   paid_conversion: 5.2%
 *   churn_rate: 15%              # 留存率 ≥ 85%
 *   push_open_rate:
 *     total: 22%
 *     channels: { wecom: 30%, sms: 8% }
 * ```
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { KPI_BY_ID, type KpiDef } from '@siyu-pulse/contracts/catalogue';

export interface KpiTarget {
  /** For the total (and for channels without their own). */
  total?: number;
  channels: Record<string, number>;
}

/** A KPI as the API and the alert engine see it: the catalogue entry with its targets. */
export type TargetedKpi = KpiDef & { channelTargets?: Record<string, number> };

export class TargetsFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TargetsFileError';
  }
}

const number = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^\s*-?\d+(\.\d+)?\s*%\s*$/.test(v) ? Number(v.trim().slice(0, -1).trim()) / 100 : NaN;
  if (!Number.isFinite(n) || n < 0) {
    ctx.addIssue({ code: 'custom', message: `must be a non-negative number in the KPI's unit or a percentage ('5.2%'), got ${JSON.stringify(v)}` });
    return z.NEVER;
  }
  return n;
});
const perChannel = z.strictObject({ total: number.optional(), channels: z.record(z.string().min(1), number).default({}) });
// Picked by shape rather than z.union, so a bad number gets the number's message, not "invalid input".
const entry = z.unknown().transform((v, ctx): number | z.output<typeof perChannel> => {
  const r = typeof v === 'object' && v !== null ? perChannel.safeParse(v) : number.safeParse(v);
  if (r.success) return r.data;
  for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message, path: i.path });
  return z.NEVER;
});
const FileSchema = z.strictObject({ targets: z.record(z.string(), entry) });

/** The seed's targets: paid conversion 5.2%, retention ≥ 85% (churn ≤ 15%), 12 interactions per member a month. */
export function defaultTargets(): Map<string, KpiTarget> {
  const out = new Map<string, KpiTarget>();
  for (const def of KPI_BY_ID.values()) if (def.target !== undefined) out.set(def.id, { total: def.target, channels: {} });
  return out;
}

/** Defaults, then the file's entries (a KPI in the file replaces its default entirely). */
export function loadTargets(file: string | null): Map<string, KpiTarget> {
  const targets = defaultTargets();
  if (!file) return targets;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TargetsFileError(`PULSE_TARGETS_FILE: cannot read ${file}: ${(err as Error).message}`);
  }
  const doc = parseDocument(text);
  if (doc.errors.length) throw new TargetsFileError(`PULSE_TARGETS_FILE ${file}: ${doc.errors[0]!.message}`);
  const parsed = FileSchema.safeParse(doc.toJS());
  if (!parsed.success) {
    throw new TargetsFileError(`PULSE_TARGETS_FILE ${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  }
  const problems: string[] = [];
  for (const [kpi, value] of Object.entries(parsed.data.targets)) {
    const def = KPI_BY_ID.get(kpi);
    if (!def) {
      problems.push(`targets.${kpi}: unknown KPI (GET /api/v1/kpis lists them)`);
      continue;
    }
    const t: KpiTarget = typeof value === 'number' ? { total: value, channels: {} } : { ...(value.total !== undefined ? { total: value.total } : {}), channels: value.channels };
    if (def.unit === 'percent') {
      for (const [where, v] of [['total', t.total] as const, ...Object.entries(t.channels)]) {
        if (v !== undefined && v > 1) problems.push(`targets.${kpi}${where === 'total' ? '' : `.channels.${where}`}: ${v} is over 100% — write 5.2% or 0.052`);
      }
    }
    if (t.total === undefined && Object.keys(t.channels).length === 0) problems.push(`targets.${kpi}: give a number, or total and/or channels`);
    targets.set(kpi, t);
  }
  if (problems.length) throw new TargetsFileError(`PULSE_TARGETS_FILE ${file}: ${problems.join('; ')}`);
  return targets;
}

/** The catalogue with targets applied (a KPI without one has none, even if the catalogue had a default). */
export function applyTargets(kpis: readonly KpiDef[], targets: ReadonlyMap<string, KpiTarget>): TargetedKpi[] {
  return kpis.map((def) => {
    const { target: _default, ...rest } = def;
    const t = targets.get(def.id);
    if (!t) return rest;
    return { ...rest, ...(t.total !== undefined ? { target: t.total } : {}), ...(Object.keys(t.channels).length ? { channelTargets: { ...t.channels } } : {}) };
  });
}
