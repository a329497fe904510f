/**
 * Reading a file a user named: it must exist and be a regular file. A FIFO would block the read
 * forever, a device could stream without end, and a folder fails with a bare EISDIR; each gets a
 * `ModelpassError` naming the file and what it is instead.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { describeFileKind, describeStatFailure } from '@modelpass/ir';
import { messageOf, runtimeError } from './errors.js';

export { describeFileKind };

/** The largest file `readFileSync` can return in one buffer. */
const MAX_READ_BYTES = 2 ** 31 - 1;

/**
 * The file's stats (symbolic links followed) when it is a regular file; otherwise a
 * `ModelpassError` that says `role` (e.g. "NumPy file"), the path and what is there instead.
 */
export function checkRegularFile(path: string, role: string, hint?: string): Stats {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (cause) {
    const reason = describeStatFailure(cause);
    throw runtimeError({ reason: `cannot read ${role} '${path}': ${reason}`, location: { file: path }, cause, ...(hint ? { hint } : {}) });
  }
  if (!stats.isFile()) {
    throw runtimeError({
      reason: `cannot read ${role} '${path}': it is ${describeFileKind(stats)}, not a regular file`,
      location: { file: path },
      expected: 'a regular file',
    });
  }
  return stats;
}

/** Reads a whole regular file (see `checkRegularFile`), refusing files too large for one buffer. */
export function readRegularFile(path: string, role: string, hint?: string): Uint8Array {
  const stats = checkRegularFile(path, role, hint);
  if (stats.size > MAX_READ_BYTES) {
    throw runtimeError({
      reason: `cannot read ${role} '${path}': it is ${stats.size} bytes, more than one read can hold`,
      location: { file: path },
      expected: `at most ${MAX_READ_BYTES} bytes`,
    });
  }
  try {
    return readFileSync(path);
  } catch (cause) {
    throw runtimeError({ reason: `cannot read ${role} '${path}': ${messageOf(cause)}`, location: { file: path }, cause, ...(hint ? { hint } : {}) });
  }
}
