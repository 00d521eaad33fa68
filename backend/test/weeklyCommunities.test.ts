/**
 * The weekly report's 社群健康 section on both stores (DuckDB temp file, real influxd) over
 * 20,000 groups of the skewed population, for a fixed past week (nothing depends on the time
 * of day): the counts of active / silent / shrinking groups this week and last, and the best
 * and worst ten with their numbers, equal what is computed by hand from the rows written;
 * groups are named; the DingTalk text lists both tens within the robot's byte limit. The
 * first 2,000 groups have active members in the week (day sketches of two days, the same
 * people twice and three new ones): the listed groups' members over the week and the group
 * with the most of them are in the section.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { groupPopulation } from '../src/communities/population.js';
import { SeriesService } from '../src/query/series.js';
import type { WeeklyReport } from '@siyu-pulse/contracts/reports';
import { formatKpi as formatValue } from '@siyu-pulse/contracts/format';
import { DINGTALK_BUDGET, renderReportMarkdown } from '../src/reports/markdown.js';
import { addDays, previousWeek, weekLabel } from '../src/reports/week.js';
import { generateWeeklyReport } from '../src/reports/weekly.js';
import { communities } from '../src/reports/weekly/communities.js';
import { Reader } from '../src/reports/weekly/reader.js';
import type { CounterRow, MetricStore, SketchRow } from '../src/store/port.js';
import { Hll } from '../src/sketch/hll.js';
import { DAY, HOUR } from '../src/time/zone.js';
import { openGroupStore, writeGroupRows, type GroupStore } from './harness/groupStore.js';
import { influxdOrSkip } from './harness/influxd.js';

const N = 20_000;
const TZ = 'Asia/Shanghai';
/** Monday 2026-11-16 00:00 Beijing time: the report's week; the two before it feed the comparison. */
const WEEK = Date.parse('2026-11-16T00:00:00+08:00');
const NOW = WEEK + 7 * DAY + 2 * HOUR;
const pop = groupPopulation(N, 17, 200);
const EXODUS = pop[500]!.id;
/** The exodus group loses 60 members this week and gains its usual joins. */
const EXODUS_NET = pop[500]!.joins - 60;

interface Totals {
  m: number;
  j: number;
  l: number;
}
type Week = Map<string, Totals>;

/** What each group sends in each week (index 0: two weeks before, 1: the week before, 2: the report's week). */
function plan(): Week[] {
  const weeks: Week[] = [new Map(), new Map(), new Map()];
  for (const [i, g] of pop.entries()) {
    weeks[0]!.set(g.id, { m: i % 10 === 9 ? 0 : g.messages, j: 0, l: 0 });
    weeks[1]!.set(g.id, { m: i % 7 === 6 ? 0 : g.messages, j: g.joins, l: g.leaves });
    // This week: every 997th group stops talking; the rest move by −1, 0 or +1 (a group of 1 message may go quiet).
    const m = i % 997 === 5 ? 0 : Math.max(0, g.messages + (i % 3) - 1);
    weeks[2]!.set(g.id, { m, j: g.joins, l: g.id === EXODUS ? 60 : g.leaves + (i % 5 === 0 ? 1 : 0) });
  }
  return weeks;
}

/** The plan as stored rows: one 10 s row per group and week, the top 100 split over two days. */
function rows(weeks: Week[]): CounterRow[] {
  const out: CounterRow[] = [];
  for (const [w, week] of weeks.entries()) {
    const from = WEEK - (2 - w) * 7 * DAY;
    for (const [i, g] of pop.entries()) {
      const t = week.get(g.id)!;
      const counters: Record<string, number> = {};
      if (t.m) counters.message = t.m;
      if (t.j) counters.member_join = t.j;
      if (t.l) counters.member_leave = t.l;
      if (!Object.keys(counters).length) continue;
      const ts = from + 2 * DAY + 9 * HOUR + (i % 360) * 10_000;
      if (i < 100 && t.m > 1) {
        const half = Math.floor(t.m / 2);
        out.push({ ts: ts + 3 * DAY, tags: { channel: 'wechat_group', community: g.id, campaign: '' }, counters: { message: half } });
        counters.message = t.m - half;
      }
      out.push({ ts, tags: { channel: 'wechat_group', community: g.id, campaign: '' }, counters });
    }
  }
  return out;
}

