/**
 * `npm run bench:communities`: storage and query budgets for 社群 at scale. Writes a skewed
 * population of BENCH_GROUPS groups (20,000) × BENCH_DAYS days (30) of 10 s counter rows
 * (messages, interactions, joins, leaves; the top group sends BENCH_PEAK messages a day,
 * activity ∝ 1/rank^0.8, every group at least one a day) straight into the store, as the
 * collector would have, then prints: rows and write time, disk, RSS (this process; influxd
 * when BENCH_INFLUX_PID is given), and the time of one group's series (30 days by day, one day
 * by hour), of the top-10 ranking (today, 7 days, 30 days; median of 3) and of the whole weekly
 * report of the last complete week (once; from 14 days on; BENCH_REPORT=off skips it).
 * DuckDB on a temp file by default; BENCH_INFLUX_URL + BENCH_INFLUX_DB (+ BENCH_INFLUX_DIR for
 * disk; BENCH_INFLUX_TIMEOUT_MS, default 120 s a request) measure an InfluxDB instead.
 * BENCH_WRITE=off writes nothing and measures what an earlier run of the same local day left in
 * that InfluxDB (the same population: a second measurement on the same data).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CounterRow, MetricStore, SketchRow } from '../store/port.js';
import { GroupMembers } from '../collector/groupMembers.js';
import { groupActiveSeries, scanActiveGroups, topActiveGroups } from '../communities/activeMembers.js';
import { createDuckDbStore } from '../store/duckdb/adapter.js';
import { createInfluxStore } from '../store/influx/adapter.js';
import { writeCountersInChunks } from '../store/bulkWrite.js';
import { groupPopulation } from '../communities/population.js';
import { GroupRanking } from '../communities/ranking.js';
import { CommunityNames } from '../communities/names.js';
import { TagGuard } from '../ingest/tagGuard.js';
import { mulberry32 } from '../simulator/random.js';
import { DAY, HOUR, dayStart } from '../time/zone.js';
import { SeriesService } from '../query/series.js';
import { lastCompleteWeek } from '../reports/week.js';
import { generateWeeklyReport } from '../reports/weekly.js';
import { SHANGHAI_DAY_OFFSET_MS, rollupRowsOf } from '../store/rollups.js';
import { FlushBuckets } from '../collector/flushBuckets.js';
import { applyEvent } from '../collector/counters.js';
import { Hll } from '../sketch/hll.js';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const TZ = 'Asia/Shanghai';
const num = (name: string, d: number) => (process.env[name] ? Number(process.env[name]) : d);

function rssMiB(pid: number | 'self'): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
function duMiB(p: string): number {
  return Number(execFileSync('du', ['-sk', p], { encoding: 'utf8' }).split('\t')[0]) / 1024;
}
async function timed<T>(fn: () => Promise<T>, runs = 3): Promise<{ ms: number; value: T }> {
  const t: number[] = [];
  let value!: T;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    value = await fn();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { ms: t[Math.floor(runs / 2)]!, value };
}

/** A member's sketch key (sketch/hll.ts: 25-bit index × 64 + rank) from (group, member number): a fixed integer hash, no ids. */
function memberKey(group: number, member: number): number {
  const mix = (x: number) => {
    x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
    x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
    return (x ^ (x >>> 16)) >>> 0;
  };
  const h1 = mix(group * 0x9e3779b1 + member * 0x85ebca6b + 1);
  const h2 = mix(h1 ^ 0x27d4eb2f);
  return (h1 >>> 7) * 64 + Math.min(39, Math.clz32(h2) + 1);
}

