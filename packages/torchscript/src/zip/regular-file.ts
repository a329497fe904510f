/**
 * The archive a user named must be a regular file: a FIFO would block the read forever, a device
 * could stream without end, a folder fails with a bare EISDIR. (Like `@modelpass/runtime`'s
 * check, with this package's error type, so it does not depend on the runtime and its native engines.)
 */
import { statSync, type Stats } from 'node:fs';
import { describeFileKind, describeStatFailure } from '@modelpass/ir';
import { torchscriptError } from '../errors.js';

export function checkRegularFile(path: string, role: string): Stats {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (cause) {
    const reason = describeStatFailure(cause);
    throw torchscriptError({ reason: `cannot read ${role} '${path}': ${reason}`, location: { file: path }, cause });
  }
  if (!stats.isFile()) {
    throw torchscriptError({ reason: `cannot read ${role} '${path}': it is ${describeFileKind(stats)}, not a regular file`, location: { file: path }, expected: 'a regular file' });
  }
  return stats;
}
