/**
 * Finding a system program for a test harness (influxd, redis-server) and deciding at
 * collection time whether its suites run: missing in CI (`CI=true`) fails the suite; missing
 * locally skips it with a loud banner.
 */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const BANNER_LINE = '!'.repeat(78);

/** Absolute path of `name` from `$override` or PATH (then `extraDirs`), or null. */
export function findExecutable(name: string, override: string | undefined, extraDirs: readonly string[] = []): string | null {
  if (override) return isExecutable(override) ? override : null;
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...extraDirs]) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when `found`; otherwise throws in CI or prints the skip banner and returns false. */
export function runOrSkip(found: boolean, program: string, debianPackage: string, suite: string): boolean {
  if (found) return true;
  if (process.env.CI === 'true') throw new Error(`${program} not found (CI=true): ${suite} cannot be skipped in CI; install the Debian package ${debianPackage}`);
  console.warn(`\n${BANNER_LINE}\n!! ${program} not found — ${suite} SKIPPED; install the Debian package ${debianPackage}\n${BANNER_LINE}\n`);
  return false;
}
