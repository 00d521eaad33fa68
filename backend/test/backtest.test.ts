/**
 * The rule preview API against a real server, on DuckDB and on a real influxd: 9 days of
 * per-minute member joins on two channels (a daily rhythm, three one-hour WeCom drops of
 * 60%) are stored; `POST /api/v1/rules/backtest` with a 15-minute "vs the same window
 * yesterday" rule returns exactly the firings the alerts package's own backtest() finds
 * when it runs the engine on the same numbers held in memory (not read from any store):
 * same times, splits, values, baselines, changes, severities. It catches the three drops.
 * Bad input is refused with the reason (a YAML line, a second rule, a deadman rule, a range
 * over 31 days, a reader's token), one preview runs at a time, and a rule in force can be
 * loaded as YAML for the editor.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backtest, parseRuleYaml, type BacktestFiring } from '@siyu-pulse/alerts';
import { createKpiSource, type WindowReader } from '../src/alerting/kpiSource.js';
import { COUNTERS } from '@siyu-pulse/contracts/catalogue';
import type { CounterRow } from '../src/store/port.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { request } from './harness/http.js';
import { ADMIN_TOKEN, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;
const DAYS = 9;

const RULE = `rules:
  # Joins per channel against the same 15 minutes yesterday.
  - id: bt_joins
    name: 新增成员骤降（回测）
    kpi: new_members
    by: channel
    window: 15m
    baseline: { type: same_window_yesterday }
    thresholds: { fire: 0.3, clear: 0.15, critical: 0.5 }
    direction: down
    min_sample: 40
    pending_for: 1
    cooldown: 0s
`;
const FILE_RULES = `# Rules for the preview test.
rules:
  - id: file_rule
    name: 文件里的规则
    kpi: new_members
    window: 1h
    # compared with the hour before
    baseline: { type: previous_window }
    thresholds: { fire: 0.5, clear: 0.2 }
  - { id: wecom_quiet, name: 企业微信断流, kind: deadman, by: channel, values: [wecom], after: 15m }
`;

/** Joins per minute and channel: a daily rhythm, WeCom dropping 60% for an hour three times. */
function joins(now: number): { start: number; drops: number[]; perMinute: Map<string, Map<number, number>> } {
  const start = Math.floor((now - DAYS * DAY) / MIN) * MIN;
  const drops = [start + 7 * DAY + 10 * H, start + 8 * DAY + 3 * H, start + 8 * DAY + 15 * H];
  const perMinute = new Map<string, Map<number, number>>();
  for (const [channel, scale] of [['wecom', 6], ['sms', 3]] as const) {
    const m = new Map<number, number>();
    for (let ts = start; ts < now - MIN; ts += MIN) {
      const hour = ((ts + 8 * H) % DAY) / H;
      let n = Math.round(scale * (1.5 + Math.sin((hour / 24) * 2 * Math.PI)) + ((ts / MIN) % 3));
      if (channel === 'wecom' && drops.some((d) => ts >= d && ts < d + H)) n = Math.round(n * 0.4);
      m.set(ts, n);
    }
    perMinute.set(channel, m);
  }
  return { start, drops, perMinute };
}

function rows(data: ReturnType<typeof joins>): CounterRow[] {
  const out: CounterRow[] = [];
  for (const [channel, m] of data.perMinute) {
    for (const [ts, n] of m) {
      const counters: Record<string, number> = Object.fromEntries(COUNTERS.map((c) => [c, 0]));
      counters.member_join = n;
      out.push({ ts, tags: { channel, community: '', campaign: '' }, counters });
    }
  }
  return out;
}

/** The same numbers, in memory: what the engine would see if no store were involved. */
function memoryReader(data: ReturnType<typeof joins>): WindowReader {
  return {
    async counters(from, to, by) {
      let total = 0;
      let any = false;
      const splits = new Map<string, Record<string, number>>();
      for (const [channel, m] of data.perMinute) {
        let sum = 0;
        let seen = false;
        for (let ts = from; ts < to; ts += MIN) {
          const n = m.get(ts);
          if (n === undefined) continue;
          sum += n;
          seen = true;
        }
        if (!seen) continue;
        any = true;
        total += sum;
        if (by === 'channel') splits.set(channel, { member_join: sum });
      }
      return { total: any ? { member_join: total } : {}, splits };
    },
    async distinct() {
      throw new Error('not used');
    },
  };
}

const strip = (f: BacktestFiring) => ({ ts: f.ts, alertKey: f.alertKey, split: f.split, value: f.value, baseline: f.baseline, change: f.change, severity: f.severity, band: f.band });

const runInflux = influxdOrSkip('rule preview on InfluxDB');

