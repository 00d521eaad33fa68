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
    hookTimeout: 120_000,
  },
});
