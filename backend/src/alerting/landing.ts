/**
 * The alert landing (the page a DingTalk / WeCom alert links to), as one answer: what fired,
 * where, value vs baseline (and band, when the rule has one), since when, the KPI around the
 * swing with the firing marked, the splits that drove it, the rule, and the state now (acks,
 * silences). Built from the engine's status, the stored alert events and the series query,
 * so the phone shows exactly what the alert center and the trends page show.
 */
import { ownValue, topContributors, type AlertEngine, type Dimension, type KpiInfo, type KpiSource, type Rule } from '@siyu-pulse/alerts';
import type { GroupRule } from '@siyu-pulse/contracts/rules';
import type { TargetedKpi } from '../catalogue/targets.js';
import type { SeriesService } from '../query/series.js';
import type { AlertRow, MetricStore } from '../store/port.js';
import { DAY, HOUR } from '../time/zone.js';

export interface LandingDeps {
  engine: AlertEngine;
  store: MetricStore;
  series: SeriesService;
  source: KpiSource;
  kpis: () => readonly TargetedKpi[];
  now?: () => number;
}

export interface LandingContributor {
  dim: Dimension;
  value: string;
  current: number | null;
  baseline: number | null;
  change: number | null;
}

export class LandingError extends Error {
  constructor(
    readonly status: 400 | 404,
    message: string,
  ) {
    super(message);
  }
}

function parseKey(key: string): { ruleId: string; split: { dim: Dimension; value: string } | null } {
  const bar = key.indexOf('|');
  if (bar <= 0) throw new LandingError(400, 'key must be an alert key such as new_members_drop|channel=wecom');
  const ruleId = key.slice(0, bar);
  const rest = key.slice(bar + 1);
  if (rest === 'total') return { ruleId, split: null };
  const m = /^(channel|community|campaign)=(.+)$/.exec(rest);
  if (!m) throw new LandingError(400, 'key must end in |total or |channel=<id> (|community=…, |campaign=…)');
  return { ruleId, split: { dim: m[1] as Dimension, value: m[2]! } };
}

const windowOf = (rule: Rule | GroupRule) => (rule.kind === 'deadman' ? rule.afterMs : rule.kind === 'target' ? rule.windowMs * rule.count : rule.windowMs);

/** How far back the baseline window of a change rule sits. */
function baselineOffset(rule: Rule | GroupRule): number {
  if (rule.kind !== 'change') return DAY;
  switch (rule.baseline.type) {
    case 'previous_window':
      return rule.windowMs;
    case 'same_window_yesterday':
      return DAY;
    case 'same_window_last_week':
      return 7 * DAY;
    default:
      return rule.windowMs * Math.max(1, rule.baseline.windows);
  }
}

const rowSplit = (r: AlertRow) => (r.splitDim ? { dim: r.splitDim as Dimension, value: r.splitValue } : null);

