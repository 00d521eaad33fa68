/**
 * The engine's small state files (silences and acks, the noise memory): written whole to a
 * temp file and renamed, so a crash leaves the old or the new version; an unreadable one is
 * moved aside for a human rather than overwritten. (The backend has the same helper in
 * durability/jsonFile.ts; this package does not depend on the backend.)
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes `data` as JSON through a temp file and a rename. Throws what the file system throws. */
export function writeJsonFile(file: string, data: unknown, space?: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(data, null, space));
  renameSync(tmp, file);
}

/**
 * Reads and interprets a JSON file: `undefined` when it does not exist (first run). When it
 * does not parse, or `interpret` throws, the file is moved to `<file>.corrupt-<now>` and
 * `onCorrupt` says where; the caller starts empty rather than refuse to alert.
 */
export function readJsonFile<T>(file: string, interpret: (raw: unknown) => T, onCorrupt: (err: unknown, aside: string) => void, now: number): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return interpret(JSON.parse(text));
  } catch (err) {
    const aside = `${file}.corrupt-${now}`;
    try {
      renameSync(file, aside);
    } catch {
      /* nothing more to do */
    }
    onCorrupt(err, aside);
    return undefined;
  }
}
