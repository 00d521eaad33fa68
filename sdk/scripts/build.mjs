/**
 * Builds the SDK: minified single-file bundles (rolldown, which ships with Vite) for the
 * browser (ESM) and the mini-program (ESM, and CommonJS in dist/miniprogram/ for WeChat's
 * "构建 npm", which reads the `miniprogram` field), then the .d.ts files (tsc), then prints
 * and records each bundle's gzip size (dist/size.json, checked by sdk/test/size.test.ts).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'rolldown';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
// Old in-app browsers (WeChat's X5, iOS 12) and mini-program engines: ES2018 syntax.
const TARGET = 'es2018';
const bundles = [
  { input: 'src/index.ts', file: 'dist/index.js', format: 'esm' },
  { input: 'src/miniprogram.ts', file: 'dist/miniprogram.js', format: 'esm' },
  { input: 'src/miniprogram.ts', file: 'dist/miniprogram/index.js', format: 'cjs' },
];

rmSync(dist, { recursive: true, force: true });
for (const b of bundles) {
  await build({
    cwd: root,
    input: join(root, b.input),
    transform: { target: TARGET },
    output: { file: join(root, b.file), format: b.format, minify: true },
    logLevel: 'warn',
  });
}
// The package is "type": "module"; this folder is CommonJS (for Node's require too).
writeFileSync(join(dist, 'miniprogram/package.json'), '{ "type": "commonjs" }\n');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });

const sizes = {};
for (const b of bundles) {
  const code = readFileSync(join(root, b.file));
  sizes[b.file.replace(/^dist\//, '')] = { bytes: code.length, gzip: gzipSync(code, { level: 9 }).length };
}
writeFileSync(join(dist, 'size.json'), `${JSON.stringify(sizes, null, 2)}\n`);
for (const [file, s] of Object.entries(sizes)) console.log(`sdk ${file.padEnd(24)} ${String(s.bytes).padStart(6)} B, gzip ${s.gzip} B`);
