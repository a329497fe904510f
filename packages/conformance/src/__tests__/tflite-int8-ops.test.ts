/**
 * int8 lowerings of single ops (issue 12, MobileNet v3's ops): each op between QuantizeLinear /
 * DequantizeLinear pairs (uint8, ONNX Runtime's QDQ layout) becomes an int8 TFLite op, and the integers
 * the op's output QuantizeLinear writes in the TFLite 2.9 runtime are within one quantization step of
 * ONNX Runtime's (compared through the output DequantizeLinear: the same scale and zero point on both sides). Output parameters differ from the input's on purpose, so the ops that
 * must keep their input's parameters (STRIDED_SLICE, PAD/PADV2/MIRROR_PAD, RESIZE_*) get a requantization after them and
 * TANH's fixed 1/128 output is requantized to the model's.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type AttributeValue, type Model, type TensorType, type Value } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { inferShapes } from '@modelpass/ops';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite } from '@modelpass/tflite';
import { seededUniform, stepsApart } from './int8-agreement.js';

afterAll(() => disposeSharedOrtRunner());

const SHAPE = [1, 3, 8, 8];
const IN = { scale: Math.fround(8 / 255), zeroPoint: 128 };

interface OpCase {
  readonly name: string;
  readonly op: string;
  /** Constant inputs after x (undefined: an omitted optional input). */
  readonly constants?: readonly (Tensor | undefined)[];
  readonly attributes?: Record<string, AttributeValue>;
  /** The output's uint8 parameters. */
  readonly out: { scale: number; zeroPoint: number };
  /** The TFLite builtin the op must become, reading int8. */
  readonly builtin: string;
}

const ints = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));
const floats = (values: number[]) => Tensor.fromValues('float32', [values.length], values);

const CASES: readonly OpCase[] = [
  { name: 'HardSwish', op: 'onnx.HardSwish', out: { scale: Math.fround(4.375 / 255), zeroPoint: 22 }, builtin: 'HARD_SWISH' },
  // No HARD_SIGMOID in TFLite: relu6(6α·x + 6β) / 6 as int8 [MUL →] ADD → MUL.
  { name: 'HardSigmoid (torch: α = 1/6)', op: 'onnx.HardSigmoid', attributes: { alpha: attrs.float(1 / 6), beta: attrs.float(0.5) }, out: { scale: Math.fround(1 / 255), zeroPoint: 0 }, builtin: 'MUL' },
  { name: 'HardSigmoid (ONNX default α = 0.2)', op: 'onnx.HardSigmoid', out: { scale: Math.fround(1 / 255), zeroPoint: 0 }, builtin: 'MUL' },
  { name: 'Tanh', op: 'onnx.Tanh', out: { scale: Math.fround(2 / 255), zeroPoint: 128 }, builtin: 'TANH' },
  { name: 'Slice (strided)', op: 'onnx.Slice', constants: [ints([0, 1, 2]), ints([2, 7, 8]), ints([1, 2, 3]), ints([1, 1, 2])], out: { scale: Math.fround(6 / 255), zeroPoint: 120 }, builtin: 'STRIDED_SLICE' },
  { name: 'Pad (zeros)', op: 'onnx.Pad', constants: [ints([0, 0, 1, 2, 0, 0, 2, 1])], out: { scale: Math.fround(8 / 255), zeroPoint: 128 }, builtin: 'PAD' },
  // PADV2 with the value quantized by the input's parameters (round(1.5 / s) + z, as ORT's QuantizeLinear after the float Pad).
  { name: 'Pad (constant 1.5)', op: 'onnx.Pad', constants: [ints([0, 0, 1, 2, 0, 0, 2, 1]), Tensor.scalar('float32', 1.5)], out: { scale: Math.fround(8 / 255), zeroPoint: 128 }, builtin: 'PADV2' },
  { name: 'Pad (constant −9, saturating)', op: 'onnx.Pad', constants: [ints([0, 0, 2, 1, 0, 0, 1, 2]), Tensor.scalar('float32', -9)], out: { scale: Math.fround(7 / 255), zeroPoint: 126 }, builtin: 'PADV2' },
  { name: 'Pad (reflect)', op: 'onnx.Pad', constants: [ints([0, 0, 1, 2, 0, 0, 2, 1])], attributes: { mode: attrs.string('reflect') }, out: { scale: Math.fround(8 / 255), zeroPoint: 128 }, builtin: 'MIRROR_PAD' },
  {
    name: 'Resize nearest ×2',
    op: 'onnx.Resize',
    constants: [undefined, floats([1, 1, 2, 2])],
    attributes: { mode: attrs.string('nearest'), coordinate_transformation_mode: attrs.string('asymmetric'), nearest_mode: attrs.string('floor') },
    out: { scale: Math.fround(7 / 255), zeroPoint: 130 },
    builtin: 'RESIZE_NEAREST_NEIGHBOR',
  },
  {
    name: 'Resize bilinear ×2 (half pixel)',
    op: 'onnx.Resize',
    constants: [undefined, floats([1, 1, 2, 2])],
    attributes: { mode: attrs.string('linear'), coordinate_transformation_mode: attrs.string('half_pixel') },
    out: { scale: Math.fround(8 / 255), zeroPoint: 128 },
    builtin: 'RESIZE_BILINEAR',
  },
];

