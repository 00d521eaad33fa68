/**
 * The SDK's weight as a page pays it: each built bundle gzipped (level 9), measured here on the
 * files in dist/, printed, and held to the 4 KB goal. Also checks what the package exports
 * resolves to real files with types.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { SDK_ROOT, built } from './built.js';

const GOAL = 4 * 1024;

describe('SDK size', () => {
  for (const file of ['index.js', 'miniprogram.js', 'miniprogram/index.js']) {
    it(`${file} is at most 4 KB gzipped`, () => {
      const code = readFileSync(built(file));
      const gz = gzipSync(code, { level: 9 }).length;
      console.log(`sdk dist/${file}: ${code.length} B minified, ${gz} B gzip (goal ≤ ${GOAL} B)`);
      expect(gz).toBeLessThanOrEqual(GOAL);
      // Minified single file: no imports left to resolve at run time.
      expect(code.toString()).not.toMatch(/\bimport\s*[{(]|\brequire\(/);
    });
  }

  it('the package exports point at built files with types; the mini-program entry is CommonJS for WeChat', () => {
    const pkg = JSON.parse(readFileSync(`${SDK_ROOT}/package.json`, 'utf8')) as {
      exports: Record<string, Record<string, string>>;
      miniprogram: string;
    };
    for (const entry of Object.values(pkg.exports)) for (const target of Object.values(entry)) built(target.replace(/^\.\/dist\//, ''));
    built(`${pkg.miniprogram.replace(/^dist\//, '')}/index.js`);
    expect(readFileSync(built('miniprogram/index.js'), 'utf8')).toMatch(/exports\.createPulse\s*=/);
  });
});
