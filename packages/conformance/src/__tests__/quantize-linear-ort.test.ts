/**
 * The ir toolkit's quantizeLinear / dequantizeLinear against ONNX Runtime's QuantizeLinear and
 * DequantizeLinear (opset 21), bit for bit: random values and scales, rounding ties, saturation,
 * ±inf, for every supported integer dtype, per-tensor, per-axis and blocked.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import {
  dequantizeLinear,
  GraphBuilder,
  quantizeLinear,
  quantizedRange,
  Tensor,
  tensorType,
  type QuantizedDType,
} from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { fromOrtTensor, SeededRandom, toOrtTensor } from '@modelpass/runtime';

const SESSION = { logSeverityLevel: 3 as const };
const DTYPES: QuantizedDType[] = ['int8', 'uint8', 'int16', 'uint16', 'int4', 'uint4'];

interface Layout {
  readonly name: string;
  readonly shape: number[];
  /** Shape of scale / zero point. */
  readonly paramShape: number[];
  readonly axis?: number;
  readonly blockSize?: number;
}

const LAYOUTS: Layout[] = [
  { name: 'per-tensor', shape: [6, 50], paramShape: [] },
  { name: 'per-axis 1', shape: [6, 5, 10], paramShape: [5], axis: 1 },
  { name: 'per-axis 0', shape: [6, 5, 10], paramShape: [6], axis: 0 },
  { name: 'blocked axis 1 block 4', shape: [6, 10, 5], paramShape: [6, 3, 5], axis: 1, blockSize: 4 },
];

/** onnxruntime-node cannot hand 4-bit tensors to or from JS: they cross as floats through an exact Q/DQ with scale 1. */
const crossesAsFloat = (dtype: Tensor['dtype']) => dtype === 'int4' || dtype === 'uint4';

async function runOne(op: 'QuantizeLinear' | 'DequantizeLinear', x: Tensor, scale: Tensor, zeroPoint: Tensor, layout: Layout, outDtype: Tensor['dtype']): Promise<Tensor> {
  const b = new GraphBuilder();
  const packed = crossesAsFloat(zeroPoint.dtype);
  const feed = op === 'DequantizeLinear' && packed ? Tensor.fromValues('float32', x.shape, x.toNumbers()) : x;
  const unitScale = () => b.constant(Tensor.scalar('float32', 1), 'unit_scale');
  const zero = () => b.constant(Tensor.fromValues(zeroPoint.dtype, [], [0]), 'zero');
  let value = b.input('x', tensorType(feed.dtype, feed.shape));
  if (feed !== x) value = b.op1('onnx.QuantizeLinear', [value, unitScale(), zero()], {}, { types: [tensorType(x.dtype, x.shape)] });
  const attributes: Record<string, { kind: 'int'; value: number }> = {};
  if (layout.axis !== undefined) attributes['axis'] = { kind: 'int', value: layout.axis };
  if (layout.blockSize) attributes['block_size'] = { kind: 'int', value: layout.blockSize };
  value = b.op1(`onnx.${op}`, [value, b.constant(scale, 'scale'), b.constant(zeroPoint, 'zero_point')], attributes, { types: [tensorType(outDtype, x.shape)] });
  if (op === 'QuantizeLinear' && packed) value = b.op1('onnx.DequantizeLinear', [value, unitScale(), zero()], {}, { types: [tensorType('float32', x.shape)] });
  b.output(value);
  const session = await ort.InferenceSession.create(encodeOnnx(b.model({ onnx: 21 })), SESSION);
  try {
    const result = await session.run({ x: toOrtTensor(ort.Tensor, feed, 'x') });
    const y = fromOrtTensor(result[value.name]!, value.name);
    return op === 'QuantizeLinear' && packed ? Tensor.fromValues(outDtype, y.shape, y.toNumbers()) : y;
  } finally {
    await session.release();
  }
}

function sameBits(actual: Tensor, expected: Tensor): void {
  expect(actual.dtype).toBe(expected.dtype);
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.toNumbers();
  const e = expected.toNumbers();
  const mismatches = a.flatMap((v, i) => (Object.is(v, e[i]) ? [] : [`#${i}: ours ${v}, ORT ${e[i]}`]));
  expect(mismatches.slice(0, 5)).toEqual([]);
}

