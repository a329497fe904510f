/**
 * The archive a user named must be a regular file: a FIFO would block the read forever, a device
 * could stream without end, a folder fails with a bare EISDIR. (Like `@modelpass/runtime`'s
 * check, with this package's error type, so it does not depend on the runtime and its native engines.)
 */
import { statSync, type Stats } from 'node:fs';
import { describeFileKind } from '@modelpass/ir';
import { messageOf, torchscriptError } from '../errors.js';

export function checkRegularFile(path: string, role: string): Stats {
  let stats: Stats;
  try {
    stats = statSync(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'it does not exist' : code === 'EACCES' ? 'permission denied' : code === 'ENOTDIR' ? 'a part of the path is not a folder' : messageOf(cause);
    throw torchscriptError({ reason: `cannot read ${role} '${path}': ${reason}`, location: { file: path }, cause });
  }
  if (!stats.isFile()) {
    throw torchscriptError({ reason: `cannot read ${role} '${path}': it is ${describeFileKind(stats)}, not a regular file`, location: { file: path }, expected: 'a regular file' });
  }
  return stats;
}
