import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ModelpassError } from './diagnostic.js';
import { batchSourceReads, holdSourcesBeforeReplacing } from './source-file.js';
import { claimTemporaryPath, releaseTemporaryPath } from './temporary-files.js';

/** Appends bytes to the temporary file an atomic write is filling. */
export interface AtomicFileOutput {
  /** Writes all of `bytes` (loops over short writes). */
  write(bytes: Uint8Array): void;
  /** Bytes written so far. */
  readonly bytesWritten: number;
}

const WRITE_ERRORS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space is left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EFBIG: 'the file is larger than this system allows',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'the operation is not permitted',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'the destination is a folder',
  EIO: 'the device reported an I/O error',
};

/**
 * A failed write as a ModelpassError naming the destination and the reason in words (disk full,
 * read-only, ...); ModelpassErrors raised by the producer pass through unchanged.
 */
export function fileWriteError(path: string, error: unknown): unknown {
  if (ModelpassError.is(error)) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === undefined) return error;
  const words = WRITE_ERRORS[code];
  return new ModelpassError({
    reason: `cannot write '${path}': ${words ?? (error as Error).message} (${code})`,
    location: { file: path },
    source: '@modelpass/ir',
    code: `write/${code.toLowerCase()}`,
    ...(code === 'ENOSPC' || code === 'EDQUOT' ? { hint: 'free some space or write to another disk; nothing was left behind' } : {}),
    cause: error,
  });
}

/**
 * Writes a file whole or not at all: `produce` fills a temporary file in the same folder (created
 * if missing), which is flushed and renamed over `path`; readers never see half a file. The
 * temporary file is registered (see `claimTemporaryPath`), so SIGINT/SIGTERM/SIGHUP remove it and
 * a later write to `path` removes ones left by killed processes. Errors of the file system come
 * out as ModelpassErrors naming `path` (e.g. a full disk). `produce` runs in `batchSourceReads`:
 * lazy tensors it reads share one descriptor per source file, and a source changed meanwhile fails
 * the write before the rename.
 */
export function writeFileAtomicWith(path: string, produce: (output: AtomicFileOutput) => void): void {
  let temporary: string | undefined;
  try {
    mkdirSync(dirname(path), { recursive: true });
    temporary = claimTemporaryPath(path);
    const fd = openSync(temporary, 'wx');
    try {
      let total = 0;
      const output: AtomicFileOutput = {
        write(bytes) {
          let done = 0;
          while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
          total += done;
        },
        get bytesWritten() {
          return total;
        },
      };
      // One descriptor and one check per lazy source for the whole output; a source changed meanwhile throws here, before the rename.
      batchSourceReads(() => produce(output));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    holdSourcesBeforeReplacing(path); // lazy tensors read from the file being replaced keep reading it
    renameSync(temporary, path);
    releaseTemporaryPath(temporary);
  } catch (error) {
    if (temporary !== undefined) {
      rmSync(temporary, { force: true });
      releaseTemporaryPath(temporary);
    }
    throw fileWriteError(path, error);
  }
}

/** `writeFileAtomicWith` for data already in memory. Shared by every writer of model files, dumps and reports. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  writeFileAtomicWith(path, (output) => output.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
}
