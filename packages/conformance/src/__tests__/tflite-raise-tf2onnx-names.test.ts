/**
 * raise-tflite rules for 14 of tf2onnx's TFLite op names that had none (issue 12 item 2, s14): ADD_N, ATAN2,
 * BITWISE_XOR, RIGHT_SHIFT, BROADCAST_TO, ZEROS_LIKE, RANK, REDUCE_ALL, REDUCE_ANY, REVERSE_V2, L2_NORMALIZATION,
 * MATRIX_DIAG, MATRIX_SET_DIAG; COMPLEX_ABS is refused by node. Each op: a one-node tflite-dialect model run by the
 * TFLite 2.9 runtime, then raised and run by ONNX Runtime, gives the same outputs. Where TFLite 2.9 has no kernel
 * (ATAN2, BITWISE_XOR, RIGHT_SHIFT; REVERSE_V2 over two axes), the raised model
 * is checked against values computed here by hand.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Graph, Model, ModelpassError, Tensor, tensorType, type Attribute, type DType, type Type, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';
import { addTfliteNode as add, sineRamp as ramp } from './tflite-graph-building.js';

afterAll(() => disposeSharedOrtRunner());

interface Case {
  readonly op: string;
  readonly inputs: [string, Tensor][];
  readonly constants?: [string, Tensor][];
  readonly output: Type;
  readonly attributes?: Record<string, Attribute>;
  /** Max |difference| allowed, relative to max(1, |value|); 0: equal. */
  readonly tolerance?: number;
  readonly opset?: number;
}

function oneNode(c: Case): Model {
  const graph = new Graph('main');
  const values: Value[] = c.inputs.map(([name, t]) => graph.addInput(name, tensorType(t.dtype, t.shape)));
  for (const [name, t] of c.constants ?? []) values.push(graph.addConstant(name, t));
  graph.setOutputs(add(graph, c.op, values, [['out', c.output]], c.attributes ?? {}));
  const model = new Model(graph);
  model.opsetImports.set('tflite', 3);
  return model;
}

async function raisedOnOrt(c: Case): Promise<Tensor> {
  const model = oneNode(c);
  raiseFromTflite(model, registerTfliteDialect(createOpRegistry()), { opset: c.opset ?? 13 });
  expect(model.graph.nodeList().map((n) => n.op).filter((op) => op.startsWith('tflite.'))).toEqual([]);
  return (await runOrt(model, Object.fromEntries(c.inputs))).get('out')!;
}

async function onTflite(c: Case): Promise<Tensor> {
  return (await new TfliteEngine().run(oneNode(c), Object.fromEntries(c.inputs))).get('out')!;
}

