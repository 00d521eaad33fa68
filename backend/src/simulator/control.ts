/**
 * Wires the simulator into the product: its events go through the same ingest service as
 * producers' events, and the admin API can inject a swing in one KPI and channel.
 */
import { CHANNELS, SWING_KPIS, Simulator, type RawEvent } from './simulator.js';

const MAX_SWING_MS = 24 * 3_600_000;

/** What the HTTP layer may ask of the running simulator (swings for demos and tests). */
export interface SimulatorControl {
  injectSwing(s: { kpi: string; channel?: string; factor: number; durationMs?: number; startAt?: number }): unknown;
  clearSwings(): void;
  activeSwings(): unknown;
  /** Validates a swing request; returns a reason or null. */
  swingProblem(s: { kpi: unknown; channel?: unknown; factor: unknown; durationMs?: unknown }): string | null;
}

export function createSimulatorControl(
  sink: (events: RawEvent[]) => void,
  opts: { peakEventsPerSecond: number; timezone: string; seed?: number; levelAt?: (ts: number) => number; onError(err: unknown): void },
): SimulatorControl & { start(from?: number): void; stop(): void } {
  const sim = new Simulator(sink, {
    peakEventsPerSecond: opts.peakEventsPerSecond, timezone: opts.timezone, ...(opts.seed !== undefined ? { seed: opts.seed } : {}), ...(opts.levelAt ? { levelAt: opts.levelAt } : {}), onError: opts.onError,
  });
  return {
    start: (from) => sim.start(from),
    stop: () => sim.stop(),
    injectSwing: (s) => sim.injectSwing(s as Parameters<Simulator['injectSwing']>[0]),
    clearSwings: () => sim.clearSwings(),
    activeSwings: () => sim.activeSwings(),
    swingProblem: (s) => {
      if (typeof s.kpi !== 'string' || !(SWING_KPIS as readonly string[]).includes(s.kpi)) return `kpi must be one of ${SWING_KPIS.join(', ')}`;
      if (s.channel !== undefined && !(CHANNELS as readonly unknown[]).includes(s.channel)) return `channel must be one of the simulated channels: ${CHANNELS.join(', ')}`;
      if (typeof s.factor !== 'number' || !Number.isFinite(s.factor) || s.factor < 0 || s.factor > 10) return 'factor must be a number between 0 and 10 (0.84 = a 16% drop)';
      if (s.durationMs !== undefined && (typeof s.durationMs !== 'number' || !Number.isFinite(s.durationMs) || s.durationMs <= 0 || s.durationMs > MAX_SWING_MS)) {
        return 'durationSeconds must be between 1 and 86400';
      }
      return null;
    },
  };
}
