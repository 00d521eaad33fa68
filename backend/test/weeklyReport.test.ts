/**
 * The weekly report from a known week of simulated data, every number checked against the
 * history API (`/api/v1/series`, `/api/v1/alerts/history`) and the KPI catalogue's targets,
 * on DuckDB and on a real influxd.
 *
 * Data. Two weeks (the report's week and the one before) come from the repo's simulator
 * with a fixed seed, aggregated by a real Collector on a fake clock. Ingest cannot backfill
 * a week (events older than the lateness window, at most a day, are refused), so the
 * collector's flushed rows are written straight to the running server's store through the
 * MetricStore port — the same rows ingest would have produced, minus two shortcuts: the
 * test collector uses hour buckets (the report reads hours and days; 10 s rows would only
 * make the suite slower), and minute distinct counts are not written (nothing here reads
 * them). A few alert events are written for the week too.
 *
 * Then POST /api/v1/reports/weekly (admin) with a fake DingTalk robot that checks 加签 and
 * the byte limit, and the report is read back through the list and by id; a second
 * generation replaces it and keeps the delivery log.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeDingTalkRobot } from '../../alerts/test/fakes/dingtalkRobot.js';
import { CHANNEL_LABELS, channelLabel } from '@siyu-pulse/contracts/catalogue';
import { KPI_BY_ID, usesDistinct, type KpiDef } from '@siyu-pulse/contracts/catalogue';
import { Collector, type CollectorOptions } from '../src/collector/collector.js';
import { createMemberHasher } from '../src/ingest/memberHash.js';
import type { ReportMetric, ReportSection, ReportSummary, WeeklyReport } from '@siyu-pulse/contracts/reports';
import { WECOM_BUDGET, renderReportMarkdown } from '../src/reports/markdown.js';
import { addDays, lastCompleteWeek, previousWeek, weekId, weekLabel, type Week } from '../src/reports/week.js';
import { Simulator } from '../src/simulator/simulator.js';
import type { AlertRow, CounterRow, DistinctRow, MetricStore, SketchRow } from '../src/store/port.js';
import { HOUR, MINUTE } from '../src/time/zone.js';
import { request } from './harness/http.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { ADMIN_TOKEN, READ_TOKEN, startTestPulse, type TestPulse } from './harness/pulse.js';

const TZ = 'Asia/Shanghai';
/** A channel's id from the name the report shows. */
const idOf = (name: string): string => Object.keys(CHANNEL_LABELS).find((id) => CHANNEL_LABELS[id]!.zh === name) ?? name;
const SECRET = 'SEC0123456789abcdef0123456789abcdef';
const PUBLIC_URL = 'https://pulse.example.com';
const SEED = 20261116;
/** Events a second at the evening peak: ~40,000 events a day. */
const PEAK_RATE = 1;

/** The report's week: the last complete one at test time; the week before holds the comparison. */
const WEEK: Week = lastCompleteWeek(Date.now(), TZ);
const PREV: Week = previousWeek(WEEK, TZ);
const ID = weekId(WEEK.from, TZ);

interface SimulatedRows {
  events: number;
  counters: CounterRow[];
  distinct: DistinctRow[];
  /** All-channel day sketches of `active` and `buyers` (the month-level KPIs read them). */
  sketches: SketchRow[];
}

let simulated: Promise<SimulatedRows> | undefined;

/**
 * Simulated traffic for [from, to), hour by hour, through a real Collector; the rows it
 * flushes, the last version of each (a rewrite replaces a row, as in the store). Simulated
 * once and written to each store.
 */
