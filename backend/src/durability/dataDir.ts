/**
 * Start-up check of the data dir: it must exist (created if missing), take a write that is
 * fsynced, and have at least `minFreeBytes` free. A read-only or full disk stops start-up
 * with a message that names the directory and the cause, instead of failing later on the
 * first journal write with a 503 nobody reads.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, statfsSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

export class DataDirError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDirError';
  }
}

const HINT: Record<string, string> = {
  EACCES: 'the user running Siyu Pulse may not write there (check the owner / permissions, or the volume mount)',
  EPERM: 'the user running Siyu Pulse may not write there (check the owner / permissions)',
  EROFS: 'the file system is mounted read-only',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  ENOTDIR: 'a path component is a file, not a directory',
};

export function checkDataDir(dir: string, minFreeBytes: number): { freeBytes: number } {
  const where = `PULSE_DATA_DIR ${path.resolve(dir)}`;
  const fail = (err: unknown, what: string): never => {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new DataDirError(`${where}: ${what} failed (${code || (err as Error).message})${HINT[code] ? `: ${HINT[code]}` : ''}`);
  };
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    fail(err, 'creating the directory');
  }
  const probe = path.join(dir, `.write-probe-${process.pid}`);
  let fd: number | undefined;
  try {
    fd = openSync(probe, 'w');
    writeSync(fd, 'siyu-pulse write probe\n');
    fsyncSync(fd);
  } catch (err) {
    fail(err, 'writing a test file');
  } finally {
    if (fd !== undefined) closeSync(fd);
    try {
      unlinkSync(probe);
    } catch {
      /* never created */
    }
  }
  const fs = statfsSync(dir);
  const freeBytes = Number(fs.bavail) * Number(fs.bsize);
  if (freeBytes < minFreeBytes) {
    const mb = (b: number) => `${Math.floor(b / 1048576)} MB`;
    throw new DataDirError(`${where}: only ${mb(freeBytes)} free, below PULSE_MIN_FREE_MB (${mb(minFreeBytes)}): the journal and the spool need room; free some space or lower PULSE_MIN_FREE_MB`);
  }
  return { freeBytes };
}
