/**
 * The fast loops of Conv, ConvTranspose, MatMul, Gemm and broadcasting binary ops against
 * straightforward loops written in the documented accumulation order. Tensors are float64, so no
 * rounding hides a difference: results must be the same bits (Object.is per element).
 */
import { attrs, GraphBuilder, Tensor, tensorType, type Attribute } from '@modelpass/ir';
import { broadcastRuns, runReference, type RuntimeValue } from '@modelpass/ops';
import { describe, expect, it } from 'vitest';

function runOp(op: string, inputs: readonly Tensor[], attributes: Record<string, Attribute> = {}): Tensor {
  const b = new GraphBuilder();
  const values = inputs.map((t, i) => b.input(`in${i}`, tensorType(t.dtype, t.shape)));
  const [out] = b.op(op, values, attributes, { outputs: 1 });
  b.output(out!);
  const feeds: Record<string, RuntimeValue> = {};
  inputs.forEach((t, i) => (feeds[`in${i}`] = t));
  return runReference(b.model({ onnx: 17 }), feeds).get(out!.name) as Tensor;
}

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return (state / 2147483648) * 2 - 1;
  };
}

const f64 = (shape: number[], values: ArrayLike<number>) => Tensor.fromValues('float64', shape, Array.from(values));
const filled = (shape: number[], next: () => number) => f64(shape, Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next));
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

function expectSameBits(actual: Tensor, expected: number[], shape: number[]): void {
  expect(actual.shape).toEqual(shape);
  const values = actual.toNumbers();
  const differing = values.findIndex((v, i) => !Object.is(v, expected[i]));
  expect(differing, `first differing element ${differing}: ${values[differing]} vs ${expected[differing]}`).toBe(-1);
}

/** Row-major multi-indices of `shape`. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const total = size(shape);
  const index = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < total; flat++) {
    yield [...index];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) break;
      index[d] = 0;
    }
  }
}

interface ConvCase {
  x: number[];
  w: number[];
  group: number;
  strides: number[];
  dilations: number[];
  pads: number[];
}

/** N-d convolution: per output, channels then kernel positions (row-major), padding skipped, from +0. */
function plainConv(x: Tensor, w: Tensor, bias: Tensor, c: ConvCase): { values: number[]; shape: number[] } {
  const xv = x.toNumbers();
  const wv = w.toNumbers();
  const bv = bias.toNumbers();
  const rank = c.x.length - 2;
  const [n, ch] = c.x as [number, number];
  const [m, cg] = c.w as [number, number];
  const kernel = c.w.slice(2);
  const inSpatial = c.x.slice(2);
  const outSpatial = inSpatial.map((s, d) => Math.floor((s + c.pads[d]! + c.pads[d + rank]! - ((kernel[d]! - 1) * c.dilations[d]! + 1)) / c.strides[d]!) + 1);
  const values: number[] = [];
  for (let b = 0; b < n; b++) {
    for (let o = 0; o < m; o++) {
      const g = Math.floor(o / (m / c.group));
      for (const out of indices(outSpatial)) {
        let sum = 0;
        for (let cc = 0; cc < cg; cc++) {
          let k = 0;
          for (const pos of indices(kernel)) {
            let offset = 0;
            let inside = true;
            for (let d = 0; d < rank; d++) {
              const at = out[d]! * c.strides[d]! - c.pads[d]! + pos[d]! * c.dilations[d]!;
              if (at < 0 || at >= inSpatial[d]!) inside = false;
              offset = offset * inSpatial[d]! + at;
            }
            if (inside) sum += xv[(b * ch + g * cg + cc) * size(inSpatial) + offset]! * wv[(o * cg + cc) * size(kernel) + k]!;
            k++;
          }
        }
        values.push(sum + bv[o]!);
      }
    }
  }
  return { values, shape: [n, m, ...outSpatial] };
}

const convCases: [string, ConvCase][] = [
  ['pointwise (matrix path)', { x: [2, 6, 5, 7], w: [8, 6, 1, 1], group: 1, strides: [1, 1], dilations: [1, 1], pads: [0, 0, 0, 0] }],
  ['3x3 padded, strided (matrix path)', { x: [1, 3, 9, 8], w: [5, 3, 3, 3], group: 1, strides: [2, 1], dilations: [1, 1], pads: [1, 0, 2, 1] }],
  ['grouped, dilated (matrix path)', { x: [1, 8, 10, 9], w: [8, 4, 3, 2], group: 2, strides: [1, 2], dilations: [2, 1], pads: [2, 1, 1, 0] }],
  ['depthwise 3x3 (direct 2-D)', { x: [2, 6, 7, 9], w: [6, 1, 3, 3], group: 6, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] }],
  ['depthwise 5x5 strided (direct 2-D)', { x: [1, 4, 11, 10], w: [8, 1, 5, 5], group: 4, strides: [2, 2], dilations: [1, 1], pads: [2, 2, 1, 2] }],
  ['narrow output, wide dilation (direct 2-D)', { x: [1, 3, 8, 8], w: [2, 3, 3, 3], group: 1, strides: [1, 3], dilations: [3, 2], pads: [3, 0, 0, 3] }],
  ['1-D (rows)', { x: [1, 2, 17], w: [3, 2, 4], group: 1, strides: [3], dilations: [2], pads: [2, 3] }],
  ['3-D (matrix path)', { x: [1, 2, 4, 5, 3], w: [4, 2, 2, 3, 2], group: 1, strides: [1, 2, 1], dilations: [1, 1, 2], pads: [1, 0, 1, 0, 2, 1] }],
];