/** Group i's active members on its first day (i < 2,000); the week has these and 3 more. */
const dayMembers = (i: number) => (i % 50) + 1;
const weekMembers = (id: string) => {
  const i = pop.findIndex((g) => g.id === id);
  return i < 2000 ? dayMembers(i) + 3 : 0;
};
/** Day sketches of the report's week: Tuesday members 0…n−1, Thursday the same and n…n+2. */
function sketches(): SketchRow[] {
  const key = (k: number) => (((k + 1) * 2654435761) % 2 ** 25) * 64 + 1 + (k % 20);
  const row = (community: string, ts: number, from: number, to: number): SketchRow => {
    const h = new Hll();
    for (let k = from; k < to; k++) h.add(key(k));
    return { ts, granularity: 'day', set: 'active', channel: '', node: 'main', sketch: h.toBase64(), community };
  };
  const out: SketchRow[] = [];
  for (let i = 0; i < 2000; i++) out.push(row(pop[i]!.id, WEEK + DAY, 0, dayMembers(i)), row(pop[i]!.id, WEEK + 3 * DAY, 0, dayMembers(i) + 3));
  return out;
}

/** The section's figures computed by hand from the plan. */
function byHand(weeks: Week[]) {
  const counts = (now: Week, before: Week) => {
    let groups = 0, active = 0, silent = 0, shrinking = 0;
    for (const [id, t] of now) {
      if (t.m || t.j || t.l) groups++;
      if (t.m > 0) active++;
      if (t.j - t.l < 0) shrinking++;
      if (t.m === 0 && (before.get(id)?.m ?? 0) > 0) silent++;
    }
    return { groups, active, silent, shrinking };
  };
  const [w0, w1, w2] = weeks as [Week, Week, Week];
  const list = [...w2.entries()].map(([id, t]) => ({ id, m: t.m, net: t.j - t.l, l: t.l, before: w1.get(id)!.m }));
  const best = list.filter((x) => x.m > 0).sort((a, b) => b.m - a.m || (a.id < b.id ? -1 : 1)).slice(0, 10);
  const worst = list.filter((x) => x.net < 0).sort((a, b) => a.net - b.net || b.l - a.l || (a.id < b.id ? -1 : 1)).slice(0, 10);
  return { now: counts(w2, w1), prev: counts(w1, w0), best, worst };
}

const names = new Map(pop.map((g) => [g.id, g.name]));
const runInflux = influxdOrSkip('weekly 社群健康 suite');

