/** The timer loop (fake timers, no waiting) and the engine fed by a RulesLoader. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RulesLoader } from '../../src/rules/loader.js';
import { CATALOGUE } from '../rules/catalogueFixture.js';
import { changeRule, DAY, makeEngine, MemorySource, MIN, T, tempDir } from './fakes.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('loop', () => {
  it('start() evaluates at once and then every intervalMs; stop() ends it', async () => {
    vi.useFakeTimers({ now: T });
    const src = new MemorySource(T - DAY);
    const rule = changeRule({ id: 'open', name: 'x', kpi: 'push_open_rate', window: '15m' });
    const h = makeEngine(src, [rule], { intervalMs: 10_000, now: () => Date.now() });
    h.engine.start();
    expect(h.engine.status().running).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(25_000);
    // 3 evaluations × 2 windows (current, previous), at T, T+10s, T+20s.
    expect(src.calls.map((c) => c.to - T)).toEqual([0, -15 * MIN, 10_000, 10_000 - 15 * MIN, 20_000, 20_000 - 15 * MIN]);
    await h.engine.stop();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(src.calls).toHaveLength(6);
    expect(h.engine.status()).toMatchObject({ running: false, lastEvaluationAt: T + 20_000 });
  });
});

describe('engine with the rules loader', () => {
  it('evaluates the rules in force and shows the loader problems in status()', async () => {
    const dir = join(tempDir(), 'rules');
    mkdirSync(dir);
    writeFileSync(join(dir, 'a.yaml'), 'rules:\n  - { id: open, name: 打开率, kpi: push_open_rate, by: channel, window: 15m, pending_for: 1 }\n');
    writeFileSync(join(dir, 'b.yaml'), 'rules:\n  - { id: bad, name: 坏规则, kpi: nope, window: 15m }\n');
    const loader = new RulesLoader({ dir, catalogue: CATALOGUE, pollMs: 0 });
    await loader.reload();

    const src = new MemorySource(T - DAY);
    src.put(T - 20 * MIN, 'wecom', { push_delivered: 1000, push_open: 300 });
    src.put(T - 5 * MIN, 'wecom', { push_delivered: 1000, push_open: 200 });
    const h = makeEngine(src, [], { rules: loader });
    await h.at(T);
    const st = h.engine.status();
    expect(st.rules.map((r) => r.rule.id)).toEqual(['open']);
    expect(st.rules[0]?.splits[0]).toMatchObject({ state: 'firing', lastEvaluatedAt: T });
    expect(st.problems[0]).toMatchObject({ file: 'b.yaml', ruleId: 'bad', field: 'kpi', line: 2 });
    expect(st.problemText[0]).toMatch(/^b\.yaml:2 rule "bad" field kpi: unknown KPI "nope"/);

    // A rule removed from the files stops being evaluated and leaves the status.
    writeFileSync(join(dir, 'a.yaml'), 'rules: []\n');
    await loader.reload();
    await h.at(T + 10_000);
    expect(h.engine.status().rules).toEqual([]);
    expect(h.engine.active()).toEqual([]);
  });
});
