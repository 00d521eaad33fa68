import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';
import alerts from './alerts/vitest.config.ts';
import backend from './backend/vitest.config.ts';
import contracts from './contracts/vitest.config.ts';
import frontend from './frontend/vitest.config.ts';
import sdk from './sdk/vitest.config.ts';

/**
 * Test tiers. `npm test` (the README's and CI's one command) runs them all; a developer runs
 * one with `npm run test:unit` / `test:integration` / `test:browser`.
 *
 * - unit: pure code, no process, port, file server or browser; the whole tier runs in seconds.
 * - integration: starts something real — the built server, DuckDB on a temp file, influxd,
 *   an HTTP stand-in for DingTalk / WeCom.
 * - browser: a real headless Chromium (frontend/e2e, the SDK's page tests).
 * - soak: long statistical runs of pure code (weeks of simulated traffic through the engine,
 *   a simulated day of the traffic model); a file says so with `@tier soak` in its header.
 *
 * A file's tier is read from what it imports rather than from a hand-kept list, so a new test
 * lands in the right tier by itself: importing a harness (or a stand-in server, a child
 * process) is what makes a test an integration test.
 */
const STARTS_SOMETHING = [
  /from '[^']*\/harness(\/|\.js')/, // backend/test/harness, frontend/e2e/harness: influxd, the built server
  /from '\.\/server\.js'/, // sdk/test/server.ts: the backend started in-process
  /from '\.\.\/fakes\//, // alerts/test/fakes: DingTalk / WeCom stand-in servers
  /from 'node:child_process'/,
];
const IN_BROWSER = [/playwright-core/];

type Tier = 'unit' | 'integration' | 'browser' | 'soak';
const DECLARED = /@tier (unit|integration|browser|soak)\b/;

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return name === 'harness' || name === 'fakes' ? [] : testFiles(full);
    return name.endsWith('.test.ts') ? [full] : [];
  });
}

function tierOf(file: string): Tier {
  if (file.includes(`${path.sep}e2e${path.sep}`)) return 'browser';
  const text = readFileSync(file, 'utf8');
  const declared = DECLARED.exec(text)?.[1] as Tier | undefined;
  if (declared) return declared;
  if (IN_BROWSER.some((re) => re.test(text))) return 'browser';
  return STARTS_SOMETHING.some((re) => re.test(text)) ? 'integration' : 'unit';
}

/** One Vitest project per (workspace, tier) that has files, named e.g. `backend:unit`. */
function tiered(workspace: string, base: { test?: object }, dirs: string[]): TestProjectInlineConfiguration[] {
  const root = path.resolve(import.meta.dirname, workspace);
  const byTier = new Map<Tier, string[]>();
  for (const dir of dirs) {
    for (const file of testFiles(path.join(root, dir))) {
      const tier = tierOf(file);
      byTier.set(tier, [...(byTier.get(tier) ?? []), path.relative(root, file)]);
    }
  }
  return [...byTier].map(([tier, include]) => ({
    root,
    test: { ...base.test, name: `${workspace}:${tier}`, include },
  }));
}

export default defineConfig({
  test: {
    projects: [
      ...tiered('contracts', contracts, ['test']),
      ...tiered('backend', backend, ['test']),
      ...tiered('alerts', alerts, ['test']),
      ...tiered('frontend', frontend, ['test', 'e2e']),
      ...tiered('sdk', sdk, ['test']),
    ],
  },
});