function simulateTraffic(from: number, to: number): Promise<SimulatedRows> {
  simulated ??= (async () => {
    const sim = new Simulator(() => {}, { seed: SEED, peakEventsPerSecond: PEAK_RATE, timezone: TZ, now: () => from });
    const counters = new Map<string, CounterRow>();
    const distinct = new Map<string, DistinctRow>();
    const sketches = new Map<string, SketchRow>();
    let clock = from;
    const options = {
      bucketMs: HOUR,
      latenessMs: 2 * HOUR,
      flushMs: 60_000,
      timezone: TZ,
      pushCapPerDay: 3,
      // An empty store: periods and buckets the collector has not seeded are read from it before their first write.
      store: { queryCounters: async () => [], querySketches: async () => [] },
      sink: {
        async append(snapshot: { counters: readonly CounterRow[]; distinct: readonly DistinctRow[]; sketches?: readonly SketchRow[] }) {
          // Only what the report reads: all-channel day sketches of the sets month-level KPIs use.
          for (const r of snapshot.sketches ?? []) if (r.granularity === 'day' && r.channel === '' && !r.community && (r.set === 'active' || r.set === 'buyers')) sketches.set(`${r.ts}|${r.set}|${r.node}`, r);
          // A group's hour / day rollup rows share their 10 s row's time and tags: the kind is in the key.
          for (const r of snapshot.counters) counters.set(`${r.ts}|${r.tags.channel}|${r.tags.community}|${r.tags.campaign}|${r.rollup ?? ''}`, r);
          for (const r of snapshot.distinct) if (r.granularity !== 'minute') distinct.set(`${r.ts}|${r.granularity}|${r.set}|${r.channel}`, r);
        },
      },
      logger: pino({ level: 'silent' }),
      metrics: { flushDuration: () => {}, rowsWritten: () => {} },
      now: () => clock,
    };
    // Members are hashed as ingest does (the collector takes hashes, never raw ids).
    const hashMember = createMemberHasher('weekly-report-test-salt');
    const collector = new Collector(options as unknown as CollectorOptions);
    let events = 0;
    for (let t = from; t < to; t += HOUR) {
      for (const e of sim.generate(t, t + HOUR)) {
        collector.add({ type: e.type, ts: e.ts, tags: { channel: e.channel, community: e.community ?? '', campaign: e.campaign ?? '' }, member: e.member === undefined ? undefined : hashMember(e.member), amount: e.amount, durationMs: e.duration_ms }, e.ts);
        events++;
      }
      clock = t + HOUR + MINUTE;
      await collector.flush();
    }
    clock = to + 3 * HOUR;
    await collector.flush();
    return { events, counters: [...counters.values()], distinct: [...distinct.values()], sketches: [...sketches.values()] };
  })();
  return simulated;
}

async function writeRows(store: MetricStore, rows: SimulatedRows): Promise<void> {
  // The collector's rows carry the groups' hour / day rollups (whole rows): written as given.
  for (let i = 0; i < rows.counters.length; i += 10_000) await store.writeCounters(rows.counters.slice(i, i + 10_000), { rollups: 'given' });
  for (let i = 0; i < rows.distinct.length; i += 10_000) await store.writeDistinct(rows.distinct.slice(i, i + 10_000));
  for (let i = 0; i < rows.sketches.length; i += 50) await store.writeSketches(rows.sketches.slice(i, i + 50));
}

/** Alert state changes in the report's week (and one the week before), as the engine stores them. */
function alertRows(): AlertRow[] {
  const day = (d: number, h: number, m = 0) => addDays(WEEK.from, d, TZ) + h * HOUR + m * MINUTE;
  let n = 0;
  const row = (ts: number, ruleId: string, ruleName: string, split: [string, string] | null, from: string, state: string): AlertRow => ({
    id: `report-test-${++n}`, ts, alertKey: `${ruleId}|${split ? `${split[0]}=${split[1]}` : 'total'}`, ruleId, ruleName, kpi: ruleId.startsWith('open') ? 'push_open_rate' : 'gmv',
    splitDim: split?.[0] ?? '', splitValue: split?.[1] ?? '', from, state, severity: state === 'ok' || state === 'resolved' ? '' : 'warning',
    value: 0.2, baseline: 0.25, baselineKind: 'previous_window', change: -0.2, threshold: 0.15, summary: `${ruleName} ${state}`,
  });
  const open: [string, string] = ['channel', 'wecom'];
  return [
    row(addDays(PREV.from, 2, TZ) + 10 * HOUR, 'open_rate_drop', '推送打开率波动', open, 'pending', 'firing'),
    row(day(1, 9, 50), 'open_rate_drop', '推送打开率波动', open, 'ok', 'pending'),
    row(day(1, 10), 'open_rate_drop', '推送打开率波动', open, 'pending', 'firing'),
    row(day(1, 12, 30), 'open_rate_drop', '推送打开率波动', open, 'firing', 'resolved'),
    row(day(3, 20), 'open_rate_drop', '推送打开率波动', ['channel', 'sms'], 'pending', 'firing'),
    row(day(3, 20, 45), 'open_rate_drop', '推送打开率波动', ['channel', 'sms'], 'firing', 'resolved'),
    row(day(4, 8), 'open_rate_drop', '推送打开率波动', open, 'pending', 'firing'),
    row(day(4, 9), 'open_rate_drop', '推送打开率波动', open, 'firing', 'resolved'),
    // Fires on Saturday morning and is still firing when the week ends.
    row(day(5, 9), 'gmv_drop', '成交额下跌', null, 'pending', 'firing'),
  ];
}