export async function buildLanding(d: LandingDeps, key: string, at: number | undefined) {
  const now = (d.now ?? Date.now)();
  const { ruleId, split } = parseKey(key);
  const status = d.engine.status();
  const ruleStatus = status.rules.find((r) => r.rule.id === ruleId);
  const active = d.engine.active().find((a) => a.alertKey === key) ?? null;
  const splitStatus = ruleStatus?.splits.find((s) => s.alertKey === key) ?? null;

  // The events of this alert: a week before the firing asked about (or now) up to now.
  const anchor = at ?? now;
  const rows = (await d.store.queryAlertEvents({ from: anchor - 7 * DAY, to: now + 1, ruleId, limit: 2000 })).filter((r) => r.alertKey === key);
  if (!rows.length && !ruleStatus) throw new LandingError(404, `no alert ${JSON.stringify(key)}: the rule is gone and nothing was recorded for it in the week before`);
  const firings = rows.filter((r) => r.state === 'firing');
  // The firing the message was about: the one at (or last before) `at`, else the latest.
  const firing = (at === undefined ? firings[0] : (firings.find((r) => r.ts <= at + 60_000) ?? firings[firings.length - 1])) ?? null;
  const after = firing ? rows.filter((r) => r.ts > firing.ts).sort((a, b) => a.ts - b.ts) : [];
  const resolved = after.find((r) => r.state === 'resolved' || r.state === 'ok') ?? null;

  const rule = ruleStatus?.rule ?? null;
  const kpiId = rule && rule.kind !== 'deadman' ? rule.kpi : (firing?.kpi ?? rows[0]?.kpi ?? null);
  const def = kpiId ? d.kpis().find((k) => k.id === kpiId) : undefined;
  const kpi = def
    ? { id: def.id, label: def.label, unit: def.unit, good: def.good, target: (split?.dim === 'channel' ? ownValue(def.channelTargets, split.value) : undefined) ?? def.target ?? null }
    : null;

  // The KPI around the swing: a few windows before the firing and as long after (to now).
  const firedAt = firing?.ts ?? active?.since ?? anchor;
  const span = rule ? windowOf(rule) : HOUR;
  const before = Math.max(HOUR, 12 * span);
  const from = firedAt - before;
  const to = Math.min(now, Math.max(firedAt + before / 2, (resolved?.ts ?? firedAt) + HOUR));
  let chart: { from: number; to: number; step: number; points: [number, number | null][] } | null = null;
  let chartError: string | null = null;
  if (kpi) {
    try {
      const filter = split ? { [split.dim]: split.value } : {};
      const s = await d.series.series({ kpi: kpi.id, from: String(from), to: String(Math.max(to, from + 60_000)), filter });
      chart = { from: s.from, to: s.to, step: s.step, points: s.series[0]?.points ?? [] };
    } catch (err) {
      chartError = (err as Error).message;
    }
  }

  // What drove it: for a swing in the total, the channels that moved it most (the alert
  // message's contributors); for one split, the other splits of the same rule, most moved first.
  let contributors: LandingContributor[] = [];
  let contributorsNote: string | null = null;
  const info: KpiInfo | undefined = kpi ? d.source.catalogue().find((k) => k.id === kpi.id) : undefined;
  if (rule && rule.kind !== 'deadman' && info && !split && info.splits.includes('channel')) {
    const w = rule.windowMs;
    const end = firedAt;
    const off = baselineOffset(rule);
    try {
      const [cur, base] = await Promise.all([d.source.window(info.id, end - w, end, 'channel'), d.source.window(info.id, end - w - off, end - off, 'channel')]);
      if (cur && base) contributors = topContributors(info, 'channel', cur, base, 5);
      else contributorsNote = '历史数据不足，无法拆分';
    } catch (err) {
      contributorsNote = (err as Error).message;
    }
  } else if (ruleStatus && split) {
    contributors = ruleStatus.splits
      .filter((s) => s.alertKey !== key && s.split && s.change !== null)
      .sort((a, b) => Math.abs(b.change ?? 0) - Math.abs(a.change ?? 0))
      .slice(0, 5)
      .map((s) => ({ dim: s.split!.dim, value: s.split!.value, current: s.value, baseline: s.baseline, change: s.change }));
    contributorsNote = contributors.length ? 'same_rule_splits' : null;
  }

  const event = (r: AlertRow | null) => (r ? { ...r, split: rowSplit(r) } : null);
  return {
    key,
    ruleId,
    split,
    kpi,
    rule,
    ruleMissing: ruleStatus === undefined,
    now,
    firing: event(firing),
    resolved: event(resolved),
    active: active ?? (splitStatus && ['pending', 'firing', 'flapping'].includes(splitStatus.state) ? splitStatus : null),
    state: active?.state ?? splitStatus?.state ?? (resolved ? 'resolved' : firing ? 'firing' : 'ok'),
    /** The last state changes of this alert, newest first. */
    events: rows.slice(0, 20).map((r) => ({ ...r, split: rowSplit(r) })),
    chart,
    chartError,
    contributors,
    contributorsNote,
  };
}

export type Landing = Awaited<ReturnType<typeof buildLanding>>;
