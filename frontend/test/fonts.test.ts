/**
 * Chinese must render on the wall wherever it runs: every font stack we ship (the wall's
 * body, the printed report's margins, the report charts) names a common CJK font for each
 * platform before the generic fallback.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');
const COMMON_CJK = ['Noto Sans CJK SC', 'Source Han Sans SC', 'WenQuanYi Micro Hei', 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei'];

function stacks(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  return [...text.matchAll(/font-family:\s*([^;]+);|FONT = "([^"]+)"/g)].map((m) => (m[1] ?? m[2])!).filter((s) => !/^\s*monospace/.test(s) && s.includes(','));
}

describe('font stacks', () => {
  for (const file of ['style.css', 'reports/ReportsView.vue', 'reports/chartOption.ts']) {
    it(`${file}: common CJK fonts for Linux, macOS and Windows before the generic family`, () => {
      const found = stacks(file);
      expect(found.length).toBeGreaterThan(0);
      for (const stack of found) {
        const names = stack.split(',').map((n) => n.trim().replace(/^['"]|['"]$/g, ''));
        for (const font of COMMON_CJK) expect(names, `${file}: ${stack}`).toContain(font);
        const generic = names.indexOf('sans-serif');
        expect(generic).toBe(names.length - 1);
      }
    });
  }
});
