/** Rule documents → normalised rules, defaults and refusals (no files involved). */
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/rules/duration.js';
import { formatProblem, parseRuleDocument } from '../../src/rules/parse.js';
import { CATALOGUE_MAP } from './catalogueFixture.js';

const parse = (...rules: unknown[]) => parseRuleDocument({ rules }, { file: 'x.yaml', catalogue: CATALOGUE_MAP });
const base = { id: 'r1', name: '推送打开率', kpi: 'push_open_rate', window: '15m' };

describe('durations', () => {
  it('parse and format', () => {
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration(0)).toBe(0);
    expect(parseDuration(15)).toBeNull();
    expect(parseDuration('15 minutes')).toBeNull();
    expect(formatDuration(5_400_000)).toBe('1h30m');
  });
});

describe('rule schema', () => {
  it('applies the defaults', () => {
    const { rules, problems } = parse(base);
    expect(problems).toEqual([]);
    expect(rules[0]).toEqual({
      kind: 'change',
      id: 'r1',
      name: '推送打开率',
      group: 'r1',
      notify: ['dingtalk'],
      silenceWindows: [],
      pendingFor: 2,
      // issue 13: pending_for may be a duration; a count leaves it 0.
      pendingForMs: 0,
      keepFiringForMs: 0,
      cooldownMs: 30 * 60_000,
      flapping: { maxFlips: 4, withinMs: 30 * 60_000 },
      file: 'x.yaml',
      kpi: 'push_open_rate',
      windowMs: 15 * 60_000,
      baseline: { type: 'previous_window', windows: 1 },
      // issue 13: holidays and campaigns are ordinary days unless the rule says otherwise.
      calendar: { holidays: 'normal', campaigns: 'normal' },
      thresholds: { fire: 0.15, clear: 0.1 },
      direction: 'both',
      minSample: 0,
      minAbsChange: 0,
    });
  });

  it('trailing_mean defaults to 4 windows; a lone fire keeps the 3:2 clear ratio; percent strings', () => {
    const { rules, problems } = parse({ ...base, baseline: { type: 'trailing_mean' }, thresholds: { fire: '30%' } });
    expect(problems).toEqual([]);
    const r = rules[0];
    expect(r?.kind === 'change' && r.baseline).toEqual({ type: 'trailing_mean', windows: 4 });
    expect(r?.kind === 'change' && r.thresholds.fire).toBeCloseTo(0.3, 12);
    expect(r?.kind === 'change' && r.thresholds.clear).toBeCloseTo(0.2, 12);
  });

  it('deadman rules default to firing on the first evaluation past `after`', () => {
    const { rules, problems } = parse({ id: 'd', name: '断流', kind: 'deadman', by: 'channel', after: '10m' });
    expect(problems).toEqual([]);
    expect(rules[0]).toMatchObject({ kind: 'deadman', by: 'channel', afterMs: 600_000, pendingFor: 1, notify: ['dingtalk'] });
  });

  it('refuses clear ≥ fire and critical ≤ fire, naming the field', () => {
    const { rules, problems } = parse({ ...base, thresholds: { fire: 0.15, clear: 0.2, critical: 0.1 } });
    expect(rules).toEqual([]);
    expect(problems.map((p) => [p.ruleId, p.field])).toEqual([
      ['r1', 'thresholds.clear'],
      ['r1', 'thresholds.critical'],
    ]);
    expect(formatProblem(problems[0]!)).toBe('x.yaml rule "r1" field thresholds.clear: clear (0.2) must be below fire (0.15) — hysteresis');
  });

  it('refuses an unknown KPI and a split the KPI does not offer', () => {
    const { problems } = parse(
      { ...base, id: 'a', kpi: 'push_opne_rate' },
      { ...base, id: 'b', kpi: 'active_members', by: 'community', window: '1h' },
    );
    expect(problems.map((p) => [p.ruleId, p.field])).toEqual([
      ['a', 'kpi'],
      ['b', 'by'],
    ]);
    expect(problems[0]?.message).toMatch(/unknown KPI "push_opne_rate"/);
    expect(problems[1]?.message).toMatch(/cannot be split by community \(allowed: channel\)/);
  });

  it('refuses significance on a non-proportion, sub-minute windows on distinct KPIs, windows on non-trailing baselines', () => {
    const { problems } = parse(
      { ...base, id: 'a', kpi: 'aov', significance: {} },
      { ...base, id: 'b', kpi: 'churn_rate', window: '15m' },
      { ...base, id: 'c', baseline: { type: 'previous_window', windows: 3 } },
    );
    expect(problems.map((p) => [p.ruleId, p.field])).toEqual([
      ['a', 'significance'],
      ['b', 'window'],
      ['c', 'baseline.windows'],
    ]);
  });

  it('names unknown fields (typos), bad durations and bad times', () => {
    const { problems } = parse(
      { ...base, id: 'a', min_sampel: 200 },
      { ...base, id: 'b', window: '15' },
      { ...base, id: 'c', silence_windows: [{ from: '7:00', to: '08:00' }] },
    );
    expect(problems.map((p) => [p.ruleId, p.field])).toEqual([
      ['a', 'min_sampel'],
      ['b', 'window'],
      ['c', 'silence_windows.0.from'],
    ]);
  });

  it('refuses duplicate ids in a file', () => {
    const { rules, problems } = parse(base, { ...base, name: 'again' });
    expect(rules).toHaveLength(1);
    expect(problems[0]).toMatchObject({ ruleId: 'r1', field: 'id' });
    expect(problems[0]?.message).toMatch(/duplicate/);
  });

  it('a file without `rules:` is a file-level problem; an empty file is no rules', () => {
    expect(parseRuleDocument({ rule: [] }, { file: 'x.yaml', catalogue: CATALOGUE_MAP }).problems.map((p) => p.field)).toEqual(['rules', 'rule']);
    expect(parseRuleDocument(null, { file: 'x.yaml', catalogue: CATALOGUE_MAP })).toEqual({ rules: [], problems: [] });
  });
});
