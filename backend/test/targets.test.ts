/**
 * KPI targets: the seed's defaults, a YAML file that overrides them and adds per-channel
 * targets, clear errors naming the file and the entry, and the targets reaching the API
 * (the wall's tiles and the trends page read them from /api/v1/kpis).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KPIS } from '@siyu-pulse/contracts/catalogue';
import { TargetsFileError, applyTargets, defaultTargets, loadTargets } from '../src/catalogue/targets.js';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

const dir = mkdtempSync(path.join(tmpdir(), 'pulse-targets-'));
const file = (name: string, text: string) => {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('targets', () => {
  let pulse: TestPulse | undefined;
  afterAll(async () => {
    await pulse?.stopAndClean();
    rmSync(dir, { recursive: true, force: true });
  });

  it('defaults to the seed: paid conversion 5.2%, churn ≤ 15%, 7 / 30-day retention ≥ 85%, 12 interactions per member a month; push fatigue ≤ 5%', () => {
    expect(Object.fromEntries([...defaultTargets()].map(([k, v]) => [k, v.total]))).toEqual({
      paid_conversion: 0.052, churn_rate: 0.15, interactions_per_member_month: 12, retention_7d: 0.85, retention_30d: 0.85, push_over_cap_share: 0.05,
    });
  });

  it('reads a file: percentages, per-channel targets, and a KPI that had none', () => {
    const t = loadTargets(file('ok.yaml', 'targets:\n  paid_conversion: 6%\n  push_open_rate:\n    total: 22%\n    channels: { wecom: 30%, sms: 0.08 }\n  gmv: 50000000\n'));
    const kpis = applyTargets(KPIS, t);
    const by = (id: string) => kpis.find((k) => k.id === id)!;
    expect(by('paid_conversion').target).toBeCloseTo(0.06, 12);
    expect(by('push_open_rate')).toMatchObject({ target: 0.22, channelTargets: { wecom: 0.3, sms: 0.08 } });
    expect(by('gmv').target).toBe(50_000_000);
    expect(by('churn_rate').target).toBe(0.15); // untouched default
    expect(by('messages').target).toBeUndefined();
  });

  it('names the file and the entry when a target is wrong', () => {
    const bad = (text: string) => {
      try {
        loadTargets(file('bad.yaml', text));
      } catch (err) {
        expect(err).toBeInstanceOf(TargetsFileError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad('targets:\n  paid_convertion: 5%\n')).toMatch(/bad\.yaml: targets\.paid_convertion: unknown KPI/);
    expect(bad('targets:\n  paid_conversion: 52\n')).toMatch(/targets\.paid_conversion: 52 is over 100% — write 5\.2% or 0\.052/);
    expect(bad('targets:\n  paid_conversion: lots\n')).toMatch(/targets\.paid_conversion: must be a non-negative number/);
    expect(bad('targets:\n  push_open_rate: { totl: 3% }\n')).toMatch(/targets\.push_open_rate/);
    expect(() => loadTargets(path.join(dir, 'missing.yaml'))).toThrow(/PULSE_TARGETS_FILE: cannot read/);
  });

  it('serves the configured targets in /api/v1/kpis and refuses to start on a bad file', async () => {
    pulse = await startTestPulse({ env: { PULSE_TARGETS_FILE: file('api.yaml', 'targets:\n  push_open_rate:\n    total: 22%\n    channels: { wecom: 30% }\n') } });
    const body = (await pulse.get('/api/v1/kpis')).json as { kpis: { id: string; target?: number; channelTargets?: Record<string, number> }[] };
    expect(body.kpis.find((k) => k.id === 'push_open_rate')).toMatchObject({ target: 0.22, channelTargets: { wecom: 0.3 } });
    expect(body.kpis.find((k) => k.id === 'paid_conversion')!.target).toBe(0.052);
    await expect(startTestPulse({ env: { PULSE_TARGETS_FILE: file('broken.yaml', 'targets:\n  nope: 1\n') } })).rejects.toThrow(/targets\.nope: unknown KPI/);
  });
});
