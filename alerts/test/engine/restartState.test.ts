/**
 * The alert state machine survives a restart (issue 13): an alert that was firing when the
 * process stopped (or crashed) goes on firing without a second 【告警】, and its 【恢复】 is
 * still sent after the restart. Through the real engine with a real memory file.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRuleYaml, seriesSource } from '../../src/backtest/index.js';
import type { AlertEvent, AlertNotification } from '../../src/contract.js';
import { AlertEngine } from '../../src/engine/engine.js';
import type { StateDocuments } from '../../src/engine/stateDocuments.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Monday 2025-03-03 00:00 Asia/Shanghai. */
const T0 = Date.UTC(2025, 2, 2, 16, 0);
const DROP_FROM = T0 + DAY + 10 * HOUR;
const DROP_TO = DROP_FROM + HOUR;

// 100 per 5 minutes for two days, 40 during one hour of the second day.
const rows: { ts: number; value: number }[] = [];
for (let ts = T0; ts < T0 + 2 * DAY; ts += 5 * MIN) rows.push({ ts, value: ts >= DROP_FROM && ts < DROP_TO ? 40 : 100 });
const source = seriesSource(rows, 'sum');
const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
const { rules, problems } = parseRuleYaml(
  `rules:
  - id: drop
    name: 掉量
    kpi: series
    window: 15m
    baseline: { type: same_window_yesterday }
    thresholds: { fire: 0.15 }
    pending_for: 1
`,
  { catalogue },
);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function engine(dir: string, memoryFile: string | undefined, clock: { t: number }) {
  const told: AlertNotification[] = [];
  const events: AlertEvent[] = [];
  const e = new AlertEngine({
    source,
    sink: { publish: async (es) => void events.push(...es) },
    outlet: { enqueue: (ns) => void told.push(...(ns as AlertNotification[])) },
    rules: () => rules,
    dataDir: dir,
    linkFor: () => '',
    now: () => clock.t,
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    ...(memoryFile ? { memoryFile } : {}),
  });
  return { e, told, events };
}

async function runUntil(e: AlertEngine, clock: { t: number }, until: number): Promise<void> {
  for (; clock.t <= until; clock.t += 5 * MIN) await e.evaluateOnce(clock.t);
}

describe('a firing alert across a restart', () => {
  it('has rules', () => expect(problems).toEqual([]));

  for (const how of ['stop', 'crash'] as const) {
    it(`after a ${how}: no second firing message, and the resolve is still sent`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'pulse-restart-'));
      dirs.push(dir);
      const file = join(dir, 'alert-memory.json');
      const clock = { t: DROP_FROM - HOUR };
      const first = engine(dir, file, clock);
      await runUntil(first.e, clock, DROP_FROM + 20 * MIN);
      expect(first.told.map((n) => n.kind)).toEqual(['firing']);
      expect(first.e.active().map((a) => a.state)).toEqual(['firing']);
      // A crash: no stop(), so only what was saved at the state change is on disk.
      if (how === 'stop') await first.e.stop();
      const saved = JSON.parse(readFileSync(file, 'utf8')) as { instances: Record<string, { machine?: { state: string }; told?: { told: string } }> };
      expect(saved.instances['drop|total']?.machine?.state).toBe('firing');
      expect(saved.instances['drop|total']?.told?.told).toBe('firing');

      // Restart while the drop goes on, then past its end.
      const second = engine(dir, file, clock);
      await second.e.evaluateOnce(clock.t);
      expect(second.e.active().map((a) => a.state)).toEqual(['firing']);
      await runUntil(second.e, clock, DROP_TO + HOUR);
      expect(second.told.map((n) => n.kind)).toEqual(['resolved']);
      expect(second.events.map((ev) => `${ev.from}→${ev.state}`)).toEqual(['firing→resolved', 'resolved→ok']);
      expect(second.e.active()).toEqual([]);
    });
  }

  it('without the memory file the restarted engine fires the same alert again (what the file prevents)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-restart-'));
    dirs.push(dir);
    const clock = { t: DROP_FROM - HOUR };
    const first = engine(dir, undefined, clock);
    await runUntil(first.e, clock, DROP_FROM + 20 * MIN);
    const second = engine(dir, undefined, clock);
    await runUntil(second.e, clock, DROP_TO + HOUR);
    expect(second.told.map((n) => n.kind)).toEqual(['firing', 'resolved']);
  });
});

describe('shared state (a cluster): the evaluator dies after writing its state, before its outbox has the firing', () => {
  const docs = new Map<string, string>();
  let refused = false;
  const state: StateDocuments = {
    read: async (name) => (docs.has(name) ? (JSON.parse(docs.get(name)!) as unknown) : undefined),
    write: async (name, json) => {
      if (refused) throw new Error('FENCED this node no longer holds the evaluator lease');
      docs.set(name, json);
    },
  };
  const evaluator = (clock: { t: number }, enqueue: (ns: AlertNotification[]) => unknown) =>
    new AlertEngine({ source, sink: { publish: async () => {} }, outlet: { enqueue: (ns) => enqueue(ns as AlertNotification[]) }, rules: () => rules, dataDir: '/nonexistent', linkFor: () => '', now: () => clock.t, logger: { info: () => {}, warn: () => {}, error: () => {} }, state });

  it('the next evaluator enqueues that firing again under its key, fires nothing new, and sends the resolve; a deposed one enqueues nothing', async () => {
    const clock = { t: DROP_FROM - HOUR };
    const lost: AlertNotification[] = [];
    const first = evaluator(clock, (ns) => {
      lost.push(...ns);
      throw new Error('killed before the outbox had it');
    });
    await first.reload();
    // Evaluations until the one that fires, the last before the process dies.
    for (; !lost.length && clock.t <= DROP_FROM + 20 * MIN; clock.t += 5 * MIN) await first.evaluateOnce(clock.t);
    expect(lost.map((n) => n.kind)).toEqual(['firing']);
    const told: AlertNotification[] = [];
    const second = evaluator(clock, (ns) => void told.push(...ns));
    await second.reload();
    // The same message key: an outbox that already has it ignores it (sent once either way).
    expect(told.map((n) => n.key)).toEqual(lost.map((n) => n.key));
    await runUntil(second, clock, DROP_TO + HOUR);
    expect(told.map((n) => n.kind)).toEqual(['firing', 'resolved']);

    // A node whose writes are refused (it lost the lease) evaluates but enqueues nothing.
    refused = true;
    docs.clear();
    const clock2 = { t: DROP_FROM - HOUR };
    const deposed: AlertNotification[] = [];
    const third = evaluator(clock2, (ns) => void deposed.push(...ns));
    await runUntil(third, clock2, DROP_FROM + 20 * MIN);
    expect(third.active().map((a) => a.state)).toEqual(['firing']);
    expect(deposed).toEqual([]);
  });
});
