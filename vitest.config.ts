import { defineConfig } from 'vitest/config';

// One root run covers every workspace's suites (see each workspace's vitest.config.ts).
export default defineConfig({
  test: {
    projects: ['backend', 'alerts', 'frontend', 'sdk'],
  },
});
