/**
 * tf2onnx's channel padding in a quantized model (QA s10 R4, BlazeFace after quantize-static):
 * x → Q/DQ → MaxPool → Q/DQ, ConstantOfShape(constant shape) → Q/DQ, Concat along channels → Q/DQ.
 * legalize-tflite folds the ConstantOfShape into int8 integers (requantized offline to the
 * CONCATENATION's output parameters) instead of refusing it, and the int8 .tflite's output in the
 * TFLite 2.9 runtime is within one quantization step of ONNX Runtime's on the QDQ model.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type TensorType, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { inferShapes } from '@modelpass/ops';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite } from '@modelpass/tflite';
import { seededUniform, stepsApart } from './int8-agreement.js';

afterAll(() => disposeSharedOrtRunner());

const SHAPE = [1, 3, 8, 8];
const OUT = { scale: Math.fround(5 / 255), zeroPoint: 90 };

function paddedModel(value: number | undefined): { model: Model; watched: string } {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', SHAPE));
  const pair = (input: Value, params: { scale: number; zeroPoint: number }, name: string): Value => {
    const s = b.constant(Tensor.scalar('float32', params.scale));
    const z = b.constant(Tensor.scalar('uint8', params.zeroPoint));
    return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [input, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq` });
  };
  const xr = pair(x, { scale: Math.fround(8 / 255), zeroPoint: 128 }, 'x');
  const pooled = pair(b.op1('onnx.MaxPool', [xr], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }, { name: 'pool' }), { scale: Math.fround(8 / 255), zeroPoint: 128 }, 'pool');
  const shape = b.constant(Tensor.fromValues('int64', [4], [1n, 5n, 4n, 4n]), 'pad_shape');
  const filled = b.op1('onnx.ConstantOfShape', [shape], value === undefined ? {} : { value: attrs.tensor(Tensor.fromValues('float32', [1], [value])) }, { name: 'pad' });
  const padded = b.op1('onnx.Concat', [pooled, pair(filled, { scale: Math.fround(1 / 255), zeroPoint: 0 }, 'pad')], { axis: attrs.int(1) }, { name: 'concat' });
  const output = pair(padded, OUT, 'y');
  b.output(output);
  const model = b.model({ onnx: 13 });
  inferShapes(model, { mode: 'refresh' });
  return { model, watched: output.name };
}

function seededInput(): Tensor {
  return seededUniform(SHAPE, 777, -4.5, 9);
}

describe('quantized ConstantOfShape padding → int8 TFLite, within one step of ONNX Runtime', () => {
  for (const [label, value] of [['zeros (no value attribute)', undefined], ['value 0.6', 0.6]] as const) {
    it(label, async () => {
      const { model, watched } = paddedModel(value);
      const converted = decodeOnnx(encodeOnnx(model));
      const statistics = new StatisticsInstrumentation();
      await new PassManager({ environment: builtinEnvironment(), instrumentations: [statistics] }).run(converted, 'legalize-tflite');
      expect(new Map(statistics.get('legalize-tflite') ?? []).get('int8-ops')).toBeGreaterThanOrEqual(2);
      const nodes = converted.graph.nodeList();
      const concat = nodes.find((node) => node.op === 'tflite.CONCATENATION')!;
      expect(concat.inputs.map((input) => (input!.type as TensorType).dtype)).toEqual(['int8', 'int8']);
      expect(nodes.map((node) => node.op)).not.toContain('tflite.FILL');

      const x = seededInput();
      const expected = (await runOrt(model, { x })).get(watched)!;
      const actual = (await new TfliteEngine().run(encodeTflite(converted), { x })).get(watched)!;
      expect(actual.shape).toEqual(expected.shape);
      const a = expected.toNumbers();
      const b = actual.toNumbers();
      expect(stepsApart(a, b, OUT.scale)).toBeLessThanOrEqual(1.001);
      // The padded channels hold the padding value (reals within one output step of it).
      const padReal = value ?? 0;
      const channel = 16; // 4×4 per channel, NCHW output
      for (let c = 3; c < 8; c++) for (let i = 0; i < channel; i++) expect(Math.abs(b[c * channel + i]! - padReal)).toBeLessThanOrEqual(OUT.scale);
      expect(new Set(b.slice(0, 3 * channel)).size).toBeGreaterThan(4);
    }, 60_000);
  }
});
