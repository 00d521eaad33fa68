/**
 * Whether an alert needs a notification now, and why one is held back. Pure.
 *
 * Reconciles what people were last told (`told`) with the alert's state, so a message held
 * back by quiet hours, a silence or the cooldown is sent when the hold ends if it is still
 * true, and a "resolved" is sent only for an alert people were told about.
 */
import type { AlertState, Severity } from '../contract.js';
import type { Hold } from '@siyu-pulse/contracts/alertCenter';

// What the alert center's API answers: the shapes live in the contracts package.
export type { Hold };

export type NotifyKind = 'firing' | 'resolved' | 'flapping';

export interface NotifyMemory {
  /** The last kind delivered to the outlet for this alert. */
  told: NotifyKind | null;
  toldSeverity: Severity | null;
  lastFiringAt: number | null;
}

export interface Holds {
  silenceWindow: boolean;
  silence: boolean;
  acked: boolean;
}

export function emptyMemory(): NotifyMemory {
  return { told: null, toldSeverity: null, lastFiringAt: null };
}

/** What people should hear about the state, if anything. */
export function wanted(state: AlertState, severity: Severity | null, mem: NotifyMemory): NotifyKind | null {
  switch (state) {
    case 'firing':
      if (mem.told !== 'firing') return 'firing';
      return severity === 'critical' && mem.toldSeverity !== 'critical' ? 'firing' : null; // escalation
    case 'flapping':
      return mem.told === 'flapping' ? null : 'flapping';
    default:
      return mem.told === 'firing' || mem.told === 'flapping' ? 'resolved' : null;
  }
}

export function decide(
  state: AlertState,
  severity: Severity | null,
  mem: NotifyMemory,
  holds: Holds,
  cooldownMs: number,
  now: number,
): { kind: NotifyKind | null; heldBy?: Hold } {
  const kind = wanted(state, severity, mem);
  if (!kind) return { kind: null };
  if (holds.silenceWindow) return { kind: null, heldBy: 'silence_window' };
  if (holds.silence) return { kind: null, heldBy: 'silence' };
  // An ack means "someone is on it": no more alarms, but they do want to hear it is over.
  if (holds.acked && kind !== 'resolved') return { kind: null, heldBy: 'ack' };
  // Cooldown spaces two firing messages of one alert; escalation and the message that
  // ends a flapping period are updates, not repeats.
  if (kind === 'firing' && mem.told === 'resolved' && mem.lastFiringAt !== null && now - mem.lastFiringAt < cooldownMs) {
    return { kind: null, heldBy: 'cooldown' };
  }
  return { kind };
}

export function remember(mem: NotifyMemory, kind: NotifyKind, severity: Severity | null, now: number): NotifyMemory {
  return kind === 'firing' ? { told: kind, toldSeverity: severity, lastFiringAt: now } : { ...mem, told: kind };
}
