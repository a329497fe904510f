import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, SourceFile, writeFileAtomic } from '@modelpass/ir';

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
