/**
 * One ECharts instance tied to a component's element: created on mount, resized with its box
 * (ResizeObserver), disposed on unmount with its observer and timers. The instance is kept
 * out of Vue's reactivity on purpose (a reactive proxy breaks ECharts' internals).
 *
 * Each chart registers its own ECharts parts with `use([...])` so the bundle keeps only what
 * is drawn; this composable owns only the lifecycle every chart shares.
 */
import { onBeforeUnmount, onMounted, watch, type Ref, type WatchSource } from 'vue';
import { init, type EChartsType } from 'echarts/core';

export interface EChartOptions {
  renderer?: 'canvas' | 'svg';
  /** Canvas pixel ratio, fixed at init (default: the screen's, at least 1). */
  devicePixelRatio?: () => number;
  /** When this changes, the instance is re-created (the pixel ratio is fixed at init). */
  recreateOn?: WatchSource;
  /** Called after every (re-)creation: set the whole option here. */
  onReady(chart: EChartsType): void;
  /** Replaces the default `chart.resize()` when the box changes (e.g. print layouts). */
  onResize?(chart: EChartsType): void;
}

export interface EChartHandle {
  /** The live instance, or null before mount / after unmount. */
  chart(): EChartsType | null;
}

const screenRatio = () => Math.max(1, window.devicePixelRatio || 1);
/** Re-creating on every step of a scale change would thrash: wait until it settles. */
const RECREATE_DEBOUNCE_MS = 300;

export function useEChart(el: Ref<HTMLElement | null>, opts: EChartOptions): EChartHandle {
  let chart: EChartsType | null = null;
  let observer: ResizeObserver | null = null;
  let recreateTimer: ReturnType<typeof setTimeout> | undefined;

  function create(): void {
    if (!el.value) return;
    const renderer = opts.renderer ?? 'canvas';
    chart = init(el.value, undefined, renderer === 'svg' ? { renderer } : { renderer, devicePixelRatio: (opts.devicePixelRatio ?? screenRatio)() });
    opts.onReady(chart);
  }

  function destroy(): void {
    if (!chart) return;
    chart.off();
    chart.dispose();
    chart = null;
  }

  onMounted(() => {
    create();
    observer = new ResizeObserver(() => {
      if (chart) (opts.onResize ?? ((c: EChartsType) => c.resize()))(chart);
    });
    if (el.value) observer.observe(el.value);
  });

  if (opts.recreateOn) {
    watch(opts.recreateOn, () => {
      clearTimeout(recreateTimer);
      recreateTimer = setTimeout(() => {
        destroy();
        create();
      }, RECREATE_DEBOUNCE_MS);
    });
  }

  onBeforeUnmount(() => {
    clearTimeout(recreateTimer);
    observer?.disconnect();
    observer = null;
    destroy();
  });

  return { chart: () => chart };
}
