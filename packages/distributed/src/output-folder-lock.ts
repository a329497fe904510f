/**
 * One batch at a time per output folder: two `modelpass batch` runs writing the same folder would
 * interleave their outputs (each file whole, but the set a mix of both runs). The lock is a file
 * created exclusively (`.modelpass-batch.lock`: pid, host, start time); a lock whose process is gone
 * (same host, pid not running: a killed run) is taken over; the lock goes when the run ends or exits.
 */
import { openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { distributedError } from './errors.js';

export const BATCH_LOCK_FILE = '.modelpass-batch.lock';

interface LockOwner {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
}

export interface FolderLock {
  readonly path: string;
  release(): void;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const owner = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockOwner>;
    return typeof owner.pid === 'number' && typeof owner.host === 'string' ? { pid: owner.pid, host: owner.host, started: String(owner.started) } : undefined;
  } catch {
    return undefined;
  }
}

/** Takes `folder`'s batch lock or throws naming the run that holds it. */
export function lockOutputFolder(folder: string): FolderLock {
  const path = join(folder, BATCH_LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), started: new Date().toISOString() };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(path, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw distributedError({ reason: `cannot create the batch lock '${path}': ${(error as Error).message}`, location: { file: path } });
      const owner = readOwner(path);
      if (!owner || !(owner.host === me.host && !running(owner.pid))) {
        throw distributedError({
          reason: `output folder '${folder}' is in use by another batch run (${owner ? `pid ${owner.pid} on ${owner.host}, started ${owner.started}` : 'its lock file is being written or unreadable'})`,
          location: { file: path },
          hint: `wait for it to finish or choose another -o folder; if that run is gone, remove ${path}`,
          code: 'distributed/folder-in-use',
        });
      }
      // A killed run's lock on this host: take it over.
      rmSync(path, { force: true });
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me));
    } finally {
      closeSync(fd);
    }
    const onExit = () => rmSync(path, { force: true });
    process.once('exit', onExit);
    return {
      path,
      release() {
        process.removeListener('exit', onExit);
        if (readOwner(path)?.pid === me.pid) rmSync(path, { force: true });
      },
    };
  }
}
