#!/usr/bin/env node
/**
 * npm run bench:alerts — a 私域-shaped simulated benchmark for the default rules
 * (alerts/rules/generic.yaml: count_default on a message count, level_default on an open
 * rate), run through the real engine (backtest) with the shipped holiday calendar.
 *
 * Simulated: 5-minute buckets over two periods (2025-09-01 → 2025-11-24: 国庆 and 双11 with
 * its pre-sale; 2026-01-12 → 2026-03-16: 春节), a daily shape (night trough, lunch and evening
 * peaks), a weekly one (weekends lower, 调休 Saturdays worked), holidays lower (春节 much
 * lower), campaign peaks (双11 pre-sale ×1.3, 11-11 ×2.5), Poisson-like noise on counts and
 * binomial-like noise on the rate (given with its deliveries, the rate's denominator), and injected incidents: drops and rises of 10–60% lasting
 * 15 minutes to 2 days, some on holidays. The team's calendar names 双11 当天 as a campaign of
 * its own (a peak day is known in advance).
 *
 * Prints per rule: incidents caught (all, and ≥ 20%), false alerts per week (also on holiday
 * and campaign weeks), median detection delay. Deterministic (seeded).
 * BENCH_ONLY=count_default|level_default runs one rule; BENCH_RULES=<file> another templates file; BENCH_DEBUG=1 lists incidents and
 * firings (Shanghai time) on stderr.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { backtest, Calendar, parseRuleYaml, parseShanghaiTime, seriesSource, templatesOf } = await import(join(root, 'alerts/dist/index.js'));

const MIN = 60_000, HOUR = 60 * MIN, DAY = 24 * HOUR, WEEK = 7 * DAY, STEP = 5 * MIN;
let seed = 20251111;
const rand = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
const gauss = () => { let u = 0; while (u === 0) u = rand(); return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand()); };

const calendar = Calendar.shipped();
calendar.addCampaign({ id: 'double11-day-2025', name: '双11 当天', start: '2025-11-10 20:00', end: '2025-11-12 00:00' });
// BENCH_RULES=<file> runs another templates file (count_default / level_default) for comparison.
const templates = templatesOf(parse(readFileSync(process.env.BENCH_RULES ?? join(root, 'alerts/rules/generic.yaml'), 'utf8')));

/** Expected level at ts (Shanghai local hour): daily × weekly × calendar. */
function shape(ts) {
  const local = new Date(ts + 8 * HOUR);
  const h = local.getUTCHours() + local.getUTCMinutes() / 60;
  const daily = 0.25 + 0.75 * Math.exp(-((h - 12.5) ** 2) / 8) + 0.9 * Math.exp(-((h - 20.5) ** 2) / 6) + 0.3 * Math.exp(-((h - 9) ** 2) / 3);
  const type = calendar.dayType(ts);
  let f = type === 'weekend' ? 0.8 : 1;
  if (type === 'holiday') f = calendar.holidayName(ts) === '春节' ? 0.45 : 0.7;
  const c = calendar.campaignsAt(ts).map((x) => x.id);
  if (c.includes('double11-day-2025')) f *= 2.5;
  else if (c.some((id) => id.startsWith('double11'))) f *= 1.3;
  return daily * f;
}

function simulate(from, to) {
  const ts = [];
  for (let t = from; t < to; t += STEP) ts.push(t);
  // Incidents: ~2 a week, 10–60%, 15 minutes to 2 days, apart from each other.
  const incidents = [];
  let t = from + 10 * DAY;
  while (t < to - 2 * DAY) {
    t += (1 + rand() * 5) * DAY;
    const durations = [15 * MIN, 30 * MIN, HOUR, 3 * HOUR, 8 * HOUR, DAY, 2 * DAY];
    const dur = durations[Math.floor(rand() * durations.length)];
    const size = 0.1 + rand() * 0.5;
    const sign = rand() < 0.6 ? -1 : 1;
    const start = Math.floor(t / STEP) * STEP;
    if (start + dur >= to) break;
    incidents.push({ start, end: start + dur, size, sign });
    t = start + dur + DAY;
  }
  const factor = (x) => { for (const i of incidents) if (x >= i.start && x < i.end) return 1 + i.sign * i.size; return 1; };
  const counts = ts.map((x) => { const mean = 120 * shape(x) * factor(x); return { ts: x, value: Math.max(0, Math.round(mean + Math.sqrt(mean) * gauss() + 0.04 * mean * gauss())) }; });
  // The rate's denominator (deliveries) goes with it, as the product's ratio KPIs carry theirs.
  const rates = ts.map((x) => { const n = Math.max(1, Math.round(400 * shape(x))); const p = Math.min(0.95, 0.22 * factor(x)); return { ts: x, value: Math.max(0, p + Math.sqrt((p * (1 - p)) / n) * gauss()), sample: n }; });
  return { counts, rates, incidents };
}

