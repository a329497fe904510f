import { mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchSourceReads, ModelpassError, SourceFile, sourceDescriptorsOpen, writeFileAtomic, writeFileAtomicWith } from '@modelpass/ir';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-source-file-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

function readText(source: SourceFile, length: number): string {
  const bytes = new Uint8Array(length);
  source.range(0, length).readChunk(bytes, 0);
  return Buffer.from(bytes).toString();
}

describe('SourceFile', () => {
  it('refuses to read a file rewritten in place, naming it and the reader that asked', () => {
    const path = file('in-place.bin', 'old bytes');
    const source = new SourceFile(path, { diagnosticSource: '@modelpass/example' });
    source.retain();
    writeFileSync(path, 'new bytes');
    utimesSync(path, new Date(), new Date(Date.now() + 5_000));
    let error: unknown;
    try {
      readText(source, 9);
    } catch (caught) {
      error = caught;
    }
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as ModelpassError).message).toContain(`'${path}' was changed after the model was read`);
    expect((error as ModelpassError).diagnostics[0]!.source).toBe('@modelpass/example');
  });

  it('keeps reading the old file after an atomic write replaces its path, past the descriptor limit too', () => {
    // 80 sources: past the process-wide limit (64) the later ones hold no descriptor after retain().
    const sources = Array.from({ length: 80 }, (_, i) => {
      const source = new SourceFile(file(`many-${i}.bin`, `old ${String(i).padStart(2, '0')}`));
      source.retain();
      return source;
    });
    const last = sources[79]!;
    expect(last.descriptor).toBeUndefined();
    writeFileAtomic(last.path, 'a new file');
    expect(readText(last, 6)).toBe('old 79');
    expect(readText(sources[0]!, 6)).toBe('old 00');
    for (const source of sources) source.close();
  });

  it('says where the data ends early', () => {
    const source = new SourceFile(file('short.bin', 'short'));
    expect(() => source.readInto(new Uint8Array(16), 2)).toThrow(/tensor data ends early in '.*short\.bin' \(reading 16 bytes at byte 2\)/);
    source.close();
  });
});

/** Rewrites `path` in place with `text` (same inode) and moves its modification time, so the change shows whatever the clock's resolution. */
function rewriteInPlace(path: string, text: string): void {
  writeFileSync(path, text);
  utimesSync(path, new Date(), new Date(Date.now() + 5_000));
}

function readAt(source: SourceFile, offset: number, length: number): string {
  const bytes = new Uint8Array(length);
  source.range(offset, length).readChunk(bytes, 0);
  return Buffer.from(bytes).toString();
}

