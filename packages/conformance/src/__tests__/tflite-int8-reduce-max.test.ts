/**
 * ReduceMax / ReduceMin / ArgMax on quantized values (issue R3: a quantize-static PointNet, Conv1d then max over
 * points, was refused "ReduceMax on quantized values has no int8 TFLite lowering"). TFLite 2.9 has int8 (and int16)
 * REDUCE_MAX / REDUCE_MIN kernels that keep their input's scale and zero point; where the QDQ model quantizes the
 * result differently, the converter requantizes; ARG_MAX reads the int8 tensor (it ran in float after a DEQUANTIZE).
 * The .tflite must be full-integer and each output within one quantization step of ONNX Runtime on the QDQ model
 * (ArgMax: the same indices).
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

afterAll(async () => {
  await disposeSharedOrtRunner();
});

type Params = { scale: number; zeroPoint: number };
const f32 = (v: number) => Tensor.scalar('float32', v);
const ints = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

function qdq(b: GraphBuilder, value: Value, params: Params, name: string, dtype: 'int8' | 'int16'): Value {
  const s = b.constant(f32(params.scale));
  const z = b.constant(Tensor.scalar(dtype, params.zeroPoint));
  return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq` });
}

const dtypeOf = (value: Value | null | undefined) => (value?.type as TensorType | undefined)?.dtype;

async function convert(model: Model): Promise<{ converted: Model; floatOps: number }> {
  const converted = decodeOnnx(encodeOnnx(model));
  const instrumentation = new StatisticsInstrumentation();
  await new PassManager({ environment: builtinEnvironment(), instrumentations: [instrumentation] }).run(converted, 'legalize-tflite');
  return { converted, floatOps: new Map(instrumentation.get('legalize-tflite') ?? []).get('float-ops-in-int8-model') ?? -1 };
}

const SHAPE = [1, 8, 16]; // PointNet-style [batch, features, points]

/** x → Q/DQ → max over points (keepdims 0, own output scale), min over features (keepdims 1, input's scale), ArgMax over points (int8). */
function pointModel(dtype: 'int8' | 'int16'): { model: Model; outputs: { name: string; params?: Params }[] } {
  const wide = dtype === 'int8' ? { scale: Math.fround(8 / 255), zeroPoint: -10 } : { scale: Math.fround(8 / 65535), zeroPoint: 0 };
  const narrow = dtype === 'int8' ? { scale: Math.fround(6 / 255), zeroPoint: -50 } : { scale: Math.fround(7.7 / 65535), zeroPoint: 0 };
  const b = new GraphBuilder();
  const x = qdq(b, b.input('x', tensorType('float32', SHAPE)), wide, 'x', dtype);
  const max = qdq(b, b.op1('onnx.ReduceMax', [x, b.constant(ints([2]))], { keepdims: attrs.int(0) }, { name: 'max_points' }), narrow, 'max', dtype);
  const min = qdq(b, b.op1('onnx.ReduceMin', [x, b.constant(ints([1]))], { keepdims: attrs.int(1) }, { name: 'min_features' }), wide, 'min', dtype);
  b.output(max);
  b.output(min);
  const outputs: { name: string; params?: Params }[] = [{ name: max.name, params: narrow }, { name: min.name, params: wide }];
  if (dtype === 'int8') {
    // ArgMax over points reads the integers (ARG_MAX int8): exactly ORT's indices, ties included.
    const arg = b.op1('onnx.ArgMax', [x], { axis: attrs.int(2), keepdims: attrs.int(0) }, { name: 'argmax_points' });
    b.output(arg);
    outputs.push({ name: arg.name });
  }
  const model = b.model({ onnx: 21 }) // int16 QDQ needs opset 21;
  inferShapes(model, { mode: 'refresh' });
  return { model, outputs };
}

describe('ReduceMax / ReduceMin / ArgMax on quantized values → integer TFLite ops', () => {
  for (const dtype of ['int8', 'int16'] as const) {
    it(`${dtype}: REDUCE_MAX (requantized), REDUCE_MIN${dtype === 'int8' ? ', ARG_MAX' : ''} agree with ORT within one step`, async () => {
      const { model, outputs } = pointModel(dtype);
      const { converted, floatOps } = await convert(model);
      const ops = converted.graph.nodeList().map((node) => `${node.op.slice(7)}(${dtypeOf(node.inputs[0])})`);
      expect(floatOps, ops.join(' ')).toBe(0);
      expect(ops, ops.join(' ')).toContain(`REDUCE_MAX(${dtype})`);
      expect(ops, ops.join(' ')).toContain(`REDUCE_MIN(${dtype})`);
      if (dtype === 'int8') expect(ops, ops.join(' ')).toContain('ARG_MAX(int8)');
      for (const seed of [4242, 99]) {
        const feed = { x: seededUniform(SHAPE, seed, -3.9, 7.8) };
        const expected = await runOrt(model, feed);
        const actual = await new TfliteEngine().run(encodeTflite(converted), feed);
        for (const { name, params } of outputs) {
          const [a, b] = [expected.get(name)!, actual.get(name)!];
          expect(b.shape, name).toEqual(a.shape);
          if (params) expect(stepsApart(a.toNumbers(), b.toNumbers(), params.scale), name).toBeLessThanOrEqual(1.001);
          else expect(b.toNumbers(), name).toEqual(a.toNumbers());
          expect(new Set(b.toNumbers()).size, name).toBeGreaterThan(2);
        }
      }
    }, 60_000);
  }
});
