/**
 * Per-alert state, pure: ok → pending → firing → resolved → ok, plus Kapacitor-style
 * flapping on top.
 *
 * The inner machine always runs; the public state mirrors it except while flapping:
 * more than `maxFlips` firing↔resolved flips within `within` → public `flapping` until no
 * flip for `within`, then it shows the inner state again (firing, or resolved).
 *
 * A firing episode remembers its direction: a dip alert clears when the dip is over even
 * if the rebound is itself a swing (that rebound is a new episode, after `pendingFor`).
 */
import type { AlertState, Severity } from '../contract.js';
import type { Move, Observation } from './evaluate.js';

export type InnerState = 'ok' | 'pending' | 'firing' | 'resolved';

export interface AlertMachine {
  state: AlertState;
  inner: InnerState;
  /** Direction of the pending / firing episode. */
  move: Move | null;
  pendingCount: number;
  /** When the pending episode started (pending_for as a duration). */
  pendingSince: number | null;
  /** When the current firing episode started (level shifts). */
  firingSince: number | null;
  /** When the clear condition started to hold (keep_firing_for). */
  clearingSince: number | null;
  /** Highest severity of the current (or last) firing episode. */
  severity: Severity | null;
  /** Times of firing↔resolved flips within the flapping window. */
  flips: number[];
  /** When the public state was entered. */
  since: number;
}

export interface MachineConfig {
  pendingFor: number;
  /** The condition must also have held this long (pending_for as a duration); default 0. */
  pendingForMs?: number;
  /**
   * 'clear': a pending episode survives an evaluation that does not fire but still holds its
   * direction's clear side (obs.holdUp / holdDown); it fires at a later firing evaluation once
   * pending_for has passed since it began. Default: any non-firing evaluation ends it.
   */
  pendingWhile?: 'clear';
  keepFiringForMs: number;
  flapping: { maxFlips: number; withinMs: number };
}

export interface Step {
  machine: AlertMachine;
  from: AlertState;
  changed: boolean;
  /** Firing went from warning to critical within one episode. */
  escalated: boolean;
}

export function initialMachine(now: number): AlertMachine {
  return { state: 'ok', inner: 'ok', move: null, pendingCount: 0, pendingSince: null, firingSince: null, clearingSince: null, severity: null, flips: [], since: now };
}

/** One evaluation. `obs` null = the data could not decide: nothing moves. */
export function step(prev: AlertMachine, obs: Observation | null, now: number, cfg: MachineConfig): Step {
  const m: AlertMachine = { ...prev, flips: prev.flips.filter((t) => t > now - cfg.flapping.withinMs) };
  let escalated = false;

  const startEpisode = (move: Move, o: Observation): void => {
    m.move = move;
    m.pendingCount = 1;
    m.pendingSince = now;
    m.inner = 'pending';
    if (ripe()) enterFiring(o);
  };
  const ripe = (): boolean => m.pendingCount >= cfg.pendingFor && now - (m.pendingSince ?? now) >= (cfg.pendingForMs ?? 0);
  const enterFiring = (o: Observation): void => {
    m.inner = 'firing';
    m.firingSince = now;
    m.severity = o.severity;
    m.clearingSince = null;
    m.flips.push(now);
  };

  if (obs) {
    switch (m.inner) {
      case 'ok':
      case 'resolved':
        if (obs.fire) startEpisode(obs.fire, obs);
        else m.inner = 'ok';
        break;
      case 'pending':
        if (obs.fire && obs.fire === m.move) {
          m.pendingCount++;
          if (ripe()) enterFiring(obs);
        } else if (obs.fire) {
          startEpisode(obs.fire, obs);
        } else if (cfg.pendingWhile === 'clear' && (m.move === 'up' ? obs.holdUp : obs.holdDown)) {
          // A move at the edge of its band flickers in and out from one evaluation to the
          // next: still beyond the clear side, it is the same episode (no count, no firing).
        } else {
          m.inner = 'ok';
          m.move = null;
          m.pendingCount = 0;
          m.pendingSince = null;
        }
        break;
      case 'firing': {
        const hold = m.move === 'up' ? obs.holdUp : obs.holdDown;
        if (hold) {
          m.clearingSince = null;
          if (obs.severity === 'critical' && m.severity !== 'critical') {
            m.severity = 'critical';
            escalated = true;
          }
        } else {
          m.clearingSince ??= now;
          if (now - m.clearingSince >= cfg.keepFiringForMs) {
            m.inner = 'resolved';
            m.move = null;
            m.pendingCount = 0;
            m.pendingSince = null;
            m.firingSince = null;
            m.clearingSince = null;
            m.flips.push(now);
          }
        }
        break;
      }
    }
  }

  let next: AlertState;
  if (prev.state === 'flapping') {
    const lastFlip = m.flips.at(-1);
    if (lastFlip === undefined) {
      // Stable for `within`: report what it is now.
      next = m.inner === 'firing' ? 'firing' : 'resolved';
      m.flips = [];
    } else {
      next = 'flapping';
    }
  } else {
    next = m.flips.length > cfg.flapping.maxFlips ? 'flapping' : m.inner;
  }

  if (next !== prev.state) m.since = now;
  m.state = next;
  return { machine: m, from: prev.state, changed: next !== prev.state, escalated: escalated && next === 'firing' };
}

/**
 * End a firing episode because its level became the new normal (新常态): the alert resolves
 * now, whatever the data says, and counts no flip (it is not flapping).
 */
export function adoptNewNormal(prev: AlertMachine, now: number): Step {
  if (prev.inner !== 'firing') return { machine: prev, from: prev.state, changed: false, escalated: false };
  const m: AlertMachine = { ...prev, inner: 'resolved', move: null, pendingCount: 0, pendingSince: null, firingSince: null, clearingSince: null };
  const next: AlertState = prev.state === 'flapping' ? 'flapping' : 'resolved';
  if (next !== prev.state) m.since = now;
  m.state = next;
  return { machine: m, from: prev.state, changed: next !== prev.state, escalated: false };
}
