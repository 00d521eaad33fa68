/**
 * The trends page's controller: the view lives in the URL (router.replace on every change,
 * read back on back/forward), the answers are fetched per KPI (current window, comparison,
 * whole-window value, alert history) with stale requests aborted, and everything shown is
 * derived through the pure modules beside this file.
 */
import { computed, onBeforeUnmount, onMounted, ref, shallowRef, watch } from 'vue';
import { useRoute, useRouter } from 'vue-router';
import type { KpiDef } from '@siyu-pulse/contracts/catalogue';
import type { AlertRow } from '@siyu-pulse/contracts/alerts';
import type { KpiCatalogue } from '../api';
import { ApiError, useApi, type Query as ApiQuery } from '../analyst/useApi';
import { lang } from '../i18n';
import { useSessionStore } from '../stores/session';
import { buildCsv, csvFilename } from './csv';
import { tTrends as t } from './messages';
import { buildModel, csvColumns, splitValueLabel, type KpiResult, type ModelTexts, type TrendsModel } from './model';
import { additiveValues, isAdditive, wholeWindowValues, type RangeValues, type SeriesAnswer } from './series';
import { addKpi, allowedDims, sanitiseKpis, unitsOf } from './selection';
import { compareShift, parseTrendsQuery, resolveRange, sameQuery, serialiseTrendsQuery, type Dim, type Query, type TrendsState } from './state';
import { applyChannelNames } from '../wall/channels';
import type { CampaignBand } from '../campaigns/bands';


const DEFAULT_KPI = 'messages';

