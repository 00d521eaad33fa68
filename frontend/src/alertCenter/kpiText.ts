/** KPI labels and values for alert tables, from the catalogue (falls back to the id). */
import type { KpiDef } from '../../../backend/src/catalogue/kpis';
import { formatChangeMagnitude, formatKpi, type Lang } from '../format';

export function kpiName(def: KpiDef | undefined, id: string, lang: Lang): string {
  return def ? def.label[lang] : id;
}

export function kpiValue(def: KpiDef | undefined, v: number | null | undefined, lang: Lang): string {
  if (v === null || v === undefined) return '—';
  return def ? formatKpi(v, def.unit, lang) : String(v);
}

/** "+16.0%" / "−14.2%" (a real minus sign; the magnitude formatting is the wall's). */
export function changeText(change: number | null | undefined): string {
  if (change === null || change === undefined || !Number.isFinite(change)) return '—';
  return `${change > 0 ? '+' : change < 0 ? '−' : ''}${formatChangeMagnitude(change)}`;
}

/** good / bad colouring of a change, from the KPI's good direction. */
export function changeTone(def: KpiDef | undefined, change: number | null | undefined): 'good' | 'bad' | 'neutral' {
  if (!def || change === null || change === undefined || change === 0 || def.good === 'neutral') return 'neutral';
  return (change > 0) === (def.good === 'up') ? 'good' : 'bad';
}
