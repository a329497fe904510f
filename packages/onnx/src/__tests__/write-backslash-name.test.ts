/**
 * An output name with a backslash (legal on Linux and macOS): writeOnnx refused it outright, naming an
 * `externalDataFile` option nobody gave, because the data file's name is derived from the output's (QA s20 H:
 * `modelpass convert 'we\ird.onnx' -o 'out\x.onnx'`).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { decodeOnnx, readOnnx, writeOnnx } from '@modelpass/onnx';
import { addModel, modelBytes, tempDir } from './helpers.js';

const weights = (path: string) => [...readOnnx(path).graph.getValue('w')!.constant!.toNumbers()];

describe('writeOnnx to a file name with a backslash', () => {
  test('writes the model (no external data) and reads it back', () => {
    const dir = tempDir('backslash');
    const target = join(dir, 'out\\x.onnx');
    writeOnnx(decodeOnnx(modelBytes(addModel())), target);
    expect(readdirSync(dir)).toEqual(['out\\x.onnx']);
    expect(weights(target)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  test("with external data, names the data file with '_' for the backslash, which a reader finds", () => {
    const dir = tempDir('backslash');
    const target = join(dir, 'out\\x.onnx');
    writeOnnx(decodeOnnx(modelBytes(addModel())), target, { externalData: 'always', externalDataThreshold: 0 });
    expect(readdirSync(dir).sort()).toEqual(['out\\x.onnx', 'out_x.onnx.data']);
    expect(weights(target)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
