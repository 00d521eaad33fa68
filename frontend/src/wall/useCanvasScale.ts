/**
 * The wall is laid out on a fixed 1920×1080 design canvas and scaled to the screen with
 * CSS `transform: scale` (never `zoom`, which misplaces ECharts tooltips), letterboxed so
 * the aspect ratio is kept. Charts read the scale to render at the screen's real pixel
 * density (crisp at 4K).
 */
import { computed, inject, onScopeDispose, ref, type InjectionKey, type Ref } from 'vue';

export const DESIGN_WIDTH = 1920;
export const DESIGN_HEIGHT = 1080;

export interface CanvasFit {
  scale: number;
  /** Letterbox offsets in screen px. */
  x: number;
  y: number;
}

export function fitCanvas(viewportWidth: number, viewportHeight: number): CanvasFit {
  const scale = Math.max(0.05, Math.min(viewportWidth / DESIGN_WIDTH, viewportHeight / DESIGN_HEIGHT));
  return {
    scale,
    x: Math.max(0, (viewportWidth - DESIGN_WIDTH * scale) / 2),
    y: Math.max(0, (viewportHeight - DESIGN_HEIGHT * scale) / 2),
  };
}

export const CANVAS_SCALE: InjectionKey<Readonly<Ref<number>>> = Symbol('canvas-scale');

export function useCanvasScale() {
  const fit = ref<CanvasFit>(fitCanvas(window.innerWidth, window.innerHeight));
  let frame = 0;
  const onResize = () => {
    cancelAnimationFrame(frame);
    frame = requestAnimationFrame(() => {
      fit.value = fitCanvas(window.innerWidth, window.innerHeight);
    });
  };
  window.addEventListener('resize', onResize);
  onScopeDispose(() => {
    window.removeEventListener('resize', onResize);
    cancelAnimationFrame(frame);
  });
  const style = computed(() => ({
    width: `${DESIGN_WIDTH}px`,
    height: `${DESIGN_HEIGHT}px`,
    transform: `translate(${fit.value.x}px, ${fit.value.y}px) scale(${fit.value.scale})`,
  }));
  const scale = computed(() => fit.value.scale);
  return { fit, scale, style };
}

/** The canvas scale for a component under the wall (1 outside it). */
export function useInjectedScale(): Readonly<Ref<number>> {
  return inject(CANVAS_SCALE, ref(1));
}
