/**
 * The Grafana dashboards (grafana/dashboards/*.json) against the catalogue and a real influxd:
 * (a) the committed files are exactly what the generator produces from the catalogue;
 * (b) every KPI has a panel, every panel uses the provisioned datasource, annotations exist;
 * (c) every panel query, with Grafana's macros substituted the way Grafana does for InfluxQL,
 *     parses on influxd and returns the same values as GET /api/v1/series for the same KPI,
 *     range, step and channels; the channel variable and the alert annotations return the
 *     expected rows.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { histogramQuantile } from '../src/catalogue/evaluate.js';
import { WECOM_STAT_COUNTERS, type HistogramId } from '@siyu-pulse/contracts/catalogue';
import { KPIS, KPI_BY_ID, type KpiDef } from '@siyu-pulse/contracts/catalogue';
import { CHANNELS_UID, DATASOURCE_UID, EXCLUDED_KPIS, KPI_ID_MARKER, OVERVIEW_UID, dashboardFiles } from '../src/grafana/dashboards.js';
import { DISTINCT_STEP } from '../src/grafana/queries.js';
import { DASHBOARDS_DIR } from '../src/grafana/write.js';
import type { AlertRow, SketchRow } from '../src/store/port.js';
import { createMemberHasher } from '../src/ingest/memberHash.js';
import { Hll, sketchKeyOf } from '../src/sketch/hll.js';
import { DAY, HOUR, MINUTE, dayStart, floorTo } from '../src/time/zone.js';
import { influxdOrSkip, startInfluxd, type InfluxdHandle } from './harness/influxd.js';
import { startTestPulse, type TestPulse } from './harness/pulse.js';

const REGENERATE = 'npm run build -w backend && npm run grafana:dashboards -w backend';
const TZ = 'Asia/Shanghai';

// ---- dashboard JSON shapes (only what the test reads) ----------------------------------

interface Target {
  refId: string;
  datasource?: { type?: string; uid?: string };
  rawQuery?: boolean;
  query?: string;
  type?: string;
  expression?: string;
  hide?: boolean;
  alias?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  description?: string;
  datasource?: { type?: string; uid?: string };
  fieldConfig?: { defaults?: { unit?: string; thresholds?: { steps: { value: number | null }[] }; custom?: { thresholdsStyle?: { mode: string } } } };
  targets?: Target[];
  panels?: Panel[];
}
interface Annotation {
  name: string;
  datasource: { type?: string; uid?: string };
  target?: { query?: string; rawQuery?: boolean; fromAnnotations?: boolean; titleColumn?: string; textColumn?: string; tagsColumn?: string };
}
interface Dashboard {
  uid: string;
  title: string;
  timezone: string;
  refresh: string;
  panels: Panel[];
  annotations: { list: Annotation[] };
  templating: { list: { name: string; query: string; multi: boolean; includeAll: boolean; datasource: { uid: string } }[] };
}

function committed(name: string): string {
  try {
    return readFileSync(join(DASHBOARDS_DIR, name), 'utf8');
  } catch {
    return `(missing: grafana/dashboards/${name})`;
  }
}
const load = (name: string) => JSON.parse(committed(name)) as Dashboard;
const allPanels = (d: Dashboard): Panel[] => d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const dataPanels = (d: Dashboard) => allPanels(d).filter((p) => p.targets?.length);

/** KPI ids a panel shows, from its description (`指标 ID：a, b`). */
function panelKpis(p: Panel): KpiDef[] {
  const at = p.description?.lastIndexOf(KPI_ID_MARKER) ?? -1;
  if (at < 0) return [];
  return p
    .description!.slice(at + KPI_ID_MARKER.length)
    .split(',')
    .map((s) => KPI_BY_ID.get(s.trim()))
    .filter((k): k is KpiDef => k !== undefined);
}

// ---- (a) + (b): static checks ----------------------------------------------------------