type Point = [number, number | null];
interface SeriesAnswer {
  series: { tags: Record<string, string>; points: Point[] }[];
}

const runInflux = influxdOrSkip('weekly report on InfluxDB');

describe.each([
  { store: 'duckdb' as const, run: true },
  { store: 'influx' as const, run: runInflux },
])('weekly report on $store', ({ store, run }) => {
  let influx: InfluxdHandle | null = null;
  let robot: FakeDingTalkRobot;
  let pulse: TestPulse;
  let report: WeeklyReport;
  let catalogue: Map<string, KpiDef>;

  const series = async (kpi: string, w: Week, step: string, extra = ''): Promise<SeriesAnswer> => {
    const r = await pulse.get(`/api/v1/series?kpi=${kpi}&from=${w.from}&to=${w.to}&step=${step}${extra}`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return r.json as SeriesAnswer;
  };
  const whole = async (kpi: string, w: Week) => (await series(kpi, w, 'all')).series[0]!.points[0]![1];
  const daily = async (kpi: string, w: Week) => (await series(kpi, w, '1d')).series[0]!.points.map(([, v]) => v);
  const byChannel = async (kpi: string, w: Week) => new Map((await series(kpi, w, 'all', '&by=channel')).series.map((s) => [s.tags.channel!, s.points[0]![1]]));
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const sum = (xs: (number | null)[]) => xs.reduce<number>((a, b) => a + (b ?? 0), 0);
  const change = (v: number | null, p: number | null) => (v === null || p === null || p === 0 ? null : (v - p) / Math.abs(p));
  const section = (id: ReportSection['id']) => {
    const s = report.sections.find((x) => x.id === id);
    expect(s, `section ${id}`).toBeDefined();
    return s!;
  };
  const close = (got: number | null | undefined, want: number | null, what: string) => {
    if (want === null) expect(got ?? null, what).toBeNull();
    else expect(got, what).toBeCloseTo(want, 9);
  };

  /** What the history API says the metric's week value is (see reports/weekly.ts for the rules). */
  async function expected(def: KpiDef, w: Week, sectionId: string): Promise<number | null> {
    // Month-level KPIs: the value of the week's last day with data (it covers the 30 days to it).
    if (def.formula.kind === 'span') return (await daily(def.id, w)).filter((v): v is number => v !== null).pop() ?? null;
    if (usesDistinct(def)) {
      const days = (await daily(def.id, w)).filter((v): v is number => v !== null && (def.formula.kind !== 'distinct' || v > 0));
      return mean(days);
    }
    const total = await whole(def.id, w);
    if (def.formula.kind === 'sum') {
      // Counts and money: the week's total is the sum of its daily points.
      expect(total).toBe(sum(await daily(def.id, w)));
      // Targets of counts and money are per day: the targets section shows the daily average.
      if (sectionId === 'targets') return total === null ? null : total / 7;
    }
    return total;
  }

  beforeAll(async () => {
    if (!run) return;
    if (store === 'influx') influx = await startInfluxd();
    robot = await FakeDingTalkRobot.start({ secret: SECRET });
    pulse = await startTestPulse({
      influx: influx ?? undefined,
      env: { DINGTALK_WEBHOOK: robot.webhook, DINGTALK_SECRET: SECRET, PULSE_PUBLIC_URL: PUBLIC_URL },
    });
    const started = performance.now();
    const rows = await simulateTraffic(PREV.from, WEEK.to);
    const simulatedAt = performance.now();
    await writeRows(pulse.store, rows);
    await pulse.store.writeAlertEvents(alertRows());
    console.info(`[weekly report ${store}] ${rows.events} simulated events (${rows.counters.length} counter rows): simulated in ${Math.round(simulatedAt - started)} ms, written in ${Math.round(performance.now() - simulatedAt)} ms`);
    catalogue = new Map(((await pulse.get('/api/v1/kpis')).json as { kpis: KpiDef[] }).kpis.map((k) => [k.id, k]));
  }, 240_000);
  afterAll(async () => {
    await pulse?.stopAndClean();
    await robot?.close();
    await influx?.stop();
  });

  it.runIf(run)('POST /api/v1/reports/weekly generates the week, sends it to DingTalk signed, and records the delivery', async () => {
    const started = performance.now();
    const res = await request(pulse.url, 'POST', '/api/v1/reports/weekly', { token: ADMIN_TOKEN, body: { week: ID } });
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    report = res.json as WeeklyReport;
    console.info(`[weekly report ${store}] generated and delivered in ${Math.round(performance.now() - started)} ms`);
    expect(report).toMatchObject({ id: ID, kind: 'weekly', timezone: TZ, trigger: 'manual', partial: false });
    expect(report.week).toEqual({ ...WEEK, label: weekLabel(WEEK, TZ) });
    expect(report.previousWeek).toEqual({ ...PREV, label: weekLabel(PREV, TZ) });
    expect(report.sections.map((s) => s.id)).toEqual(['scale', 'interaction', 'reach', 'funnel', 'value', 'retention', 'channels', 'communities', 'alerts', 'targets']);
    for (const s of report.sections) {
      expect(s.finding.zh.length, s.id).toBeGreaterThan(10);
      expect(s.finding.en.length, s.id).toBeGreaterThan(10);
      expect(s.finding.zh, s.id).not.toMatch(/NaN|undefined|null|Infinity/);
      expect(s.finding.en, s.id).not.toMatch(/NaN|undefined|null|Infinity/);
    }

    // DingTalk: one signed message (the fake robot refuses a bad 加签), within 20,000 bytes,
    // with the title and a link to the report page.
    expect(robot.messages).toHaveLength(1);
    const msg = robot.messages[0]!;
    expect(msg.bytes).toBeLessThanOrEqual(20_000);
    const title = `【数据周报】${weekLabel(WEEK, TZ)} 私域运营中心`;
    expect(msg.body.markdown!.title).toBe(title);
    const text = msg.body.markdown!.text;
    expect(text.startsWith(`### ${title}`)).toBe(true);
    // The link opens the report read-only on a phone: a signed link token, no read token.
    expect(text.trimEnd()).toMatch(new RegExp(`\\]\\(${PUBLIC_URL.replace(/[.:/]/g, '\\$&')}/reports/${ID}\\?link=pl1\\.r\\.[0-9a-z]+\\.[A-Za-z0-9_-]{43}\\)$`));
    expect(text).not.toContain(READ_TOKEN);
    for (const s of report.sections) expect(text).toContain(s.finding.zh);
    expect(report.delivery).toEqual([{ notifier: 'dingtalk', ok: true, at: expect.any(Number) }]);

    // The text as the managers' group received it, for people to read.
    const artifacts = path.resolve(import.meta.dirname, '../../test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    if (store === 'duckdb') {
      writeFileSync(path.join(artifacts, 'weekly-report-dingtalk.md'), `<!-- ${msg.body.markdown!.title} (${msg.bytes} bytes) -->\n${text}\n`);
      writeFileSync(path.join(artifacts, 'weekly-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    }
  });

  it.runIf(run)('every KPI metric equals the history API: Σ÷Σ for the week, daily-based for distinct counts, and the targets', async () => {
    let checked = 0;
    for (const s of report.sections) {
      for (const m of s.metrics.filter((x): x is ReportMetric & { kpi: string } => x.kpi !== undefined)) {
        const def = KPI_BY_ID.get(m.kpi)!;
        const what = `${s.id}.${m.kpi}`;
        const value = await expected(def, WEEK, s.id);
        const previous = await expected(def, PREV, s.id);
        close(m.value, value, what);
        close(m.previous, previous, `${what} (previous week)`);
        close(m.change, change(value, previous), `${what} (change)`);
        expect(m.unit, what).toBe(def.unit);
        const target = catalogue.get(m.kpi)!.target;
        expect(m.target, `${what} target`).toBe(target);
        if (target !== undefined && value !== null) expect(m.attained, `${what} attained`).toBe(def.good === 'down' ? value <= target : value >= target);
        if (def.formula.kind === 'span') expect(m.label.zh, what).toContain('截至周末');
        else if (usesDistinct(def) || (s.id === 'targets' && def.formula.kind === 'sum')) expect(m.label.zh, what).toContain('日均');
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(20);
    // Month-level KPIs have real values from the two simulated weeks (30-day retention has no
    // period before them: null), shown with their targets.
    const metric = (sec: ReportSection['id'], kpi: string) => section(sec).metrics.find((m) => m.kpi === kpi);
    expect(metric('scale', 'active_members_30d')?.value).toBeGreaterThan(0);
    expect(metric('interaction', 'interactions_per_member_month')).toMatchObject({ target: 12, value: expect.any(Number) });
    expect(metric('retention', 'retention_7d')).toMatchObject({ target: 0.85, value: expect.any(Number) });
    expect(metric('retention', 'retention_7d')!.value).toBeGreaterThan(0);
    expect(metric('value', 'repeat_purchase_rate')?.value).not.toBeUndefined();
    expect(section('retention').finding.zh).toContain('7 日留存率');

    // Every KPI with a target is in the targets section.
    const withTarget = [...catalogue.values()].filter((k) => k.target !== undefined).map((k) => k.id).sort();
    expect(section('targets').metrics.map((m) => m.kpi).sort()).toEqual(withTarget);
    expect(withTarget).toContain('paid_conversion');

    // Daily charts are the daily points.
    const scale = section('scale').chart!;
    expect(scale.kind === 'daily' && scale.series.map((x) => x.values)).toEqual([await daily('new_members', WEEK), await daily('lost_members', WEEK), await daily('net_growth', WEEK)]);
    const value = section('value').chart!;
    expect(value.kind === 'daily' && value.series[0]!.values).toEqual(await daily('gmv', WEEK));
  });

  it.runIf(run)('reach: open and click rates per channel as step=all, ranked by open rate', async () => {
    const s = section('reach');
    const [open, click, openPrev, clickPrev] = await Promise.all([byChannel('push_open_rate', WEEK), byChannel('push_click_rate', WEEK), byChannel('push_open_rate', PREV), byChannel('push_click_rate', PREV)]);
    const rows = s.table!.rows as [string, number | null, number | null, number | null, number | null][];
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const [name, o, oc, c, cc] of rows) {
      const ch = idOf(name);
      close(o, open.get(ch) ?? null, `open ${ch}`);
      close(c, click.get(ch) ?? null, `click ${ch}`);
      close(oc, change(open.get(ch) ?? null, openPrev.get(ch) ?? null), `open change ${ch}`);
      close(cc, change(click.get(ch) ?? null, clickPrev.get(ch) ?? null), `click change ${ch}`);
    }
    expect(rows.map((r) => idOf(r[0])).sort()).toEqual([...open.keys()].filter((ch) => open.get(ch) !== null || click.get(ch) !== null).sort());
    const rates = rows.map((r) => r[1] ?? -1);
    expect(rates).toEqual([...rates].sort((a, b) => b - a));
    expect(s.finding.zh).toContain(`最高的渠道是${rows[0]![0]}`);
  });

  it.runIf(run)('funnel: the biggest drop-off is the step with the lowest rate', async () => {
    const s = section('funnel');
    const steps = ['view_to_cart_rate', 'cart_to_order_rate', 'order_to_paid_rate'];
    const rates = await Promise.all(steps.map((id) => whole(id, WEEK)));
    const worst = steps[rates.indexOf(Math.min(...rates.map((r) => r ?? Infinity)))]!;
    expect(s.finding.zh).toContain(`「${KPI_BY_ID.get(worst)!.label.zh}」`);
    expect(s.finding.en).toContain(KPI_BY_ID.get(worst)!.label.en);
    const chart = s.chart!;
    expect(chart.kind === 'funnel' && chart.steps.map((x) => x.rate)).toEqual(rates);
  });

  it.runIf(run)('channels: ranked by GMV with week-over-week change; best and worst movers named', async () => {
    const s = section('channels');
    const [now, before] = await Promise.all([byChannel('gmv', WEEK), byChannel('gmv', PREV)]);
    const rows = s.table!.rows as [number, string, number, number, number | null, number | null][];
    const total = sum([...now.values()]);
    // Channels appear by their wall names (企业微信 …), the same in the DingTalk text.
    expect(rows.map((r) => r[1])).toEqual([...now.keys()].sort((a, b) => (now.get(b) ?? 0) - (now.get(a) ?? 0) || a.localeCompare(b)).map((id) => channelLabel(id).zh));
    for (const [rank, name, gmv, prev, chg, share] of rows) {
      const ch = idOf(name);
      expect(gmv, ch).toBe(now.get(ch));
      expect(prev, ch).toBe(before.get(ch) ?? 0);
      close(chg, change(now.get(ch)!, before.get(ch) ?? null), `${ch} change`);
      close(share, now.get(ch)! / total, `${ch} share`);
      expect(rank).toBe(rows.findIndex((r) => r[1] === name) + 1);
    }
    expect(total).toBe(await whole('gmv', WEEK));
    const deltas = rows.map((r) => ({ ch: r[1], d: r[2] - r[3] })).sort((a, b) => b.d - a.d || a.ch.localeCompare(b.ch));
    const best = deltas[0]!;
    const worst = deltas[deltas.length - 1]!;
    if (best.d > 0) expect(s.finding.zh).toContain(`增长最多：${best.ch} +`);
    if (worst.d < 0) expect(s.finding.zh).toContain(`下降最多：${worst.ch} −`);
    expect(best.d > 0 || worst.d < 0).toBe(true);
    expect(s.finding.zh).toContain(`GMV 最高的渠道是${rows[0]![1]}`);
  });

  it.runIf(run)('alerts: count, longest firing and most frequent rule agree with /api/v1/alerts/history', async () => {
    const history = async (w: Week) => ((await pulse.get(`/api/v1/alerts/history?from=${w.from}&to=${w.to}&limit=5000`)).json as { events: AlertRow[] }).events;
    const events = (await history(WEEK)).sort((a, b) => a.ts - b.ts);
    const firings = events.filter((e) => e.state === 'firing' && e.from !== 'firing' && e.from !== 'flapping');
    const durations = firings.map((f) => {
      const end = events.find((e) => e.ts > f.ts && e.alertKey === f.alertKey && (e.state === 'resolved' || e.state === 'ok'));
      return { rule: f.ruleName, hours: ((end?.ts ?? WEEK.to) - f.ts) / HOUR, ongoing: !end };
    });
    const longest = durations.reduce((a, b) => (b.hours > a.hours ? b : a));
    const counts = new Map<string, number>();
    for (const f of firings) counts.set(f.ruleName, (counts.get(f.ruleName) ?? 0) + 1);
    const [topRule, topCount] = [...counts].sort((a, b) => b[1] - a[1])[0]!;
    const previous = (await history(PREV)).filter((e) => e.state === 'firing').length;

    const s = section('alerts');
    expect(s.metrics[0]).toMatchObject({ value: firings.length, previous, unit: 'count' });
    expect(firings.length).toBe(4);
    expect(s.metrics[1]).toMatchObject({ label: { zh: `最长告警：${longest.rule}` }, unit: 'hours' });
    close(s.metrics[1]!.value, longest.hours, 'longest');
    expect(longest).toMatchObject({ rule: '成交额下跌', ongoing: true });
    expect(s.metrics[2]).toMatchObject({ label: { zh: `触发最多：${topRule}` }, value: topCount });
    expect(s.finding.zh).toContain(`本周告警触发 ${firings.length} 次（上周 ${previous} 次）`);
    expect(s.finding.zh).toContain('到周末仍未恢复');
    expect(s.finding.zh).toContain(`触发最多的规则：${topRule}，${topCount} 次`);
  });

  it.runIf(run)('the list and the report by id; a second generation replaces it and keeps the delivery log', async () => {
    const list = (await pulse.get('/api/v1/reports')).json as { reports: ReportSummary[] };
    expect(list.reports).toEqual([{ id: ID, week: report.week, generatedAt: report.generatedAt, trigger: 'manual', partial: false }]);
    expect((await pulse.get(`/api/v1/reports/${ID}`)).json).toEqual(report);
    expect((await pulse.get(`/api/v1/reports/${ID}`, null)).status).toBe(401);

    const again = await request(pulse.url, 'POST', '/api/v1/reports/weekly', { token: ADMIN_TOKEN, body: { week: WEEK.from, notify: false } });
    expect(again.status).toBe(201);
    const second = again.json as WeeklyReport;
    expect(second.generatedAt).toBeGreaterThan(report.generatedAt);
    expect(second.delivery).toEqual(report.delivery);
    expect(second.sections).toEqual(report.sections);
    expect(robot.messages).toHaveLength(1); // notify: false
    const listed = ((await pulse.get('/api/v1/reports', READ_TOKEN)).json as { reports: ReportSummary[] }).reports;
    expect(listed.map((r) => [r.id, r.generatedAt])).toEqual([[ID, second.generatedAt]]);
  });

  it.runIf(run)('a week without data is partial and says so; bad weeks are refused with reasons', async () => {
    const empty = previousWeek(PREV, TZ);
    const res = await request(pulse.url, 'POST', '/api/v1/reports/weekly', { token: ADMIN_TOKEN, body: { week: weekId(empty.from, TZ), notify: false } });
    expect(res.status).toBe(201);
    const r = res.json as WeeklyReport;
    expect(r.partial).toBe(true);
    expect(r.sections[0]!.finding.zh).toMatch(/^注意：本周有 168 小时没有任何数据/);
    const ids = ((await pulse.get('/api/v1/reports')).json as { reports: ReportSummary[] }).reports.map((x) => x.id);
    expect(ids).toEqual([ID, weekId(empty.from, TZ)]); // newest week first

    const post = (body: unknown) => request(pulse.url, 'POST', '/api/v1/reports/weekly', { token: ADMIN_TOKEN, body });
    const current = weekId(addDays(WEEK.from, 7, TZ), TZ);
    expect(await post({ week: current })).toEqual({ status: 400, json: { error: expect.stringMatching(new RegExp(`^week ${current} has not finished yet .*the last complete week is ${ID}`)) } });
    expect((await post({ week: '2026-W54' })).json).toEqual({ error: expect.stringMatching(/does not exist/) });
    expect((await post({ week: 'last week' })).json).toEqual({ error: expect.stringMatching(/ISO week such as 2026-W47/) });
    expect((await post({ week: WEEK.from + HOUR })).json).toEqual({ error: expect.stringMatching(/is not a Monday 00:00 in Asia\/Shanghai/) });
    expect((await post({ week: ID, extra: 1 })).status).toBe(400);
    expect((await request(pulse.url, 'POST', '/api/v1/reports/weekly', { token: READ_TOKEN, body: { week: ID } })).status).toBe(401);
    expect((await pulse.get('/api/v1/reports/2020-W01')).status).toBe(404);
    expect((await pulse.get('/api/v1/reports/..%2F..%2Fsalt')).status).toBe(404);
  });

  it.runIf(run)('a message over a robot\'s byte limit keeps whole sections and the link', () => {
    const url = `${PUBLIC_URL}/reports/${ID}`;
    expect(Buffer.byteLength(renderReportMarkdown(report, { businessName: '私域运营中心', reportUrl: url, budget: WECOM_BUDGET }).text)).toBeLessThanOrEqual(4096);
    // WeCom's plain-text limit (2,048 bytes, used when mobiles are @-mentioned) forces a cut.
    const small = renderReportMarkdown(report, { businessName: '私域运营中心', reportUrl: url, budget: { measure: (t) => Buffer.byteLength(t), max: 2048 } });
    expect(Buffer.byteLength(small.text)).toBeLessThanOrEqual(2048);
    expect(small.omitted).toBeGreaterThan(0);
    expect(small.text.trimEnd().endsWith(`](${url})`)).toBe(true);
    const kept = report.sections.slice(0, report.sections.length - small.omitted);
    for (const s of kept) expect(small.text).toContain(s.finding.zh);
    expect(small.text).toContain(`另有 ${small.omitted} 个板块未列出`);
  });
});
