/**
 * The seasonal kind: a change rule with `baseline: { type: seasonal }` — the expected value
 * from the same window over the last N comparable periods, a band from the KPI's own noise,
 * the calendar, and 新常态 (see baseline.ts). Same YAML kind as change; listed before it in
 * the registry, so it owns the change rules whose baseline is seasonal.
 */
import type { Band, WindowResult, WindowValue } from '../../contract.js';
import { adoptNewNormal } from '../../engine/stateMachine.js';
import { currentWindow, DAY, type Span } from '../../engine/windows.js';
import { trackFiringSpans } from '../change/baseline.js';
import { evaluateChange } from '../change/evaluate.js';
import { checkChangeKpi, type ChangeRule } from '../change/schema.js';
import { changeSummaryZh } from '../change/summary.js';
import { EPS, type Evaluation } from '../common/evaluation.js';
import { alertKeyOf } from '../common/keys.js';
import type { Instance, RuleKind, Split } from '../types.js';
import { bandHalfWidth, dayClassOf, emptyNoise, MAX_NOISE_RESCALE, median, noiseScale, planCandidates, recordNoise } from './baseline.js';
import type { NoiseMemory } from './baseline.js';
import type { HeldNoise } from '../types.js';
import { shanghaiDate, shanghaiMidnight } from '../../calendar/calendar.js';
import { needsMinuteWindows } from '../common/distinct.js';

type WindowValueLike = { value: number; sample: number; from?: number };

/**
 * A campaign's or a holiday's level against ordinary days: the median ratio of its whole hours
 * (or windows, when longer) over the last day, since it began. A day, so that an incident of
 * a few hours inside it does not become the level it is judged against.
 */
const UPLIFT_SPAN_MS = 3_600_000;
const UPLIFT_LOOKBACK_MS = 86_400_000;

/** Seasonal rules without enough comparable periods yet compare with this many recent windows. */
const RECENT_WINDOWS = 12;

/** The Shanghai midnight strictly inside a window, if it crosses one. */
function midnightInside(w: Span): number | undefined {
  const m = shanghaiMidnight(shanghaiDate(w.to - 1));
  return m > w.from && m < w.to ? m : undefined;
}