function params(random: SeededRandom, layout: Layout, dtype: QuantizedDType) {
  const count = layout.paramShape.reduce((a, b) => a * b, 1);
  const { min, max } = quantizedRange(dtype);
  // Mostly awkward scales (float32 division must round as ORT's does), some powers of two (exact ties).
  const scales = Array.from({ length: count }, (_, i) => (i % 3 === 0 ? 2 ** -(1 + (i % 4)) : 0.001 + random.nextFloat() * 0.2));
  const zeros = Array.from({ length: count }, () => Math.round(min + random.nextFloat() * (max - min)));
  return { scale: Tensor.fromValues('float32', layout.paramShape, scales), zeroPoint: Tensor.fromValues(dtype, layout.paramShape, zeros) };
}

function inputs(random: SeededRandom, shape: number[], scale: Tensor, layout: Layout, dtype: QuantizedDType): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  const { max } = quantizedRange(dtype);
  const maxScale = Math.max(...scale.toNumbers());
  const values = Array.from({ length: count }, (_, i) => {
    switch (i % 10) {
      case 0:
        return (Math.floor(random.nextFloat() * 20) - 10 + 0.5) * 0.5; // ties for power-of-two scales
      case 1:
        return (random.nextFloat() < 0.5 ? -1 : 1) * maxScale * max * 4; // saturates
      case 2:
        // ORT 1.30's blocked kernel converts to int32 before it clamps, so ±inf and |x / scale| ≥ 2^31
        // wrap there (against the spec's saturation): blocked layouts get big finite values instead.
        return layout.blockSize
          ? [maxScale * max * 64, -maxScale * max * 64, 0, -0][Math.floor(i / 10) % 4]!
          : [Infinity, -Infinity, 0, -0][Math.floor(i / 10) % 4]!;
      default:
        return (random.nextFloat() * 2 - 1) * maxScale * max * 1.2;
    }
  });
  return Tensor.fromValues('float32', shape, values);
}

describe('quantizeLinear and dequantizeLinear match ONNX Runtime bit for bit', () => {
  for (const layout of LAYOUTS) {
    it(`${layout.name}, every integer dtype`, async () => {
      const random = new SeededRandom(7 + layout.shape.length + (layout.axis ?? 9) + (layout.blockSize ?? 0));
      for (const dtype of DTYPES) {
        const { scale, zeroPoint } = params(random, layout, dtype);
        const x = inputs(random, layout.shape, scale, layout, dtype);
        const options = { ...(layout.axis !== undefined ? { axis: layout.axis } : {}), ...(layout.blockSize ? { blockSize: layout.blockSize } : {}) };
        const ours = quantizeLinear(x, scale, zeroPoint, options);
        sameBits(ours, await runOne('QuantizeLinear', x, scale, zeroPoint, layout, dtype));
        sameBits(dequantizeLinear(ours, scale, zeroPoint, options), await runOne('DequantizeLinear', ours, scale, zeroPoint, layout, 'float32'));
      }
    }, 60_000);
  }
});

describe('int32 DequantizeLinear (biases)', () => {
  it('converts big differences to float32 before scaling, as ORT does', async () => {
    const random = new SeededRandom(32);
    const values = Array.from({ length: 200 }, (_, i) => (i < 4 ? [2 ** 31 - 1, -(2 ** 31), 16777217, -16777217][i]! : random.integer(-(2 ** 30), 2 ** 30)));
    const q = Tensor.fromValues('int32', [200], values);
    const scale = Tensor.scalar('float32', 0.0123);
    const zeroPoint = Tensor.fromValues('int32', [], [0]);
    sameBits(dequantizeLinear(q, scale, zeroPoint), await runOne('DequantizeLinear', q, scale, zeroPoint, LAYOUTS[0]!, 'float32'));
  });
});

describe('NaN input', () => {
  // ONNX leaves NaN undefined for integer outputs; ORT writes the dtype's minimum, and so do we.
  it('becomes the dtype minimum, as in ORT', async () => {
    for (const dtype of DTYPES) {
      const zeroPoint = Tensor.fromValues(dtype, [], [quantizedRange(dtype).max]);
      const scale = Tensor.scalar('float32', 0.5);
      const x = Tensor.fromValues('float32', [6, 50], new Array(300).fill(Number.NaN));
      const ours = quantizeLinear(x, scale, zeroPoint);
      expect(new Set(ours.toNumbers())).toEqual(new Set([quantizedRange(dtype).min]));
      sameBits(ours, await runOne('QuantizeLinear', x, scale, zeroPoint, LAYOUTS[0]!, dtype));
    }
  });
});