async function main(): Promise<void> {
  const groups = num('BENCH_GROUPS', 20_000);
  const days = num('BENCH_DAYS', 30);
  const peak = num('BENCH_PEAK', 2000);
  const influxUrl = process.env.BENCH_INFLUX_URL;
  let dir: string | null = null;
  let store: MetricStore;
  let diskPath: string | null;
  if (influxUrl) {
    store = createInfluxStore({ url: influxUrl, db: process.env.BENCH_INFLUX_DB ?? 'pulse_bench', timeoutMs: num('BENCH_INFLUX_TIMEOUT_MS', 120_000) });
    diskPath = process.env.BENCH_INFLUX_DIR ?? null;
  } else {
    dir = mkdtempSync(path.join(tmpdir(), 'pulse-bench-communities-'));
    diskPath = path.join(dir, 'pulse.duckdb');
    // PULSE_DUCKDB_MEMORY_LIMIT as for the server (the adapter's default otherwise).
    store = createDuckDbStore({ file: diskPath, ...(process.env.PULSE_DUCKDB_MEMORY_LIMIT ? { memoryLimit: process.env.PULSE_DUCKDB_MEMORY_LIMIT } : {}) });
  }
  await store.init();
  const rssStart = rssMiB('self');

  const pop = groupPopulation(groups, 17, peak);
  const now = Date.now();
  const today = dayStart(now, TZ);
  const first = today - (days - 1) * DAY;
  const rnd = mulberry32(4242);
  const out: [string, string][] = [];
  let rows = 0;
  let rolled = 0;
  // Per-group active members (collector/groupMembers.ts): each active event (message,
  // interaction, join) names a member of its group's pool (BENCH_POOL × the group's daily
  // messages, at least 3 members; members of different groups are different people), and the
  // group's hour and day sketches get it, as the collector builds them. Written per day.
  const poolFactor = num('BENCH_POOL', 0.6);
  const withMembers = process.env.BENCH_MEMBERS !== 'off';
  let sketchRows = 0;
  let sketchMs = 0;
  let events = 0;
  let retries = 0;
  const writeStart = performance.now();
  const write = !(influxUrl && process.env.BENCH_WRITE === 'off');
  for (let d = 0; write && d < days; d++) {
    const start = first + d * DAY;
    const end = Math.min(start + DAY, now);
    const buckets = new Map<string, CounterRow>();
    const sketches = new Map<string, SketchRow>();
    const hlls = new Map<string, Hll>();
    const start0 = start; // (the loop below binds its own `start`)
    const member = (gi: number, g: string, ts: number, pool: number) => {
      const key = memberKey(gi, Math.floor(rnd() * pool));
      for (const [gran, start] of [['hour', Math.floor(ts / HOUR) * HOUR], ['day', start0]] as const) {
        const k = `${gran}\u0000${start}\u0000${g}`;
        let h = hlls.get(k);
        if (!h) {
          hlls.set(k, (h = new Hll()));
          sketches.set(k, { ts: start, granularity: gran, set: 'active', channel: '', node: 'main', sketch: '', community: g });
        }
        h.add(key);
      }
    };
    const add = (g: string, counter: string, n: number, gi = -1, pool = 0) => {
      for (let i = 0; i < n; i++) {
        // Daytime-heavy: three quarters of the activity between 08:00 and 23:00 Beijing time.
        const span = end - start;
        const off = rnd() < 0.75 ? Math.min(span - 1, 8 * HOUR + rnd() * 15 * HOUR) : rnd() * span;
        const ts = Math.floor((start + off) / 10_000) * 10_000;
        const key = `${ts}|${g}`;
        let row = buckets.get(key);
        if (!row) buckets.set(key, (row = { ts, tags: { channel: 'wechat_group', community: g, campaign: '' }, counters: {} }));
        row.counters[counter] = (row.counters[counter] ?? 0) + 1;
        events++;
        if (withMembers && gi >= 0) member(gi, g, ts, pool);
      }
    };
    pop.forEach((g, gi) => {
      const pool = Math.max(3, Math.round(g.messages * poolFactor));
      add(g.id, 'message', g.messages, gi, pool);
      add(g.id, 'interaction', g.interactions, gi, pool);
      add(g.id, 'member_join', g.joins, gi, pool);
      add(g.id, 'member_leave', g.leaves);
    });
    const raw = [...buckets.values()];
    // The groups' hour and day rollups, as the collector writes them (a whole local day here).
    rolled += rollupRowsOf(raw, { dayOffsetMs: SHANGHAI_DAY_OFFSET_MS }).length;
    try {
      retries += await writeCountersInChunks(store, raw, { rollups: { wholePeriods: { dayOffsetMs: SHANGHAI_DAY_OFFSET_MS } } });
    } catch (err) {
      // A store that cannot hold the volume is a budget figure too: say where it stopped.
      console.log(`\n  write FAILED on day ${d + 1} of ${days} after ${rows.toLocaleString('en')} rows (${((performance.now() - writeStart) / 1000).toFixed(0)} s, RSS ${rssMiB('self').toFixed(0)} MiB): ${(err as Error).message.split('\n')[0]}`);
      if (diskPath) console.log(`  disk at that point: ${duMiB(influxUrl ? diskPath : dir!).toFixed(0)} MiB`);
      process.exit(2);
    }
    rows += raw.length;
    if (withMembers) {
      const list = [...sketches.entries()].map(([k, r]) => ({ ...r, sketch: hlls.get(k)!.toBase64() }));
      const t0 = performance.now();
      // As the spool drains them: 200 sketch rows per writeSketches call.
      for (let i = 0; i < list.length; i += 200) await store.writeSketches(list.slice(i, i + 200));
      sketchMs += performance.now() - t0;
      sketchRows += list.length;
    }
    console.error(`  day ${d + 1}/${days}: ${rows.toLocaleString('en')} rows, ${((performance.now() - writeStart) / 1000).toFixed(0)} s, RSS ${rssMiB('self').toFixed(0)} MiB`);
  }
  const writeMs = performance.now() - writeStart;
  out.push(['store', influxUrl ? `InfluxDB ${influxUrl}` : `DuckDB ${diskPath}`]);
  out.push(['population', `${groups} groups × ${days} days, top group ${pop[0]!.messages} messages/day, median ${pop[Math.floor(groups / 2)]!.messages}`]);
  if (withMembers) out.push(['group sketches written', `${sketchRows.toLocaleString('en')} hour + day rows (active members, pool ${poolFactor} × messages), ${(sketchMs / 1000).toFixed(1)} s of the write time`]);
  out.push(['written', `${events.toLocaleString('en')} events in ${rows.toLocaleString('en')} 10 s rows + ${rolled.toLocaleString('en')} hour/day rollup rows, ${(writeMs / 1000).toFixed(1)} s (${Math.round((rows + rolled) / (writeMs / 1000)).toLocaleString('en')} rows/s, ${retries} retried writes)`]);

  const ranking = new GroupRanking(store, TZ);
  const one = pop[0]!.id;
  const tail = pop[groups - 1]!.id;
  for (const [label, g] of [['lively group', one], ['quiet group', tail]] as const) {
    const byDay = await timed(() => store.queryCounters({ from: first, to: today + DAY, stepMs: DAY, offsetMs: first % DAY, counters: ['message', 'member_join', 'member_leave', 'interaction'], by: [], filter: { community: g } }));
    const byHour = await timed(() => store.queryCounters({ from: today - DAY, to: today, stepMs: HOUR, offsetMs: 0, counters: ['message', 'member_join', 'member_leave', 'interaction'], by: [], filter: { community: g } }));
    const total = byDay.value[0]?.points.reduce((a, p) => a + (p.sums.message ?? 0), 0) ?? 0;
    out.push([`series, ${label} (${g}), ${days} d by day`, `${byDay.ms.toFixed(0)} ms (${total} messages; ${days} days × ${pop.find((x) => x.id === g)!.messages} sent)`]);
    out.push([`series, ${label}, yesterday by hour`, `${byHour.ms.toFixed(0)} ms`]);
  }
  if (withMembers) {
    const dayOf = (ts: number) => dayStart(ts, TZ);
    for (const [label, g] of [['lively group', one], ['quiet group', tail]] as const) {
      const byDay = await timed(() => groupActiveSeries(store, g, 'day', first, today + DAY));
      const byHour = await timed(() => groupActiveSeries(store, g, 'hour', today - DAY, today));
      out.push([`active members, ${label}, ${days} d by day`, `${byDay.ms.toFixed(0)} ms (${byDay.value.length} days, today ${byDay.value.at(-1)?.members ?? 0})`]);
      out.push([`active members, ${label}, yesterday by hour`, `${byHour.ms.toFixed(0)} ms (${byHour.value.length} hours)`]);
    }
    // The scan of every group's day sketches (the only way before the kept day rankings),
    // then the ranking through the kept days: its first call computes every day it has not
    // kept yet (here: all of them, once), later calls only today's (changed by every flush).
    for (const [label, from] of [['today', today], ['7 days', today - 6 * DAY], [`${days} days`, first]] as const) {
      const r = await timed(() => scanActiveGroups(store, from, today + DAY, 'day', 10));
      out.push([`top-10 by active members, scan, ${label}`, `${r.ms.toFixed(0)} ms (${r.value.groups} groups; #1 ${r.value.rows[0]?.community} ${r.value.rows[0]?.members})`]);
    }
    for (const [label, from] of [['today', today], ['7 days', today - 6 * DAY], [`${days} days`, first]] as const) {
      const cold = await timed(() => topActiveGroups(store, from, today + DAY, 10, dayOf), 1);
      // Today's group sketches change with every flush: its kept ranking goes stale (as live).
      const warm = await timed(async () => {
        await store.writeSketches([{ ts: today, granularity: 'day', set: 'active', channel: '', node: 'bench-live', sketch: new Hll().toBase64(), community: one }]);
        return topActiveGroups(store, from, today + DAY, 10, dayOf);
      });
      const same = JSON.stringify(warm.value.rows) === JSON.stringify((await scanActiveGroups(store, from, today + DAY, 'day', 10)).rows);
      out.push([`top-10 by active members, kept days, ${label}`, `first ${cold.ms.toFixed(0)} ms, then ${warm.ms.toFixed(0)} ms with today stale (${warm.value.groups} groups; #1 ${warm.value.rows[0]?.community} ${warm.value.rows[0]?.members}; ${same ? 'same rows as the scan' : 'DIFFERENT rows from the scan'})`]);
    }
  }
  for (const [label, from] of [['today', today], ['7 days', today - 6 * DAY], [`${days} days`, first]] as const) {
    const r = await timed(() => ranking.rank({ from, to: now, by: 'messages', order: 'desc', limit: 10 }));
    out.push([`top-10 by messages, ${label}`, `${r.ms.toFixed(0)} ms (${r.value.groups} groups ranked; #1 ${r.value.rows[0]?.community} ${r.value.rows[0]?.messages})`]);
  }
  const net = await timed(() => ranking.rank({ from: today - 6 * DAY, to: now, by: 'net', order: 'asc', limit: 10 }));
  out.push(['top-10 losing members, 7 days', `${net.ms.toFixed(0)} ms`]);
  if (days >= 14 && process.env.BENCH_REPORT !== 'off') {
    // The whole weekly report of the last complete week (every section, 社群健康 included), once.
    const week = lastCompleteWeek(now, TZ);
    const t0 = performance.now();
    try {
      const report = await generateWeeklyReport({ series: new SeriesService(store, 10_000, TZ, () => now), store, timezone: TZ, weekStart: week.from, now, trigger: 'manual', communityName: () => null });
      out.push(['weekly report (whole)', `${(performance.now() - t0).toFixed(0)} ms (${report.sections.length} sections)`]);
    } catch (err) {
      // Not finishing is a budget figure too (a query over the store's timeout).
      out.push(['weekly report (whole)', `FAILED after ${(performance.now() - t0).toFixed(0)} ms: ${(err as Error).message.split('\n')[0]}`]);
    }
  }

  // What the collector holds live for the rollups: the open hour and day row of every group
  // that had an event (one event per group here; the previous hour's rows stay for the lateness window too).
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  const heapR0 = process.memoryUsage().heapUsed;
  const live = [new FlushBuckets(HOUR, 0, 'hour'), new FlushBuckets(DAY, SHANGHAI_DAY_OFFSET_MS, 'day')];
  for (const g of pop) for (const b of live) applyEvent(b.vectorFor(now, { channel: 'wechat_group', community: g.id, campaign: '' }), { type: 'message', ts: now, tags: { channel: 'wechat_group', community: g.id, campaign: '' } });
  gc();
  const heapR1 = process.memoryUsage().heapUsed;
  out.push(['collector heap, open hour + day rows', `${((heapR1 - heapR0) / 1024 / 1024).toFixed(1)} MiB for ${live.reduce((n, b) => n + b.rowCount, 0).toLocaleString('en')} rows (${groups} groups)`]);
  live.length = 0;
  // What the collector holds live for per-group active members: the real tracker
  // (collector/groupMembers.ts) with a whole day's active members of every group in its open
  // hour and day (an upper bound for the hour: the day's members all in one hour).
  gc();
  // Heap and array buffers: a dense sketch's registers live outside the JS heap.
  const heldNow = () => process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers;
  const heapS0 = heldNow();
  let tracker: GroupMembers | null = new GroupMembers((g, ts) => (g === 'hour' ? Math.floor(ts / HOUR) * HOUR : dayStart(ts, TZ)), 'main');
  const mrnd = mulberry32(7);
  pop.forEach((g, gi) => {
    const pool = Math.max(3, Math.round(g.messages * poolFactor));
    for (let i = 0; i < g.messages + g.interactions + g.joins; i++) tracker!.add('message', now, g.id, memberKey(gi, Math.floor(mrnd() * pool)), 0);
  });
  gc();
  const heapS1 = heldNow();
  out.push(['collector memory (heap + buffers), group active members (open hour + day)', `${((heapS1 - heapS0) / 1024 / 1024).toFixed(1)} MiB for ${tracker.periodCount.toLocaleString('en')} group sketches (${groups} groups, a day's members each)`]);
  tracker = null;
  // What the server keeps per group in memory: the admitted id and its name.
  const heap0 = process.memoryUsage().heapUsed;
  const guard = new TagGuard({ channel: 50, community: groups, campaign: 100 });
  for (const g of pop) guard.admit('community', g.id);
  const namesDir = mkdtempSync(path.join(tmpdir(), 'pulse-bench-names-'));
  const names = new CommunityNames({ dataDir: namesDir });
  await names.setMany(pop.map((g) => ({ id: g.id, name: g.name })));
  const search = await timed(async () => names.search('望京', guard.values('community'), 20), 5);
  const heap1 = process.memoryUsage().heapUsed;
  rmSync(namesDir, { recursive: true, force: true });
  out.push(['server heap for ids + names', `${((heap1 - heap0) / 1024 / 1024).toFixed(1)} MiB for ${groups} groups`]);
  out.push(['name search (type-ahead)', `${search.ms.toFixed(1)} ms over ${groups} groups`]);
  out.push(['RSS, bench process', `${rssMiB('self').toFixed(0)} MiB (${rssStart.toFixed(0)} after store open)`]);
  if (process.env.BENCH_INFLUX_PID) out.push(['RSS, influxd', `${rssMiB(Number(process.env.BENCH_INFLUX_PID)).toFixed(0)} MiB`]);
  await store.close();
  if (diskPath) out.push(['disk', `${duMiB(influxUrl ? diskPath : dir!).toFixed(0)} MiB`]);
  if (dir) rmSync(dir, { recursive: true, force: true });

  const w = Math.max(...out.map(([k]) => k.length));
  console.log('\nSiyu Pulse 社群 benchmark\n');
  for (const [k, v] of out) console.log(`  ${k.padEnd(w)}  ${v}`);
  console.log('');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
