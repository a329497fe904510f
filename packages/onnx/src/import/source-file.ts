import { resolve } from 'node:path';
import { SourceFile as HeldSourceFile, SourceRangeStorage } from '@modelpass/ir';
import { SOURCE } from '../errors.js';

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

  /** After a successful import: sources that tensors use are retained, the others closed. */
  finish(): void {
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
