import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'frontend',
    environment: 'node',
    // Unit tests (format, store) and the Chromium end-to-end tests, which start the built
    // backend (`backend/dist/server.js`, serving `frontend/dist`) — the root `npm test`
    // builds everything first.
    include: ['test/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 120_000,
    // One retry, as Playwright does on CI: a Chromium page on a loaded 2-core box occasionally
    // misses a 20 s wait (campaigns.test's trends chart did once in three full runs and passes
    // alone). A test that fails twice still fails the run.
    retry: process.env.CI === 'true' ? 1 : 0,
    hookTimeout: 120_000,
  },
});
