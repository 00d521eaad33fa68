import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { backtest, parseRuleYaml, parseSeriesCsv, seriesSource } from '../../src/backtest/index.js';
import { needsMinuteWindows } from '../../src/rules/validate.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
/** Monday 2025-03-03 00:00 Asia/Shanghai. */
const T0 = Date.UTC(2025, 2, 2, 16, 0);

/** 5-minute counts with a daily shape and deterministic noise; `bump` multiplies some rows. */
function series(days: number, bump: (ts: number) => number = () => 1): { ts: number; value: number }[] {
  const rows: { ts: number; value: number }[] = [];
  let seed = 7;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let ts = T0; ts < T0 + days * DAY; ts += 5 * MIN) {
    const hour = ((ts - T0) % DAY) / HOUR;
    const level = 100 + 60 * Math.sin(((hour - 6) / 24) * 2 * Math.PI);
    rows.push({ ts, value: Math.round(level * (1 + 0.05 * (rand() - 0.5)) * bump(ts)) });
  }
  return rows;
}

const SEASONAL = `
rules:
  - id: r
    name: 测试
    kpi: series
    window: 1h
    baseline: { type: seasonal, period: 1d, periods: 5, min_periods: 3, days: all }
    band: { quantile: 0.99, k: 1.5, span: 7d, min_history: 12h }
    thresholds: { fire: 0.15, clear: 0.10 }
    pending_for: 10m
`;

function run(rows: { ts: number; value: number }[], yaml = SEASONAL) {
  const source = seriesSource(rows, 'sum');
  const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
  const { rules, problems } = parseRuleYaml(yaml, { catalogue });
  expect(problems).toEqual([]);
  return backtest({ rules, source, from: rows[0]!.ts + 5 * MIN, to: rows.at(-1)!.ts + 5 * MIN, stepMs: 5 * MIN });
}

describe('backtest (the engine over a series)', () => {
  it('a quiet seasonal series fires nothing; a 40% drop for 3 hours fires once, with value, baseline and band', async () => {
    const quiet = await run(series(10));
    expect(quiet.firings).toEqual([]);
    expect(quiet.evaluations).toBe(10 * 288);

    const start = T0 + 8 * DAY + 14 * HOUR;
    const r = await run(series(10, (ts) => (ts >= start && ts < start + 3 * HOUR ? 0.6 : 1)));
    expect(r.firings).toHaveLength(1);
    const f = r.firings[0]!;
    expect(f.state).toBe('firing');
    expect(f.ts).toBeGreaterThan(start);
    expect(f.ts).toBeLessThan(start + HOUR);
    expect(f.change).toBeLessThan(-0.15);
    expect(f.value).toBeLessThan(f.baseline!);
    expect(f.band).not.toBeNull();
    expect(f.value).toBeLessThan(f.band!.low);
    expect(f.summary).toMatch(/正常区间 .*（近5天同一时段）· 低了 \d+(\.\d)?%/);
  }, 60_000);

  it('a series KPI is a plain sum, not a distinct count: any window length is allowed', () => {
    const source = seriesSource(series(1), 'sum');
    expect(needsMinuteWindows(source.catalogue()[0]!)).toBe(false);
    const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
    const { problems } = parseRuleYaml('rules: [{ id: a, name: a, kpi: series, window: 90s }]', { catalogue });
    expect(problems).toEqual([]);
  });

  it('parses CSV with a header and refuses a malformed row with its line', () => {
    expect(parseSeriesCsv('timestamp,value\n2025-01-01 00:00:00,1\n2025-01-01 00:05:00,2\n').rows).toHaveLength(2);
    expect(() => parseSeriesCsv('timestamp,value\n2025-01-01 00:00:00,1\n2025-01-01 00:05:00,x\n')).toThrow(/line 3/);
  });

  it('a ratio with its denominator (timestamp,value,sample): the window is Σ(value × sample) ÷ Σsample, with the denominator as its sample', async () => {
    const { rows } = parseSeriesCsv('timestamp,value,sample\n2025-01-01 00:00:00,0.5,100\n2025-01-01 00:05:00,0.2,400\n');
    expect(rows).toEqual([expect.objectContaining({ value: 0.5, sample: 100 }), expect.objectContaining({ value: 0.2, sample: 400 })]);
    const w = await seriesSource(rows, 'mean').window('series', rows[0]!.ts, rows[0]!.ts + 10 * 60_000);
    expect(w?.total.value).toBeCloseTo((0.5 * 100 + 0.2 * 400) / 500);
    expect(w?.total.sample).toBe(500);
    expect(() => parseSeriesCsv('t,v,s\n2025-01-01 00:00:00,0.5,100\n2025-01-01 00:05:00,0.2,-1\n')).toThrow(/line 3/);
    expect(() => seriesSource([rows[0]!, { ts: rows[1]!.ts, value: 0.2 }], 'mean')).toThrow(/every row or on none/);
    expect(() => seriesSource(rows, 'sum')).toThrow(/mean series only/);
  });
});

describe('backtest CLI', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-bt-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one JSON line per firing, the same firings as the function', async () => {
    const start = T0 + 8 * DAY + 14 * HOUR;
    const rows = series(10, (ts) => (ts >= start && ts < start + 3 * HOUR ? 1.5 : 1));
    const csv = ['timestamp,value', ...rows.map((r) => `${new Date(r.ts).toISOString().replace('T', ' ').slice(0, 19)},${r.value}`)].join('\n');
    writeFileSync(join(dir, 'kpi.csv'), csv);
    writeFileSync(join(dir, 'rule.yaml'), SEASONAL);
    const out = execFileSync(process.execPath, ['alerts/dist/cli/backtest.js', '--rules', join(dir, 'rule.yaml'), '--series', join(dir, 'kpi.csv'), '--kind', 'sum', '--no-calendar'], { encoding: 'utf8', cwd: join(import.meta.dirname, '../../..') }).trim();
    const lines = out.split('\n').map((l) => JSON.parse(l) as { ts: string; state: string; value: number; baseline: number });
    const direct = await run(rows);
    expect(lines).toHaveLength(direct.firings.length);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ state: 'firing', value: direct.firings[0]!.value, baseline: direct.firings[0]!.baseline });
    // The row whose arrival fired it: the evaluation instant minus one bucket.
    expect(Date.parse(`${lines[0]!.ts.replace(' ', 'T')}Z`)).toBe(direct.firings[0]!.ts - 5 * MIN);
  }, 60_000);
});
