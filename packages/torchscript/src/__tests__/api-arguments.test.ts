/** readTorchScript / writeTorchScript called with the wrong arguments: ModelpassErrors naming the function, nothing read or written. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, tensorType, type Model } from '@modelpass/ir';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';

const folder = mkdtempSync(join(tmpdir(), 'torchscript-api-arguments-'));
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
  b.output(b.op1('onnx.Relu', [b.input('x', tensorType('float32', [2]))]));
  return b.model({ '': 17 });
}

describe('readTorchScript arguments', () => {
  it('bytes or a number where the path belongs', () => {
    expect(refusal(() => readTorchScript(new Uint8Array(3) as unknown as string)).reason).toBe('readTorchScript takes a file path (a non-empty string), not a Uint8Array of 3 bytes');
    expect(refusal(() => readTorchScript(7 as unknown as string)).reason).toBe('readTorchScript takes a file path (a non-empty string), not a number');
  });

  it('a misspelled option, before the file is opened', () => {
    const error = refusal(() => readTorchScript(join(folder, 'missing.pt'), { input: [{ shape: [1] }] } as never));
    expect(error.reason).toBe("readTorchScript: unknown option 'input' — did you mean 'inputs'?");
    expect(error.diagnostics[0]!.code).toBe('torchscript/bad-option');
  });
});

describe('writeTorchScript arguments', () => {
  it('a path where the Model belongs, or no output path; nothing written', () => {
    const path = join(folder, 'out.pt');
    const error = refusal(() => writeTorchScript('model.onnx' as unknown as Model, path));
    expect(error.reason).toBe('writeTorchScript takes a Model as its first argument, not a string');
    expect(error.diagnostics[0]!.hint).toContain('readOnnx(path)');
    expect(refusal(() => writeTorchScript(model(), undefined as unknown as string)).reason).toBe('writeTorchScript takes the output file path (a non-empty string) as its second argument, not undefined');
    expect(existsSync(path)).toBe(false);
  });

  it('a misspelled option', () => {
    expect(refusal(() => writeTorchScript(model(), join(folder, 'o.pt'), { classname: 'Net' } as never)).reason).toBe("writeTorchScript: unknown option 'classname' — did you mean 'className'?");
    expect(existsSync(join(folder, 'o.pt'))).toBe(false);
  });
});
