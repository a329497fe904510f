/** readTflite / writeTflite called with the wrong arguments: ModelpassErrors naming the function, nothing read or written. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, tensorType, type Model } from '@modelpass/ir';
import { readTflite, writeTflite } from '@modelpass/tflite';

const folder = mkdtempSync(join(tmpdir(), 'tflite-api-arguments-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

function refusal(body: () => unknown): ModelpassError {
  try {
    body();
  } catch (error) {
    if (ModelpassError.is(error)) return error;
    throw new Error(`expected a ModelpassError, got ${String(error)}`);
  }
  throw new Error('expected an error');
}

function model(): Model {
  const b = new GraphBuilder();
  b.output(b.op1('tflite.RELU', [b.input('x', tensorType('float32', [2]))]));
  return b.model({ tflite: 3 });
}

describe('readTflite arguments', () => {
  it('bytes or a number where the path belongs', () => {
    expect(refusal(() => readTflite(new Uint8Array(3) as unknown as string)).reason).toBe('readTflite takes a file path (a non-empty string), not a Uint8Array of 3 bytes');
    expect(refusal(() => readTflite(123 as unknown as string)).reason).toBe('readTflite takes a file path (a non-empty string), not a number');
  });

  it('a misspelled option, before the file is opened', () => {
    expect(refusal(() => readTflite(join(folder, 'missing.tflite'), { onnote: () => {} } as never)).reason).toBe("readTflite: unknown option 'onnote' — did you mean 'onNote'?");
  });
});

describe('writeTflite arguments', () => {
  it('a path where the Model belongs, or no output path', () => {
    const path = join(folder, 'out.tflite');
    const error = refusal(() => writeTflite('model.tflite' as unknown as Model, path));
    expect(error.reason).toBe('writeTflite takes a Model as its first argument, not a string');
    expect(error.diagnostics[0]!.hint).toContain('readTflite(path)');
    expect(refusal(() => writeTflite(model(), undefined as unknown as string)).reason).toBe('writeTflite takes the output file path (a non-empty string) as its second argument, not undefined');
    expect(existsSync(path)).toBe(false);
  });

  it('a misspelled option', () => {
    expect(refusal(() => writeTflite(model(), join(folder, 'o.tflite'), { externalBufferAbove: 0 } as never)).reason).toBe("writeTflite: unknown option 'externalBufferAbove' — did you mean 'externalBuffersAbove'?");
  });
});
