/**
 * What every kind's evaluation gives the state machine: the numbers and an Observation.
 * Pure: no I/O, no clock.
 */
import type { Band, Severity } from '../../contract.js';

export type Move = 'up' | 'down';

/** What the state machine needs from one evaluation. */
export interface Observation {
  /** The fire condition holds, in this direction; null when it does not. */
  fire: Move | null;
  /** The value is still beyond the clear threshold upwards / downwards (hysteresis). */
  holdUp: boolean;
  holdDown: boolean;
  severity: Severity;
}

export interface Evaluation {
  value: number | null;
  baseline: number | null;
  change: number | null;
  notEnoughHistory: boolean;
  /** null when the data cannot decide (no history, no current value, zero baseline). */
  observation: Observation | null;
  /** Why no decision could be taken, or which guard held a crossed threshold back. */
  reason?: string;
  significance?: { z: number; p: number };
  /** The normal range (noise-aware rules). */
  band?: Band;
  /** Seasonal rules: the recent windows stood in for missing comparable periods. */
  basis?: 'recent';
  /**
   * Seasonal rules: the deviations |value − expected| to learn as noise while at rest, of the
   * rule's own window and of each extra window ([windowMs, deviation, scale]), with the scale
   * of the expected value each was measured against (noiseScale); the evaluation itself may
   * be an extra window's.
   */
  learn?: { main: number | null; mainScale?: number; extra: [number, number, number?][] };
}

/** A noise band for one evaluation: its half-width around the baseline (null while still learning). */
export interface BandInput {
  halfWidth: number | null;
  periods: number;
  period: Band['period'];
  comparable?: Band['comparable'];
  otherDays?: number;
}

/** Floating point: a change of exactly 15% must fire at 0.15 ((0.255 − 0.3) / 0.3 ≠ −0.15 in binary). */
export const EPS = 1e-9;

/** (current − baseline) / |baseline|; null when undefined. */
export function relativeChange(current: number | null, baseline: number | null): number | null {
  if (current === null || baseline === null || baseline === 0) return null;
  return (current - baseline) / Math.abs(baseline);
}


export const undecided = (v: Partial<Evaluation> & { reason: string }): Evaluation => ({
  value: null,
  baseline: null,
  change: null,
  notEnoughHistory: false,
  observation: null,
  ...v,
});

