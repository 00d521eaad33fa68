import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'sdk',
    environment: 'node',
    // The tests load the BUILT bundles (dist/), as a page or a mini-program would: the root
    // `npm test` builds first; alone, run `npm run build -w sdk`. The server is started
    // in-process from the backend's sources.
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