describe('Conv fast paths keep the accumulation order', () => {
  for (const [name, c] of convCases) {
    it(name, () => {
      const next = random(name.length * 7919);
      const x = filled(c.x, next);
      const w = filled(c.w, next);
      const bias = filled([c.w[0]!], next);
      const expected = plainConv(x, w, bias, c);
      const y = runOp('onnx.Conv', [x, w, bias], { group: attrs.int(c.group), strides: attrs.ints(c.strides), dilations: attrs.ints(c.dilations), pads: attrs.ints(c.pads) });
      expectSameBits(y, expected.values, expected.shape);
    });
  }

  it('non-finite weights skip the gathered-window path (a padding tap never multiplies an infinity)', () => {
    const c: ConvCase = { x: [1, 4, 5, 5], w: [4, 4, 3, 3], group: 1, strides: [1, 1], dilations: [1, 1], pads: [1, 1, 1, 1] };
    const next = random(3);
    const x = filled(c.x, next);
    const wValues = Array.from({ length: size(c.w) }, next);
    wValues[0] = Infinity;
    const w = f64(c.w, wValues);
    const bias = f64([4], [0, 0, 0, 0]);
    const expected = plainConv(x, w, bias, c);
    expect(expected.values.some((v) => Number.isFinite(v))).toBe(true);
    const y = runOp('onnx.Conv', [x, w, bias], { pads: attrs.ints(c.pads) });
    expectSameBits(y, expected.values, expected.shape);
  });
});

/** ConvTranspose: per output, input positions (row-major) then input channels, from +0. */
function plainConvTranspose(x: Tensor, w: Tensor, xShape: number[], wShape: number[], group: number, strides: number[], dilations: number[], pads: number[]) {
  const xv = x.toNumbers();
  const wv = w.toNumbers();
  const rank = xShape.length - 2;
  const [n, c] = xShape as [number, number];
  const mPerGroup = wShape[1]!;
  const m = mPerGroup * group;
  const kernel = wShape.slice(2);
  const inSpatial = xShape.slice(2);
  const outSpatial = inSpatial.map((s, d) => strides[d]! * (s - 1) + (kernel[d]! - 1) * dilations[d]! + 1 - pads[d]! - pads[d + rank]!);
  const out = new Array<number>(n * m * size(outSpatial)).fill(0);
  const cPerGroup = c / group;
  let i = 0;
  for (const inPos of indices(inSpatial)) {
    for (let b = 0; b < n; b++) {
      for (let ch = 0; ch < c; ch++) {
        const g = Math.floor(ch / cPerGroup);
        for (let mm = 0; mm < mPerGroup; mm++) {
          let k = 0;
          for (const pos of indices(kernel)) {
            let offset = 0;
            let inside = true;
            for (let d = 0; d < rank; d++) {
              const at = inPos[d]! * strides[d]! - pads[d]! + pos[d]! * dilations[d]!;
              if (at < 0 || at >= outSpatial[d]!) inside = false;
              offset = offset * outSpatial[d]! + at;
            }
            if (inside) out[(b * m + g * mPerGroup + mm) * size(outSpatial) + offset] += xv[(b * c + ch) * size(inSpatial) + i]! * wv[(ch * mPerGroup + mm) * size(kernel) + k]!;
            k++;
          }
        }
      }
    }
    i++;
  }
  return { values: out, shape: [n, m, ...outSpatial] };
}

describe('ConvTranspose loops keep the accumulation order', () => {
  const cases: [string, number[], number[], number, number[], number[], number[]][] = [
    ['2-D strided, padded', [1, 3, 4, 5], [3, 2, 3, 3], 1, [2, 2], [1, 1], [1, 0, 0, 1]],
    ['2-D grouped, dilated', [2, 4, 3, 4], [4, 3, 2, 3], 2, [1, 3], [2, 1], [0, 1, 1, 0]],
    ['1-D', [1, 2, 7], [2, 3, 4], 1, [3], [1], [1, 2]],
    ['3-D', [1, 2, 3, 2, 3], [2, 2, 2, 2, 3], 1, [2, 1, 2], [1, 2, 1], [0, 1, 0, 1, 0, 1]],
  ];
  for (const [name, xShape, wShape, group, strides, dilations, pads] of cases) {
    it(name, () => {
      const next = random(name.length * 104729);
      const x = filled(xShape, next);
      const w = filled(wShape, next);
      const expected = plainConvTranspose(x, w, xShape, wShape, group, strides, dilations, pads);
      const y = runOp('onnx.ConvTranspose', [x, w], { group: attrs.int(group), strides: attrs.ints(strides), dilations: attrs.ints(dilations), pads: attrs.ints(pads) });
      expectSameBits(y, expected.values, expected.shape);
    });
  }
});

