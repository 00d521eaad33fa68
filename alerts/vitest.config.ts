import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: { name: 'alerts', include: ['test/**/*.test.ts'], passWithNoTests: true },
});
