/** Paths of the built SDK (the tests use what `npm run build -w sdk` produced, as users would). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SDK_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export function built(file: string): string {
  const path = join(SDK_ROOT, 'dist', file);
  if (!existsSync(path)) throw new Error(`${path} is missing: build the SDK first (npm run build -w sdk; the root npm test builds everything)`);
  return path;
}
