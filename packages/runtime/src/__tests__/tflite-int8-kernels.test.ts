// Which TFLite 2.9 builtins (tfjs-tflite-node, the runtime TfliteEngine runs) have int8 kernels for a transformer's
// LayerNorm, GELU, Softmax and attention (issue 12): one op a file, int8 per-tensor tensors in and out, fed seeded
// codes and compared with the op computed in float64 on the dequantized inputs, requantized with the output's
// parameters. All eleven run in int8 in 2.9 and agree within 2 output steps (RSQRT's input must be positive reals,
// SOFTMAX/LOGISTIC take output 1/256 with zero point -128, TANH 1/128 with 0); legalize-tflite's int8 lowerings of
// LayerNorm (MEAN, SUB, MUL, RSQRT), GELU (builtin 150) and attention (BATCH_MATMUL, SOFTMAX) rest on them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, Tensor, attrs, tensorType, type Attribute, type QuantParams } from '@modelpass/ir';
import { writeTflite } from '@modelpass/tflite';
import { SeededRandom, TfliteEngine } from '@modelpass/runtime';

const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-int8-kernels-'));
const engine = new TfliteEngine();
afterAll(async () => {
  await engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const q = (scale: number, zeroPoint: number): QuantParams => ({ scale: [Math.fround(scale)], zeroPoint: [zeroPoint] });
const real = (code: number, p: QuantParams) => (code - p.zeroPoint[0]!) * p.scale[0]!;
const code = (value: number, p: QuantParams) => Math.max(-128, Math.min(127, Math.round(value / p.scale[0]! + p.zeroPoint[0]!)));

interface Operand {
  readonly shape: number[];
  readonly quant: QuantParams;
  /** Codes drawn in [low, high]. */
  readonly low: number;
  readonly high: number;
}

interface Case {
  readonly op: string;
  readonly inputs: Operand[];
  readonly output: { shape: number[]; quant: QuantParams };
  readonly attributes?: Record<string, Attribute>;
  /** int32 constant operands after the activations (MEAN's axes). */
  readonly constants?: Tensor[];
  /** The op in float64 on the dequantized inputs (row-major values). */
  readonly reference: (inputs: number[][]) => number[];
}

const NONE = { fused_activation_function: attrs.string('NONE') };
const elementwise = (f: (a: number, b: number) => number) => (inputs: number[][]) => inputs[0]!.map((a, i) => f(a, inputs[1]![i]!));
const erf = (x: number) => {
  // The Maclaurin series of erf (|x| ≤ 6 here: 80 terms are far past float64 precision).
  let sum = 0;
  let term = x;
  for (let n = 0; n < 80; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
};

const ROWS = [2, 6, 8];
const CASES: Case[] = [
  { op: 'ADD', inputs: [{ shape: ROWS, quant: q(0.05, 3), low: -128, high: 127 }, { shape: ROWS, quant: q(0.03, -7), low: -128, high: 127 }], output: { shape: ROWS, quant: q(0.08, 0) }, attributes: NONE, reference: elementwise((a, b) => a + b) },
  { op: 'SUB', inputs: [{ shape: ROWS, quant: q(0.05, 3), low: -128, high: 127 }, { shape: ROWS, quant: q(0.03, -7), low: -128, high: 127 }], output: { shape: ROWS, quant: q(0.08, 0) }, attributes: NONE, reference: elementwise((a, b) => a - b) },
  { op: 'MUL', inputs: [{ shape: ROWS, quant: q(0.05, 3), low: -128, high: 127 }, { shape: ROWS, quant: q(0.03, -7), low: -128, high: 127 }], output: { shape: ROWS, quant: q(0.1, -5) }, attributes: NONE, reference: elementwise((a, b) => a * b) },
  { op: 'SQUARED_DIFFERENCE', inputs: [{ shape: ROWS, quant: q(0.05, 3), low: -128, high: 127 }, { shape: ROWS, quant: q(0.03, -7), low: -128, high: 127 }], output: { shape: ROWS, quant: q(0.3, -128), }, reference: elementwise((a, b) => (a - b) ** 2) },
  {
    op: 'MEAN', inputs: [{ shape: ROWS, quant: q(0.05, 3), low: -128, high: 127 }], output: { shape: [2, 6, 1], quant: q(0.02, 1) }, attributes: { keep_dims: attrs.int(1) },
    constants: [Tensor.fromValues('int32', [1], [2])],
    reference: ([x]) => Array.from({ length: 12 }, (_, r) => x!.slice(r * 8, r * 8 + 8).reduce((s, v) => s + v, 0) / 8),
  },
  { op: 'RSQRT', inputs: [{ shape: ROWS, quant: q(0.02, -128), low: -120, high: 127 }], output: { shape: ROWS, quant: q(0.012, -128) }, reference: ([x]) => x!.map((v) => 1 / Math.sqrt(v)) },
  { op: 'GELU', inputs: [{ shape: ROWS, quant: q(0.04, 10), low: -128, high: 127 }], output: { shape: ROWS, quant: q(0.022, -100) }, attributes: { approximate: attrs.int(0) }, reference: ([x]) => x!.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))) },
  {
    op: 'SOFTMAX', inputs: [{ shape: ROWS, quant: q(0.07, 2), low: -128, high: 127 }], output: { shape: ROWS, quant: q(1 / 256, -128) }, attributes: { beta: attrs.float(1) },
    reference: ([x]) => x!.map((_, i) => {
      const row = x!.slice(i - (i % 8), i - (i % 8) + 8);
      const max = Math.max(...row);
      return Math.exp(x![i]! - max) / row.reduce((s, v) => s + Math.exp(v - max), 0);
    }),
  },
  {
    op: 'BATCH_MATMUL', inputs: [{ shape: [2, 6, 8], quant: q(0.03, -4), low: -128, high: 127 }, { shape: [2, 8, 5], quant: q(0.02, 6), low: -128, high: 127 }], output: { shape: [2, 6, 5], quant: q(0.06, 2) },
    attributes: { adj_x: attrs.int(0), adj_y: attrs.int(0), asymmetric_quantize_inputs: attrs.int(0) },
    reference: ([a, b]) => Array.from({ length: 60 }, (_, i) => {
      const batch = Math.floor(i / 30);
      const row = Math.floor((i % 30) / 5);
      const col = i % 5;
      let sum = 0;
      for (let k = 0; k < 8; k++) sum += a![batch * 48 + row * 8 + k]! * b![batch * 40 + k * 5 + col]!;
      return sum;
    }),
  },
  { op: 'LOGISTIC', inputs: [{ shape: ROWS, quant: q(0.05, 0), low: -128, high: 127 }], output: { shape: ROWS, quant: q(1 / 256, -128) }, reference: ([x]) => x!.map((v) => 1 / (1 + Math.exp(-v))) },
  { op: 'TANH', inputs: [{ shape: ROWS, quant: q(0.03, 0), low: -128, high: 127 }], output: { shape: ROWS, quant: q(1 / 128, 0) }, reference: ([x]) => x!.map(Math.tanh) },
];

