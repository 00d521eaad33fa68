/**
 * Which split values drove a swing in the total ("root cause in the message"). Pure.
 *
 * Sums: a value's contribution is its own change, current − baseline (they add up to the
 * total's change). Ratios: value i contributes numᵢ/DEN − numᵢ'/DEN' (primes: baseline),
 * i.e. its share of the total rate now minus then; these add up exactly to the total's
 * change and capture both a value's own rate move and its mix shift, while a value whose
 * rate and share did not move contributes 0.
 *
 * Only values that moved the same way as the total are listed: a channel that rose while
 * the total fell did not cause the fall (it softened it), so it is no 主要贡献.
 */
import type { Dimension, KpiInfo, AlertNotification, WindowResult } from '../contract.js';

export type Contributor = NonNullable<AlertNotification['contributors']>[number];

export function topContributors(kpi: KpiInfo, dim: Dimension, cur: WindowResult, base: WindowResult, n = 3): Contributor[] {
  const curDen = cur.total.den ?? 0;
  const baseDen = base.total.den ?? 0;
  const shares = kpi.ratio && curDen > 0 && baseDen > 0;
  const values = new Set([...Object.keys(cur.splits), ...Object.keys(base.splits)]);
  const totalMove = Math.sign((cur.total.value ?? 0) - (base.total.value ?? 0));
  const rows: { c: Contributor; weight: number }[] = [];
  for (const value of values) {
    const now = cur.splits[value];
    const then = base.splits[value];
    const current = now?.value ?? (kpi.ratio ? null : 0);
    const baseline = then?.value ?? (kpi.ratio ? null : 0);
    const weight = shares
      ? (now?.num ?? 0) / curDen - (then?.num ?? 0) / baseDen
      : (current ?? 0) - (baseline ?? 0);
    if (weight === 0 || !Number.isFinite(weight)) continue;
    if (totalMove !== 0 && Math.sign(weight) !== totalMove) continue;
    const change = current !== null && baseline !== null && baseline !== 0 ? (current - baseline) / Math.abs(baseline) : null;
    rows.push({ c: { dim, value, current, baseline, change }, weight });
  }
  return rows
    .sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight) || a.c.value.localeCompare(b.c.value))
    .slice(0, n)
    .map((r) => r.c);
}
