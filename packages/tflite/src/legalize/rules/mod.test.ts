/**
 * Mod fmod=1 of integers with a scalar dividend (passes fuzz s18, legalize-mod-less-declared.onnx: int64 x [] and
 * y [6]): the dividend's sign test LESS(x, 0) was declared with the output's shape, bool[6], while TFLite's LESS
 * of a scalar gives bool[], and verify-each blamed legalize. Every value legalize declares must be what its op gives.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, tensorType, verifyModel, type Dim } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { lowerToTflite, registerTfliteDialect } from '@modelpass/tflite';

const registry = registerTfliteDialect(createOpRegistry());

function legalizedErrors(dtype: 'int64' | 'int32' | 'float32', xDims: Dim[], yDims: Dim[]): string[] {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType(dtype, xDims));
  const y = b.input('y', tensorType(dtype, yDims));
  b.output(b.op1('onnx.Mod', [x, y], { fmod: attrs.int(1) }, { name: 'mod' }));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { registry, mode: 'refresh' });
  lowerToTflite(model, registry);
  expect(model.graph.nodeList().every((node) => node.op.startsWith('tflite.'))).toBe(true);
  return verifyModel(model, { registry }).filter((d) => d.severity === 'error').map((d) => `${d.code}: ${d.reason}`);
}

describe('Mod fmod=1 lowering declares what its ops give', () => {
  it('a scalar dividend against a vector divisor (int64, int32)', () => {
    expect(legalizedErrors('int64', [], [6])).toEqual([]);
    expect(legalizedErrors('int32', [], [6])).toEqual([]);
  });

  it('a vector dividend against a scalar divisor, and floats', () => {
    expect(legalizedErrors('int64', [6], [])).toEqual([]);
    expect(legalizedErrors('float32', [], [2, 3])).toEqual([]);
  });
});
