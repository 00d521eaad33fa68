import { afterEach, describe, expect, it } from 'vitest';
import { backtest, parseRuleYaml, seriesSource } from '../../src/backtest/index.js';
import { kindOf, registerRuleKind, ruleKinds, yamlKinds } from '../../src/kinds/registry.js';
import { ceilingKind } from './ceiling/index.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 2, 2, 16, 0);

/** 2 days of 5-minute counts at 100, with 300 for one hour on day 2. */
const rows = Array.from({ length: 2 * 288 }, (_, i) => {
  const ts = T0 + i * 5 * MIN;
  return { ts, value: i >= 300 && i < 312 ? 300 : 100 };
});

const YAML = `
rules:
  - id: ceiling_joins
    name: 入群上限
    kind: ceiling
    kpi: series
    window: 15m
    limit: 2000
`;

let unregister: (() => void) | undefined;
afterEach(() => {
  unregister?.();
  unregister = undefined;
});

describe('rule kinds are modules in a registry', () => {
  it('the built-in kinds: change, seasonal, target, deadman, group_silence, group_exodus; the engine picks seasonal for a seasonal change rule', () => {
    expect(ruleKinds().map((k) => k.id).sort()).toEqual(['change', 'deadman', 'group_exodus', 'group_silence', 'seasonal', 'target']);
    expect(yamlKinds()).toEqual(['change', 'deadman', 'group_exodus', 'group_silence', 'target']);
    const source = seriesSource(rows, 'sum');
    const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
    const { rules } = parseRuleYaml(
      `rules:\n  - { id: a, name: a, kpi: series, window: 1h }\n  - { id: b, name: b, kpi: series, window: 1h, baseline: { type: seasonal, period: 1d } }\n`,
      { catalogue },
    );
    expect(rules.map((r) => kindOf(r).id)).toEqual(['change', 'seasonal']);
  });

  it('a new kind is one folder and one registry line: parsed, evaluated by the real engine, worded', async () => {
    const source = seriesSource(rows, 'sum');
    const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
    // Before registering, the parser names the kinds it knows.
    const before = parseRuleYaml(YAML, { catalogue });
    expect(before.rules).toEqual([]);
    expect(before.problems[0]?.message).toBe('kind must be change, deadman, group_exodus, group_silence or target, got "ceiling"');

    unregister = registerRuleKind(ceilingKind); // the one line

    const { rules, problems } = parseRuleYaml(YAML, { catalogue });
    expect(problems).toEqual([]);
    expect(rules[0]).toMatchObject({ kind: 'ceiling', kpi: 'series', windowMs: 15 * MIN, limit: 2000 });
    // Shared checks still apply to the new kind (the KPI must exist), and its own schema's.
    const bad = parseRuleYaml(YAML.replace('kpi: series', 'kpi: nope').replace('limit: 2000', 'limit: -1'), { catalogue });
    expect(bad.problems.map((p) => p.field)).toEqual(['limit', 'kpi']);

    // The busiest 15 minutes hold 3 × 300 = 900: quiet under a ceiling of 2000, one firing under 600.
    const quiet = await backtest({ rules, source, from: T0 + 15 * MIN, to: T0 + 2 * 288 * 5 * MIN, stepMs: 5 * MIN });
    expect(quiet.firings).toEqual([]);
    const low = parseRuleYaml(YAML.replace('limit: 2000', 'limit: 600'), { catalogue }).rules;
    const r = await backtest({ rules: low, source, from: T0 + 15 * MIN, to: T0 + 2 * 288 * 5 * MIN, stepMs: 5 * MIN });
    expect(r.firings).toHaveLength(1);
    const f = r.firings[0]!;
    expect(f.value).toBe(700); // the first 15 minutes over 600: two rows at 300, one at 100
    expect(f.baseline).toBe(600);
    expect(r.events.find((e) => e.state === 'firing')?.summary).toBe('序列（计数） 超过上限 600（当前 700）');
    expect(r.events.some((e) => e.state === 'resolved' && e.summary === '序列（计数） 回到上限以内')).toBe(true);

    unregister();
    unregister = undefined;
    expect(ruleKinds().some((k) => k.id === 'ceiling')).toBe(false);
  });
});