export function useTrends() {
  const api = useApi();
  const route = useRoute();
  const router = useRouter();

  const catalogue = shallowRef<KpiCatalogue | null>(null);
  const byId = computed(() => new Map((catalogue.value?.kpis ?? []).map((k) => [k.id, k])));
  const session = useSessionStore();
  // The business time zone from the sign-in answer (Asia/Shanghai unless configured).
  const timezone = computed(() => session.timezone);

  const state = ref<TrendsState>(parseTrendsQuery(route.query as Query));
  const results = shallowRef<KpiResult[]>([]);
  /** The view the shown results answer (the URL may already be ahead while loading). */
  const loaded = shallowRef<TrendsState>(state.value);
  // True until the first answers are in, so "no data" never flashes before anything was asked.
  const loading = ref(true);
  const error = ref<string | null>(null);
  const alertsProblem = ref<string | null>(null);
  /** Notices about the link or a refused pick (unknown KPI, third unit). */
  const notices = ref<string[]>([]);
  /** The window last asked for (presets resolve against "now" at each load). */
  const requested = ref<{ from: number; to: number } | null>(null);
  const filterValues = ref<string[]>([]);
  /** Campaigns overlapping the loaded range (on the filtered channel), drawn as bands. */
  const campaigns = shallowRef<CampaignBand[]>([]);

  /** 社群 names for the ids on show (split series, the filter), fetched for those ids only. */
  const communityNames = shallowRef<ReadonlyMap<string, string>>(new Map());
  const texts = computed<ModelTexts>(() => ({ lang: lang.value, untagged: t('untagged'), compareSuffix: { prev: t('comparePrev'), wow: t('compareWow') }, communityNames: communityNames.value }));
  const model = computed<TrendsModel>(() => buildModel(results.value, loaded.value, texts.value));
  const dims = computed(() => allowedDims(state.value.kpis, byId.value));
  const defs = computed(() => state.value.kpis.map((id) => byId.value.get(id)).filter((d): d is KpiDef => d !== undefined));

  // --- URL ⇄ state ---------------------------------------------------------------------
  function commit(next: TrendsState): void {
    state.value = next;
    // Unknown parameters come from the address bar itself: the language toggle rewrites it
    // without telling the router, and `lang=en` must survive our next replace.
    const current = typeof location === 'undefined' ? (route.query as Query) : locationQuery();
    const query = serialiseTrendsQuery(next, current);
    if (!sameQuery(query, route.query as Query)) void router.replace({ query });
  }

  function update(patch: Partial<TrendsState>): void {
    notices.value = [];
    commit({ ...state.value, ...patch });
  }

  // Back / forward (or a link followed inside the app) changes the query under us.
  watch(
    () => route.query,
    (q) => {
      if (route.name !== 'trends') return;
      const parsed = parseTrendsQuery(q as Query);
      // e.g. the nav link to a bare /trends: show the default view and put it in the URL.
      if (!sameQuery(serialiseTrendsQuery(parsed), serialiseTrendsQuery(state.value))) commit(normalise(parsed));
    },
  );

  /** Drops what the catalogue cannot draw, with a notice saying so. */
  function normalise(s: TrendsState): TrendsState {
    if (!catalogue.value) return s;
    const { kpis, unknown, dropped } = sanitiseKpis(s.kpis.length ? s.kpis : [DEFAULT_KPI], byId.value);
    const out = { ...s, kpis: kpis.length ? kpis : [catalogue.value.kpis[0]?.id ?? DEFAULT_KPI] };
    const n: string[] = [];
    if (unknown.length) n.push(t('unknownKpi', { ids: unknown.join('、') }));
    for (const id of dropped) n.push(thirdUnitNotice(out.kpis, id));
    notices.value = n;
    return out;
  }

  function thirdUnitNotice(kpis: string[], id: string): string {
    const def = byId.value.get(id);
    const unitNames = unitsOf(kpis, byId.value).map(unitName).join('、');
    return t('thirdUnit', { units: unitNames, name: def?.label[lang.value] ?? id, unit: def ? unitName(def.unit) : '' });
  }

  function pickKpi(id: string): void {
    const r = addKpi(state.value.kpis, id, byId.value);
    if (!r.ok) {
      notices.value = [thirdUnitNotice(state.value.kpis, id)];
      return;
    }
    update({ kpis: r.kpis, ...dimPatch(r.kpis) });
  }

  function removeKpi(id: string): void {
    const kpis = state.value.kpis.filter((k) => k !== id);
    if (!kpis.length) return; // the page always shows something
    update({ kpis, ...dimPatch(kpis) });
  }

  /** A split / filter the new KPI set cannot use is dropped rather than answered 400. */
  function dimPatch(kpis: string[]): Partial<TrendsState> {
    const allowed = allowedDims(kpis, byId.value);
    const patch: Partial<TrendsState> = {};
    if (state.value.by && !allowed.includes(state.value.by)) patch.by = null;
    if (state.value.filter && !allowed.includes(state.value.filter.dim)) patch.filter = null;
    return patch;
  }

  // --- loading -------------------------------------------------------------------------
  let controller: AbortController | null = null;
  let generation = 0;

  const seriesQuery = (s: TrendsState, kpi: string, from: number, to: number): ApiQuery => ({
    kpi,
    from,
    to,
    step: s.step ?? undefined,
    by: s.by ?? undefined,
    ...(s.filter ? { [s.filter.dim]: s.filter.value } : {}),
  });

  async function rangeValues(def: KpiDef, q: ApiQuery, answer: SeriesAnswer, signal: AbortSignal): Promise<RangeValues> {
    if (isAdditive(def)) return additiveValues(answer);
    // step=all: the backend sums the whole [from, to) and divides once (Σ÷Σ); per-step
    // ratios are never averaged. Distinct counts are refused (they do not add up) and say why.
    try {
      const whole = await api.get<SeriesAnswer>('/api/v1/series', { ...q, from: answer.from, to: answer.to, step: 'all' }, signal);
      return wholeWindowValues(whole, answer.from, answer.to);
    } catch (err) {
      if (err instanceof ApiError && err.status === 400) return { ok: false, why: 'refused', detail: err.message };
      throw err;
    }
  }

  async function loadKpi(def: KpiDef, s: TrendsState, from: number, to: number, signal: AbortSignal): Promise<KpiResult> {
    const q = seriesQuery(s, def.id, from, to);
    const alertsP = api
      .get<{ events: AlertRow[] }>('/api/v1/alerts/history', { from, to, kpi: def.id, limit: 500 }, signal)
      .then((r) => r.events)
      .catch((err: unknown) => {
        if (signal.aborted) throw err;
        alertsProblem.value = t('alertsUnavailable', { detail: (err as Error).message });
        return [] as AlertRow[];
      });
    // A superseded load aborts while the series is awaited: its alerts rejection is then
    // never awaited below, which the page reported as an unhandled AbortError.
    alertsP.catch(() => {});
    const current = await api.get<SeriesAnswer>('/api/v1/series', q, signal);
    let comparison: SeriesAnswer | null = null;
    let shift = 0;
    let compareRange: Promise<RangeValues> | null = null;
    if (s.compare) {
      shift = compareShift(s.compare, current.to - current.from);
      // The same step as the current answer, so the two windows line up step for step.
      const cq = { ...q, from: current.from - shift, to: current.to - shift, step: String(current.step) };
      comparison = await api.get<SeriesAnswer>('/api/v1/series', cq, signal);
      compareRange = rangeValues(def, cq, comparison, signal);
    }
    const [range, cmpRange, alerts] = await Promise.all([rangeValues(def, q, current, signal), compareRange, alertsP]);
    return { def, current, comparison, shift, range, compareRange: cmpRange, alerts };
  }

  async function load(): Promise<void> {
    if (!catalogue.value) return;
    controller?.abort();
    const ctl = new AbortController();
    controller = ctl;
    const gen = ++generation;
    const s = state.value;
    const w = resolveRange(s.range, Date.now());
    requested.value = w;
    loading.value = true;
    error.value = null;
    alertsProblem.value = null;
    // Bands are context: a failed campaigns load draws none rather than failing the chart.
    const channel = s.filter?.dim === 'channel' ? s.filter.value : undefined;
    const campaignsP = api
      .get<{ campaigns: CampaignBand[] }>('/api/v1/campaigns', { from: w.from, to: w.to, channel }, ctl.signal)
      .then((r) => r.campaigns)
      .catch(() => [] as CampaignBand[]);
    try {
      const [out, bands] = await Promise.all([Promise.all(defs.value.map((d) => loadKpi(d, s, w.from, w.to, ctl.signal))), campaignsP]);
      if (gen !== generation) return;
      results.value = out;
      campaigns.value = bands;
      loaded.value = s;
    } catch (err) {
      if (gen !== generation || ctl.signal.aborted) return;
      results.value = [];
      loaded.value = s;
      error.value = (err as Error).message;
    } finally {
      if (gen === generation) loading.value = false;
    }
    void loadFilterValues();
    void loadCommunityNames();
  }

  const askedNames = new Set<string>();
  async function loadCommunityNames(): Promise<void> {
    const ids = new Set<string>();
    for (const r of results.value) for (const s of r.current.series) if (s.tags.community) ids.add(s.tags.community);
    if (state.value.filter?.dim === 'community') ids.add(state.value.filter.value);
    const missing = [...ids].filter((id) => !askedNames.has(id)).slice(0, 200);
    if (!missing.length) return;
    for (const id of missing) askedNames.add(id);
    try {
      const r = await api.get<{ names: Record<string, string | null> }>('/api/v1/communities/names', { ids: missing.join(',') });
      const next = new Map(communityNames.value);
      for (const [id, name] of Object.entries(r.names)) if (name) next.set(id, name);
      communityNames.value = next;
    } catch {
      for (const id of missing) askedNames.delete(id);
    }
  }
  function nameCommunity(id: string, name: string | null): void {
    if (!name || communityNames.value.get(id) === name) return;
    communityNames.value = new Map(communityNames.value).set(id, name);
  }

  /** Values of the filter's dimension present in the window (from the data's own tags). */
  const filterDim = ref<Dim | null>(state.value.filter?.dim ?? null);
  async function loadFilterValues(): Promise<void> {
    const dim = filterDim.value;
    const kpi = state.value.kpis[0];
    const w = requested.value;
    // 社群 may be 20,000 values: the picker searches the server instead of listing them.
    if (!dim || !kpi || !w || dim === 'community') {
      filterValues.value = [];
      return;
    }
    try {
      const r = await api.get<SeriesAnswer>('/api/v1/series', { kpi, from: w.from, to: w.to, by: dim });
      const values = new Set(r.series.map((x) => x.tags[dim] ?? '').filter((v) => v !== ''));
      if (state.value.filter?.dim === dim) values.add(state.value.filter.value);
      if (filterDim.value === dim) filterValues.value = [...values].sort((a, b) => a.localeCompare(b, 'zh-CN'));
    } catch {
      filterValues.value = state.value.filter?.dim === dim ? [state.value.filter.value] : [];
    }
  }
  watch(filterDim, () => void loadFilterValues());
  watch(
    () => state.value.filter?.dim,
    (d) => {
      if (d) filterDim.value = d;
    },
  );

  function setFilter(dim: Dim | null, value: string | null): void {
    filterDim.value = dim;
    if (!dim) return update({ filter: null });
    if (value) update({ filter: { dim, value } });
    else if (state.value.filter) update({ filter: null });
  }

  // One load per change, after the URL has been written.
  watch(
    () => JSON.stringify(state.value),
    () => void load(),
  );

  onMounted(async () => {
    try {
      catalogue.value = await api.get<KpiCatalogue>('/api/v1/kpis');
      applyChannelNames(catalogue.value.channels);
    } catch (err) {
      error.value = (err as Error).message;
      loading.value = false;
      return;
    }
    const before = JSON.stringify(state.value);
    commit(normalise(state.value));
    if (JSON.stringify(state.value) === before) void load();
  });
  onBeforeUnmount(() => controller?.abort());

  function exportCsv(): { filename: string; text: string } | null {
    const m = model.value;
    if (!m.series.length) return null;
    const text = buildCsv(t('time'), csvColumns(m, texts.value, loaded.value.compare), timezone.value);
    return { filename: csvFilename(results.value.map((r) => r.def.id), m.from, m.to, timezone.value), text };
  }

  const valueLabel = (dim: Dim, v: string) => splitValueLabel(dim, v, texts.value);

  return {
    valueLabel,
    nameCommunity,
    catalogue,
    byId,
    defs,
    timezone,
    state,
    loaded,
    model,
    results,
    loading,
    error,
    alertsProblem,
    campaigns,
    notices,
    requested,
    dims,
    filterDim,
    filterValues,
    update,
    pickKpi,
    removeKpi,
    setFilter,
    reload: load,
    exportCsv,
  };
}

function locationQuery(): Query {
  const out: Query = {};
  if (typeof location === 'undefined') return out;
  for (const [k, v] of new URLSearchParams(location.search)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : [...(Array.isArray(prev) ? prev : [prev]), v];
  }
  return out;
}

export function unitName(u: KpiDef['unit']): string {
  const zh = { count: '数量', percent: '百分比', fen: '金额', ms: '时长', multiple: '倍数', per_member: '人均' } as const;
  const en = { count: 'count', percent: 'percent', fen: 'money', ms: 'duration', multiple: 'multiple', per_member: 'per member' } as const;
  return (lang.value === 'zh' ? zh : en)[u];
}
