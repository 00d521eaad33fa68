/** The rules directory: load, report, keep the previous version, hot reload (real fs). */
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { RulesLoader } from '../../src/rules/loader.js';
import type { ChangeRule } from '../../src/rules/schema.js';
import { CATALOGUE } from './catalogueFixture.js';

const loaders: RulesLoader[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const l of loaders.splice(0)) l.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'pulse-rules-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function loader(dir: string, extra: Partial<ConstructorParameters<typeof RulesLoader>[0]> = {}): RulesLoader {
  const l = new RulesLoader({ dir, catalogue: CATALOGUE, pollMs: 0, ...extra });
  loaders.push(l);
  return l;
}

/** Poll `check` until it holds (fs events are asynchronous); no fixed sleeps. */
async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out waiting for the reload');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const OPEN = `rules:
  - id: open
    name: 推送打开率
    kpi: push_open_rate
    by: channel
    window: 15m
    thresholds: { fire: 0.15 }
`;
const GMV = `rules:
  - id: gmv
    name: GMV
    kpi: gmv
    window: 1h
    baseline: { type: same_window_yesterday }
`;

describe('RulesLoader', () => {
  it('loads every YAML file in the directory, in name order, ignoring other files', async () => {
    const dir = dirWith({ 'b.yaml': OPEN, 'a.yml': GMV, 'notes.txt': 'not rules', '.#b.yaml': 'editor lock' });
    const l = loader(dir);
    await l.reload();
    expect(l.problems()).toEqual([]);
    expect(l.lastError).toBeNull();
    expect(l.rules().map((r) => [r.id, r.file])).toEqual([
      ['gmv', 'a.yml'],
      ['open', 'b.yaml'],
    ]);
    expect(l.generation).toBe(1);
  });

  it('an invalid file is reported with file, line, rule and field, and its previous rules stay', async () => {
    const dir = dirWith({ 'a.yaml': OPEN, 'b.yaml': GMV });
    const l = loader(dir);
    await l.reload();
    const before = l.rules();

    writeFileSync(join(dir, 'a.yaml'), OPEN.replace('thresholds: { fire: 0.15 }', 'thresholds: { fire: 0.15, clear: 0.2 }'));
    writeFileSync(join(dir, 'b.yaml'), GMV.replace('name: GMV', 'name: 成交额'));
    await l.reload();
    expect(l.problems()).toHaveLength(1);
    expect(l.problems()[0]).toMatchObject({ file: 'a.yaml', ruleId: 'open', field: 'thresholds.clear', line: 7 });
    expect(l.lastError).toBe('a.yaml:7 rule "open" field thresholds.clear: clear (0.2) must be below fire (0.15) — hysteresis');
    // a.yaml keeps its previous version; b.yaml's valid edit applies.
    expect(l.rules().find((r) => r.id === 'open')).toEqual(before.find((r) => r.id === 'open'));
    expect(l.rules().find((r) => r.id === 'gmv')?.name).toBe('成交额');

    writeFileSync(join(dir, 'a.yaml'), OPEN.replace('fire: 0.15', 'fire: 0.2'));
    await l.reload();
    expect(l.problems()).toEqual([]);
    expect((l.rules().find((r) => r.id === 'open') as ChangeRule).thresholds.fire).toBe(0.2);
  });

  it('a YAML syntax error is reported with its line; at start-up the valid files still load', async () => {
    const dir = dirWith({ 'a.yaml': 'rules:\n  - id: x\n    name: [unclosed\n', 'b.yaml': GMV });
    const l = loader(dir);
    await l.reload();
    expect(l.rules().map((r) => r.id)).toEqual(['gmv']);
    expect(l.problems()[0]).toMatchObject({ file: 'a.yaml' });
    expect(l.problems()[0]?.message).toMatch(/^YAML: /);
    expect(l.problems()[0]?.line).toBeGreaterThan(0);
  });

  it('unknown KPI and split are refused with the field', async () => {
    const dir = dirWith({
      'a.yaml': `rules:\n  - { id: x, name: x, kpi: push_opne_rate, window: 15m }\n  - { id: y, name: y, kpi: churn_rate, by: campaign, window: 1h }\n`,
    });
    const l = loader(dir);
    await l.reload();
    expect(l.rules()).toEqual([]);
    expect(l.problems().map((p) => [p.ruleId, p.field, p.line])).toEqual([
      ['x', 'kpi', 2],
      ['y', 'by', 3],
    ]);
  });

  it('with the notifier ids given, an unknown `notify` id is refused', async () => {
    const dir = dirWith({ 'a.yaml': OPEN.replace('    window: 15m\n', '    window: 15m\n    notify: [dingtalk, dingtlak]\n') });
    const l = loader(dir, { notifiers: ['dingtalk', 'wecom'] });
    await l.reload();
    expect(l.rules()).toEqual([]);
    expect(l.problems()[0]).toMatchObject({ ruleId: 'open', field: 'notify.1', line: 7 });
    expect(l.problems()[0]?.message).toBe('unknown notifier "dingtlak" (configured: dingtalk, wecom)');
  });

  it('the same id in two files is an error charged to the later file', async () => {
    const dir = dirWith({ 'a.yaml': OPEN, 'b.yaml': OPEN.replace('name: 推送打开率', 'name: copy') });
    const l = loader(dir);
    await l.reload();
    expect(l.rules().map((r) => [r.id, r.file, r.name])).toEqual([['open', 'a.yaml', '推送打开率']]);
    expect(l.problems()[0]).toMatchObject({ file: 'b.yaml', ruleId: 'open', field: 'id' });
    expect(l.problems()[0]?.message).toMatch(/already defined in a.yaml/);
  });

  it('an empty file (a save caught half-way) keeps the previous rules', async () => {
    const dir = dirWith({ 'a.yaml': OPEN });
    const l = loader(dir);
    await l.reload();
    writeFileSync(join(dir, 'a.yaml'), '');
    await l.reload();
    expect(l.rules().map((r) => r.id)).toEqual(['open']);
    expect(l.lastError).toMatch(/^a\.yaml: empty file/);
    writeFileSync(join(dir, 'a.yaml'), 'rules: []\n');
    await l.reload();
    expect(l.rules()).toEqual([]);
    expect(l.problems()).toEqual([]);
  });

  it('deleting a file removes its rules; an unreadable directory keeps the previous rules', async () => {
    const dir = dirWith({ 'a.yaml': OPEN, 'b.yaml': GMV });
    const l = loader(dir);
    await l.reload();
    rmSync(join(dir, 'b.yaml'));
    await l.reload();
    expect(l.rules().map((r) => r.id)).toEqual(['open']);
    rmSync(dir, { recursive: true });
    await l.reload();
    expect(l.rules().map((r) => r.id)).toEqual(['open']);
    expect(l.lastError).toMatch(/cannot read the rules directory/);
  });

  it('hot reload: an edited file is picked up through fs events, without restart', async () => {
    const dir = dirWith({ 'a.yaml': OPEN });
    const changes: string[][] = [];
    const l = loader(dir, { debounceMs: 50, onChange: (rules) => changes.push(rules.map((r) => r.name)) });
    await l.start();
    expect(l.rules()[0]?.name).toBe('推送打开率');

    // Editors save by writing a temp file and renaming it over the original.
    writeFileSync(join(dir, 'a.yaml.tmp'), OPEN.replace('name: 推送打开率', 'name: 推送打开率（新）'));
    renameSync(join(dir, 'a.yaml.tmp'), join(dir, 'a.yaml'));
    await until(() => l.rules()[0]?.name === '推送打开率（新）');

    // A broken save is reported and changes nothing.
    writeFileSync(join(dir, 'a.yaml'), OPEN.replace('window: 15m', 'window: soon'));
    await until(() => l.problems().length > 0);
    expect(l.problems()[0]).toMatchObject({ file: 'a.yaml', ruleId: 'open', field: 'window' });
    expect(l.rules()[0]?.name).toBe('推送打开率（新）');

    writeFileSync(join(dir, 'b.yaml'), GMV); // a new file
    await until(() => l.rules().length === 2);
    expect(changes).toEqual([['推送打开率'], ['推送打开率（新）'], ['推送打开率（新）', 'GMV']]);
  });

  it('polling fallback: changes are picked up without fs events', async () => {
    const dir = dirWith({ 'a.yaml': OPEN });
    const l = loader(dir, { fsEvents: false, pollMs: 50 });
    await l.start();
    writeFileSync(join(dir, 'b.yaml'), GMV);
    await until(() => l.rules().length === 2);
  });
});

describe('shipped rules', () => {
  it('alerts/rules/wecom.yaml: 被客户删除 rises against last week, and a storm ceiling', async () => {
    const dir = fileURLToPath(new URL('../../rules/', import.meta.url));
    const l = loader(dir);
    await l.reload();
    expect(l.problems()).toEqual([]);
    const rules = l.rules().filter((r) => r.file.endsWith('wecom.yaml'));
    expect(rules.map((r) => [r.id, r.kind, 'kpi' in r ? r.kpi : null])).toEqual([
      ['deleted_by_customer_rise', 'change', 'deleted_by_customer'],
      ['deleted_by_customer_storm', 'target', 'deleted_by_customer'],
    ]);
    const rise = rules[0] as ChangeRule;
    expect([rise.direction, rise.baseline.type, rise.thresholds.fire, rise.minSample, rise.minAbsChange]).toEqual(['up', 'same_window_last_week', 0.5, 5, 3]);
    const storm = rules[1]!;
    expect(storm.kind === 'target' && [storm.target, storm.direction, storm.windowMs, storm.count]).toEqual([10, 'above', 3_600_000, 1]);
  });

  it('alerts/rules/default.yaml loads against the real catalogue ids', async () => {
    const dir = fileURLToPath(new URL('../../rules/', import.meta.url));
    const l = loader(dir);
    await l.reload();
    expect(l.problems()).toEqual([]);
    // Other files in the directory (wecom.yaml) are checked below.
    const rules = l.rules().filter((r) => r.file.endsWith('default.yaml'));
    const change = rules.filter((r): r is ChangeRule => r.kind === 'change');
    expect(change.map((r) => r.kpi)).toEqual([
      'push_open_rate',
      'push_click_rate',
      'paid_conversion',
      'gmv',
      'active_members',
      'new_members',
      'churn_rate',
    ]);
    for (const r of change) {
      expect(r.by).toBe('channel');
      expect(r.thresholds.fire).toBe(0.15);
      expect(r.thresholds.clear).toBe(0.1);
      expect(r.minSample).toBeGreaterThan(0);
      // Issue 13: every swing rule is on the noise-aware method (generic.yaml), ±30% critical where set.
      expect(r.baseline.seasonal).toMatchObject({ periodMs: 86_400_000, periods: 7, days: 'comparable' });
      expect(r.band).toBeDefined();
      expect(r.pendingForMs).toBe(10 * 60_000);
      expect(r.calendar).toEqual({ holidays: 'comparable', campaigns: 'comparable' });
    }
    expect(change.filter((r) => r.thresholds.critical === 0.3).map((r) => r.kpi)).toEqual(['push_open_rate', 'push_click_rate', 'paid_conversion', 'gmv', 'active_members', 'churn_rate']);
    // count_default's 15-minute window and per-time-of-day band, except on a distinct count
    // (active members exist per 1m / 1h / 1d only); level_default has neither.
    expect(change.map((r) => [r.kpi, r.extraWindows?.shortMs ?? null, r.band?.timeOfDayMs ?? null])).toEqual([
      ['push_open_rate', null, null],
      ['push_click_rate', null, null],
      ['paid_conversion', null, null],
      ['gmv', 900_000, 7_200_000],
      ['active_members', null, 7_200_000],
      ['new_members', 900_000, 7_200_000],
      ['churn_rate', null, null],
    ]);
    // The target rules: paid conversion three whole hours below its (catalogue) target;
    // push fatigue above 5% of the day's pushed members.
    expect(rules.filter((r) => r.kind === 'target').map((r) => [r.id, r.kind === 'target' && r.windowMs * r.count])).toEqual([
      ['paid_conversion_below_target', 3 * 3_600_000],
      ['push_over_cap_share_high', 86_400_000],
    ]);
    const fatigue = rules.find((r) => r.id === 'push_over_cap_share_high');
    // The 5% is the KPI's (configurable) target; less is better, so the miss is above it.
    expect(fatigue?.kind === 'target' && [fatigue.kpi, fatigue.target, fatigue.direction, fatigue.minSample]).toEqual(['push_over_cap_share', null, undefined, 200]);
    // Distinct-count KPIs: whole-minute windows.
    for (const r of change.filter((x) => x.kpi === 'active_members' || x.kpi === 'churn_rate')) expect(r.windowMs % 60_000).toBe(0);
    const deadman = rules.filter((r) => r.kind === 'deadman');
    expect(deadman.map((r) => r.values?.[0])).toEqual(['wecom', 'wechat_group', 'miniprogram', 'douyin', 'sms', 'app_push', 'store_qr']);
    for (const r of deadman) expect(r.kind === 'deadman' && r.afterMs).toBe(15 * 60_000);
    for (const r of rules) expect(r.notify).toEqual(['dingtalk']);
  });
});
