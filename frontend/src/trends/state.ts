/**
 * The trends view as URL state. The URL holds the whole view, so a link from a DingTalk
 * alert (`/trends?kpi=<id>&from=<ms>&to=<ms>&channel=<value>`) or one pasted by a colleague
 * opens exactly that view. Parameters this page does not know (`lang`, tracking tags) are
 * kept as they were.
 */
import { DAY, HOUR, parseStep } from './time';

export const DIMS = ['channel', 'community', 'campaign'] as const;
export type Dim = (typeof DIMS)[number];

export const PRESETS = { '1h': HOUR, '24h': DAY, '7d': 7 * DAY, '30d': 30 * DAY } as const;
export type PresetId = keyof typeof PRESETS;
export const DEFAULT_PRESET: PresetId = '24h';

export type CompareMode = 'prev' | 'wow';
export const COMPARE_MODES: readonly CompareMode[] = ['prev', 'wow'];

export type RangeState = { kind: 'preset'; preset: PresetId } | { kind: 'custom'; from: number; to: number };

export interface TrendsState {
  /** KPI ids in the order picked (the first one drives the filter's value list). */
  kpis: string[];
  range: RangeState;
  /** A step override such as `5m`; null lets the backend choose from the range. */
  step: string | null;
  by: Dim | null;
  filter: { dim: Dim; value: string } | null;
  compare: CompareMode | null;
}

/** The shape vue-router gives (`LocationQuery`) without depending on it here. */
export type Query = Record<string, string | null | (string | null)[]>;
export type QueryOut = Record<string, string | (string | null)[] | null>;

const KNOWN = new Set<string>(['kpi', 'range', 'from', 'to', 'step', 'by', 'compare', ...DIMS]);

function first(v: Query[string] | undefined): string | undefined {
  if (Array.isArray(v)) return v.find((x): x is string => typeof x === 'string');
  return v ?? undefined;
}

function all(v: Query[string] | undefined): string[] {
  if (v === undefined || v === null) return [];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

const isPreset = (s: string | undefined): s is PresetId => s !== undefined && Object.prototype.hasOwnProperty.call(PRESETS, s);
const isDim = (s: string | undefined): s is Dim => s !== undefined && (DIMS as readonly string[]).includes(s);
const epoch = (s: string | undefined) => (s !== undefined && /^\d{1,15}$/.test(s) ? Number(s) : null);

export function defaultState(kpi?: string): TrendsState {
  return { kpis: kpi ? [kpi] : [], range: { kind: 'preset', preset: DEFAULT_PRESET }, step: null, by: null, filter: null, compare: null };
}

/**
 * Reads the view from the query. `kpi` may be a comma list or repeated. A valid `from` /
 * `to` pair (epoch ms, from < to) wins over `range`; anything unreadable falls back to the
 * default rather than failing, so an edited link still opens a page.
 */
export function parseTrendsQuery(q: Query): TrendsState {
  const kpis: string[] = [];
  for (const v of all(q.kpi)) for (const id of v.split(',')) if (id.trim() && !kpis.includes(id.trim())) kpis.push(id.trim());

  const from = epoch(first(q.from));
  const to = epoch(first(q.to));
  const preset = first(q.range);
  const range: RangeState = from !== null && to !== null && from < to ? { kind: 'custom', from, to } : { kind: 'preset', preset: isPreset(preset) ? preset : DEFAULT_PRESET };

  const stepText = first(q.step);
  const step = stepText && parseStep(stepText) !== null ? stepText : null;

  const byText = first(q.by);
  const by = isDim(byText) ? byText : null;

  let filter: TrendsState['filter'] = null;
  for (const dim of DIMS) {
    const v = first(q[dim]);
    if (v !== undefined && v !== '') {
      filter = { dim, value: v };
      break;
    }
  }

  const cmp = first(q.compare);
  const compare = cmp === 'prev' || cmp === 'wow' ? cmp : null;
  return { kpis, range, step, by, filter, compare };
}

/**
 * The query for a view: known parameters in a fixed order, then every parameter this page
 * does not own, untouched and in its original order.
 */
export function serialiseTrendsQuery(s: TrendsState, current: Query = {}): QueryOut {
  const out: QueryOut = {};
  if (s.kpis.length) out.kpi = s.kpis.join(',');
  if (s.range.kind === 'custom') {
    out.from = String(s.range.from);
    out.to = String(s.range.to);
  } else {
    out.range = s.range.preset;
  }
  if (s.step) out.step = s.step;
  if (s.by) out.by = s.by;
  if (s.filter) out[s.filter.dim] = s.filter.value;
  if (s.compare) out.compare = s.compare;
  for (const [k, v] of Object.entries(current)) if (!KNOWN.has(k)) out[k] = v;
  return out;
}

/** Same view? (Compared through the serialised form so key order does not matter.) */
export function sameQuery(a: Query | QueryOut, b: Query | QueryOut): boolean {
  const norm = (q: Query | QueryOut) =>
    JSON.stringify(
      Object.keys(q)
        .sort()
        .map((k) => [k, q[k]]),
    );
  return norm(a) === norm(b);
}

/** The absolute window a view asks for; presets end now. */
export function resolveRange(r: RangeState, now: number): { from: number; to: number } {
  if (r.kind === 'custom') return { from: r.from, to: r.to };
  return { from: now - PRESETS[r.preset], to: now };
}

/** How far back the comparison window lies: one window length, or exactly one week. */
export function compareShift(mode: CompareMode, windowMs: number): number {
  return mode === 'prev' ? windowMs : 7 * DAY;
}
