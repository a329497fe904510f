/** What a file system entry that is not a regular file is, in words, for error messages. */
import type { Stats } from 'node:fs';

export function describeFileKind(stats: Stats): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  return 'not a regular file';
}

/** Why `stat` of a path a user named failed, in words: missing, not permitted, a file used as a folder, else the system's message. */
export function describeStatFailure(cause: unknown): string {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOENT') return 'it does not exist';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'ENOTDIR') return 'a part of the path is not a folder';
  return cause instanceof Error ? cause.message : String(cause);
}