/** x → Q/DQ → op → Q/DQ → y: y's reals are the output integers times the scale (minus the zero point). */
function qdqModel(testCase: OpCase): { model: Model; watched: string } {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', SHAPE));
  const quantize = (value: Value, params: { scale: number; zeroPoint: number }, name: string) => {
    const s = b.constant(Tensor.scalar('float32', params.scale));
    const z = b.constant(Tensor.scalar('uint8', params.zeroPoint));
    const q = b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` });
    return { q, dq: b.op1('onnx.DequantizeLinear', [q, s, z], {}, { name: `${name}_dq` }) };
  };
  const input = quantize(x, IN, 'x').dq;
  const extra = (testCase.constants ?? []).map((tensor) => (tensor ? b.constant(tensor) : null));
  const y = b.op1(testCase.op, [input, ...extra], testCase.attributes ?? {}, { name: 'op' });
  const output = quantize(y, testCase.out, 'y');
  b.output(output.dq);
  const model = b.model({ onnx: 17 });
  inferShapes(model, { mode: 'refresh' });
  return { model, watched: output.dq.name };
}

function seededInput(): Tensor {
  return seededUniform(SHAPE, 12345, -4.2, 8.4); // a little beyond the quantized range: saturation included
}

describe('int8 TFLite ops within one quantization step of ONNX Runtime', () => {
  for (const testCase of CASES) {
    it(testCase.name, async () => {
      const { model, watched } = qdqModel(testCase);
      const converted = decodeOnnx(encodeOnnx(model));
      const statistics = new StatisticsInstrumentation();
      await new PassManager({ environment: builtinEnvironment(), instrumentations: [statistics] }).run(converted, 'legalize-tflite');
      expect(new Map(statistics.get('legalize-tflite') ?? []).get('int8-ops'), converted.graph.nodeList().map((node) => `${node.op}:${(node.inputs[0]?.type as TensorType).dtype}`).join(' ')).toBeGreaterThanOrEqual(1);
      const lowered = converted.graph.nodeList().find((node) => node.op === `tflite.${testCase.builtin}`);
      expect(lowered, `${testCase.builtin} in ${converted.graph.nodeList().map((node) => node.op).join(', ')}`).toBeDefined();
      expect((lowered!.inputs[0]!.type as TensorType).dtype).toBe('int8');
      expect((lowered!.outputs[0]!.type as TensorType).dtype).toBe('int8');

      const x = seededInput();
      const expected = (await runOrt(model, { x })).get(watched)!;
      const actual = (await new TfliteEngine().run(encodeTflite(converted), { x })).get(watched)!;
      expect(actual.shape).toEqual(expected.shape);
      const a = expected.toNumbers();
      const b = actual.toNumbers();
      expect(stepsApart(a, b, testCase.out.scale)).toBeLessThanOrEqual(1.001);
      // Not a constant output: the op saw the input.
      expect(new Set(b).size).toBeGreaterThan(8);
    }, 60_000);
  }
});
