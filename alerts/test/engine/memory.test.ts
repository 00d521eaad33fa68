import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRuleYaml, seriesSource } from '../../src/backtest/index.js';
import { AlertEngine } from '../../src/engine/engine.js';
import type { Rule } from '../../src/rules/schema.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Monday 2025-03-03 00:00 Asia/Shanghai. */
const T0 = Date.UTC(2025, 2, 2, 16, 0);

/** 5-minute counts with a daily shape and deterministic noise. */
const rows: { ts: number; value: number }[] = [];
{
  let seed = 11;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let ts = T0; ts < T0 + 6 * DAY; ts += 5 * MIN) {
    const hour = ((ts - T0) % DAY) / HOUR;
    rows.push({ ts, value: Math.round((100 + 60 * Math.sin(((hour - 6) / 24) * 2 * Math.PI)) * (1 + 0.1 * (rand() - 0.5))) });
  }
}
const source = seriesSource(rows, 'sum');
const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
const { rules } = parseRuleYaml(
  `rules:
  - id: r
    name: 测试
    kpi: series
    window: 1h
    baseline: { type: seasonal, period: 1d, periods: 3, min_periods: 2, days: all }
    # scale: level — each deviation is saved with the scale it was learnt at, and restored.
    band: { quantile: 0.99, k: 1.5, span: 3d, min_history: 12h, scale: level }
`,
  { catalogue },
);

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function engine(dir: string, memoryFile: string | undefined, clock: { t: number }, list: Rule[] = rules): AlertEngine {
  return new AlertEngine({
    source,
    sink: { publish: async () => {} },
    outlet: { enqueue: () => undefined },
    rules: () => list,
    dataDir: dir,
    linkFor: () => '',
    now: () => clock.t,
    logger: { info: () => {}, warn: () => {}, error: () => {} },
    ...(memoryFile ? { memoryFile } : {}),
  });
}

const reasonOf = (e: AlertEngine) => e.status().rules[0]?.splits[0];

describe('the noise memory survives a restart', () => {
  it('a restarted engine judges at once with the band it learnt; without the file it learns again for min_history', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-memory-'));
    dirs.push(dir);
    const file = join(dir, 'alert-memory.json');
    const clock = { t: T0 + 3 * DAY };
    const first = engine(dir, file, clock);
    for (; clock.t <= T0 + 4 * DAY; clock.t += 5 * MIN) await first.evaluateOnce(clock.t);
    const learnt = reasonOf(first);
    expect(learnt?.band).toBeDefined();
    await first.stop();
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { version: number; instances: Record<string, { noise: { samples: unknown[] } }> };
    expect(saved.version).toBe(1);
    expect(saved.instances['r|total']?.noise.samples.length).toBeGreaterThan(100);

    // Restart one hour later: the first evaluation already has a band, the same width as a
    // run that never stopped would have.
    clock.t = T0 + 4 * DAY + HOUR;
    const restarted = engine(dir, file, clock);
    await restarted.evaluateOnce(clock.t);
    const after = reasonOf(restarted);
    expect(after?.reason ?? '').not.toContain('learning');
    expect(after?.band).toBeDefined();
    const cont = { t: clock.t };
    const never = engine(mkdtempSync(join(tmpdir(), 'pulse-memory-')), undefined, cont);
    for (let t = T0 + 3 * DAY; t <= clock.t; t += 5 * MIN) await never.evaluateOnce(t);
    const w = (s: typeof after) => (s?.band ? s.band.high - s.band.low : NaN);
    expect(w(after)).toBeCloseTo(w(reasonOf(never)), 6);

    // Without the file: learning again.
    const forgetful = engine(dir, undefined, clock);
    await forgetful.evaluateOnce(clock.t);
    expect(reasonOf(forgetful)?.reason).toContain('learning');
    expect(reasonOf(forgetful)?.band).toBeUndefined();
  });

  it('a rule that now measures something else starts over; a corrupt file is set aside, not fatal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pulse-memory-'));
    dirs.push(dir);
    const file = join(dir, 'alert-memory.json');
    const clock = { t: T0 + 3 * DAY };
    const first = engine(dir, file, clock);
    for (; clock.t <= T0 + 4 * DAY; clock.t += 5 * MIN) await first.evaluateOnce(clock.t);
    await first.stop();
    const wider = rules.map((r) => (r.kind === 'change' ? { ...r, windowMs: 2 * HOUR } : r));
    const changed = engine(dir, file, clock, wider);
    await changed.evaluateOnce(clock.t);
    expect(reasonOf(changed)?.reason).toContain('learning');

    writeFileSync(file, '{ not json');
    const errors: string[] = [];
    const e = new AlertEngine({
      source,
      sink: { publish: async () => {} },
      outlet: { enqueue: () => undefined },
      rules: () => rules,
      dataDir: dir,
      linkFor: () => '',
      now: () => clock.t,
      logger: { info: () => {}, warn: () => {}, error: (_o, m) => void errors.push(m ?? '') },
      memoryFile: file,
    });
    await e.evaluateOnce(clock.t);
    expect(reasonOf(e)?.reason).toContain('learning');
    expect(errors.some((m) => m.includes('unreadable, moved to'))).toBe(true);
  });
});
