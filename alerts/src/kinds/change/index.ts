/** The change kind: the current window against a 环比 / 同比 / trailing-mean baseline. */
import type { WindowResult } from '../../contract.js';
import { topContributors } from '../../engine/contributors.js';
import { currentWindow, DAY } from '../../engine/windows.js';
import { alertKeyOf } from '../common/keys.js';
import type { Instance, RuleKind } from '../types.js';
import { baselineWindows, echoGuard, poolWindows, trackFiringSpans } from './baseline.js';
import { evaluateChange } from './evaluate.js';
import { changeRuleSchema, checkChangeKpi, normaliseChange, type ChangeRule } from './schema.js';
import { changeSummaryZh } from './summary.js';

export const changeKind: RuleKind<ChangeRule> = {
  id: 'change',
  yamlKind: 'change',
  owns: (rule) => rule.kind === 'change',
  schema: changeRuleSchema,
  normalise: normaliseChange,
  checkKpi: checkChangeKpi,
  async evaluate(host, rule, tNow, catalogue) {
    const kpi = catalogue.get(rule.kpi);
    if (!kpi) throw new Error(`KPI ${rule.kpi} is no longer in the catalogue`);
    const t = host.evaluationTime(tNow, kpi);
    const cur = currentWindow(t, rule.windowMs);
    const spans = baselineWindows(rule.baseline.type, rule.baseline.windows, t, rule.windowMs);
    const [current, ...bases] = await Promise.all([cur, ...spans].map((s) => host.source.window(kpi.id, s.from, s.to, rule.by)));
    // Any baseline window before the start of history = not enough history (never an alert).
    const baseline = current && bases.every((b): b is WindowResult => b !== null) ? poolWindows(bases) : null;
    const guard = (split: Instance['split'], ev: Instance['evaluation']) => echoGuard(host.record(alertKeyOf(rule.id, split)), spans, ev);

    const instances: Instance[] = [];
    if (rule.by) {
      const dim = rule.by;
      const values = new Set([...Object.keys(current?.splits ?? {}), ...Object.keys(baseline?.splits ?? {}), ...host.openValues(rule.id, dim)]);
      for (const value of values) {
        const split = { dim, value };
        instances.push({ split, evaluation: guard(split, evaluateChange(rule, kpi, current?.splits[value], baseline?.splits[value])) });
      }
    } else {
      instances.push({ split: null, evaluation: guard(null, evaluateChange(rule, kpi, current?.total, baseline?.total)) });
    }

    host.setRuleStatus(rule.id, { lastEvaluatedAt: t, notEnoughHistory: baseline === null });
    const run = host.advance(rule, kpi, instances, t);

    // Root cause for a swing in the total: the channels that moved it most.
    if (!rule.by && kpi.splits.includes('channel')) {
      const firing = run.notifications.filter((n) => n.kind === 'firing');
      if (firing.length) {
        try {
          const [c, ...b] = await Promise.all([cur, ...spans].map((s) => host.source.window(kpi.id, s.from, s.to, 'channel')));
          if (c && b.every((x): x is WindowResult => x !== null)) {
            const contributors = topContributors(kpi, 'channel', c, poolWindows(b));
            for (const n of firing) n.contributors = contributors;
          }
        } catch (err) {
          host.warn({ err, ruleId: rule.id }, 'alerts: contributors query failed');
        }
      }
    }
    return run;
  },
  afterStep({ rule, rec, prev, t, adopted }) {
    trackFiringSpans(rec, prev, rule.windowMs, t, 8 * DAY, adopted);
  },
  summary: (s) => changeSummaryZh(s),
  baselineKind: (rule) => rule.baseline.type,
  spanMs: (rule) => rule.windowMs,
  threshold(rule, state, severity) {
    if (state === 'resolved' || state === 'ok') return rule.thresholds.clear;
    return severity === 'critical' && rule.thresholds.critical !== undefined ? rule.thresholds.critical : rule.thresholds.fire;
  },
  notificationExtras: (rule) => ({ direction: rule.direction }),
};
