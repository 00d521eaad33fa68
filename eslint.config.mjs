import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import pluginVue from 'eslint-plugin-vue';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'test-artifacts/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Vue single-file components: the template rules that catch bugs, TypeScript in <script setup>.
  ...pluginVue.configs['flat/essential'],
  {
    files: ['**/*.vue'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'] } },
  },
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // The frontend speaks to the backend over the network only: what crosses that boundary (the
  // KPI catalogue, the live and REST answer types, formatting) comes from @siyu-pulse/contracts.
  // A deep import into backend/src or alerts/src (or the backend / alerts packages) fails here;
  // frontend/test/importBoundary.test.ts proves it. Tests under frontend/e2e start the real
  // backend and may reach into it.
  {
    files: ['frontend/src/**/*.ts', 'frontend/src/**/*.vue'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(backend|alerts)/src(/|$)',
              message: 'the frontend imports what crosses the process boundary from @siyu-pulse/contracts, never backend/src or alerts/src',
            },
            {
              regex: '^@siyu-pulse/(backend|alerts)(/|$)',
              message: 'the frontend imports what crosses the process boundary from @siyu-pulse/contracts, not the backend or alerts packages',
            },
          ],
        },
      ],
    },
  },
);