function expectClose(actual: Tensor, expected: Tensor, tolerance: number, label: string): void {
  expect(actual.dtype, label).toBe(expected.dtype);
  expect(actual.shape, label).toEqual(expected.shape);
  const [got, want] = [actual.toNumbers(), expected.toNumbers()];
  if (tolerance === 0) {
    expect(got, label).toEqual(want);
    return;
  }
  want.forEach((w, i) => {
    if (Number.isNaN(w)) expect(got[i], `${label}[${i}]`).toBeNaN();
    else expect(Math.abs(got[i]! - w), `${label}[${i}]: ${got[i]} vs ${w}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(w)));
  });
}

const t = (dtype: DType, shape: number[], values: (number | boolean)[]) => Tensor.fromValues(dtype, shape, values as number[]);
const i32 = (shape: number[], values: number[]) => t('int32', shape, values);

// Every quadrant, both axes, the origin, and a NaN.
const ATAN_Y = [1, 1, -1, -1, 0, 0, 2.5, -2.5, 0, 0.3, -7, NaN, 3e-8, -4];
const ATAN_X = [1, -1, 1, -1, 1, -1, 0, 0, 0, 1e-7, 0.25, 1, -1, -4];

const ATAN2: Case = { op: 'ATAN2', inputs: [['y', t('float32', [14], ATAN_Y)], ['x', t('float32', [14], ATAN_X)]], output: tensorType('float32', [14]) };

const TFLITE_CASES: Record<string, Case> = {
  ADD_N: { op: 'ADD_N', inputs: [['a', ramp([2, 5], 3, 0.1)], ['b', ramp([2, 5], 2, 0.7)], ['c', ramp([2, 5], 5, 1.9)]], output: tensorType('float32', [2, 5]), tolerance: 1e-6 },
  ZEROS_LIKE: { op: 'ZEROS_LIKE', inputs: [['x', t('float32', [2, 3], [1, NaN, Infinity, -2, -Infinity, 0])]], output: tensorType('float32', [2, 3]), tolerance: 0 },
  ZEROS_LIKE_INT: { op: 'ZEROS_LIKE', inputs: [['x', i32([4], [5, -1, 7, 9])]], output: tensorType('int32', [4]), tolerance: 0 },
  RANK: { op: 'RANK', inputs: [['x', ramp([2, 3, 1, 4], 1)]], output: tensorType('int32', []), tolerance: 0 },
  REDUCE_ANY: { op: 'REDUCE_ANY', inputs: [['x', t('bool', [2, 3, 2], [0, 0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 0].map(Boolean))]], constants: [['axes', i32([1], [-1])]], output: tensorType('bool', [2, 3]), attributes: { keep_dims: attrs.int(0) }, tolerance: 0 },
  REDUCE_ANY_KEEP: { op: 'REDUCE_ANY', inputs: [['x', t('bool', [2, 3, 2], [0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0].map(Boolean))]], constants: [['axes', i32([2], [0, 2])]], output: tensorType('bool', [1, 3, 1]), attributes: { keep_dims: attrs.int(1) }, tolerance: 0 },
  REDUCE_ALL: { op: 'REDUCE_ALL', inputs: [['x', t('bool', [2, 3, 2], [1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1].map(Boolean))]], constants: [['axes', i32([1], [1])]], output: tensorType('bool', [2, 2]), attributes: { keep_dims: attrs.int(0) }, tolerance: 0 },
  REVERSE_V2: { op: 'REVERSE_V2', inputs: [['x', ramp([2, 3, 4], 3)]], constants: [['axes', i32([1], [-1])]], output: tensorType('float32', [2, 3, 4]), tolerance: 0 },
  REVERSE_V2_MIDDLE: { op: 'REVERSE_V2', inputs: [['x', ramp([2, 3, 4], 3)]], constants: [['axes', i32([1], [1])]], output: tensorType('float32', [2, 3, 4]), tolerance: 0 },
  REVERSE_V2_ONE: { op: 'REVERSE_V2', inputs: [['x', i32([3, 2], [1, 2, 3, 4, 5, 6])]], constants: [['axes', i32([1], [0])]], output: tensorType('int32', [3, 2]), tolerance: 0 },
  // A row whose norm (≈ 1.9e-8) is under TFLite's 1e-6 floor: the result is x / 1e-6, not x / ‖x‖.
  L2_NORMALIZATION: { op: 'L2_NORMALIZATION', inputs: [['x', t('float32', [3, 4], [1, -2, 3, 0.5, 1e-8, -1e-8, 1e-8, 1e-8, 0, 0, 0, 0])]], output: tensorType('float32', [3, 4]), attributes: { fused_activation_function: attrs.string('NONE') }, tolerance: 1e-6 },
  L2_NORMALIZATION_3D: { op: 'L2_NORMALIZATION', inputs: [['x', ramp([2, 3, 5], 4)]], output: tensorType('float32', [2, 3, 5]), attributes: { fused_activation_function: attrs.string('NONE') }, tolerance: 1e-6 },
  MATRIX_DIAG: { op: 'MATRIX_DIAG', inputs: [['d', t('float32', [2, 3], [1, NaN, 3, -4, 5, Infinity])]], output: tensorType('float32', [2, 3, 3]), tolerance: 0 },
  MATRIX_SET_DIAG_WIDE: { op: 'MATRIX_SET_DIAG', inputs: [['x', ramp([2, 3, 4], 2)], ['d', ramp([2, 3], 9, 0.4)]], output: tensorType('float32', [2, 3, 4]), tolerance: 0 },
  // written at version 2 (TFLite 2.9 refused version 1: "Didn't find op for builtin opcode 'BROADCAST_TO' version '1'")
  BROADCAST_TO: { op: 'BROADCAST_TO', inputs: [['x', ramp([3, 1], 2)]], constants: [['shape', i32([3], [2, 3, 4])]], output: tensorType('float32', [2, 3, 4]), tolerance: 0 },
  MATRIX_SET_DIAG_TALL: { op: 'MATRIX_SET_DIAG', inputs: [['x', ramp([4, 2], 2)], ['d', ramp([2], 9, 0.4)]], output: tensorType('float32', [4, 2]), tolerance: 0 },
};

describe('raise-tflite: tf2onnx op names, TFLite 2.9 vs ORT on the raised model', () => {
  for (const [label, c] of Object.entries(TFLITE_CASES)) {
    it(label, async () => {
      const expected = await onTflite(c);
      expectClose(await raisedOnOrt(c), expected, c.tolerance ?? 0, label);
    });
  }

  it('hand checks: L2 floor, REVERSE_V2, MATRIX_SET_DIAG tall', async () => {
    const l2 = (await raisedOnOrt(TFLITE_CASES.L2_NORMALIZATION!)).toNumbers();
    expect(l2[4]).toBeCloseTo(1e-8 / 1e-6, 6);
    expect(l2.slice(8)).toEqual([0, 0, 0, 0]);
    expect((await raisedOnOrt(TFLITE_CASES.REVERSE_V2_ONE!)).toNumbers()).toEqual([5, 6, 3, 4, 1, 2]);
    const tall = (await raisedOnOrt(TFLITE_CASES.MATRIX_SET_DIAG_TALL!)).toNumbers();
    const [x, d] = [TFLITE_CASES.MATRIX_SET_DIAG_TALL!.inputs[0]![1].toNumbers(), TFLITE_CASES.MATRIX_SET_DIAG_TALL!.inputs[1]![1].toNumbers()];
    expect(tall).toEqual(x.map((v, i) => (Math.floor(i / 2) === i % 2 ? d[i % 2]! : v)));
  });
});

// TFLite 2.9 has no ATAN2, BITWISE_XOR or RIGHT_SHIFT kernel ('builtin_code out of range': 156, 160, 161);
// REVERSE_V2's 2.9 kernel reverses axes[0] only (BROADCAST_TO is also in the TFLite cases above). Those are checked against values computed here (std::atan2, C++ >>, ^, numpy-style broadcast and flip).
describe('raise-tflite: ATAN2, BITWISE_XOR, RIGHT_SHIFT, BROADCAST_TO, REVERSE_V2 (two axes) against hand computation', () => {
  it('ATAN2: every quadrant, both axes, the origin, NaN', async () => {
    const atan = (await raisedOnOrt(ATAN2)).toNumbers();
    ATAN_Y.forEach((y, i) => (Number.isNaN(y) ? expect(atan[i]).toBeNaN() : expect(Math.abs(atan[i]! - Math.atan2(y, ATAN_X[i]!)), `atan2(${y}, ${ATAN_X[i]})`).toBeLessThanOrEqual(1e-6)));
  });

  it('BROADCAST_TO [3, 1] to [2, 3, 4]', async () => {
    const x = ramp([3, 1], 2);
    const c: Case = { op: 'BROADCAST_TO', inputs: [['x', x]], constants: [['shape', i32([3], [2, 3, 4])]], output: tensorType('float32', [2, 3, 4]) };
    const y = await raisedOnOrt(c);
    expect(y.shape).toEqual([2, 3, 4]);
    expect(y.toNumbers()).toEqual(Array.from({ length: 24 }, (_, i) => x.toNumbers()[Math.floor(i / 4) % 3]!));
  });

  it('REVERSE_V2 over two axes (0 and −1)', async () => {
    const x = ramp([2, 3, 4], 3);
    const c: Case = { op: 'REVERSE_V2', inputs: [['x', x]], constants: [['axes', i32([2], [0, -1])]], output: tensorType('float32', [2, 3, 4]) };
    const flipped = Array.from({ length: 24 }, (_, i) => x.toNumbers()[(1 - Math.floor(i / 12)) * 12 + (Math.floor(i / 4) % 3) * 4 + (3 - (i % 4))]!);
    expect((await raisedOnOrt(c)).toNumbers()).toEqual(flipped);
  });

  const xs = [0, 1, -1, 7, -7, 100, -100, 2147483647, -2147483648, 12345, -12345, 255];
  const ys = [0, 1, 1, 2, 2, 3, 3, 30, 31, 0, 5, 8];

  it('RIGHT_SHIFT int32: arithmetic for negatives', async () => {
    const c: Case = { op: 'RIGHT_SHIFT', inputs: [['x', i32([12], xs)], ['s', i32([12], ys)]], output: tensorType('int32', [12]) };
    expect((await raisedOnOrt(c)).toNumbers()).toEqual(xs.map((x, i) => x >> ys[i]!));
  });

  it('RIGHT_SHIFT int8 and uint16', async () => {
    const small = [-128, -127, -1, 0, 1, 127, -3, 64];
    const by = [7, 1, 3, 2, 0, 6, 1, 5];
    const c8: Case = { op: 'RIGHT_SHIFT', inputs: [['x', t('int8', [8], small)], ['s', t('int8', [8], by)]], output: tensorType('int8', [8]) };
    expect((await raisedOnOrt(c8)).toNumbers()).toEqual(small.map((x, i) => x >> by[i]!));
    const wide = [65535, 32768, 1, 0, 4660, 65535, 255, 1000];
    const c16: Case = { op: 'RIGHT_SHIFT', inputs: [['x', t('uint16', [8], wide)], ['s', t('uint16', [8], by)]], output: tensorType('uint16', [8]) };
    expect((await raisedOnOrt(c16)).toNumbers()).toEqual(wide.map((x, i) => x >>> by[i]!));
  });

  it('BITWISE_XOR int32 at opset 18', async () => {
    const c: Case = { op: 'BITWISE_XOR', inputs: [['a', i32([12], xs)], ['b', i32([12], ys.map((y, i) => y * 1000003 - i))]], output: tensorType('int32', [12]), opset: 18 };
    expect((await raisedOnOrt(c)).toNumbers()).toEqual(xs.map((x, i) => x ^ (ys[i]! * 1000003 - i)));
  });
});

describe('raise-tflite: refusals by node', () => {
  function refusal(c: Case): string {
    try {
      raiseFromTflite(oneNode(c), registerTfliteDialect(createOpRegistry()), { opset: c.opset ?? 13 });
    } catch (error) {
      expect(ModelpassError.is(error)).toBe(true);
      return (error as Error).message;
    }
    return 'raised';
  }

  it('COMPLEX_ABS: no ONNX operator computes on complex values', () => {
    const c: Case = { op: 'COMPLEX_ABS', inputs: [['z', Tensor.fromValues('complex64', [3], [3, 4, 0, 1, -5, 12])]], output: tensorType('float32', [3]) };
    expect(refusal(c)).toMatch(/node 'out' \(tflite\.COMPLEX_ABS\).*complex64.*no operator that computes on complex values/);
  });

  it('BITWISE_XOR below opset 18', () => {
    const c: Case = { op: 'BITWISE_XOR', inputs: [['a', i32([2], [1, 2])], ['b', i32([2], [3, 4])]], output: tensorType('int32', [2]), opset: 13 };
    expect(refusal(c)).toMatch(/node 'out' \(tflite\.BITWISE_XOR\).*opset 18.*raise-tflite\{opset=18\}/);
  });

  it('L2_NORMALIZATION with a fused activation (TFLite itself refuses it)', () => {
    const c: Case = { op: 'L2_NORMALIZATION', inputs: [['x', ramp([2, 3], 1)]], output: tensorType('float32', [2, 3]), attributes: { fused_activation_function: attrs.string('RELU') } };
    expect(refusal(c)).toMatch(/node 'out' \(tflite\.L2_NORMALIZATION\).*fused activation RELU.*NONE only/);
  });

  it('REVERSE_V2 with run-time axes', () => {
    const c: Case = { op: 'REVERSE_V2', inputs: [['x', ramp([2, 3], 1)], ['axes', i32([1], [0])]], output: tensorType('float32', [2, 3]) };
    expect(refusal(c)).toMatch(/node 'out' \(tflite\.REVERSE_V2\).*axes must be a constant/);
  });
});