async function runRule(template, rows, kind) {
  const source = seriesSource(rows, kind);
  const catalogue = new Map(source.catalogue().map((k) => [k.id, k]));
  const yaml = `rules: [{ id: ${template}, name: ${template}, extends: ${template}, kpi: series }]`;
  const { rules, problems } = parseRuleYaml(yaml, { catalogue, templates });
  if (problems.length) throw new Error(JSON.stringify(problems));
  return (await backtest({ rules, source, from: rows[0].ts + STEP, to: rows.at(-1).ts + STEP, stepMs: STEP, calendar })).firings;
}

function score(firings, incidents, from, to, windowMs) {
  const scored = firings.filter((f) => f.ts >= from + 8 * DAY); // after the rule learnt (7 comparable days + noise)
  const caught = incidents.map((i) => scored.find((f) => f.ts >= i.start && f.ts <= i.end + windowMs));
  const fa = scored.filter((f) => !incidents.some((i) => f.ts >= i.start && f.ts <= i.end + windowMs + 2 * HOUR));
  const special = (f) => calendar.isSpecial(f.ts - windowMs, f.ts);
  return { caught, fa, faSpecial: fa.filter(special), weeks: (to - from - 8 * DAY) / WEEK };
}

const periods = [
  ['2025-09-01', '2025-11-24', '国庆 + 双11'],
  ['2026-01-12', '2026-03-16', '春节'],
];
const totals = {};
for (const [a, b, label] of periods) {
  const from = parseShanghaiTime(a), to = parseShanghaiTime(b);
  const sim = simulate(from, to);
  for (const [rule, rows, kind] of [['count_default', sim.counts, 'sum'], ['level_default', sim.rates, 'mean']]) {
    if (process.env.BENCH_ONLY && process.env.BENCH_ONLY !== rule) continue;
    const firings = await runRule(rule, rows, kind);
    if (process.env.BENCH_DEBUG) {
      const fmt = (x) => new Date(x + 8 * HOUR).toISOString().slice(5, 16);
      for (const i of sim.incidents) console.error('incident', fmt(i.start), ((i.end - i.start) / HOUR).toFixed(2) + 'h', (i.sign * i.size).toFixed(2), calendar.dayType(i.start));
      for (const f of firings) console.error('firing', fmt(f.ts), f.value?.toFixed(1), f.baseline?.toFixed(1), f.band ? `[${f.band.low.toFixed(0)},${f.band.high.toFixed(0)}]` : '', f.summary);
    }
    const s = score(firings, sim.incidents.filter((i) => i.start >= from + 8 * DAY), from, to, HOUR);
    const incs = sim.incidents.filter((i) => i.start >= from + 8 * DAY);
    const tot = (totals[rule] ??= { n: 0, c: 0, n20: 0, c20: 0, fa: 0, faSpecial: 0, weeks: 0, delays: [], periods: [] });
    incs.forEach((i, k) => {
      tot.n++; if (s.caught[k]) tot.c++;
      if (i.size >= 0.2) { tot.n20++; if (s.caught[k]) tot.c20++; }
      if (s.caught[k]) tot.delays.push((s.caught[k].ts - i.start) / MIN);
    });
    tot.fa += s.fa.length; tot.faSpecial += s.faSpecial.length; tot.weeks += s.weeks;
    tot.periods.push(`${label}: ${incs.length} incidents, ${s.caught.filter(Boolean).length} caught, ${s.fa.length} false (${s.faSpecial.length} on holiday/campaign days)`);
  }
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? (s.length % 2 ? s[(s.length - 1) >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : null; };
for (const [rule, t] of Object.entries(totals)) {
  console.log(JSON.stringify({
    rule,
    incidents: t.n, caught: t.c, caughtShare: +(t.c / t.n).toFixed(3),
    incidents20: t.n20, caught20: t.c20, caught20Share: +(t.c20 / t.n20).toFixed(3),
    falseAlertsPerWeek: +(t.fa / t.weeks).toFixed(2), falseAlertsOnHolidayOrCampaign: t.faSpecial, weeks: +t.weeks.toFixed(1),
    medianDelayMinutes: med(t.delays), periods: t.periods,
  }));
}
