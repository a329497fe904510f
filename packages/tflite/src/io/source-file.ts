import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { FileRangeStorage } from '@modelpass/ir';
import { tfliteError } from './errors.js';

/**
 * The .tflite file lazy weights read from. It is opened once (non-blocking, so a FIFO cannot hang
 * the reader; anything but a regular file is refused), and the descriptor is held until the last
 * tensor over it is garbage-collected: a file replaced by a rename (what `writeTflite` does, even
 * onto the very path the model came from) stays readable through the old inode. Every read checks
 * that the descriptor still shows the same file (size, modification time), so a file rewritten in
 * place gives a clear error instead of wrong bytes.
 */
interface Handle {
  fd: number | undefined;
}

const finalizer = new FinalizationRegistry<Handle>((handle) => {
  if (handle.fd === undefined) return;
  try {
    closeSync(handle.fd);
  } catch {
    // Closed already at process teardown.
  }
  handle.fd = undefined;
});

function nonRegularKind(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isFIFO()) return 'a named pipe (FIFO)';
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** Most bytes one readSync call is asked for. */
const MAX_READ_CALL = 1 << 30;

export class TfliteSourceFile {
  readonly path: string;
  readonly size: number;
  private readonly mtimeMs: number;
  private readonly handle: Handle;

  constructor(path: string) {
    this.path = resolve(path);
    let stats: Stats;
    try {
      stats = statSync(this.path);
    } catch (cause) {
      throw tfliteError({ reason: `cannot read TFLite file '${path}': ${(cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String((cause as Error).message)}`, location: { file: path }, cause });
    }
    const before = nonRegularKind(stats);
    if (before) throw tfliteError({ reason: `cannot read TFLite file '${path}': it is ${before}, not a regular file`, location: { file: path }, expected: 'a regular file' });
    const fd = openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
    const opened = fstatSync(fd);
    const after = nonRegularKind(opened);
    if (after) {
      closeSync(fd);
      throw tfliteError({ reason: `cannot read TFLite file '${path}': it is ${after}, not a regular file`, location: { file: path }, expected: 'a regular file' });
    }
    this.size = opened.size;
    this.mtimeMs = opened.mtimeMs;
    this.handle = { fd };
    finalizer.register(this, this.handle);
  }

  /** Fills `target` from byte `position`; a file that changed or ends early is an error. */
  readInto(target: Uint8Array, position: number): void {
    const fd = this.handle.fd;
    if (fd === undefined) throw tfliteError({ reason: `cannot read tensor data: '${this.path}' was closed`, location: { file: this.path } });
    const stats = fstatSync(fd);
    if (stats.size !== this.size || stats.mtimeMs !== this.mtimeMs) {
      throw tfliteError({
        reason: `cannot read tensor data: '${this.path}' was changed after the model was read`,
        location: { file: this.path },
        hint: 'read the model again, or keep the source file unchanged while the model is in use',
      });
    }
    let done = 0;
    while (done < target.byteLength) {
      const n = readSync(fd, target, done, Math.min(MAX_READ_CALL, target.byteLength - done), position + done);
      if (n === 0) throw tfliteError({ reason: `tensor data ends early in '${this.path}' (at byte ${position + done})`, location: { file: this.path } });
      done += n;
    }
  }

  /** The first `length` bytes (the flatbuffer). */
  readHead(length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    this.readInto(bytes, 0);
    return bytes;
  }

  /** Closes the descriptor now (when no tensor reads from the file). */
  close(): void {
    if (this.handle.fd === undefined) return;
    closeSync(this.handle.fd);
    this.handle.fd = undefined;
  }

  range(offset: number, byteLength: number): SourceRangeStorage {
    return new SourceRangeStorage(this, offset, byteLength);
  }
}

/** A byte range of the .tflite file: a `FileRangeStorage` whose reads go through the held descriptor. */
export class SourceRangeStorage extends FileRangeStorage {
  constructor(
    readonly source: TfliteSourceFile,
    offset: number,
    byteLength: number,
  ) {
    super(source.path, offset, byteLength);
  }

  override read(): Uint8Array {
    const bytes = new Uint8Array(this.byteLength);
    this.source.readInto(bytes, this.offset);
    return bytes;
  }

  override readChunk(target: Uint8Array, start: number): void {
    if (start < 0 || start + target.byteLength > this.byteLength) throw new RangeError(`chunk [${start}, ${start + target.byteLength}) is outside ${this.describe()}`);
    this.source.readInto(target, this.offset + start);
  }
}
