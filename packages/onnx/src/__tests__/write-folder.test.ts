/**
 * writeOnnx into a folder that does not exist (or a "folder" that is a file) names that folder,
 * not the temporary file it would have written first.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ModelpassError } from '@modelpass/ir';
import { decodeOnnx, writeOnnx } from '@modelpass/onnx';
import { addModel, modelBytes, tempDir } from './helpers.js';

function failureOf(body: () => void): ModelpassError {
  try {
    body();
  } catch (error) {
    if (ModelpassError.is(error)) return error;
    throw error;
  }
  throw new Error('no error');
}

describe('writeOnnx destination folder', () => {
  const model = () => decodeOnnx(modelBytes(addModel()));

  test('a missing folder is named, with the command that creates it', () => {
    const dir = tempDir('write-folder');
    const target = join(dir, 'out', 'm.onnx');
    const error = failureOf(() => writeOnnx(model(), target));
    expect(error.message).toContain(`its folder '${join(dir, 'out')}' does not exist`);
    expect(error.message).not.toContain('.tmp');
    expect(error.diagnostics[0]?.hint).toContain('mkdir -p');
    expect(readdirSync(dir)).toEqual([]);
  });

  test('a file standing where the folder should be is named as not a folder', () => {
    const dir = tempDir('write-folder');
    writeFileSync(join(dir, 'out'), 'x');
    const error = failureOf(() => writeOnnx(model(), join(dir, 'out', 'm.onnx')));
    expect(error.message).toContain(`'${join(dir, 'out')}' is not a folder`);
  });
});
