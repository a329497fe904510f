/**
 * Input shapes given by names `forward` does not take are refused with a stable code
 * (TORCHSCRIPT_UNKNOWN_INPUT_NAME), which `modelpass compare` matches to retry binding them by
 * position; it used to match the message text, so a reworded message silently broke the retry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, tensorType } from '@modelpass/ir';
import { TORCHSCRIPT_UNKNOWN_INPUT_NAME, readTorchScript, writeTorchScript } from '@modelpass/torchscript';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-unknown-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function caught(run: () => unknown): ModelpassError {
  try {
    run();
  } catch (error) {
    if (ModelpassError.is(error)) return error;
    throw error;
  }
  throw new Error('expected a ModelpassError');
}

describe('input shapes for names forward does not take', () => {
  const b = new GraphBuilder();
  b.output(b.op1('onnx.Relu', [b.input('x', tensorType('float32', [2, 3]))]));
  const path = join(dir, 'relu.pt');
  writeTorchScript(b.model({ onnx: 17 }), path);

  it('carry the unknown-input-name code and name the arguments forward takes', () => {
    const error = caught(() => readTorchScript(path, { inputs: { input: { shape: [2, 3] } } }));
    expect(error.diagnostics[0]?.code).toBe(TORCHSCRIPT_UNKNOWN_INPUT_NAME);
    expect(error.message).toContain("'input'");
    expect(error.message).toContain("takes 'x'");
  });

  it('a set with one unknown name among known ones carries it too', () => {
    const error = caught(() => readTorchScript(path, { inputs: { x: { shape: [2, 3] }, y: { shape: [1] } } }));
    expect(error.diagnostics[0]?.code).toBe(TORCHSCRIPT_UNKNOWN_INPUT_NAME);
  });
});
