import { NotRegularFileError, SourceFile } from '@modelpass/ir';
import { SOURCE, tfliteError } from './errors.js';

/**
 * The .tflite file lazy weights read from: @modelpass/ir's `SourceFile` (opened non-blocking, so a
 * FIFO cannot hang the reader, and anything but a regular file is refused; every read checks that
 * the path still holds the same file; the descriptor is held while the process holds few, and kept
 * readable across a rename onto the path, which is how `writeTflite` replaces a file), opened with
 * errors that name the TFLite file.
 */
export class TfliteSourceFile extends SourceFile {
  constructor(path: string) {
    try {
      super(path, { keepDescriptor: true, diagnosticSource: SOURCE });
    } catch (cause) {
      if (cause instanceof NotRegularFileError) {
        throw tfliteError({ reason: `cannot read TFLite file '${path}': it is ${cause.kind}, not a regular file`, location: { file: path }, expected: 'a regular file' });
      }
      const code = (cause as NodeJS.ErrnoException).code;
      throw tfliteError({ reason: `cannot read TFLite file '${path}': ${code === 'ENOENT' ? 'no such file' : String((cause as Error).message)}`, location: { file: path }, cause });
    }
  }

  /** The first `length` bytes (the flatbuffer). */
  readHead(length: number): Uint8Array {
    const bytes = new Uint8Array(length);
    this.readInto(bytes, 0);
    return bytes;
  }
}