describe.each([
  { store: 'duckdb' as const, run: true },
  { store: 'influx' as const, run: runInflux },
])('POST /api/v1/rules/backtest ($store)', ({ store, run }) => {
  let influx: InfluxdHandle | undefined;
  let pulse: TestPulse;
  let dataDir = '';
  let rulesDir = '';
  let data: ReturnType<typeof joins>;
  const preview = (body: unknown, token: string | null = ADMIN_TOKEN) => request(pulse.url, 'POST', '/api/v1/rules/backtest', { token, body });

  beforeAll(async () => {
    if (!run) return;
    if (store === 'influx') influx = await startInfluxd();
    dataDir = mkdtempSync(path.join(tmpdir(), 'pulse-backtest-'));
    rulesDir = mkdtempSync(path.join(tmpdir(), 'pulse-backtest-rules-'));
    writeFileSync(path.join(rulesDir, 'rules.yaml'), FILE_RULES);
    const env = { PULSE_RULES_DIR: rulesDir, PULSE_ALERT_INTERVAL_SECONDS: '3600' };
    const first = await startTestPulse({ influx, dataDir, env });
    data = joins(Date.now());
    const all = rows(data);
    for (let i = 0; i < all.length; i += 5000) await first.store.writeCounters(all.slice(i, i + 5000));
    const db = first.influxDb;
    await first.close();
    // Restarted, the server knows where its stored history starts (as after any restart).
    pulse = await startTestPulse({ influx, influxDb: db, dataDir, env });
  }, 240_000);
  afterAll(async () => {
    await pulse?.stopAndClean();
    await influx?.stop();
    for (const d of [dataDir, rulesDir]) if (d) rmSync(d, { recursive: true, force: true });
  });

  it.runIf(run)("returns the firings the engine's own backtest finds on the same numbers in memory", async () => {
    const from = data.start + DAY + 2 * H;
    const to = Math.floor(Date.now() / MIN) * MIN - 5 * MIN;
    const res = await preview({ rule: RULE, from, to });
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const answer = res.json as { from: number; to: number; stepMs: number; evaluations: number; count: number; queries: number; elapsedMs: number; firings: BacktestFiring[]; rule: { id: string; kpi: string; by: string } };
    expect(answer.rule).toMatchObject({ id: 'bt_joins', kpi: 'new_members', by: 'channel' });
    expect(answer.stepMs).toBe(5 * MIN);

    const source = createKpiSource({ store: pulse.store, reader: memoryReader(data), timezone: 'Asia/Shanghai', historySince: () => data.start });
    const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
    const { rules } = parseRuleYaml(RULE, { catalogue });
    const direct = await backtest({ rules, source, from: answer.from, to: answer.to, stepMs: answer.stepMs, alignMs: 10_000, timezone: 'Asia/Shanghai' });
    expect(answer.evaluations).toBe(direct.evaluations);
    expect(answer.firings.map(strip)).toEqual(direct.firings.map(strip));
    expect(answer.count).toBe(direct.firings.length);

    // The three WeCom drops, each caught within its hour; SMS never fires.
    const wecom = answer.firings.filter((f) => f.alertKey === 'bt_joins|channel=wecom');
    expect(answer.firings.length).toBe(wecom.length);
    expect(data.drops.map((d) => wecom.filter((f) => f.ts > d && f.ts <= d + H).length)).toEqual([1, 1, 1]);
    console.info(`[rule preview ${store}] ${answer.evaluations} evaluations, ${answer.queries} store queries, ${answer.elapsedMs} ms, ${answer.count} firings`);
  });

  it.runIf(run)('refuses what it cannot replay, with the reason', async () => {
    const now = Date.now();
    const cases: [unknown, string | null, number, RegExp][] = [
      [{ rule: 'rules:\n  - id: x\n    kpi: [unclosed\n' }, ADMIN_TOKEN, 400, /preview\.yaml:\d+.*YAML/],
      [{ rule: RULE.replace('kpi: new_members', 'kpi: no_such_kpi') }, ADMIN_TOKEN, 400, /preview\.yaml:\d+ rule "bt_joins" field kpi/],
      [{ rule: `${RULE}  - { id: second, name: 二, kpi: messages, window: 15m }\n` }, ADMIN_TOKEN, 400, /exactly one rule \(found 2\)/],
      [{ rule: 'rules:\n  - { id: quiet, name: 断流, kind: deadman, by: channel, after: 15m }\n' }, ADMIN_TOKEN, 400, /deadman/],
      [{ rule: RULE, from: now - 40 * DAY, to: now }, ADMIN_TOKEN, 400, /at most 31 days/],
      [{ rule: RULE, from: '2026-12-01' }, ADMIN_TOKEN, 400, /from/],
      [{ rule: '' }, ADMIN_TOKEN, 400, /paste a rule/],
      [{ rule: RULE }, READ_TOKEN, 401, /admin/],
    ];
    for (const [body, token, status, error] of cases) {
      const res = await preview(body, token);
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect((res.json as { error: string }).error).toMatch(error);
    }
    const bad = await preview({ rule: RULE.replace('fire: 0.3', 'fire: 0.3, fier: 1') });
    expect(bad.status).toBe(400);
    expect((bad.json as { problems: { line: number; field: string }[] }).problems[0]).toMatchObject({ line: 9, field: 'thresholds.fier' });
  });

  it.runIf(run)('runs one preview at a time: a second caller is told to retry', async () => {
    const now = Date.now();
    const body = { rule: RULE.replace('window: 15m', 'window: 1m'), from: now - 3 * DAY, to: now };
    const [a, b] = await Promise.all([preview(body), new Promise((r) => setTimeout(r, 50)).then(() => preview(body))]);
    expect([a.status, b.status].sort()).toEqual([200, 429]);
    expect(((a.status === 429 ? a : b).json as { error: string }).error).toMatch(/another preview is running/);
  });

  it.runIf(run)('loads a rule in force as YAML (comments kept) that previews as it is', async () => {
    const res = await pulse.get('/api/v1/rules/file_rule/yaml');
    expect(res.status).toBe(200);
    const yaml = (res.json as { yaml: string }).yaml;
    expect(yaml).toBe(['rules:', '  - id: file_rule', '    name: 文件里的规则', '    kpi: new_members', '    window: 1h', '    # compared with the hour before', '    baseline: { type: previous_window }', '    thresholds: { fire: 0.5, clear: 0.2 }', ''].join('\n'));
    expect((await preview({ rule: yaml })).status).toBe(200);
    expect((await pulse.get('/api/v1/rules/wecom_quiet/yaml')).json).toMatchObject({ yaml: 'rules:\n  - { id: wecom_quiet, name: 企业微信断流, kind: deadman, by: channel, values: [wecom], after: 15m }\n' });
    expect((await pulse.get('/api/v1/rules/nope/yaml')).status).toBe(404);
  });
});
