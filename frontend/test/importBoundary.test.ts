/**
 * The frontend imports only @siyu-pulse/contracts from the other workspaces (eslint.config.mjs,
 * no-restricted-imports on frontend/src). ESLint is run on fixtures holding deep imports, linted
 * as if they were frontend files, and on the real frontend/src, which must have none.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: root });
const fixture = (name: string) => readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8');

async function restricted(text: string, filePath: string) {
  const [result] = await eslint.lintText(text, { filePath: path.join(root, filePath) });
  return result!.messages.filter((m) => m.ruleId === 'no-restricted-imports');
}

describe('the frontend reaches the backend and alerts only through @siyu-pulse/contracts', () => {
  it('fails on a deep import of backend/src or alerts/src in a frontend .ts file', async () => {
    const found = await restricted(fixture('deep-import.ts.fixture'), 'frontend/src/deepImport.ts');
    expect(found.map((m) => [m.line, m.severity])).toEqual([
      [2, 2],
      [3, 2],
    ]);
    expect(found[0]!.message).toContain('@siyu-pulse/contracts');
  });

  it('fails on an import of the alerts package in a .vue file', async () => {
    const found = await restricted(fixture('deep-import.vue.fixture'), 'frontend/src/wall/DeepImport.vue');
    expect(found).toHaveLength(1);
    expect(found[0]!.line).toBe(3);
  });

  it('accepts the same code importing the contracts package', async () => {
    const text = fixture('deep-import.ts.fixture')
      .replace("'../../backend/src/catalogue/kpis'", "'@siyu-pulse/contracts/catalogue'")
      .replace("'../../alerts/src/contract'", "'@siyu-pulse/contracts/alerts'");
    expect(await restricted(text, 'frontend/src/deepImport.ts')).toEqual([]);
  });

  it('finds no deep import in the real frontend/src', async () => {
    const results = await eslint.lintFiles(['frontend/src']);
    expect(results.length).toBeGreaterThan(50);
    const found = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${path.relative(root, r.filePath)}:${m.line}`));
    expect(found).toEqual([]);
  }, 60_000);

  it('has no file the lint rule is switched off for: the sources hold no import of backend/src or alerts/src', () => {
    const src = path.join(root, 'frontend/src');
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(ts|vue)$/.test(f));
    expect(files.length).toBeGreaterThan(50);
    const deep = files.filter((f) => /from\s+['"][^'"]*\b(backend|alerts)\/src\//.test(readFileSync(path.join(src, f), 'utf8')));
    expect(deep).toEqual([]);
  });
});
