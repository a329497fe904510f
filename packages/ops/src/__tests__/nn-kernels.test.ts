import { attrs, GraphBuilder, Tensor, tensorType, type Attribute } from '@modelpass/ir';
import { runReference, type RuntimeValue } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

/** Runs one op on constant-free inputs through the interpreter and returns its outputs. */
function runOp(op: string, inputs: readonly (Tensor | null)[], attributes: Record<string, Attribute> = {}, outputs = 1, opset = 17): RuntimeValue[] {
  const b = new GraphBuilder();
  const values = inputs.map((t, i) => (t ? b.input(`in${i}`, tensorType(t.dtype, t.shape)) : null));
  const outs = b.op(op, values, attributes, { outputs });
  b.output(...outs);
  const feeds: Record<string, Tensor> = {};
  inputs.forEach((t, i) => t && (feeds[`in${i}`] = t));
  const result = runReference(b.model({ onnx: opset }), feeds);
  return outs.map((v) => result.get(v.name)!);
}

const f32 = (shape: number[], values: number[]) => Tensor.fromValues('float32', shape, values);
const i64 = (shape: number[], values: (number | bigint)[]) => Tensor.fromValues('int64', shape, values.map((v) => BigInt(v)));
const numbers = (v: RuntimeValue) => (v as Tensor).toNumbers();
const seeded = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;

/** An independent, direct 2-D convolution (NCHW, OIHW) used as the expectation. */
function naiveConv2d(x: number[], xs: number[], w: number[], ws: number[], group: number, pads: number[], strides: number[], dil: number[]) {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [m, cg, kh, kw] = ws as [number, number, number, number];
  const oh = Math.floor((h + pads[0]! + pads[2]! - ((kh - 1) * dil[0]! + 1)) / strides[0]!) + 1;
  const ow = Math.floor((wd + pads[1]! + pads[3]! - ((kw - 1) * dil[1]! + 1)) / strides[1]!) + 1;
  const out: number[] = [];
  for (let b = 0; b < n; b++)
    for (let o = 0; o < m; o++)
      for (let y = 0; y < oh; y++)
        for (let z = 0; z < ow; z++) {
          let sum = 0;
          const g = Math.floor(o / (m / group));
          for (let ci = 0; ci < cg; ci++)
            for (let i = 0; i < kh; i++)
              for (let j = 0; j < kw; j++) {
                const yy = y * strides[0]! - pads[0]! + i * dil[0]!;
                const zz = z * strides[1]! - pads[1]! + j * dil[1]!;
                if (yy < 0 || yy >= h || zz < 0 || zz >= wd) continue;
                sum += x[((b * c + g * cg + ci) * h + yy) * wd + zz]! * w[((o * cg + ci) * kh + i) * kw + j]!;
              }
          out.push(sum);
        }
  return { values: out, shape: [n, m, oh, ow] };
}

describe('Conv', () => {
  it('matches a direct convolution with groups, dilations, strides and asymmetric pads', () => {
    const random = seeded(7);
    const xs = [2, 4, 7, 6];
    const ws = [6, 2, 3, 2];
    const x = Array.from({ length: 2 * 4 * 7 * 6 }, random);
    const w = Array.from({ length: 6 * 2 * 3 * 2 }, random);
    const pads = [1, 0, 2, 1];
    const strides = [2, 1];
    const dil = [1, 2];
    const expected = naiveConv2d(x.map(Math.fround), xs, w.map(Math.fround), ws, 2, pads, strides, dil);
    const [y] = runOp('onnx.Conv', [f32(xs, x), f32(ws, w)], { group: attrs.int(2), pads: attrs.ints(pads), strides: attrs.ints(strides), dilations: attrs.ints(dil) });
    expect((y as Tensor).shape).toEqual(expected.shape);
    numbers(y!).forEach((v, i) => expect(v).toBeCloseTo(expected.values[i]!, 5));
  });

  it('pads SAME_UPPER with the extra pixel at the end and adds the bias', () => {
    const x = f32([1, 1, 4, 4], Array.from({ length: 16 }, (_, i) => i));
    const w = f32([1, 1, 2, 2], [1, 1, 1, 1]);
    const [y] = runOp('onnx.Conv', [x, w, f32([1], [100])], { auto_pad: attrs.string('SAME_UPPER'), strides: attrs.ints([2, 2]) });
    expect((y as Tensor).shape).toEqual([1, 1, 2, 2]);
    expect(numbers(y!)).toEqual([110, 118, 142, 150]);
  });
});

