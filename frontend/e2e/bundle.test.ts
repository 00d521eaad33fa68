/**
 * The built bundle: no JavaScript chunk over Vite's 500 kB warning limit (the build printed
 * that warning on every run while ECharts and zrender were one 608 kB chunk), and the wall's
 * entry does not pull the analyst pages in. Reads `frontend/dist` (the root `npm test` builds
 * first, as for the Chromium tests).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FRONTEND_INDEX, REPO_ROOT } from './harness';

const ASSETS = join(REPO_ROOT, 'frontend/dist/assets');
/** Vite's chunkSizeWarningLimit default: 500 kB (1 kB = 1000 bytes in its report). */
const LIMIT_BYTES = 500 * 1000;

describe('bundle', () => {
  it('has no chunk over 500 kB, ECharts split from zrender', () => {
    if (!existsSync(FRONTEND_INDEX)) throw new Error(`${FRONTEND_INDEX} is missing: build first (npm run build)`);
    const js = readdirSync(ASSETS).filter((f) => f.endsWith('.js'));
    const sizes = Object.fromEntries(js.map((f) => [f, statSync(join(ASSETS, f)).size]));
    console.info('[bundle] kB:', Object.entries(sizes).map(([f, b]) => `${f} ${(b / 1000).toFixed(1)}`).join(', '));
    expect(Object.entries(sizes).filter(([, b]) => b > LIMIT_BYTES)).toEqual([]);
    expect(js.some((f) => f.startsWith('echarts-'))).toBe(true);
    expect(js.some((f) => f.startsWith('zrender-'))).toBe(true);
    // The analyst pages stay lazy: the wall's HTML names only the entry and its vendors.
    const html = readFileSync(FRONTEND_INDEX, 'utf8');
    expect(html).not.toMatch(/TrendsView|AlertsView|ReportsView/);
  });
});
