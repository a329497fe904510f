/**
 * QA s18 round 17: resnet18 saved with one external data file per tensor, three of the files replaced (written
 * anew and renamed onto their paths) while `convert` read the model: the reader had opened some of them before the
 * replacement and the others after, every later read passed its own file's identity check, and the written model
 * mixed old and new weights (exit 0). The import now fails when a source's path no longer holds the file it opened.
 */
import { renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { SourceFiles } from '../import/source-file.js';
import { tempDir } from './helpers.js';

function twoFiles(): { a: string; b: string } {
  const dir = tempDir('replaced-during-read');
  const a = join(dir, 'a.bin');
  const b = join(dir, 'b.bin');
  writeFileSync(a, new Uint8Array(64).fill(1));
  writeFileSync(b, new Uint8Array(64).fill(2));
  return { a, b };
}

describe('sources replaced while the model is read', () => {
  test('an untouched set of sources finishes', () => {
    const { a, b } = twoFiles();
    const sources = new SourceFiles();
    sources.get(a);
    sources.get(b);
    expect(() => sources.finish()).not.toThrow();
  });

  test('a source renamed over after it was opened fails the import, naming the file', () => {
    const { a, b } = twoFiles();
    const sources = new SourceFiles();
    sources.get(a);
    sources.get(b);
    writeFileSync(`${b}.new`, new Uint8Array(64).fill(3));
    renameSync(`${b}.new`, b);
    let error: unknown;
    try {
      sources.finish();
    } catch (caught) {
      error = caught;
    }
    sources.closeAll();
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toContain(`'${b}' was replaced while the model was read`);
  });

  test('a source removed after it was opened fails the import', () => {
    const { a } = twoFiles();
    const sources = new SourceFiles();
    sources.get(a);
    unlinkSync(a);
    expect(() => sources.finish()).toThrow(/was removed while the model was read/);
    sources.closeAll();
  });
});