describe('pooling', () => {
  const x = f32([1, 1, 4, 4], Array.from({ length: 16 }, (_, i) => i));
  it('MaxPool ceil_mode keeps a partial last window, floor drops it; indices are flat', () => {
    const [ceil, indices] = runOp('onnx.MaxPool', [x], { kernel_shape: attrs.ints([3, 3]), strides: attrs.ints([2, 2]), ceil_mode: attrs.int(1) }, 2);
    expect((ceil as Tensor).shape).toEqual([1, 1, 2, 2]);
    expect(numbers(ceil!)).toEqual([10, 11, 14, 15]);
    expect(numbers(indices!)).toEqual([10, 11, 14, 15]);
    const [floor] = runOp('onnx.MaxPool', [x], { kernel_shape: attrs.ints([3, 3]), strides: attrs.ints([2, 2]) });
    expect(numbers(floor!)).toEqual([10]);
  });

  it('MaxPool storage_order 1 reports column-major indices', () => {
    const [, indices] = runOp('onnx.MaxPool', [x], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]), storage_order: attrs.int(1) }, 2);
    // maxima at (1,1), (1,3), (3,1), (3,3): column-major index = h + w * 4
    expect(numbers(indices!)).toEqual([5, 13, 7, 15]);
  });

  it('AveragePool counts padding only with count_include_pad', () => {
    const ones = f32([1, 1, 3, 3], new Array(9).fill(1));
    const base = { kernel_shape: attrs.ints([3, 3]), pads: attrs.ints([1, 1, 1, 1]) };
    const [excluded] = runOp('onnx.AveragePool', [ones], base);
    expect(numbers(excluded!)).toEqual(new Array(9).fill(1));
    const [included] = runOp('onnx.AveragePool', [ones], { ...base, count_include_pad: attrs.int(1) });
    expect(numbers(included!)[0]).toBeCloseTo(4 / 9, 6);
    expect(numbers(included!)[4]).toBeCloseTo(1, 6);
  });
});

describe('Resize', () => {
  const square = f32([1, 1, 2, 2], [1, 2, 3, 4]);
  it('nearest, asymmetric, floor doubles each pixel', () => {
    const [y] = runOp('onnx.Resize', [square, null, f32([4], [1, 1, 2, 2])], {
      mode: attrs.string('nearest'),
      coordinate_transformation_mode: attrs.string('asymmetric'),
      nearest_mode: attrs.string('floor'),
    });
    expect(numbers(y!)).toEqual([1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4]);
  });

  it('linear half_pixel clamps at the edges; align_corners hits the corners', () => {
    const row = f32([1, 1, 1, 2], [1, 3]);
    const [half] = runOp('onnx.Resize', [row, null, null, i64([4], [1, 1, 1, 4])], { mode: attrs.string('linear') });
    expect(numbers(half!)).toEqual([1, 1.5, 2.5, 3]);
    const [corners] = runOp('onnx.Resize', [row, null, null, i64([4], [1, 1, 1, 3])], {
      mode: attrs.string('linear'),
      coordinate_transformation_mode: attrs.string('align_corners'),
    });
    expect(numbers(corners!)).toEqual([1, 2, 3]);
  });

  it('cubic weights sum to one (a constant image stays constant)', () => {
    const flat = f32([1, 1, 3, 3], new Array(9).fill(5));
    const [y] = runOp('onnx.Resize', [flat, null, f32([4], [1, 1, 1.7, 2.3])], { mode: attrs.string('cubic'), antialias: attrs.int(0) });
    expect((y as Tensor).shape).toEqual([1, 1, 5, 6]);
    for (const v of numbers(y!)) expect(v).toBeCloseTo(5, 5);
  });
});

