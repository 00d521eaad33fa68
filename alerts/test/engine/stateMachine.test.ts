/** The per-alert state machine, driven by hand-made observations. */
import { describe, expect, it } from 'vitest';
import type { Observation } from '../../src/engine/evaluate.js';
import { initialMachine, step, type AlertMachine, type MachineConfig } from '../../src/engine/stateMachine.js';

const cfg: MachineConfig = { pendingFor: 2, keepFiringForMs: 0, flapping: { maxFlips: 4, withinMs: 30 * 60_000 } };
const DOWN: Observation = { fire: 'down', holdUp: false, holdDown: true, severity: 'warning' };
const UP: Observation = { fire: 'up', holdUp: true, holdDown: false, severity: 'warning' };
const HOLD_DOWN: Observation = { fire: null, holdUp: false, holdDown: true, severity: 'warning' };
const CALM: Observation = { fire: null, holdUp: false, holdDown: false, severity: 'warning' };

function run(obs: (Observation | null)[], c: MachineConfig = cfg, every = 10_000): string[] {
  let m: AlertMachine = initialMachine(0);
  return obs.map((o, i) => {
    m = step(m, o, (i + 1) * every, c).machine;
    return m.state;
  });
}

describe('state machine', () => {
  it('ok → pending → firing → resolved → ok', () => {
    expect(run([DOWN, DOWN, DOWN, CALM, CALM])).toEqual(['pending', 'firing', 'firing', 'resolved', 'ok']);
  });

  it('a pending that clears goes back to ok', () => {
    expect(run([DOWN, CALM, DOWN, DOWN])).toEqual(['pending', 'ok', 'pending', 'firing']);
  });

  it('hysteresis: a firing alert holds between clear and fire', () => {
    expect(run([DOWN, DOWN, HOLD_DOWN, HOLD_DOWN, CALM])).toEqual(['pending', 'firing', 'firing', 'firing', 'resolved']);
  });

  it('undecidable evaluations (no data) move nothing', () => {
    expect(run([DOWN, null, DOWN, null, CALM])).toEqual(['pending', 'pending', 'firing', 'firing', 'resolved']);
  });

  it('keep_firing_for delays the resolve until the clear has held that long', () => {
    const c = { ...cfg, keepFiringForMs: 30_000 };
    expect(run([DOWN, DOWN, CALM, CALM, CALM, CALM], c)).toEqual(['pending', 'firing', 'firing', 'firing', 'firing', 'resolved']);
    // A relapse restarts the clock.
    expect(run([DOWN, DOWN, CALM, HOLD_DOWN, CALM, CALM, CALM], c)).toEqual(['pending', 'firing', 'firing', 'firing', 'firing', 'firing', 'firing']);
  });

  it('a dip alert clears on the rebound; the rebound is a new episode after pendingFor', () => {
    expect(run([DOWN, DOWN, UP, UP, UP])).toEqual(['pending', 'firing', 'resolved', 'pending', 'firing']);
  });

  it('pending_while clear: a pending episode lives through an evaluation that only holds, and fires once pending_for has passed', () => {
    const c: MachineConfig = { ...cfg, pendingFor: 1, pendingForMs: 20_000 };
    // Default: the hold evaluation ends the episode; the next fire starts a new one.
    expect(run([DOWN, HOLD_DOWN, DOWN, DOWN], c)).toEqual(['pending', 'ok', 'pending', 'pending']);
    // clear: the same sequence is one episode, 20 s old at the third evaluation (a firing one).
    expect(run([DOWN, HOLD_DOWN, DOWN, DOWN], { ...c, pendingWhile: 'clear' })).toEqual(['pending', 'pending', 'firing', 'firing']);
    // A hold never fires by itself, and a calm evaluation still ends the episode.
    expect(run([DOWN, HOLD_DOWN, HOLD_DOWN, CALM, DOWN], { ...c, pendingWhile: 'clear' })).toEqual(['pending', 'pending', 'pending', 'ok', 'pending']);
  });

  it('a change of direction while pending restarts the count', () => {
    expect(run([DOWN, UP, UP])).toEqual(['pending', 'pending', 'firing']);
  });

  it('escalation to critical within an episode is flagged once', () => {
    let m = initialMachine(0);
    const crit: Observation = { ...DOWN, severity: 'critical' };
    m = step(m, DOWN, 1, { ...cfg, pendingFor: 1 }).machine;
    const s = step(m, crit, 2, { ...cfg, pendingFor: 1 });
    expect(s).toMatchObject({ escalated: true, changed: false });
    expect(s.machine.severity).toBe('critical');
    expect(step(s.machine, crit, 3, cfg).escalated).toBe(false);
  });

  it('flapping: more than maxFlips flips within the window, out after `within` without flips', () => {
    const c = { ...cfg, pendingFor: 1 };
    const states = run([DOWN, CALM, DOWN, CALM, DOWN, CALM, DOWN], c, 60_000);
    expect(states).toEqual(['firing', 'resolved', 'firing', 'resolved', 'flapping', 'flapping', 'flapping']);
    // Continue: stable firing; the last flip was at minute 7 → out at minute 37.
    let m: AlertMachine = initialMachine(0);
    for (const [i, o] of [DOWN, CALM, DOWN, CALM, DOWN, CALM, DOWN].entries()) m = step(m, o, (i + 1) * 60_000, c).machine;
    m = step(m, DOWN, 36 * 60_000, c).machine;
    expect(m.state).toBe('flapping');
    const out = step(m, DOWN, 37 * 60_000, c);
    expect(out).toMatchObject({ from: 'flapping', changed: true });
    expect(out.machine.state).toBe('firing');
  });

  it('flips spread wider than the window are not flapping', () => {
    const c = { ...cfg, pendingFor: 1 };
    expect(run([DOWN, CALM, DOWN, CALM, DOWN, CALM], c, 10 * 60_000)).toEqual(['firing', 'resolved', 'firing', 'resolved', 'firing', 'resolved']);
  });
});