export const seasonalKind: RuleKind<ChangeRule> = {
  id: 'seasonal',
  yamlKind: 'change',
  owns: (rule) => rule.kind === 'change' && !!(rule as ChangeRule).baseline.seasonal,
  checkKpi: checkChangeKpi,
  /**
   * Expected = the median of the same window in the last N comparable periods (per split
   * value, since channel campaigns differ), band = the instance's own observed noise.
   */
  async evaluate(host, rule, tNow, catalogue) {
    const kpi = catalogue.get(rule.kpi);
    if (!kpi) throw new Error(`KPI ${rule.kpi} is no longer in the catalogue`);
    const seasonal = rule.baseline.seasonal;
    if (!seasonal) throw new Error('not a seasonal rule');
    const t = host.evaluationTime(tNow, kpi);
    const cur = currentWindow(t, rule.windowMs);
    const cache = new Map<string, Promise<WindowResult | null>>();
    const fetch = (s: Span): Promise<WindowResult | null> => {
      const key = `${s.from}:${s.to}`;
      let p = cache.get(key);
      if (!p) cache.set(key, (p = host.source.window(kpi.id, s.from, s.to, rule.by)));
      return p;
    };
    const current = await fetch(cur);
    const period: 'day' | 'week' = seasonal.periodMs === DAY ? 'day' : 'week';

    type Based =
      | { undecided: Evaluation }
      | { curValue: WindowValue | undefined; base: WindowValue; periodsUsed: number; basis: 'day' | 'week' | 'recent'; comparable?: Band['comparable']; uplift?: number; otherDays?: number };
    const pick = (r: WindowResult | null, split: Split) => (r ? (split ? (r.splits[split.value] ?? (kpi.ratio ? undefined : { value: 0, sample: 0 })) : r.total) : undefined);

    /**
     * The current value and the expected one for a window of `windowMs` ending at `at` (t,
     * or a midnight for the first part of a window split there): the rule's own window
     * (`main`, which may end a 新常态) or an extra one (short / accumulated), which only reads.
     */
    const baseFor = async (split: Split, windowMs: number, main: boolean, at = t): Promise<Based> => {
      const channel = split?.dim === 'channel' ? split.value : undefined;
      const cur = currentWindow(at, windowMs);
      const plan = planCandidates(at, windowMs, seasonal, rule.calendar, host.calendar, channel);
      const curValue = pick(await fetch(cur), split);
      if (plan.mute) return { undecided: { value: curValue?.value ?? null, baseline: null, change: null, notEnoughHistory: false, observation: null, reason: plan.mute } };
      const rec = host.record(alertKeyOf(rule.id, split));
      const episode: Span[] = rec?.machine.inner === 'firing' && rec.machine.firingSince !== null ? [{ from: rec.machine.firingSince - rule.windowMs, to: t }] : [];
      const blocked = [...(rec?.firingSpans ?? []), ...episode];
      const spans = plan.spans.filter((b) => !blocked.some((f) => b.from < f.to && f.from < b.to));
      const results = await Promise.all(spans.map(fetch));
      const values: WindowValueLike[] = [];
      results.forEach((r, i) => {
        const v = pick(r, split);
        if (v && v.value !== null) values.push({ value: v.value, sample: v.sample, from: spans[i]?.from ?? 0 });
      });
      let periodsUsed = values.length;
      let basis: 'day' | 'week' | 'recent' = period;
      const comparable = plan.comparable;
      // The first days of a campaign or a holiday have too few earlier days of their own to
      // compare with. Ordinary comparable days stand in, scaled by how far the period's own
      // hours ran from them (the median ratio of its hours over the last day, since it began):
      // a campaign's uplift or 春节's quiet is not news, a drop within it is, and an incident of
      // a few hours does not become the level (the last 6 hours alone took an 8-hour +22% on
      // 春节 day 2 for 春节's level after 3 hours).
      let scaled = false;
      let upliftRatio: number | undefined;
      let otherDays = 0;
      const uplift = plan.uplift;
      if (values.length < seasonal.minPeriods && uplift) {
        const ordinary = uplift.ordinary;
        // The ordinary days' median over `span` (each ordinary day is a whole number of days back).
        const ordinaryAt = async (span: Span): Promise<{ value: number; sample: number } | null> => {
          const rs = await Promise.all(ordinary.map((sp) => fetch({ from: span.from - (cur.to - sp.to), to: span.to - (cur.to - sp.to) })));
          const vs = rs.map((r) => pick(r, split)).filter((v): v is { value: number; sample: number } => !!v && v.value !== null);
          return vs.length >= seasonal.minPeriods ? { value: median(vs.map((v) => v.value)) ?? 0, sample: median(vs.map((v) => v.sample)) ?? 0 } : null;
        };
        type Ratio = { ratio: number; from: number };
        const clean: Ratio[] = [];
        const all: Ratio[] = [];
        const step = Math.max(windowMs, UPLIFT_SPAN_MS);
        const since = rec?.shift?.since;
        // Whole hours on a grid from the period's start (the same hours from one evaluation to
        // the next: a sliding grid flipped between firing and clean hours and flapped).
        const grid = uplift.start + Math.floor((cur.from - uplift.start) / step) * step;
        for (let j = 1; j * step <= UPLIFT_LOOKBACK_MS; j++) {
          const span = { from: grid - j * step, to: grid - (j - 1) * step };
          if (span.from < uplift.start) break;
          const [r, exp] = await Promise.all([fetch(span), ordinaryAt(span)]);
          const v = pick(r, split);
          if (!(v && v.value !== null && exp && exp.value > 0)) continue;
          all.push({ ratio: v.value / exp.value, from: span.from });
          // Hours of an adopted 新常态 already hold the shift: left out like firing hours, the
          // shift then lifts the level from before it (and may end, below).
          if (!blocked.some((f) => span.from < f.to && f.from < span.to) && !(since !== undefined && span.to > since)) clean.push({ ratio: v.value / exp.value, from: span.from });
        }
        // Hours that were firing are left out, unless nothing else is left: an alert firing
        // since (nearly) the period began must still be judged, or it could never resolve.
        const ratios = clean.length >= 2 ? clean : all;
        const here = await ordinaryAt(cur);
        if (ratios.length >= 2 && here) {
          // One expected value, dated by the earliest hour behind it (for the 新常态 logic below).
          upliftRatio = median(ratios.map((x) => x.ratio)) ?? 1;
          const value = here.value * upliftRatio;
          values.splice(0, values.length, { value, sample: here.sample, from: Math.min(...ratios.map((x) => x.from)) });
          scaled = true;
          periodsUsed = ordinary.length;
        }
      }
      if (main && values.length >= 1 && values.length < seasonal.minPeriods && !scaled && seasonal.periodMs === DAY && seasonal.days === 'comparable' && (comparable === 'workday' || comparable === 'restday')) {
        // Fewer than min_periods days of its kind (a young KPI's second weekend: 2 rest days; or
        // its rest days were campaign days, holidays or firing), but enough days of the other
        // kind: the same hour on those days, scaled by how this kind of day ran against them
        // (the median whole day of each kind: a weekend at 0.8 of a workday), joins its own days.
        // The recent-window stand-in below does not know the day's shape: at night it compares
        // with the evening peak, and a night's +28% is inside its band.
        const curClass = comparable === 'workday' ? 'work' : 'rest';
        const any = planCandidates(at, windowMs, { ...seasonal, days: 'all' }, rule.calendar, host.calendar, channel);
        const other = any.mute || any.uplift ? [] : any.spans.filter((sp) => dayClassOf(sp.to - 1, host.calendar) !== curClass && !blocked.some((f) => sp.from < f.to && f.from < sp.to));
        const day = (sp: Span): Span => {
          const from = shanghaiMidnight(shanghaiDate(sp.to - 1));
          return { from, to: from + DAY };
        };
        const [ownDays, otherWholeDays, otherHours] = await Promise.all([
          Promise.all(values.map((v) => fetch(day({ from: v.from ?? 0, to: (v.from ?? 0) + windowMs })))),
          Promise.all(other.map((sp) => fetch(day(sp)))),
          Promise.all(other.map(fetch)),
        ]);
        const whole = (rs: (WindowResult | null)[]) => rs.map((r) => pick(r, split)?.value).filter((v): v is number => v !== null && v !== undefined);
        const ownLevel = median(whole(ownDays));
        const otherLevel = median(whole(otherWholeDays));
        const hours: WindowValueLike[] = [];
        otherHours.forEach((r, i) => {
          const v = pick(r, split);
          if (v && v.value !== null) hours.push({ value: v.value, sample: v.sample, from: other[i]?.from ?? 0 });
        });
        if (ownLevel !== null && otherLevel !== null && otherLevel > 0 && ownLevel >= 0 && hours.length >= seasonal.minPeriods) {
          const r = ownLevel / otherLevel;
          values.push(...hours.map((h) => ({ ...h, value: h.value * r })));
          periodsUsed = values.length;
          otherDays = hours.length;
          scaled = true;
        }
      }
      if (main && values.length < seasonal.minPeriods && !scaled && !comparable?.match(/^(holiday|holiday_own|campaign)$/)) {
        // A KPI younger than min_periods comparable periods: the recent windows before this one
        // (robust median of the last 12) stand in until the seasonal history exists.
        const recent = Array.from({ length: RECENT_WINDOWS }, (_, j) => ({ from: cur.from - (j + 1) * windowMs, to: cur.to - (j + 1) * windowMs })).filter(
          (b) => !blocked.some((f) => b.from < f.to && f.from < b.to),
        );
        const rs = await Promise.all(recent.map(fetch));
        const rv: WindowValueLike[] = [];
        rs.forEach((r, i) => {
          const v = pick(r, split);
          if (v && v.value !== null) rv.push({ value: v.value, sample: v.sample, from: recent[i]?.from ?? 0 });
        });
        if (rv.length * 2 >= RECENT_WINDOWS) {
          values.splice(0, values.length, ...rv);
          periodsUsed = rv.length;
          basis = 'recent';
        }
      }
      if (basis !== 'recent' && values.length < seasonal.minPeriods && !scaled) {
        return {
          undecided: {
            value: curValue?.value ?? (kpi.ratio ? null : 0),
            baseline: null,
            change: null,
            notEnoughHistory: true,
            observation: null,
            reason: `${values.length} comparable period(s) with data, min_periods ${seasonal.minPeriods}`,
          },
        };
      }
      // 新常态: windows from before an adopted shift are lifted by it; later ones already hold it.
      // A ratio for KPIs that cannot go negative (counts, rates): the shift scales with the
      // hour's level instead of adding the adoption hour's difference to every hour.
      const shift = rec?.shift;
      const lift = (v: WindowValueLike): number =>
        shift && v.from !== undefined && v.from < shift.since ? (shift.ratio != null ? v.value * shift.ratio : v.value + shift.offset) : v.value;
      const lifted = values.map(lift);
      if (main && shift && values.every((v) => v.from === undefined || v.from >= shift.since) && rec) rec.shift = null;
      let expected = median(lifted) ?? 0;
      if (rec?.shift && curValue && curValue.value !== null) {
        // A new normal may end: a KPI back at its old normal is normal (no alert against the
        // shifted baseline), and once it has stayed there for a window the shift is dropped.
        const plain = median(values.map((v) => v.value)) ?? 0;
        if (!main) {
          if (rec.shift.backSince != null) expected = plain;
        } else {
          const closer = Math.abs(curValue.value - plain) < Math.abs(curValue.value - expected);
          // On its way back (between the new normal and the old one): no move to report.
          const between = (curValue.value - expected) * (plain - curValue.value) > 0;
          if (closer) {
            rec.shift.backSince ??= t;
            if (t - rec.shift.backSince >= rule.windowMs) {
              // A 新常态 that went back to the old normal was, after all, an episode: its windows
              // are left out of later baselines like a firing's (a holiday's level from its own
              // hours would otherwise take them for the holiday's level).
              const up = rec.shift.ratio != null ? rec.shift.ratio > 1 : rec.shift.offset > 0;
              rec.firingSpans.push({ from: rec.shift.since, to: rec.shift.backSince, move: up ? 'up' : 'down' });
              rec.shift = null;
            }
          } else rec.shift.backSince = null;
          expected = between ? curValue.value : closer ? plain : expected;
        }
      }
      let base = { value: expected, sample: median(values.map((v) => v.sample)) ?? 0 };
      // A window across midnight, on a rule that compares days by type: the part before
      // midnight is expected from days like the one ending, the part after from days like the
      // one beginning, summed (a ratio: weighted by the parts' samples). Compared whole, Monday
      // 00:15 took Thursday-to-Friday nights for Sunday's last 45 minutes, Saturday 00:15 took
      // Friday evenings for a Saturday's: a 15–20% "drop" every weekend. Not for distinct
      // counts (they do not add) nor while a 新常态 is in force (judged on the whole window).
      const byType = seasonal.periodMs === DAY && (seasonal.days === 'comparable' || rule.calendar.holidays === 'comparable' || rule.calendar.campaigns === 'comparable');
      const midnight = byType && at === t && basis !== 'recent' && !rec?.shift && !needsMinuteWindows(kpi) ? midnightInside(cur) : undefined;
      if (midnight !== undefined) {
        const before = planCandidates(midnight, midnight - cur.from, seasonal, rule.calendar, host.calendar, channel);
        const after = planCandidates(at, at - midnight, seasonal, rule.calendar, host.calendar, channel);
        if (!before.mute && !after.mute) {
          const [a, b] = await Promise.all([baseFor(split, midnight - cur.from, false, midnight), baseFor(split, at - midnight, false, at)]);
          // A side without enough days like its own takes no decision: the whole window compared
          // as one is the biased comparison this replaces (and its false alerts would block the
          // very windows the side is still missing).
          if ('undecided' in a || 'undecided' in b) {
            const side = 'undecided' in a ? a.undecided : 'undecided' in b ? b.undecided : null;
            return { undecided: { ...(side as Evaluation), value: curValue?.value ?? null, reason: `window across midnight, one side: ${side?.reason ?? ''}` } };
          }
          if (a.base.value !== null && b.base.value !== null) {
            const sample = a.base.sample + b.base.sample;
            if (!kpi.ratio) base = { value: a.base.value + b.base.value, sample };
            else if (sample > 0) base = { value: (a.base.value * a.base.sample + b.base.value * b.base.sample) / sample, sample };
            periodsUsed = Math.min(a.periodsUsed, b.periodsUsed);
            otherDays = 0;
          }
        }
      }
      return { curValue, base, periodsUsed, basis, ...(comparable && basis !== 'recent' ? { comparable } : {}), ...(scaled && upliftRatio !== undefined ? { uplift: upliftRatio } : {}), ...(otherDays ? { otherDays } : {}) };
    };

    const bandInput = (b: Exclude<Based, { undecided: Evaluation }>, half: number | null | undefined) =>
      rule.band ? { halfWidth: half ?? null, periods: b.periodsUsed, period: b.basis === 'recent' ? ('recent' as const) : period, ...(b.comparable ? { comparable: b.comparable } : {}), ...(b.otherDays ? { otherDays: b.otherDays } : {}) } : undefined;

    const evaluateOne = async (split: Split): Promise<Evaluation> => {
      const rec = host.record(alertKeyOf(rule.id, split));
      const b = await baseFor(split, rule.windowMs, true);
      if ('undecided' in b) return b.undecided;
      // A young KPI's recent-window baseline has its own noise (it does not know the day's
      // shape): kept apart so it never widens the seasonal band learnt later.
      // Extra windows keep theirs in noiseExtra.
      const memOf = (key: string | null): NoiseMemory => (!rec ? emptyNoise() : key === null ? rec.noise : (rec.noiseExtra?.[key] ?? emptyNoise()));
      // The scale of each expected value (band.scale: level): its band is rescaled to it.
      const scaleOf = (x: { base: WindowValue; periodsUsed: number }): number => noiseScale(kpi.ratio, x.base, x.periodsUsed);
      // band.scale: uplift — a count's band learnt on ordinary days, on a holiday's or a
      // campaign's first days (expected = ordinary days × the period's ratio r): × √r.
      const upliftFactor = (x: { uplift?: number }): number =>
        rule.band?.scale === 'uplift' && !kpi.ratio && x.uplift !== undefined && x.uplift > 0 ? Math.sqrt(Math.min(MAX_NOISE_RESCALE, Math.max(1 / MAX_NOISE_RESCALE, x.uplift))) : 1;
      const halfOf = (w: number, mem: NoiseMemory, scale: number, factor = 1): number | null | undefined => {
        if (!rule.band) return undefined;
        const h = bandHalfWidth(mem, t, rule.band, w, scale);
        return h === null ? null : h * factor;
      };
      const mainScale = scaleOf(b);
      const half = halfOf(rule.windowMs, b.basis === 'recent' ? (rec?.noiseRecent ?? emptyNoise()) : memOf(null), mainScale, upliftFactor(b));
      const mainEv = evaluateChange(rule, kpi, b.curValue, b.base, bandInput(b, half));
      const ev: Evaluation = b.basis === 'recent' ? { ...mainEv, basis: 'recent' } : mainEv;
      const learn: NonNullable<Evaluation['learn']> = { main: ev.value !== null && ev.baseline !== null ? Math.abs(ev.value - ev.baseline) : null, mainScale, extra: [] };
      const extras = rule.extraWindows && rule.band && b.basis !== 'recent' ? [rule.extraWindows.shortMs, rule.extraWindows.accumulateMs].filter((w): w is number => w !== undefined) : [];
      if (!extras.length) return { ...ev, learn };

      // Extra windows (short / accumulated): the same method on another span, against its own
      // noise (learnt from the start, like the rule's own band).
      const obs = ev.observation;
      let fired: Evaluation | null = null;
      let holdUp = obs?.holdUp ?? false;
      let holdDown = obs?.holdDown ?? false;
      for (const w of extras) {
        const xb = await baseFor(split, w, false);
        if ('undecided' in xb) continue;
        const f = w / rule.windowMs;
        // Guards in the KPI's unit scale with the window (a count's floor per hour is a quarter per 15 minutes).
        const scaled: ChangeRule = { ...rule, minSample: rule.minSample * f, minAbsChange: kpi.ratio ? rule.minAbsChange : rule.minAbsChange * f };
        const xScale = scaleOf(xb);
        const xe = evaluateChange(scaled, kpi, xb.curValue, xb.base, bandInput(xb, halfOf(w, memOf(String(w)), xScale, upliftFactor(xb))));
        if (xe.value !== null && xe.baseline !== null) learn.extra.push([w, Math.abs(xe.value - xe.baseline), xScale]);
        const xo = xe.observation;
        if (!xo) continue;
        // An extra window keeps an episode open only while it would still fire (beyond the
        // threshold and its band): its clear side would hold a 6 h sum for hours after the KPI
        // is back to normal.
        holdUp ||= xo.fire === 'up';
        holdDown ||= xo.fire === 'down';
        // An extra window is news only while the rule's own window moves the same way by at
        // least the clear threshold: a short window's noise, or an accumulated sum still
        // carrying a spike that is over, is not.
        const sameWay = ev.change !== null && (xo.fire === 'up' ? ev.change >= rule.thresholds.clear - EPS : ev.change <= -rule.thresholds.clear + EPS);
        if (obs && !obs.fire && !fired && xo.fire && xe.band && sameWay) {
          const kind = w < rule.windowMs ? 'short' : kpi.ratio ? 'mean' : 'sum';
          fired = { ...xe, band: { ...xe.band, window: { minutes: w / 60_000, kind } } };
        }
      }
      if (fired?.observation) return { ...fired, observation: { ...fired.observation, holdUp, holdDown }, learn };
      return obs ? { ...ev, observation: { ...obs, holdUp, holdDown }, learn } : { ...ev, learn };
    };

    const instances: Instance[] = [];
    if (rule.by) {
      const dim = rule.by;
      // Split values: those in the current window, in the last comparable window, and open alerts.
      const last = await fetch({ from: cur.from - seasonal.periodMs, to: cur.to - seasonal.periodMs });
      const values = new Set([...Object.keys(current?.splits ?? {}), ...Object.keys(last?.splits ?? {}), ...host.openValues(rule.id, dim)]);
      for (const value of values) instances.push({ split: { dim, value }, evaluation: await evaluateOne({ dim, value }) });
    } else {
      instances.push({ split: null, evaluation: await evaluateOne(null) });
    }
    host.setRuleStatus(rule.id, { lastEvaluatedAt: t, notEnoughHistory: instances.every((i) => i.evaluation.notEnoughHistory) });
    return host.advance(rule, kpi, instances, t);
  },
  adjustStep({ rule, rec, step: s, evaluation: ev, t }) {
    if (s.machine.inner !== 'firing' || s.machine.firingSince === null || ev.value === null || ev.baseline === null) return { step: s, adopted: false };
    const due = rule.levelShift && t - s.machine.firingSince >= rule.levelShift.adoptAfterMs;
    if (!due && !rec.markNewNormal) return { step: s, adopted: false };
    // 新常态: the level becomes the baseline until the comparable periods hold it themselves.
    // Windows from before the shift are lifted by (level now − expected now) from here on.
    const ratio = ev.baseline > 0 && ev.value >= 0 && (rec.shift === null || rec.shift.ratio != null) ? (ev.value / ev.baseline) * (rec.shift?.ratio ?? 1) : null;
    rec.shift = { offset: ev.value - ev.baseline + (rec.shift?.offset ?? 0), ratio, since: s.machine.firingSince - rule.windowMs, until: Number.POSITIVE_INFINITY, backSince: null };
    const wasChanged = s.changed;
    const adopted = adoptNewNormal(s.machine, t);
    rec.markNewNormal = null;
    return { step: { ...adopted, changed: adopted.changed || wasChanged }, adopted: true };
  },
  afterStep({ rule, rec, prev, evaluation: ev, t, adopted }) {
    const seasonal = rule.baseline.seasonal;
    const keep = seasonal ? (seasonal.periods * 5 + 12) * seasonal.periodMs : 8 * DAY;
    trackFiringSpans(rec, prev, rule.windowMs, t, keep, adopted);
    // Noise is learnt while the alert is at rest: the deviations a normal KPI shows.
    const band = rule.band;
    // band.pending: hold — what was seen while pending is noise only if the episode ends without
    // firing: an incident's own first minutes must not widen the band that judges it.
    if (rec.machine.inner === 'firing' || adopted) rec.heldNoise = undefined;
    if (band && rec.machine.inner !== 'firing' && !adopted && ev.value !== null && ev.baseline !== null) {
      // Holidays and campaigns compared like with like still differ more than ordinary days:
      // with learn_on_calendar_days false they never widen the ordinary band.
      const special = ev.band?.comparable === 'holiday' || ev.band?.comparable === 'holiday_own' || ev.band?.comparable === 'campaign';
      if (special && !band.learnOnCalendarDays) return;
      // The rule's own window (ev may be an extra window's, when that one is the news).
      let deviation = ev.learn?.main ?? (ev.band?.window ? null : Math.abs(ev.value - ev.baseline));
      const half = ev.band && !ev.band.window ? (ev.band.high - ev.band.low) / 2 : null;
      if (deviation !== null && band.clip !== undefined && half !== null && half > 0) deviation = Math.min(deviation, band.clip * half);
      const seen: HeldNoise[] = [
        ...(deviation !== null ? [{ key: ev.basis === 'recent' ? 'recent' : 'main', t, dev: deviation, w: rule.windowMs, scale: ev.learn?.mainScale }] : []),
        ...(ev.learn?.extra ?? []).map(([w, dev, scale]) => ({ key: String(w), t, dev, w, scale })),
      ];
      if (band.pending === 'hold' && rec.machine.inner === 'pending') {
        (rec.heldNoise ??= []).push(...seen);
        return;
      }
      const memory = (key: string): NoiseMemory => (key === 'main' ? rec.noise : key === 'recent' ? rec.noiseRecent : ((rec.noiseExtra ??= {})[key] ??= emptyNoise()));
      for (const h of [...(rec.heldNoise ?? []), ...seen]) recordNoise(memory(h.key), h.t, h.dev, band, h.w, h.scale);
      rec.heldNoise = undefined;
    }
  },
  summary(s, adopted) {
    if (adopted) {
      const { band: _band, flips: _flips, ...plain } = s;
      return `${changeSummaryZh({ ...plain, state: 'firing' })}，已持续，按新常态处理（不再告警）`;
    }
    return changeSummaryZh(s);
  },
  baselineKind: (rule) => rule.baseline.type,
  spanMs: (rule) => rule.windowMs,
  threshold(rule, state, severity) {
    if (state === 'resolved' || state === 'ok') return rule.thresholds.clear;
    return severity === 'critical' && rule.thresholds.critical !== undefined ? rule.thresholds.critical : rule.thresholds.fire;
  },
  notificationExtras: (rule) => ({ direction: rule.direction }),
};
