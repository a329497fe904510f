/**
 * The RESHAPE refusal for an output with more than one unknown dim prints those dims as `?` (unknown)
 * or their symbolic names, the IR's `formatDim` (QA s10 R7: PP-OCRv4 rec without --input-shape said
 * "the output shape [,,,] has more than one unknown dim").
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, Tensor, tensorType } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { lowerToTflite, registerTfliteDialect } from '@modelpass/tflite';

const registry = registerTfliteDialect(createOpRegistry());

function refusalOf(dims: readonly (number | string | null)[]): string {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', dims));
  b.output(b.op1('onnx.Unsqueeze', [x, b.constant(Tensor.fromValues('int64', [1], [0n]))], {}, { name: 'unsqueeze' }));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { registry, mode: 'refresh' });
  try {
    lowerToTflite(model, registry);
  } catch (caught) {
    expect(caught).toBeInstanceOf(ModelpassError);
    return (caught as ModelpassError).diagnostics.find((d) => d.location?.node === 'unsqueeze')!.reason;
  }
  throw new Error('expected a refusal');
}

describe('RESHAPE refusal with unknown dims', () => {
  it('prints unknown dims as ?', () => {
    const reason = refusalOf([null, null, 3]);
    expect(reason).toContain('the output shape [1,?,?,3] has more than one unknown dim');
    expect(reason).not.toMatch(/\[[^\]]*,,/);
  });

  it('prints symbolic dims by name', () => {
    expect(refusalOf(['batch', 'time', 3])).toContain('the output shape [1,batch,time,3] has more than one unknown dim');
  });
});