for (const kind of ['duckdb', 'influx'] as const) {
  describe.skipIf(kind === 'influx' && !runInflux)(`weekly report 社群健康 over 20,000 groups (${kind})`, () => {
    let fixture: GroupStore;
    let store: MetricStore;
    let report: WeeklyReport;
    const weeks = plan();
    const want = byHand(weeks);

    beforeAll(async () => {
      // The whole report asks influxd ~60 queries at once over 20,000 series: a loaded box needs minutes.
      fixture = await openGroupStore(kind, 'pulse-weekly-groups-', 240_000);
      store = fixture.store;
      const all = rows(weeks);
      await writeGroupRows(store, all);
      const groupSketches = sketches();
      for (let i = 0; i < groupSketches.length; i += 1000) await store.writeSketches(groupSketches.slice(i, i + 1000));
      const started = performance.now();
      const input = {
        series: new SeriesService(store, 10_000, TZ, () => NOW),
        store,
        timezone: TZ,
        weekStart: WEEK,
        now: NOW,
        trigger: 'manual' as const,
        communityName: (id: string) => names.get(id) ?? null,
      };
      if (kind === 'duckdb') report = await generateWeeklyReport(input);
      else {
        // On influxd 1.6.7 the whole report over 20,000 community series takes ~95 s on the
        // loaded test box (its other sections' whole-week queries open a cursor per series;
        // before rows were written sparse it did not finish in 4 minutes): the 社群健康
        // section alone is what this suite checks, to keep CI short.
        const week = { from: WEEK, to: addDays(WEEK, 7, TZ) };
        const prev = previousWeek(week, TZ);
        const section = await communities(new Reader(input, week, prev));
        report = { id: 'W', kind: 'weekly', timezone: TZ, week: { ...week, label: weekLabel(week, TZ) }, previousWeek: { ...prev, label: weekLabel(prev, TZ) }, generatedAt: NOW, trigger: 'manual', partial: false, sections: section ? [section] : [], delivery: [] };
      }
      console.info(`[weekly 社群健康 ${kind}] ${all.length} rows; ${kind === 'duckdb' ? 'report' : 'section'} generated in ${Math.round(performance.now() - started)} ms`);
    }, 600_000);
    afterAll(() => fixture?.stop());

    it('counts active, silent and shrinking groups this week and last as computed by hand', () => {
      const s = report.sections.find((x) => x.id === 'communities');
      expect(s, 'section 社群健康').toBeDefined();
      expect(s!.title.zh).toBe('社群健康');
      // Sanity of the plan itself: every kind of group is there.
      expect(want.now.silent).toBeGreaterThan(10);
      expect(want.now.shrinking).toBeGreaterThan(10);
      const [active, silent, shrinking] = s!.metrics;
      expect([active!.value, active!.previous]).toEqual([want.now.active, want.prev.active]);
      expect([silent!.value, silent!.previous]).toEqual([want.now.silent, want.prev.silent]);
      expect([shrinking!.value, shrinking!.previous]).toEqual([want.now.shrinking, want.prev.shrinking]);
      expect(active!.label.zh).toContain('活跃群');
      expect(silent!.tone).toBe(want.now.silent > want.prev.silent ? 'bad' : 'good');
      expect(s!.finding.zh).toContain(`本周 ${formatValue(want.now.groups, 'count', 'zh')} 个群有动态`);
      expect(s!.finding.zh).toContain(`最活跃：${names.get(want.best[0]!.id)}`);
      expect(s!.finding.zh).toContain(`流失最多：${names.get(EXODUS)}，净减少 ${-EXODUS_NET} 人`);
      // 53 members (49 + 1 + 3): the first of the ties by id.
      expect(s!.finding.zh).toContain(`活跃成员最多：${names.get(pop[49]!.id)}，53 人。`);
    });

    it('lists the best ten by messages and the worst ten by members lost, named, with their numbers', () => {
      const s = report.sections.find((x) => x.id === 'communities')!;
      const rows = s.table!.rows;
      const change = (m: number, b: number) => (b === 0 ? null : (m - b) / b);
      const list = (name: string) => rows.filter((r) => String(r[0]).startsWith(`${name} `));
      expect(s.table!.columns.map((c) => c.zh)).toEqual(['榜单', '社群', '消息', '活跃成员', '环比', '净增']);
      expect(list('最活跃')).toEqual(want.best.map((x, i) => [`最活跃 ${i + 1}`, names.get(x.id), x.m, weekMembers(x.id), change(x.m, x.before), x.net]));
      expect(list('流失最多')).toEqual(want.worst.map((x, i) => [`流失最多 ${i + 1}`, names.get(x.id), x.m, weekMembers(x.id), change(x.m, x.before), x.net]));
      expect(list('流失最多')[0]![1]).toBe(names.get(EXODUS));
    });

    it('the DingTalk text carries the section with both tens, within the byte limit', () => {
      const { text } = renderReportMarkdown(report, { businessName: '私域运营中心', reportUrl: 'https://pulse.example.com/reports/x', budget: DINGTALK_BUDGET });
      expect(DINGTALK_BUDGET.measure(text)).toBeLessThanOrEqual(DINGTALK_BUDGET.max);
      const block = text.slice(text.indexOf('#### 社群健康'));
      expect(block).toContain(report.sections.find((x) => x.id === 'communities')!.finding.zh);
      expect(block).toContain('**最活跃 10 个群**');
      expect(block).toContain('**流失最多 10 个群**');
      const top = want.best[0]!;
      expect(block).toContain(`1. ${names.get(top.id)} ${formatValue(top.m, 'count', 'zh')} 条，${weekMembers(top.id)} 人活跃`);
      expect(block).toContain(`1. ${names.get(EXODUS)} `);
      expect(block).toContain(`净减少 ${-EXODUS_NET}`);
    });
  });
}
