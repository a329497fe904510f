/**
 * compareModels of two models that declare an input in different float types (QA s13): a float16-input
 * ONNX model against its .tflite (TFLite keeps inputs float32), or a float32 model against its
 * convert-float16{keep-io=false} form, failed feeding the first model's tensor to the second ("input 'x'
 * … does not match the model (expected float32…, got float16…)"). The feed is converted to the type the
 * second model declares, with a note.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type DType } from '@modelpass/ir';
import { compareModels } from '@modelpass/runtime';

/** y = float32(x) · 2 with x of `dtype`. */
function doubler(dtype: DType) {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType(dtype, [2, 3]));
  const asFloat = dtype === 'float32' ? x : b.op1('onnx.Cast', [x], { to: attrs.int(1) }, { name: 'cast' });
  const y = b.op1('onnx.Mul', [asFloat, b.constant(Tensor.scalar('float32', 2), 'two')], {}, { name: 'mul', outputs: ['y'] });
  y.type = tensorType('float32', [2, 3]);
  b.output(y);
  return b.model({ onnx: 13 });
}

describe('compare across float input types', () => {
  for (const [first, second] of [['float16', 'float32'], ['float32', 'float16'], ['float32', 'float64']] as const) {
    it(`${first} input against ${second}: fed converted, agree, noted`, async () => {
      const result = await compareModels(doubler(first), doubler(second), { atol: 1e-2, rtol: 1e-2 });
      expect(result.withinTolerance).toBe(true);
      expect(result.layoutNotes).toContain(`input 'x' (${first}) fed as ${second} to the second model, which declares it so`);
    });
  }
});
