/**
 * PRelu, LeakyRelu, Elu, ReduceL2 and CumSum written as TorchScript (QA s12: a small conv net with PReLU,
 * leaky_relu, elu, F.normalize and cumsum was refused as .pt: 'no torch.* spelling for onnx.PRelu; …').
 * Referees: ONNX Runtime on the model, Debian torch on the archive; the archive also reads back into modelpass.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { readNpy, runOrt, writeNpy } from '@modelpass/runtime';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';
import { runPython } from './torch/torch-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'modelpass-activations-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function seeded(shape: number[], seed: number, lo = -0.5, hi = 0.5): Tensor {
  let state = seed;
  const count = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return lo + (hi - lo) * (state / 2 ** 32);
  }));
}

interface Case {
  readonly name: string;
  readonly input: number[];
  readonly build: (b: GraphBuilder, x: Value) => Value;
}

const CASES: Case[] = [
  { name: 'PRelu with a [C, 1, 1] slope', input: [2, 3, 4, 5], build: (b, x) => b.op1('onnx.PRelu', [x, b.constant(seeded([3, 1, 1], 5), 'slope')]) },
  { name: 'LeakyRelu alpha 0.2', input: [2, 6], build: (b, x) => b.op1('onnx.LeakyRelu', [x], { alpha: attrs.float(0.2) }) },
  { name: 'Elu alpha 0.5', input: [2, 6], build: (b, x) => b.op1('onnx.Elu', [x], { alpha: attrs.float(0.5) }) },
  { name: 'ReduceL2 over axis 1, keepdims', input: [2, 3, 4], build: (b, x) => b.op1('onnx.ReduceL2', [x], { axes: attrs.ints([1]) }) },
  { name: 'ReduceL2 over every axis, keepdims 0', input: [2, 3], build: (b, x) => b.op1('onnx.ReduceL2', [x], { keepdims: attrs.int(0) }) },
  { name: 'CumSum over axis -1', input: [2, 5], build: (b, x) => b.op1('onnx.CumSum', [x, b.constant(Tensor.fromValues('int64', [], [-1n]), 'axis')]) },
  { name: 'CumSum exclusive over axis 0', input: [4, 3], build: (b, x) => b.op1('onnx.CumSum', [x, b.constant(Tensor.fromValues('int64', [], [0n]), 'axis')], { exclusive: attrs.int(1) }) },
];

const modelOf = (c: Case): Model => {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', c.input));
  b.output(c.build(b, x));
  return b.model({ onnx: 13 });
};
const fileName = (c: Case): string => c.name.replace(/[^A-Za-z0-9]+/g, '_').slice(0, 60);
const inputOf = (c: Case): Tensor => seeded(c.input, 7, -2, 3);

beforeAll(() => {
  const manifest = CASES.map((c) => {
    const name = fileName(c);
    writeTorchScript(modelOf(c), join(dir, `${name}.pt`));
    writeNpy(inputOf(c), join(dir, `${name}.input.npy`));
    return { archive: join(dir, `${name}.pt`), runs: [{ inputs: [join(dir, `${name}.input.npy`)], out: join(dir, name) }] };
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  runPython(join(here, 'torch/run-many.py'), [join(dir, 'manifest.json')], 300_000);
}, 300_000);

function maxAbs(a: Tensor, e: Tensor): number {
  expect(a.shape).toEqual(e.shape);
  const x = a.toNumbers();
  const y = e.toNumbers();
  return Math.max(0, ...x.map((v, i) => Math.abs(v - y[i]!)));
}

describe.each(CASES)('$name', (c) => {
  it('runs in torch within 1e-5 of ONNX Runtime, and reads back into modelpass with the same numbers', async () => {
    const model = modelOf(c);
    const feeds = { x: inputOf(c) };
    const expected = [...(await runOrt(model, feeds)).values()][0]!;
    expect(maxAbs(readNpy(join(dir, `${fileName(c)}.0.npy`)), expected)).toBeLessThan(1e-5);
    const imported = readTorchScript(join(dir, `${fileName(c)}.pt`), { inputs: { x: { shape: c.input } } });
    expect(maxAbs([...(await runOrt(imported, feeds)).values()][0]!, expected)).toBeLessThan(1e-5);
  }, 60_000);
});
