/**
 * Which KPIs may be drawn together: one y axis per unit and at most two axes, so at most
 * two units at a time (a third axis is unreadable). Pure, tested in test/trends-state.test.ts.
 */
import type { KpiDef, KpiUnit } from '@siyu-pulse/contracts/catalogue';
import { usesDistinct } from './series';
import type { Dim } from './state';

export const MAX_UNITS = 2;

export type AddResult = { ok: true; kpis: string[] } | { ok: false; units: KpiUnit[] };

export function unitsOf(ids: readonly string[], byId: ReadonlyMap<string, Pick<KpiDef, 'unit'>>): KpiUnit[] {
  const units: KpiUnit[] = [];
  for (const id of ids) {
    const u = byId.get(id)?.unit;
    if (u && !units.includes(u)) units.push(u);
  }
  return units;
}

export function addKpi(ids: readonly string[], id: string, byId: ReadonlyMap<string, Pick<KpiDef, 'unit'>>): AddResult {
  if (ids.includes(id) || !byId.has(id)) return { ok: true, kpis: [...ids] };
  const units = unitsOf(ids, byId);
  const unit = byId.get(id)!.unit;
  if (!units.includes(unit) && units.length >= MAX_UNITS) return { ok: false, units };
  return { ok: true, kpis: [...ids, id] };
}

/**
 * The KPIs of a link that can be drawn: unknown ids are dropped (and reported), as are
 * KPIs that would need a third unit.
 */
export function sanitiseKpis(ids: readonly string[], byId: ReadonlyMap<string, Pick<KpiDef, 'unit'>>): { kpis: string[]; unknown: string[]; dropped: string[] } {
  const kpis: string[] = [];
  const unknown: string[] = [];
  const dropped: string[] = [];
  for (const id of ids) {
    if (!byId.has(id)) unknown.push(id);
    else {
      const r = addKpi(kpis, id, byId);
      if (r.ok) kpis.splice(0, kpis.length, ...r.kpis);
      else dropped.push(id);
    }
  }
  return { kpis, unknown, dropped };
}

/** Dimensions every picked KPI can be split / filtered by (distinct counts: channel only). */
export function allowedDims(ids: readonly string[], byId: ReadonlyMap<string, Pick<KpiDef, 'formula'>>): Dim[] {
  const distinct = ids.some((id) => {
    const d = byId.get(id);
    return d ? usesDistinct(d) : false;
  });
  return distinct ? ['channel'] : ['channel', 'community', 'campaign'];
}
