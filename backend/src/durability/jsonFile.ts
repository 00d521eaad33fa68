/**
 * Small JSON documents under the data dir (feedback, campaigns): written whole to a temp
 * file, fsynced and renamed, so a crash or power cut leaves the old or the new version,
 * never half a file. An unreadable file is moved aside (kept for a human) rather than
 * silently overwritten.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';

export function writeJsonAtomic(file: string, data: unknown): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, JSON.stringify(data, null, 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

/** The parsed file, `undefined` on first run; a corrupt file is renamed aside and reported. */
export function readJsonFile(file: string, onCorrupt: (err: unknown, movedTo: string) => void, now = Date.now()): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    const aside = `${file}.corrupt-${now}`;
    renameSync(file, aside);
    onCorrupt(err, aside);
    return undefined;
  }
}
