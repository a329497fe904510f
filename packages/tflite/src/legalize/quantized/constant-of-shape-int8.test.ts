/**
 * legalize-tflite on tf2onnx's quantized channel padding (QA s10 R4, BlazeFace after quantize-static):
 * x → Q/DQ, ConstantOfShape(constant shape) → Q/DQ, Concat along channels → Q/DQ. The ConstantOfShape
 * becomes a constant of integers (its value quantized with its own scale and zero point), requantized
 * offline to the int8 CONCATENATION's output parameters (no QUANTIZE of a constant at run time); it used to be refused
 * ("ConstantOfShape on quantized values has no int8 TFLite lowering"). The runtime check against ONNX
 * Runtime is packages/conformance/src/__tests__/tflite-int8-constant-of-shape.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { createOpRegistry, inferShapes } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { registerTfliteDialect, tflitePasses } from '@modelpass/tflite';
import { transformPasses } from '@modelpass/transforms';

const PAD = { scale: Math.fround(0.01), zeroPoint: 100 };
const OUT = { scale: Math.fround(0.03), zeroPoint: 120 };

function paddedModel(value: number | undefined): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 2, 4, 4]));
  const pair = (input: Value, params: { scale: number; zeroPoint: number }, name: string): Value => {
    const s = b.constant(Tensor.scalar('float32', params.scale));
    const z = b.constant(Tensor.scalar('uint8', params.zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [input, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq` });
  };
  const xr = pair(x, { scale: Math.fround(0.02), zeroPoint: 128 }, 'x');
  const shape = b.constant(Tensor.fromValues('int64', [4], [1n, 3n, 4n, 4n]), 'pad_shape');
  const filled = b.op1('onnx.ConstantOfShape', [shape], value === undefined ? {} : { value: attrs.tensor(Tensor.fromValues('float32', [1], [value])) }, { name: 'pad' });
  const padded = b.op1('onnx.Concat', [xr, pair(filled, PAD, 'pad')], { axis: attrs.int(1) }, { name: 'concat' });
  b.output(pair(padded, OUT, 'y'));
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return model;
}

async function legalize(model: Model): Promise<Map<string, number>> {
  const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(tflitePasses, '@modelpass/tflite');
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment, instrumentations: [statistics] }).run(model, 'legalize-tflite');
  return new Map(statistics.get('legalize-tflite') ?? []);
}

describe('legalize-tflite: a quantized ConstantOfShape of a constant shape', () => {
  // The padding's integers in its own parameters (uint8), then requantized offline to the Concat output's
  // (int8: zero point 120 − 128), as ONNX Runtime's DequantizeLinear → Concat → QuantizeLinear computes them.
  for (const [label, value, integer] of [
    ['default zero', undefined, OUT.zeroPoint - 128], // real 0
    ['value 0.5', 0.5, 17 + OUT.zeroPoint - 128], // uint8 150 → real 0.5 → round(0.5 / 0.03) = 17
    ['value 9 (saturates)', 9, 52 + OUT.zeroPoint - 128], // uint8 255 → real 1.55 → round(1.55 / 0.03) = 52
  ] as const) {
    it(`${label}: int8 CONCATENATION reads the filled int8 constant, requantized offline`, async () => {
      const model = paddedModel(value);
      const statistics = await legalize(model);
      expect(statistics.get('int8-ops')).toBeGreaterThanOrEqual(1);
      const nodes = model.graph.nodeList();
      expect(nodes.map((node) => node.op)).not.toContain('tflite.FILL');
      const concat = nodes.find((node) => node.op === 'tflite.CONCATENATION')!;
      expect(concat).toBeDefined();
      expect((concat.outputs[0]!.type as TensorType).dtype).toBe('int8');
      const constant = concat.inputs.find((input) => input?.isConstant)!;
      expect(constant).toBeDefined();
      const type = constant.type as TensorType;
      expect(type.dtype).toBe('int8');
      expect(type.quant).toMatchObject({ scale: [OUT.scale], zeroPoint: [OUT.zeroPoint - 128] });
      expect(nodes.filter((node) => node.op === 'tflite.QUANTIZE' && node.inputs[0]?.isConstant)).toEqual([]);
      expect(constant.constant!.shape).toEqual([1, 3, 4, 4]);
      expect(new Set(constant.constant!.toNumbers())).toEqual(new Set([integer]));
    });
  }
});