describe('MatMul and Gemm keep the accumulation order', () => {
  it('MatMul with batch broadcasting (p ascending from +0)', () => {
    const next = random(11);
    const a = filled([2, 1, 5, 7], next);
    const b = filled([3, 7, 6], next);
    const av = a.toNumbers();
    const bv = b.toNumbers();
    const expected: number[] = [];
    for (let s = 0; s < 2; s++)
      for (let t = 0; t < 3; t++)
        for (let i = 0; i < 5; i++)
          for (let j = 0; j < 6; j++) {
            let sum = 0;
            for (let p = 0; p < 7; p++) sum += av[s * 35 + i * 7 + p]! * bv[t * 42 + p * 6 + j]!;
            expected.push(sum);
          }
    expectSameBits(runOp('onnx.MatMul', [a, b]), expected, [2, 3, 5, 6]);
  });

  it('Gemm with transA, transB, alpha, beta and a broadcast C', () => {
    const next = random(5);
    const a = filled([9, 5], next); // transA: A is k x m
    const b = filled([6, 9], next); // transB: B is n x k
    const c = filled([6], next);
    const [av, bv, cv] = [a.toNumbers(), b.toNumbers(), c.toNumbers()];
    const expected: number[] = [];
    for (let i = 0; i < 5; i++)
      for (let j = 0; j < 6; j++) {
        let sum = 0;
        for (let p = 0; p < 9; p++) sum += av[p * 5 + i]! * bv[j * 9 + p]!;
        expected.push(0.5 * sum + 1.5 * cv[j]!);
      }
    const y = runOp('onnx.Gemm', [a, b, c], { transA: attrs.int(1), transB: attrs.int(1), alpha: attrs.float(0.5), beta: attrs.float(1.5) });
    expectSameBits(y, expected, [5, 6]);
  });
});

describe('broadcast runs', () => {
  it('plans same-shape, per-channel, scalar and mixed broadcasts', () => {
    expect(broadcastRuns([2, 3, 4], [2, 3, 4], [2, 3, 4])).toMatchObject({ run: 24, aStep: 1, bStep: 1 });
    const bias = broadcastRuns([2, 3, 4, 5], [3, 1, 1], [2, 3, 4, 5]);
    expect(bias).toMatchObject({ run: 20, aStep: 1, bStep: 0 });
    expect(Array.from(bias.bOffsets)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(broadcastRuns([], [4], [4])).toMatchObject({ run: 4, aStep: 0, bStep: 1 });
    expect(broadcastRuns([1], [1], [1])).toMatchObject({ run: 1 });
    expect(broadcastRuns([0, 3], [3], [0, 3]).aOffsets.length * broadcastRuns([0, 3], [3], [0, 3]).run).toBe(0);
  });

  it('Add, Sub, Mul, Div and PRelu over mixed broadcasts equal the element-by-element results', () => {
    const next = random(17);
    const shapes: [number[], number[]][] = [
      [[2, 3, 4], [2, 3, 4]],
      [[2, 3, 4, 5], [3, 1, 1]],
      [[2, 1, 4], [3, 1]],
      [[1, 3, 1, 5], [2, 1, 4, 1]],
      [[4], []],
      [[], [2, 2]],
    ];
    const ops: [string, (x: number, y: number) => number][] = [
      ['onnx.Add', (x, y) => x + y],
      ['onnx.Sub', (x, y) => x - y],
      ['onnx.Mul', (x, y) => x * y],
      ['onnx.Div', (x, y) => x / y],
    ];
    for (const [aShape, bShape] of shapes) {
      const a = filled(aShape, next);
      const b = filled(bShape, next);
      const rank = Math.max(aShape.length, bShape.length);
      const pad = (s: number[]) => [...new Array<number>(rank - s.length).fill(1), ...s];
      const [pa, pb] = [pad(aShape), pad(bShape)];
      const outShape = pa.map((d, i) => Math.max(d, pb[i]!));
      const [av, bv] = [a.toNumbers(), b.toNumbers()];
      const at = (values: number[], shape: number[], index: number[]) => values[index.reduce((flat, v, d) => flat * shape[d]! + (shape[d] === 1 ? 0 : v), 0)]!;
      for (const [op, fn] of ops) {
        const expected = [...indices(outShape)].map((index) => fn(at(av, pa, index), at(bv, pb, index)));
        expectSameBits(runOp(op, [a, b]), expected, outShape);
      }
      if (bShape.length <= aShape.length) {
        const expected = [...indices(outShape)].map((index) => {
          const v = at(av, pa, index);
          return v >= 0 ? v : v * at(bv, pb, index);
        });
        expectSameBits(runOp('onnx.PRelu', [a, b]), expected, outShape);
      }
    }
  });
});
