/**
 * Reading a `.mpir` file from disk: only a regular file is read (a FIFO, a device or a folder is
 * refused before anything blocks on it), and its `file(...)` references resolve against its own
 * folder (see `file-references.ts`).
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { constants as bufferConstants } from 'node:buffer';
import { ModelpassError } from '../diagnostic.js';
import type { Model } from '../model.js';
import { decodeModelText } from './model-text-bytes.js';
import { parseModel, type ParseOptions } from './parser.js';

function unreadable(path: string, reason: string, extra: { code: string; cause?: unknown; hint?: string }): ModelpassError {
  return new ModelpassError({ reason: `cannot read '${path}': ${reason}`, location: { file: path }, source: '@modelpass/ir', ...extra });
}

function fileKind(stats: ReturnType<typeof fstatSync>): string {
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isDirectory()) return 'a folder';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** The text of a regular file; FIFOs, devices and folders are refused without blocking, binary files and text that is not UTF-8 by what they are. */
export function readRegularTextFile(path: string): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const words = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'ENXIO' ? 'it is a socket or device without a reader' : (cause as Error).message;
    throw unreadable(path, words, { code: 'read/open', cause });
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw unreadable(path, `it is ${fileKind(stats)}, not a regular file`, { code: 'read/not-a-file', hint: 'give the path of a .mpir file' });
    if (stats.size > bufferConstants.MAX_STRING_LENGTH) {
      throw unreadable(path, `it is ${stats.size} bytes, more than the textual IR reader can hold as text (${bufferConstants.MAX_STRING_LENGTH})`, {
        code: 'read/too-large',
        hint: 'keep big weights in a data file referenced with file(...), or use ONNX with external data',
      });
    }
    return decodeModelText(readFileSync(fd), path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and parses a `.mpir` file. `file(...)` references resolve against the file's folder and
 * may only read inside it unless `options.allowRead` names more folders (or `'anywhere'`).
 */
export function readModelText(path: string, options: Omit<ParseOptions, 'file'> = {}): Model {
  return parseModel(readRegularTextFile(path), { ...options, file: path });
}
