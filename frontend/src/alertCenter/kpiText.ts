/** KPI labels and values for alert tables, from the catalogue (falls back to the id). */
import type { KpiDef } from '@siyu-pulse/contracts/catalogue';
import { sideIsMoney, sideLabel } from '@siyu-pulse/contracts/catalogue';
import { formatChangeMagnitude, formatCount, formatDuration, formatKpi, formatMoney, type Lang } from '@siyu-pulse/contracts/format';
import type { GroupRule, Rule } from './types';

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

/**
 * A rule's min_sample in the unit the engine compares it in: a ratio's denominator
 * ("200 送达数", "¥2,000 投放花费", "50 活跃成员"), otherwise the KPI's own value
 * (¥ for money, a duration for ms).
 */
export function sampleText(def: KpiDef | undefined, n: number, lang: Lang): string {
  if (!def) return formatCount(n, lang);
  const f = def.formula;
  if (f.kind === 'ratio') {
    const what = sideLabel(f.den)[lang];
    return `${sideIsMoney(f.den) ? formatMoney(n, lang) : formatCount(n, lang)} ${what}`;
  }
  if (f.kind === 'distinct') return `${formatCount(n, lang)} ${lang === 'zh' ? '人' : 'members'}`;
  // Month-level rates: the denominator is members (active or buyers in a period).
  if (f.kind === 'span' && f.measure !== 'distinct') return `${formatCount(n, lang)} ${lang === 'zh' ? '人' : 'members'}`;
  return formatKpi(n, def.unit, lang);
}

/** A split's current value: a deadman rule's is the silence since the last event (ms). */
export function ruleValueText(kind: (Rule | GroupRule)['kind'], def: KpiDef | undefined, v: number | null | undefined, lang: Lang): string {
  if (kind === 'deadman') return v === null || v === undefined ? '—' : lang === 'zh' ? `${formatDuration(v, lang)}无数据` : `${formatDuration(v, lang)} silent`;
  return kpiValue(def, v, lang);
}

/**
 * How long ago something happened by the server's clock: its age when the answer was
 * made, plus the time since the answer arrived (the browser's clock may be off).
 */
export function serverAge(at: number | null | undefined, serverNow: number | undefined, receivedAt: number | null, clientNow: number): number | null {
  if (at === null || at === undefined) return null;
  if (serverNow === undefined || receivedAt === null) return Math.max(0, clientNow - at);
  return Math.max(0, serverNow - at + Math.max(0, clientNow - receivedAt));
}