describe('shape and indexing kernels', () => {
  it('Slice with negative steps and clamped bounds', () => {
    const x = f32([2, 4], [0, 1, 2, 3, 4, 5, 6, 7]);
    const [y] = runOp('onnx.Slice', [x, i64([2], [1, -1]), i64([2], [-1000, -1000]), i64([2], [0, 1]), i64([2], [-1, -2])]);
    expect((y as Tensor).shape).toEqual([2, 2]);
    expect(numbers(y!)).toEqual([7, 5, 3, 1]);
  });

  it('Pad modes constant, reflect, edge and wrap', () => {
    const x = f32([3], [1, 2, 3]);
    const pads = i64([2], [2, 2]);
    const run = (mode: string) => numbers(runOp('onnx.Pad', [x, pads, f32([], [9])], { mode: attrs.string(mode) })[0]!);
    expect(run('constant')).toEqual([9, 9, 1, 2, 3, 9, 9]);
    expect(run('reflect')).toEqual([3, 2, 1, 2, 3, 2, 1]);
    expect(run('edge')).toEqual([1, 1, 1, 2, 3, 3, 3]);
    expect(run('wrap')).toEqual([2, 3, 1, 2, 3, 1, 2]);
  });

  it('keeps int64 exact beyond 2^53 in data movement and Range', () => {
    const big = 2n ** 60n + 1n;
    const [y] = runOp('onnx.Concat', [i64([1], [big]), i64([1], [-big])], { axis: attrs.int(0) });
    expect(Array.from((y as Tensor).data() as BigInt64Array)).toEqual([big, -big]);
    const [r] = runOp('onnx.Range', [Tensor.scalar('int64', big), Tensor.scalar('int64', big + 9n), Tensor.scalar('int64', 4n)]);
    expect(Array.from((r as Tensor).data() as BigInt64Array)).toEqual([big, big + 4n, big + 8n]);
  });

  it('Gather with negative indices, TopK with ties, GatherND with batch_dims', () => {
    const x = f32([3, 2], [1, 2, 3, 4, 5, 6]);
    expect(numbers(runOp('onnx.Gather', [x, i64([2], [-1, 0])])[0]!)).toEqual([5, 6, 1, 2]);
    const [values, indices] = runOp('onnx.TopK', [f32([5], [3, 7, 3, 7, 1]), i64([1], [3])], {}, 2);
    expect(numbers(values!)).toEqual([7, 7, 3]);
    expect(numbers(indices!)).toEqual([1, 3, 0]);
    const data = f32([2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7]);
    const [nd] = runOp('onnx.GatherND', [data, i64([2, 1], [1, 0])], { batch_dims: attrs.int(1) });
    expect(numbers(nd!)).toEqual([2, 3, 4, 5]);
  });

  it('ScatterElements with add reduction and DepthToSpace modes', () => {
    const [y] = runOp('onnx.ScatterElements', [f32([1, 5], [1, 2, 3, 4, 5]), i64([1, 2], [1, 1]), f32([1, 2], [1.1, 2.1])], {
      axis: attrs.int(1),
      reduction: attrs.string('add'),
    });
    expect(numbers(y!)[1]).toBeCloseTo(5.2, 5);
    const x = f32([1, 4, 1, 1], [0, 1, 2, 3]);
    expect(numbers(runOp('onnx.DepthToSpace', [x], { blocksize: attrs.int(2) })[0]!)).toEqual([0, 1, 2, 3]);
    const [crd] = runOp('onnx.DepthToSpace', [f32([1, 8, 1, 1], [0, 1, 2, 3, 4, 5, 6, 7])], { blocksize: attrs.int(2), mode: attrs.string('CRD') });
    expect((crd as Tensor).shape).toEqual([1, 2, 2, 2]);
    expect(numbers(crd!)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('Squeeze/Unsqueeze/Split take axes from attributes before opset 13 and inputs after', () => {
    const x = f32([1, 4], [1, 2, 3, 4]);
    expect((runOp('onnx.Unsqueeze', [x], { axes: attrs.ints([0, 3]) }, 1, 11)[0] as Tensor).shape).toEqual([1, 1, 4, 1]);
    expect((runOp('onnx.Unsqueeze', [x, i64([1], [-1])], {}, 1, 13)[0] as Tensor).shape).toEqual([1, 4, 1]);
    const parts = runOp('onnx.Split', [x], { axis: attrs.int(1), split: attrs.ints([1, 3]) }, 2, 11);
    expect(parts.map(numbers)).toEqual([[1], [2, 3, 4]]);
    const uneven = runOp('onnx.Split', [f32([5], [1, 2, 3, 4, 5])], { num_outputs: attrs.int(2) }, 2, 18);
    expect(uneven.map(numbers)).toEqual([[1, 2, 3], [4, 5]]);
  });
});

describe('normalization and products', () => {
  it('BatchNormalization training_mode updates running statistics', () => {
    const x = f32([2, 1, 2], [1, 2, 3, 4]);
    const [y, mean, variance] = runOp(
      'onnx.BatchNormalization',
      [x, f32([1], [1]), f32([1], [0]), f32([1], [0]), f32([1], [1])],
      { training_mode: attrs.int(1), epsilon: attrs.float(0) },
      3,
      15,
    );
    expect(numbers(mean!)[0]).toBeCloseTo(0.9 * 0 + 0.1 * 2.5, 6);
    expect(numbers(variance!)[0]).toBeCloseTo(0.9 * 1 + 0.1 * 1.25, 6);
    expect(numbers(y!)[0]).toBeCloseTo(-1.5 / Math.sqrt(1.25), 5);
  });

  it('Gemm transposes, scales and broadcasts C; MatMulInteger subtracts zero points', () => {
    const a = f32([2, 1], [1, 2]);
    const b = f32([3, 2], [1, 2, 3, 4, 5, 6]);
    const [y] = runOp('onnx.Gemm', [a, b, f32([3], [1, 1, 1])], { transA: attrs.int(1), transB: attrs.int(1), alpha: attrs.float(2), beta: attrs.float(3) });
    expect(numbers(y!)).toEqual([2 * 5 + 3, 2 * 11 + 3, 2 * 17 + 3]);
    const [q] = runOp('onnx.MatMulInteger', [Tensor.fromValues('uint8', [1, 2], [10, 20]), Tensor.fromValues('uint8', [2, 1], [3, 4]), Tensor.scalar('uint8', 10), Tensor.scalar('uint8', 2)]);
    expect((q as Tensor).dtype).toBe('int32');
    expect(numbers(q!)).toEqual([0 * 1 + 10 * 2]);
  });
});
