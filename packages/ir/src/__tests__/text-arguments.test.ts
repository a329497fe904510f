/** printModel / parseModel given the wrong argument from JavaScript: a ModelpassError, not a TypeError from inside. */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, parseModel, printModel, printModelToFile, tensorType, type Model } from '@modelpass/ir';

function refusal(body: () => unknown): ModelpassError {
  try {
    body();
  } catch (error) {
    if (ModelpassError.is(error)) return error;
    throw new Error(`expected a ModelpassError, got ${String(error)}`);
  }
  throw new Error('expected an error');
}

describe('text IR arguments', () => {
  it('parseModel refuses what is not text, pointing bytes at a decoder', () => {
    expect(refusal(() => parseModel(123 as unknown as string)).reason).toBe('parseModel takes the .mpir text (a string), not a number');
    const bytes = refusal(() => parseModel(new Uint8Array(4) as unknown as string));
    expect(bytes.reason).toBe('parseModel takes the .mpir text (a string), not a Uint8Array of 4 bytes');
    expect(bytes.diagnostics[0]!.hint).toContain('TextDecoder');
  });

  it('printModel and printModelToFile refuse what is not a Model', () => {
    expect(refusal(() => printModel('model.onnx' as unknown as Model)).reason).toBe('printModel takes a Model, not a string');
    expect(refusal(() => printModel(undefined as unknown as Model)).reason).toBe('printModel takes a Model, not undefined');
    expect(refusal(() => printModelToFile({} as Model, 'x.mpir')).reason).toBe('printModelToFile takes a Model, not an object (Object)');
  });

  it('a real model still prints and parses back', () => {
    const b = new GraphBuilder();
    b.output(b.op1('onnx.Relu', [b.input('x', tensorType('float32', [2]))]));
    const model = b.model({ onnx: 17 });
    expect(printModel(parseModel(printModel(model)))).toBe(printModel(model));
  });
});