/** Builds the one-op .tflite and runs it on seeded codes; returns the largest difference from the reference, in output steps. */
async function stepsFromReference(entry: Case, seed: number): Promise<number> {
  const g = new Graph('main');
  const random = new SeededRandom(seed);
  const codes = entry.inputs.map((operand) => Array.from({ length: operand.shape.reduce((n, d) => n * d, 1) }, () => Math.floor(random.uniform(operand.low, operand.high + 1))));
  const inputs = entry.inputs.map((operand, i) => g.addInput(`x${i}`, tensorType('int8', operand.shape, operand.quant)));
  const constants = (entry.constants ?? []).map((tensor, i) => g.addConstant(`c${i}`, tensor));
  const node = g.createNode({ op: `tflite.${entry.op}`, inputs: [...inputs, ...constants], outputs: [{ name: 'y', type: tensorType('int8', entry.output.shape, entry.output.quant) }], attributes: entry.attributes ?? {} });
  g.setOutputs([node.output(0)]);
  const model = new Model(g);
  model.opsetImports.set('tflite', 3);
  const path = join(dir, `${entry.op}.tflite`);
  writeTflite(model, path);
  const feeds = new Map(entry.inputs.map((operand, i) => [`x${i}`, Tensor.fromValues('int8', operand.shape, codes[i]!)] as const));
  const [result] = [...(await engine.run(path, feeds)).values()];
  const expected = entry.reference(codes.map((values, i) => values.map((c) => real(c, entry.inputs[i]!.quant)))).map((v) => code(v, entry.output.quant));
  const actual = result!.toNumbers();
  expect(result!.dtype).toBe('int8');
  expect(actual.length).toBe(expected.length);
  return Math.max(...actual.map((v, i) => Math.abs(v - expected[i]!)));
}

describe('TFLite 2.9 int8 kernels for a transformer (one op a file, against float64 on the dequantized codes)', () => {
  for (const entry of CASES) {
    it(`${entry.op} int8 within 2 output steps`, async () => {
      for (const seed of [5, 17]) expect(await stepsFromReference(entry, seed)).toBeLessThanOrEqual(2);
    });
  }
});