describe('Grafana dashboards (static)', () => {
  it('the committed dashboards are what the generator produces from the KPI catalogue', () => {
    for (const [name, text] of Object.entries(dashboardFiles())) {
      expect(committed(name), `grafana/dashboards/${name} is out of date with the KPI catalogue: run \`${REGENERATE}\` and commit the result`).toBe(text);
    }
  });

  it('covers every KPI on the overview, uses the provisioned datasource everywhere and has alert annotations', () => {
    const overview = load('overview.json');
    const channels = load('channels.json');
    expect(overview.uid).toBe(OVERVIEW_UID);
    expect(channels.uid).toBe(CHANNELS_UID);
    expect(overview.title).toBe('私域脉搏 · 总览');
    expect(channels.title).toBe('私域脉搏 · 渠道');
    for (const d of [overview, channels]) {
      expect(d.timezone).toBe(TZ);
      expect(d.refresh).toBe('30s');
    }

    for (const d of [overview, channels]) {
      const covered = new Set(dataPanels(d).flatMap((p) => panelKpis(p).map((k) => k.id)));
      const missing = KPIS.filter((k) => !covered.has(k.id) && !(k.id in EXCLUDED_KPIS)).map((k) => k.id);
      expect(missing, `${d.uid}: KPIs with neither a panel nor a reason in EXCLUDED_KPIS`).toEqual([]);
    }
    // One row per seed group on the overview.
    expect(overview.panels.filter((p) => p.type === 'row').map((p) => p.title)).toEqual(['用户规模', '互动深度', '转化效率', '留存质量', '价值贡献', '渠道效果']);

    for (const d of [overview, channels]) {
      for (const p of dataPanels(d)) {
        expect(p.datasource?.uid, `${d.uid} / ${p.title}`).toBe(DATASOURCE_UID);
        const kpis = panelKpis(p);
        expect(kpis.length, `${d.uid} / ${p.title}: no KPI id in the description`).toBeGreaterThan(0);
        for (const t of p.targets!) {
          if (t.datasource?.type === '__expr__') {
            expect(t.type).toBe('math');
            continue;
          }
          expect(t.datasource?.uid, `${p.title} ${t.refId}`).toBe(DATASOURCE_UID);
          expect(t.rawQuery).toBe(true);
          expect(t.query).toContain('$timeFilter');
          expect(t.query, 'never a mean of ratios').not.toMatch(/\bmean\(/i);
          if (d === channels) expect(t.query).toContain('/^$channel$/');
        }
        const def = kpis[0]!;
        if (p.type === 'timeseries') {
          expect(p.title.startsWith(def.label.zh)).toBe(true);
          const unit = { count: 'short', percent: 'percentunit', fen: 'currencyCNY', ms: 'ms', multiple: 'suffix:×', per_member: 'suffix: 次/人' }[def.unit];
          expect(p.fieldConfig?.defaults?.unit, p.title).toBe(unit);
          if (def.unit === 'fen') expect(p.targets!.some((t) => /\/ 100\b/.test(t.query ?? t.expression ?? ''))).toBe(true);
          if (def.target !== undefined) {
            expect(p.fieldConfig?.defaults?.custom?.thresholdsStyle?.mode).not.toBe('off');
            expect(p.fieldConfig?.defaults?.thresholds?.steps.map((s) => s.value)).toContain(def.unit === 'fen' ? def.target / 100 : def.target);
          }
        }
      }
      const alerts = d.annotations.list.filter((a) => a.datasource.uid === DATASOURCE_UID);
      expect(alerts.map((a) => a.name)).toEqual(['告警触发', '告警恢复']);
      for (const a of alerts) {
        expect(a.target?.rawQuery).toBe(true);
        expect(a.target?.fromAnnotations).toBe(true);
        expect(a.target?.query).toMatch(/FROM "pulse_alerts" WHERE "state" = '(firing|resolved)'.*\$timeFilter/);
      }
    }
    const v = channels.templating.list.find((x) => x.name === 'channel');
    expect(v).toMatchObject({ query: 'SHOW TAG VALUES FROM "pulse_counts" WITH KEY = "channel"', multi: true, includeAll: true, datasource: { uid: DATASOURCE_UID } });
  });
});

// ---- (c): every panel query against influxd vs the series API --------------------------

const runInflux = influxdOrSkip('Grafana dashboard queries');

const WECOM = 'wecom';
const MINI = 'mini.app'; // a regex metacharacter: Grafana must escape it
const STORE = '门店 扫码,A=1'; // space, comma, = and Chinese
const CHANNELS = [WECOM, MINI, STORE];

type Ev = Record<string, unknown>;

/**
 * A known, uneven set of events in hour H: three channels, six 10-minute slots, two 10 s
 * buckets per slot with different open rates (so a mean of ratios differs from the ratio of
 * sums), a slot without deliveries (ratio undefined there), money, service replies across
 * the histogram, and members shared between channels (channel distinct counts do not add
 * up to the total).
 */
function scenario(H: number): Ev[] {
  const out: Ev[] = [];
  let n = 0;
  const ev = (type: string, channel: string, ts: number, extra: Ev = {}) => out.push({ id: `g-${++n}`, type, channel, ts, ...extra });
  const times = (k: number, f: (i: number) => void) => {
    for (let i = 0; i < k; i++) f(i);
  };
  const durations = [3_000, 7_000, 15_000, 25_000, 50_000, 95_000, 200_000, 700_000, 4_000_000];
  CHANNELS.forEach((ch, c) => {
    for (let s = 0; s < 6; s++) {
      const slot = H + s * 10 * MINUTE;
      const t1 = slot + (c + 1) * 10_000 + 1_000;
      const t2 = slot + 5 * MINUTE + s * 10_000 + 2_000;
      if (s !== 4) {
        times(2 + s + c, () => ev('push.delivered', ch, t1));
        ev('push.open', ch, t1, { member: `m${s}` });
        times(9 + 2 * s, () => ev('push.delivered', ch, t2));
        times(1 + ((s + c) % 4), (i) => ev('push.open', ch, t2, { member: `m${s + i}` }));
        times(s % 3, () => ev('push.click', ch, t2));
      }
      // Push fatigue: per channel one member pushed 4 times (over the cap of 3), one once, and
      // one member pushed once on every channel (3 in all: not over); pushes count per member.
      ev('push.sent', ch, t1, { member: s < 4 ? `pf-${c}-hot` : s === 4 ? 'pf-shared' : `pf-${c}-once` });
      times(5 + 2 * s + c, (i) => ev('page.view', ch, t1, { member: `m${(s + i) % 7}` }));
      times(1 + ((s + c) % 3), () => ev('cart.add', ch, t2));
      times(1 + (s % 2), (i) => ev('order.create', ch, t2, { amount: 1_999 + 100 * i + c }));
      if ((s + c) % 2 === 0) times(1 + (s % 3), (i) => ev('order.paid', ch, t2, { member: `m${i + c}`, amount: 12_345 + 17 * s + 3 * i + c }));
      if (s % 3 === c % 3) ev('spend', ch, t1, { amount: 50_000 + 7 * s + c });
      if (s % 2 === 0) ev('member.join', ch, t1, { member: `new-${c}-${s}` });
      if (s === 2 || s === 5) ev('member.leave', ch, t2, { member: `gone-${c}-${s}` });
      times(2 + c, (i) => ev('message', ch, t2, { member: `m${i}` }));
      if (s !== 3) times(1 + s, (i) => ev('interaction', ch, t1, { member: `m${(i + c) % 5}` }));
      times(3, () => ev('activity.reach', ch, t1));
      if (s % 2 === 1) ev('activity.join', ch, t1, { member: `m${c}` });
      times(2, (i) => ev('service.request', ch, t1, { member: `m${i + s}` }));
      ev('service.reply', ch, t2, { duration_ms: durations[(s + c) % durations.length]! });
      if (s !== 1) ev('service.reply', ch, t2 + 10_000, { duration_ms: durations[(2 * s + c + 3) % durations.length]! });
      if (s % 2 === 0) ev('service.resolve', ch, t2);
      // The WeCom connector's event types (callbacks take the ingest path).
      if ((s + c) % 2 === 0) ev('contact.deleted_by_customer', ch, t2, { member: `gone-${c}-${s}` });
      if (s % 3 === 0) ev('group.create', ch, t1);
      if (s === 4) ev('group.dismiss', ch, t2);
    }
  });
  return out;
}

/**
 * WeCom's daily statistics (connectors/wecom/dailyStats.ts) are written as one row per day at
 * the day's start; two channels' rows with every statistics counter non-zero.
 */
function wecomStatRows(D: number): { ts: number; tags: { channel: string; community: string; campaign: string }; counters: Record<string, number> }[] {
  return [WECOM, MINI].map((channel, c) => ({
    ts: D,
    tags: { channel, community: '', campaign: '' },
    counters: Object.fromEntries(WECOM_STAT_COUNTERS.map((name, i) => [name, 10 + 3 * i + 7 * c])),
  }));
}

const SALT = 'grafana-test-salt-0123456789abcdef';

/**
 * All-channel day sketches of earlier days: active m0…m3 and one other member 8 days before
 * the scenario's day (7-day retention 4 of 5), m0, m1 and another 31 days before (30-day
 * retention 2 of 3), and m0 buying 31 days before (a repeat buyer on the scenario's day).
 */
function historySketches(D: number): SketchRow[] {
  const hash = createMemberHasher(SALT);
  const sketch = (members: string[]) => {
    const h = new Hll();
    for (const m of members) h.add(sketchKeyOf(hash(m)));
    return h.toBase64();
  };
  const row = (days: number, set: SketchRow['set'], members: string[]): SketchRow => ({ ts: D - days * DAY, granularity: 'day', set, channel: '', node: 'history', sketch: sketch(members) });
  return [row(8, 'active', ['m0', 'm1', 'm2', 'm3', 'old-a']), row(31, 'active', ['m0', 'm1', 'old-b']), row(31, 'buyers', ['m0'])];
}

interface InfluxSeries {
  name: string;
  tags?: Record<string, string>;
  columns: string[];
  values: unknown[][];
}

/** Grafana's regex escaping of a variable value (escapeRegex in @grafana/data). */
const escapeRegex = (v: string) => v.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');

/** A multi-value / All variable as Grafana's InfluxDB datasource interpolates it. */
function regexValue(values: readonly string[]): string {
  const escaped = values.map(escapeRegex);
  return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
}

interface Macros {
  from: number;
  /** Inclusive, as Grafana's `time <= …ms`. */
  to: number;
  interval?: string;
  channels?: readonly string[];
}

/** Substitutes $channel (frontend), then $timeFilter and $__interval (backend), as Grafana does. */
function interpolate(query: string, m: Macros): string {
  let q = query;
  if (q.includes('$channel')) {
    if (!m.channels) throw new Error(`query needs $channel: ${query}`);
    q = q.replaceAll('$channel', regexValue(m.channels));
  }
  q = q.replaceAll('$timeFilter', `time >= ${m.from}ms and time <= ${m.to}ms`);
  if (q.includes('$__interval')) {
    if (!m.interval) throw new Error(`query needs $__interval: ${query}`);
    q = q.replaceAll('$__interval', m.interval);
  }
  if (/\$[A-Za-z_]/.test(q)) throw new Error(`unsubstituted macro left in ${q}`);
  return q;
}

type Points = Map<string, Map<number, number | null>>;

/** The stored period a distinct panel reads (its `granularity` condition) as a series step. */
function fixedStepOf(p: Panel): string {
  // Month-level KPIs: one value per local day in pulse_month.
  if (p.targets?.some((t) => t.query?.includes('FROM "pulse_month"'))) return '1d';
  const g = p.targets?.map((t) => /"granularity" = '(minute|hour|day)'/.exec(t.query ?? '')?.[1]).find(Boolean);
  return g ? { minute: '1m', hour: '1h', day: '1d' }[g]! : DISTINCT_STEP;
}

function toPoints(series: InfluxSeries[], column: string): Points {
  const out: Points = new Map();
  for (const s of series) {
    const key = s.tags?.channel ?? '';
    const t = s.columns.indexOf('time');
    const c = s.columns.indexOf(column);
    if (c < 0) throw new Error(`no column ${column} in ${JSON.stringify(s.columns)}`);
    const m = out.get(key) ?? new Map<number, number | null>();
    for (const row of s.values) {
      const v = row[c];
      m.set(Number(row[t]), typeof v === 'number' ? v : null);
    }
    out.set(key, m);
  }
  return out;
}

/** Grafana math `$A / $B`: per matching labels (or no labels), on timestamps in both. */
function divide(a: Points, b: Points, scale: number): Points {
  const out: Points = new Map();
  for (const [key, am] of a) {
    const bm = b.get(key) ?? (b.size === 1 && b.has('') ? b.get('') : undefined);
    if (!bm) continue;
    const m = new Map<number, number | null>();
    for (const [ts, av] of am) {
      if (!bm.has(ts)) continue;
      const bv = bm.get(ts)!;
      m.set(ts, av === null || bv === null ? null : av / bv / scale);
    }
    out.set(key, m);
  }
  return out;
}

interface ApiSeries {
  step: number;
  series: { tags: Record<string, string>; points: [number, number | null][] }[];
}

describe.skipIf(!runInflux)('Grafana dashboard queries on a real influxd', () => {
  let influx: InfluxdHandle;
  let pulse: TestPulse;
  let db: string;
  const now = Date.now();
  const H = floorTo(now, HOUR) - HOUR;
  const D = dayStart(H, TZ);
  const dayEnd = Math.min(D + DAY, now);
  const events = scenario(H);
  const ruleTag = `grafana-test-${now}`;

  async function influxQuery(q: string): Promise<InfluxSeries[]> {
    const url = `${influx.url}/query?${new URLSearchParams({ db, epoch: 'ms', q })}`;
    const res = await fetch(url);
    const body = (await res.json()) as { error?: string; results?: { error?: string; series?: InfluxSeries[] }[] };
    const err = body.error ?? body.results?.find((r) => r.error)?.error;
    if (res.status !== 200 || err) throw new Error(`influxd refused ${q}\n→ ${res.status} ${err ?? ''}`);
    return body.results?.[0]?.series ?? [];
  }

  async function api(kpi: string, from: number, to: number, step: string, byChannel: boolean): Promise<ApiSeries> {
    const r = await pulse.get(`/api/v1/series?kpi=${kpi}&from=${from}&to=${to}&step=${step}${byChannel ? '&by=channel' : ''}`);
    if (r.status !== 200) throw new Error(`series API ${kpi} ${step}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json as ApiSeries;
  }

  function apiPoints(a: ApiSeries, grafanaTo: number, channels?: readonly string[], scale = 1): Points {
    const out: Points = new Map();
    for (const s of a.series) {
      const key = s.tags.channel ?? '';
      if (channels && !channels.includes(key)) continue;
      // Only buckets Grafana's range reaches (the API also lists future buckets as null).
      out.set(key, new Map(s.points.filter(([ts]) => ts <= grafanaTo).map(([ts, v]) => [ts, v === null ? null : v / scale])));
    }
    return out;
  }

  /** Points that matched with a value other than null / 0 (a test of nothing would pass too). */
  const compared = { values: 0, byKpi: new Map<string, number>() };

  function compare(what: string, kpi: string, actual: Points, expected: Points, exact: boolean) {
    const problems: string[] = [];
    for (const key of new Set([...actual.keys(), ...expected.keys()])) {
      const a = actual.get(key) ?? new Map<number, number | null>();
      const e = expected.get(key) ?? new Map<number, number | null>();
      for (const ts of [...new Set([...a.keys(), ...e.keys()])].sort((x, y) => x - y)) {
        if (!e.has(ts) && a.get(ts) !== null && a.has(ts)) {
          problems.push(`[${key}] ${new Date(ts).toISOString()}: Grafana ${a.get(ts)} in a bucket the API does not have`);
          continue;
        }
        const av = a.get(ts) ?? null;
        const ev = e.get(ts) ?? null;
        // A count series Grafana did not return at all is all zeros (fill(0) has no rows to fill).
        if (exact && av === null && ev === 0 && !actual.has(key)) continue;
        const ok = av === null || ev === null ? av === ev : exact ? av === ev : Math.abs(av - ev) <= 1e-9;
        if (ok && av !== null && av !== 0) {
          compared.values++;
          compared.byKpi.set(kpi, (compared.byKpi.get(kpi) ?? 0) + 1);
        }
        if (!ok) problems.push(`[${key}] ${new Date(ts).toISOString()}: Grafana ${av}, API ${ev}`);
      }
    }
    expect(problems, `${what}\n${problems.slice(0, 10).join('\n')}`).toEqual([]);
  }

  beforeAll(async () => {
    influx = (await startInfluxd())!;
    pulse = await startTestPulse({ influx, env: { PULSE_LATENESS_SECONDS: '86400', PULSE_SALT: SALT } });
    // Earlier days for the month-level KPIs (7 / 30-day retention and repeat purchases need a
    // period before the scenario's day): their stored day sketches, as a server would have kept them.
    await pulse.store.writeSketches(historySketches(D));
    db = pulse.influxDb!;
    // The scenario stands for a day the server was running: recorded as one run, so quiet
    // buckets are 0 in the API as in Grafana (outside any run they would be gaps, null).
    await pulse.store.writeUptime({ runId: 'grafana-scenario', startedAt: D, lastSeenAt: now });
    for (let i = 0; i < events.length; i += 500) {
      const r = await pulse.post(JSON.stringify(events.slice(i, i + 500)));
      const body = r.json as { accepted: number; rejected: unknown[] };
      expect(body.rejected, JSON.stringify(body.rejected)).toEqual([]);
    }
    await pulse.store.writeCounters(wecomStatRows(D));
    const alert = (ts: number, state: string, split: [string, string] | null, from = 'pending'): AlertRow => ({
      id: `${ruleTag}-${state}-${ts}`,
      ts,
      alertKey: `${ruleTag}|${split ? `${split[0]}=${split[1]}` : 'total'}`,
      ruleId: ruleTag,
      ruleName: `${ruleTag} 推送打开率`,
      kpi: 'push_open_rate',
      splitDim: split?.[0] ?? '',
      splitValue: split?.[1] ?? '',
      from,
      state,
      severity: 'warning',
      value: 0.1,
      baseline: 0.2,
      baselineKind: 'previous_window',
      change: -0.5,
      threshold: 0.15,
      summary: `推送打开率 环比 −50%（${state}）`,
    });
    await pulse.store.writeAlertEvents([
      alert(H + 15 * MINUTE, 'pending', null, 'ok'),
      alert(H + 20 * MINUTE, 'firing', null),
      alert(H + 40 * MINUTE, 'resolved', null, 'firing'),
      alert(H + 25 * MINUTE, 'firing', ['channel', WECOM]),
      alert(H + 26 * MINUTE, 'firing', ['channel', MINI]),
      alert(H + 50 * MINUTE, 'resolved', ['channel', MINI], 'firing'),
    ]);
    await pulse.flushToStore();
    // flush() resolves after the write; still, read influxd until every delivery is there.
    const delivered = events.filter((e) => e.type === 'push.delivered').length;
    const deadline = Date.now() + 15_000;
    for (;;) {
      const s = await influxQuery(`SELECT sum("push_delivered") FROM "pulse_counts" WHERE time >= ${H}ms AND time < ${H + HOUR}ms`);
      if (s[0]?.values[0]?.[1] === delivered) break;
      if (Date.now() > deadline) throw new Error(`influxd has ${JSON.stringify(s)} deliveries, expected ${delivered}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }, 60_000);

  afterAll(async () => {
    await pulse?.stopAndClean();
    await influx?.stop();
  });

  /** Time ranges both sides bucket the same way: whole hours / Shanghai days from `from`. */
  const RANGES = () => ({
    hour: { from: H, end: H + HOUR, intervals: ['10s', '1m', '10m', '1h'] },
    day: { from: D, end: dayEnd, intervals: ['1h', '3h', '1d'] },
  });

  /**
   * Runs one panel for one range / interval / channel selection and compares it with the
   * series API. Returns the number of statements run.
   */
  async function checkPanel(p: Panel, m: Macros & { end: number }, channels: readonly string[] | undefined, splitByChannel: boolean): Promise<number> {
    const kpis = panelKpis(p);
    const def = kpis[0]!;
    const where = `${p.title} [${m.interval ?? DISTINCT_STEP}, ${new Date(m.from).toISOString()}${channels ? `, $channel=${regexValue(channels)}` : ''}]`;
    const targets = p.targets!.filter((t) => t.datasource?.type !== '__expr__');
    const results = new Map<string, InfluxSeries[]>();
    for (const t of targets) results.set(t.refId, await influxQuery(interpolate(t.query!, m)));
    const scale = def.unit === 'fen' ? 100 : 1;
    const expr = p.targets!.find((t) => t.datasource?.type === '__expr__');

    if (p.type === 'heatmap') {
      // The heatmap's buckets must be exactly the sums the API's quantiles come from.
      const rows = results.get('A')!;
      const hist = (def.formula as { histogram: HistogramId }).histogram;
      const q = interpolate(targets[0]!.query!, m);
      const aliases = [...q.matchAll(/sum\("([^"]+)"\) AS "([^"]+)"/g)].map((x) => ({ counter: x[1]!, column: x[2]! }));
      for (const k of kpis) {
        const f = k.formula as { q: number };
        const actual: Points = new Map();
        for (const s of rows) {
          const mm = new Map<number, number | null>();
          for (const row of s.values) {
            const sums = Object.fromEntries(aliases.map((a) => [a.counter, Number(row[s.columns.indexOf(a.column)])]));
            mm.set(Number(row[0]), histogramQuantile(hist, f.q, sums));
          }
          actual.set('', mm);
        }
        if (channels && channels.length !== CHANNELS.length && channels.length !== 1) return targets.length; // no API twin; see the multi test
        const viaApi = channels?.length === 1 ? await apiFiltered(k.id, m, channels[0]!) : await api(k.id, m.from, m.end, m.interval!, false);
        compare(`${where} ${k.id}`, k.id, actual, apiPoints(viaApi, m.to), false);
      }
      return targets.length;
    }

    let actual: Points;
    let step = m.interval!;
    if (expr) {
      expect(expr.expression).toMatch(/^\$A \/ \$B( \/ 100)?$/);
      actual = divide(toPoints(results.get('A')!, 'num'), toPoints(results.get('B')!, 'den'), expr.expression!.endsWith('/ 100') ? 100 : 1);
      step = fixedStepOf(p);
    } else {
      actual = toPoints(results.get('A')!, 'value');
      if (def.formula.kind === 'distinct' || def.formula.kind === 'span') step = fixedStepOf(p);
    }
    const fromApi = await api(def.id, m.from, m.end, step, splitByChannel);
    compare(where, def.id, actual, apiPoints(fromApi, m.to, splitByChannel ? channels : undefined, scale), def.formula.kind !== 'ratio' && def.formula.kind !== 'span');
    return targets.length;
  }

  async function apiFiltered(kpi: string, m: Macros & { end: number }, channel: string): Promise<ApiSeries> {
    const r = await pulse.get(`/api/v1/series?kpi=${kpi}&from=${m.from}&to=${m.end}&step=${m.interval}&channel=${encodeURIComponent(channel)}`);
    if (r.status !== 200) throw new Error(`series API ${kpi}: ${r.status} ${JSON.stringify(r.json)}`);
    return r.json as ApiSeries;
  }

  /** Every data panel of a dashboard for one selection; fixed-step panels once per range. */
  async function checkDashboard(d: Dashboard, combos: { range: 'hour' | 'day'; interval: string; channels?: readonly string[] }[]): Promise<number> {
    const counts: number[] = [];
    const done = new Set<string>();
    for (const c of combos) {
      const r = RANGES()[c.range];
      const m = { from: r.from, to: r.end - 1, end: r.end, interval: c.interval, ...(c.channels ? { channels: c.channels } : {}) };
      const run = dataPanels(d).map((p) => {
        // A per-day panel has its one point at local midnight, outside an hour's range.
        if (c.range === 'hour' && fixedStepOf(p) === '1d') return 0;
        const fixed = p.targets!.every((t) => !t.query?.includes('$__interval'));
        const key = `${p.id}|${c.range}|${fixed ? '' : c.interval}|${c.channels?.join('|') ?? ''}`;
        if (done.has(key)) return 0;
        done.add(key);
        return checkPanel(p, m, c.channels, d.uid === CHANNELS_UID && p.type !== 'heatmap');
      });
      counts.push(...(await Promise.all(run)));
    }
    return counts.reduce((a, b) => a + b, 0);
  }

  it.runIf(runInflux)('overview: every panel query parses and matches the series API (hour and Shanghai-day ranges)', async () => {
    const d = load('overview.json');
    const combos = Object.entries(RANGES()).flatMap(([range, r]) => r.intervals.map((interval) => ({ range: range as 'hour' | 'day', interval })));
    const before = compared.values;
    const n = await checkDashboard(d, combos);
    expect(n).toBeGreaterThan(50);
    expect(compared.values - before).toBeGreaterThan(300);
    // The scenario gives every KPI real (non-zero) values to compare, not only empty buckets.
    expect(KPIS.filter((k) => !compared.byKpi.get(k.id)).map((k) => k.id)).toEqual([]);
  });

  it.runIf(runInflux)('channels: the variable lists every channel; panels match per channel for All, single and multi selections', async () => {
    const d = load('channels.json');
    const v = d.templating.list.find((x) => x.name === 'channel')!;
    const tagValues = (await influxQuery(v.query)).flatMap((s) => s.values.map((row) => String(row[1])));
    expect(tagValues.sort()).toEqual([...CHANNELS].sort());
    await checkDashboard(d, [
      { range: 'hour', interval: '10m', channels: tagValues },
      { range: 'day', interval: '1d', channels: tagValues },
      { range: 'hour', interval: '1m', channels: [STORE] },
      { range: 'hour', interval: '10s', channels: [MINI] },
      { range: 'hour', interval: '1h', channels: [WECOM, MINI] },
      { range: 'day', interval: '3h', channels: [MINI, STORE] },
    ]);
    // The heatmap under a multi selection has no API twin: its buckets must be the sum of
    // the single-channel runs of the same query.
    const heat = dataPanels(d).find((p) => p.type === 'heatmap')!;
    const m = { from: H, to: H + HOUR - 1, interval: '10m' };
    const total = (s: InfluxSeries[]) => s.flatMap((x) => x.values.map((row) => row.slice(1).map(Number)));
    const both = total(await influxQuery(interpolate(heat.targets![0]!.query!, { ...m, channels: [WECOM, STORE] })));
    const one = total(await influxQuery(interpolate(heat.targets![0]!.query!, { ...m, channels: [WECOM] })));
    const other = total(await influxQuery(interpolate(heat.targets![0]!.query!, { ...m, channels: [STORE] })));
    expect(both).toEqual(one.map((row, i) => row.map((v, j) => v + other[i]![j]!)));
  });

  it.runIf(runInflux)('day buckets start at Shanghai midnight only because of the GROUP BY time offset', async () => {
    const d = load('overview.json');
    const gmv = dataPanels(d).find((p) => panelKpis(p)[0]?.id === 'gmv')!;
    const q = interpolate(gmv.targets![0]!.query!, { from: D, to: dayEnd - 1, interval: '1d' });
    expect(q).toContain('GROUP BY time(1d, -8h)');
    const shanghai = (await influxQuery(q))[0]!.values.map((row) => Number(row[0]));
    expect(shanghai).toEqual([D]);
    const utc = (await influxQuery(q.replace('time(1d, -8h)', 'time(1d)')))[0]!.values.map((row) => Number(row[0]));
    expect(utc).not.toContain(D);
    expect(utc.every((ts) => ts % DAY === 0)).toBe(true);
  });

  it.runIf(runInflux)('alert annotations return fired and resolved events (channel splits follow $channel)', async () => {
    const rowsOf = async (query: string, m: Macros) => {
      const s = await influxQuery(interpolate(query, m));
      return s
        .flatMap((x) => x.values.map((row) => Object.fromEntries(x.columns.map((c, i) => [c, row[i]]))))
        .filter((r) => String(r.rule_name).startsWith(ruleTag))
        .map((r) => ({ ts: Number(r.time), split: r.split_value ?? null, kpi: r.kpi, severity: r.severity, summary: r.summary }))
        .sort((a, b) => a.ts - b.ts);
    };
    const m = { from: H, to: H + HOUR - 1 };
    const overview = load('overview.json').annotations.list.filter((a) => a.datasource.uid === DATASOURCE_UID);
    const channels = load('channels.json').annotations.list.filter((a) => a.datasource.uid === DATASOURCE_UID);
    const [fired, resolved] = [overview[0]!, overview[1]!];
    for (const a of [...overview, ...channels]) {
      // Every column the annotation maps is returned by its query.
      const s = await influxQuery(interpolate(a.target!.query!, { ...m, channels: CHANNELS }));
      const columns = s[0]!.columns;
      for (const c of [a.target!.titleColumn!, a.target!.textColumn!, ...a.target!.tagsColumn!.split(',')]) expect(columns).toContain(c);
    }
    expect((await rowsOf(fired.target!.query!, m)).map((r) => [r.ts, r.split])).toEqual([
      [H + 20 * MINUTE, null],
      [H + 25 * MINUTE, WECOM],
      [H + 26 * MINUTE, MINI],
    ]);
    const firedRow = (await rowsOf(fired.target!.query!, m))[0]!;
    expect(firedRow).toMatchObject({ kpi: 'push_open_rate', severity: 'warning', summary: '推送打开率 环比 −50%（firing）' });
    expect((await rowsOf(resolved.target!.query!, m)).map((r) => [r.ts, r.split])).toEqual([
      [H + 40 * MINUTE, null],
      [H + 50 * MINUTE, MINI],
    ]);
    // Channel dashboard with $channel = wecom: the total alerts and wecom's, not mini.app's.
    expect((await rowsOf(channels[0]!.target!.query!, { ...m, channels: [WECOM] })).map((r) => [r.ts, r.split])).toEqual([
      [H + 20 * MINUTE, null],
      [H + 25 * MINUTE, WECOM],
    ]);
    expect((await rowsOf(channels[1]!.target!.query!, { ...m, channels: [WECOM, STORE] })).map((r) => [r.ts, r.split])).toEqual([[H + 40 * MINUTE, null]]);
  });
});
