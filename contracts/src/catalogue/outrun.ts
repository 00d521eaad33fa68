/**
 * A share ratio over 100%: the numerator outran its denominator (more opens than
 * deliveries). The data is counted as it came, but such a value is a producer problem —
 * denominator events were lost or never sent — not a business figure, so every answer and
 * page that shows it says which counter is missing.
 */
import { MEMBER_SETS } from './events.js';
import { COUNTER_LABELS, sideLabel } from './counters.js';
import type { KpiDef, Label, RatioSide } from './kpis.js';

export interface Outrun {
  kpi: string;
  /** The ingest event type whose events are missing (the denominator's), e.g. push.delivered. */
  missing: string;
  /** "打开数多于送达数：缺少送达事件（push.delivered）？" */
  note: Label;
  /** For tight places (a wall tile): "缺少送达事件？" */
  short: Label;
}

/** The event type that feeds a ratio side, and what people call it ("送达"). */
function denominatorEvent(side: RatioSide): { type: string; name: Label } {
  const counter = 'distinct' in side ? (MEMBER_SETS[side.distinct][0] ?? side.distinct).replace('.', '_') : (side[0]?.[0] ?? '');
  const l = COUNTER_LABELS[counter] ?? { zh: counter, en: counter };
  return { type: counter.replace('_', '.'), name: { zh: l.zh.replace(/数$/, ''), en: l.en } };
}

/** The flag for a value of a share KPI, or null when the value is a plain figure. */
export function outrunOf(def: KpiDef | undefined, value: number | null | undefined): Outrun | null {
  if (!def || def.formula.kind !== 'ratio' || !def.formula.share) return null;
  if (value === null || value === undefined || !(value > 1)) return null;
  const num = sideLabel(def.formula.num);
  const den = sideLabel(def.formula.den);
  const ev = denominatorEvent(def.formula.den);
  return {
    kpi: def.id,
    missing: ev.type,
    note: {
      zh: `${num.zh}多于${den.zh}：缺少${ev.name.zh}事件（${ev.type}）？`,
      en: `More ${num.en} than ${den.en}: ${ev.type} events missing?`,
    },
    short: { zh: `缺少${ev.name.zh}事件？`, en: `${ev.type} missing?` },
  };
}
