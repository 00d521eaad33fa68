/**
 * KPI presentation rules that are not plain formatting: which way a change points and
 * whether that move is good for the KPI.
 *
 * Colour convention on the wall: GREEN = GOOD, RED = BAD, grey = neutral / no change.
 * This is deliberately *not* the Chinese stock-ticker convention (red = up, green = down):
 * the colour says whether the move is good for this KPI (its catalogue `good` direction),
 * and the arrow (↑ / ↓) says which way it moved. So a rise in 流失率 (churn, good: down)
 * is a red ↑, and a fall in GMV is a red ↓.
 */
import type { GoodDirection } from '@siyu-pulse/contracts/catalogue';

export type ChangeTone = 'good' | 'bad' | 'neutral' | 'flat' | 'none';
export type ChangeDirection = 'up' | 'down' | 'flat' | 'none';

/** Changes smaller than this (relative) count as flat, so 0.04% noise isn't coloured. */
export const FLAT_EPSILON = 0.0005;

export function changeDirection(change: number | null | undefined): ChangeDirection {
  if (change === null || change === undefined || !Number.isFinite(change)) return 'none';
  if (Math.abs(change) < FLAT_EPSILON) return 'flat';
  return change > 0 ? 'up' : 'down';
}

export function changeTone(change: number | null | undefined, good: GoodDirection): ChangeTone {
  const dir = changeDirection(change);
  if (dir === 'none' || dir === 'flat') return dir;
  if (good === 'neutral') return 'neutral';
  return dir === good ? 'good' : 'bad';
}

export const ARROWS: Record<ChangeDirection, string> = { up: '↑', down: '↓', flat: '→', none: '' };

/** Progress toward a target in the KPI's own unit (a rate's target is a fraction too). */
export function targetProgress(value: number | null | undefined, target: number | undefined, good: GoodDirection): { ratio: number; met: boolean } | null {
  if (target === undefined || target <= 0 || value === null || value === undefined || !Number.isFinite(value)) return null;
  const ratio = value / target;
  return { ratio, met: good === 'down' ? value <= target : value >= target };
}
