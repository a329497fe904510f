/**
 * The archive a user named must be a regular file: a FIFO would block the read forever, a device
 * could stream without end, a folder fails with a bare EISDIR. (Like `@modelpass/runtime`'s
 * check, kept here so this package does not depend on the runtime and its native engines.)
 */
import { statSync, type Stats } from 'node:fs';
import { messageOf, torchscriptError } from '../errors.js';

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

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
    throw torchscriptError({ reason: `cannot read ${role} '${path}': it is ${kindOf(stats)}, not a regular file`, location: { file: path }, expected: 'a regular file' });
  }
  return stats;
}
