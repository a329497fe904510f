/** readOnnx/decodeOnnx called from JavaScript with the other one's argument: a short error, never the model's bytes. */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, tensorType, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx, writeOnnx } from '../index.js';

const bytes = new Uint8Array(200_000).fill(7);

function messageOf(body: () => unknown): string {
  try {
    body();
  } catch (error) {
    return String((error as Error).message) + String((error as { hint?: string }).hint ?? '');
  }
  throw new Error('expected an error');
}

describe('wrongly typed arguments', () => {
  it('readOnnx given bytes says to call decodeOnnx, in a few words', () => {
    const message = messageOf(() => readOnnx(bytes as unknown as string));
    expect(message).toMatch(/readOnnx takes a file path \(a string\), not a Uint8Array of 200000 bytes/);
    expect(message).toMatch(/decodeOnnx\(bytes\)/);
    expect(message.length).toBeLessThan(400);
  });

  it('decodeOnnx given a path says to call readOnnx', () => {
    const message = messageOf(() => decodeOnnx('model.onnx' as unknown as Uint8Array));
    expect(message).toMatch(/decodeOnnx takes the model's bytes .* not a string/);
    expect(message).toMatch(/readOnnx\(path\)/);
  });

  it('undefined or an object is named, not printed', () => {
    expect(messageOf(() => readOnnx(undefined as unknown as string))).toMatch(/not undefined$/);
    expect(messageOf(() => decodeOnnx({ length: 3 } as unknown as Uint8Array))).toMatch(/not an object \(Object\)/);
  });
});

describe('writeOnnx / encodeOnnx arguments and every options object', () => {
  const model = (): Model => {
    const b = new GraphBuilder();
    b.output(b.op1('onnx.Relu', [b.input('x', tensorType('float32', [2]))]));
    return b.model({ onnx: 17 });
  };
  const folder = mkdtempSync(join(tmpdir(), 'onnx-api-arguments-'));
  afterAll(() => rmSync(folder, { recursive: true, force: true }));
  const refusal = (body: () => unknown): ModelpassError => {
    try {
      body();
    } catch (error) {
      if (ModelpassError.is(error)) return error;
      throw new Error(`expected a ModelpassError, got ${String(error)}`);
    }
    throw new Error('expected an error');
  };

  it('a path where the Model belongs, and a missing output path', () => {
    const error = refusal(() => writeOnnx('model.onnx' as unknown as Model, join(folder, 'a.onnx')));
    expect(error.reason).toBe('writeOnnx takes a Model as its first argument, not a string');
    expect(error.diagnostics[0]!.hint).toContain('readOnnx(path)');
    expect(refusal(() => writeOnnx(model(), undefined as unknown as string)).reason).toBe('writeOnnx takes the output file path (a non-empty string) as its second argument, not undefined');
    expect(refusal(() => writeOnnx(model(), 5 as unknown as string)).reason).toBe('writeOnnx takes the output file path (a non-empty string) as its second argument, not a number');
    expect(refusal(() => encodeOnnx(undefined as unknown as Model)).reason).toBe('encodeOnnx takes a Model as its first argument, not undefined');
    expect(readdirSync(folder)).toEqual([]);
  });

  it('a misspelled option is refused with the one meant, for each function', () => {
    expect(refusal(() => writeOnnx(model(), join(folder, 'b.onnx'), { externaldata: 'always' } as never)).reason).toBe("writeOnnx: unknown option 'externaldata' — did you mean 'externalData'?");
    expect(refusal(() => encodeOnnx(model(), { irVersoin: 9 } as never)).reason).toBe("encodeOnnx: unknown option 'irVersoin' — did you mean 'irVersion'?");
    const bytes = encodeOnnx(model());
    expect(refusal(() => decodeOnnx(bytes, { basedir: '.' } as never)).reason).toBe("decodeOnnx: unknown option 'basedir' — did you mean 'baseDir'?");
    writeOnnx(model(), join(folder, 'c.onnx'));
    const unknown = refusal(() => readOnnx(join(folder, 'c.onnx'), { file: 'x' } as never));
    expect(unknown.reason).toBe("readOnnx: unknown option 'file'");
    expect(unknown.diagnostics[0]!.expected).toBe('one of baseDir, limits, lazyThreshold, onProgress');
    expect(readdirSync(folder)).toEqual(['c.onnx']);
  });

  it('option values that would be taken as something else', () => {
    const path = join(folder, 'd.onnx');
    expect(refusal(() => writeOnnx(model(), path, { externalData: 'yes' } as never)).reason).toBe("writeOnnx: option 'externalData' must be 'auto', 'always' or 'never'");
    expect(refusal(() => writeOnnx(model(), path, { externalDataThreshold: '1k' } as never)).diagnostics[0]!.actual).toBe('a string');
    expect(refusal(() => writeOnnx(model(), path, { onProgress: true } as never)).reason).toBe("writeOnnx: option 'onProgress' must be a function (done, total) => void");
    expect(refusal(() => writeOnnx(model(), path, 'always' as never)).reason).toBe('writeOnnx: the options must be an object, not a string');
    expect(existsSync(path)).toBe(false);
  });
});
