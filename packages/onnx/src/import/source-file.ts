import { statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import { SourceFile as HeldSourceFile, SourceRangeStorage } from '@modelpass/ir';
import { onnxError, SOURCE } from '../errors.js';

/**
 * Files that lazy tensors read from (the .onnx file itself, external data files): @modelpass/ir's
 * `SourceFile` (identity-checked reads, descriptors held while few, kept readable across a rename
 * onto their path), with read errors sourced to @modelpass/onnx.
 */
export { holdSourcesBeforeReplacing, NotRegularFileError, openRegularFile, readFully, SourceRangeStorage } from '@modelpass/ir';

export class SourceFile extends HeldSourceFile {
  /** Opens `path` (fs errors are thrown as is); `keepDescriptor`: see @modelpass/ir's SourceFileOptions. */
  constructor(path: string, keepDescriptor = false) {
    super(path, { keepDescriptor, diagnosticSource: SOURCE });
  }
}

/** The source files one import reads from, each opened once and shared by its tensors. */
export class SourceFiles {
  private readonly byPath = new Map<string, SourceFile>();
  private readonly used = new Set<SourceFile>();

  /** Opens `path` on first use (fs errors are thrown as is); the source counts as used. */
  get(path: string): SourceFile {
    const key = resolve(path);
    let source = this.byPath.get(key);
    if (!source) this.byPath.set(key, (source = new SourceFile(key)));
    this.used.add(source);
    return source;
  }

  /** Adds an already opened source (the model file itself), not yet used. */
  add(source: SourceFile): void {
    this.byPath.set(source.path, source);
  }

  /** A range of a source added here; the source counts as used. */
  range(source: SourceFile, offset: number, byteLength: number): SourceRangeStorage {
    this.used.add(source);
    return new SourceRangeStorage(source, offset, byteLength);
  }

  /**
   * After a successful import: sources that tensors use are retained, the others closed. Each source was opened
   * when the reader first met it, so a set of files replaced while the model was read (external data written
   * anew, a folder swapped) would give a model mixing both versions, every read passing its own file's check:
   * a used source whose path no longer holds the file opened fails the import.
   */
  finish(): void {
    for (const source of this.used) checkStillAtPath(source);
    for (const source of this.byPath.values()) {
      if (this.used.has(source)) source.retain();
      else source.close();
    }
  }

  /** After a failed import: closes everything. */
  closeAll(): void {
    for (const source of this.byPath.values()) source.close();
  }
}

/** `source`'s path still names the file it was opened on (same device, inode and size). */
function checkStillAtPath(source: SourceFile): void {
  let stats: Stats;
  try {
    stats = statSync(source.path);
  } catch (cause) {
    throw onnxError({ reason: `'${source.path}' was removed while the model was read`, location: { file: source.path }, cause, hint: 'read the model again once its files stay in place' });
  }
  if (source.isSameFile(stats) && stats.size === source.size) return;
  throw onnxError({
    reason: `'${source.path}' was replaced while the model was read (its tensors would mix the old and the new file)`,
    location: { file: source.path },
    hint: 'read the model again once its files stay unchanged',
  });
}