describe('batchSourceReads', () => {
  it('reads a source without a held descriptor through one descriptor, closed when the batch ends', () => {
    const source = new SourceFile(file('batch-one.bin', 'abcdefghij'));
    source.retain();
    source.close(); // as a source past the descriptor limit: reads open the file
    const before = sourceDescriptorsOpen();
    const texts = batchSourceReads(() => {
      const read = [readAt(source, 0, 3), readAt(source, 3, 3), readAt(source, 6, 4)];
      expect(sourceDescriptorsOpen()).toBe(before + 1);
      return read;
    });
    expect(texts).toEqual(['abc', 'def', 'ghij']);
    expect(sourceDescriptorsOpen()).toBe(before);
  });

  it('checks each file at its first read in the batch, held descriptor or not', () => {
    for (const held of [true, false]) {
      const path = file(`batch-first-${held}.bin`, 'old bytes');
      const source = new SourceFile(path);
      source.retain();
      if (!held) source.close();
      rewriteInPlace(path, 'new bytes');
      const before = sourceDescriptorsOpen();
      let bytesUsed = false;
      expect(() =>
        batchSourceReads(() => {
          readAt(source, 0, 9);
          bytesUsed = true; // must not happen: the read itself throws, not only the batch's end
        }),
      ).toThrow(`'${path}' was changed after the model was read`);
      expect(bytesUsed).toBe(false);
      expect(sourceDescriptorsOpen()).toBe(before);
      source.close();
    }
  });

  it('reports a file rewritten during the batch when the batch ends, held descriptor or not', () => {
    for (const held of [true, false]) {
      const path = file(`batch-during-${held}.bin`, 'old bytes');
      const source = new SourceFile(path);
      source.retain();
      if (!held) source.close();
      const before = sourceDescriptorsOpen();
      let error: unknown;
      try {
        batchSourceReads(() => {
          expect(readAt(source, 0, 3)).toBe('old');
          rewriteInPlace(path, 'new bytes');
          readAt(source, 4, 5); // trusted within the batch: the check comes at its end
        });
      } catch (caught) {
        error = caught;
      }
      expect(ModelpassError.is(error)).toBe(true);
      expect((error as ModelpassError).message).toContain(`'${path}' was changed after the model was read`);
      expect(sourceDescriptorsOpen()).toBe(before);
      source.close();
    }
  });

  it('a file cut short during the batch is reported as changed, not as tensor data that ends early (QA s18 round 17)', () => {
    for (const held of [true, false]) {
      const path = file(`batch-truncated-${held}.bin`, 'old bytes and more');
      const source = new SourceFile(path);
      source.retain();
      if (!held) source.close();
      const before = sourceDescriptorsOpen();
      expect(() =>
        batchSourceReads(() => {
          expect(readAt(source, 0, 3)).toBe('old');
          rewriteInPlace(path, 'new');
          readAt(source, 10, 8); // past the new end
        }),
      ).toThrow(`'${path}' was changed after the model was read`);
      expect(sourceDescriptorsOpen()).toBe(before);
      source.close();
    }
  });

  it('reports a file replaced by a rename during the batch when no descriptor is held, as a read would', () => {
    const path = file('batch-renamed.bin', 'old bytes');
    const source = new SourceFile(path);
    source.retain();
    source.close();
    expect(() =>
      batchSourceReads(() => {
        readAt(source, 0, 3);
        renameSync(file('batch-renamed-new.bin', 'new bytes'), path);
        readAt(source, 4, 5);
      }),
    ).toThrow(`'${path}' was changed after the model was read`);
  });

  it('keeps reading the old file when a model is written onto its path inside the batch', () => {
    const path = file('batch-onto-itself.bin', 'old bytes');
    const source = new SourceFile(path);
    source.retain();
    source.close();
    const before = sourceDescriptorsOpen();
    // What a writer does: the output is produced (reading the source) in a batch, then renamed onto the source's path.
    writeFileAtomicWith(path, (output) => output.write(Buffer.from(`copy of ${readAt(source, 0, 9)}`)));
    expect(readAt(source, 0, 9)).toBe('old bytes');
    expect(batchSourceReads(() => readAt(source, 4, 5))).toBe('bytes');
    expect(sourceDescriptorsOpen()).toBe(before + 1); // the descriptor holdSourcesBeforeReplacing opened, kept for the old file
    source.close();
  });

  it('refuses to write an output whose source changed while it was produced, and leaves no file', () => {
    const path = file('batch-source.bin', 'old bytes');
    const out = join(dir, 'batch-output.bin');
    const source = new SourceFile(path);
    source.retain();
    source.close();
    expect(() =>
      writeFileAtomicWith(out, (output) => {
        output.write(Buffer.from(readAt(source, 0, 3)));
        rewriteInPlace(path, 'new bytes');
        output.write(Buffer.from(readAt(source, 3, 6)));
      }),
    ).toThrow(`'${path}' was changed after the model was read`);
    expect(() => readAt(new SourceFile(out), 0, 1)).toThrow();
  });

  it('closes what it opened when the work throws, and passes its error through; a nested batch joins the outer one', () => {
    const sources = ['a', 'b', 'c'].map((name) => {
      const source = new SourceFile(file(`batch-throw-${name}.bin`, `bytes of ${name}`));
      source.retain();
      source.close();
      return source;
    });
    const before = sourceDescriptorsOpen();
    expect(() =>
      batchSourceReads(() => {
        for (const source of sources) readAt(source, 0, 5);
        batchSourceReads(() => readAt(sources[0]!, 0, 5));
        expect(sourceDescriptorsOpen()).toBe(before + 3);
        throw new Error('the work failed');
      }),
    ).toThrow('the work failed');
    expect(sourceDescriptorsOpen()).toBe(before);
  });
});
