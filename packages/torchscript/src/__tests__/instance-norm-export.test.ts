/**
 * InstanceNormalization written as TorchScript (QA s12: a UNet with InstanceNorm2d and GroupNorm —
 * torch exports GroupNorm as Reshape → InstanceNormalization → Reshape — could not be written as .pt:
 * 'no torch.* spelling for onnx.InstanceNormalization'). Referees: ONNX Runtime on the model, Debian
 * torch on the archive; the archive also reads back into modelpass with the same numbers.
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
const dir = mkdtempSync(join(tmpdir(), 'modelpass-instance-norm-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function seeded(shape: number[], seed: number, lo = -0.5, hi = 0.5): Tensor {
  let state = seed;
  const count = shape.reduce((a, b) => a * b, 1);
  return Tensor.fromValues('float32', shape, Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return lo + (hi - lo) * (state / 2 ** 32);
  }));
}
const i64 = (values: number[]) => Tensor.fromValues('int64', [values.length], values.map((v) => BigInt(v)));

interface Case {
  readonly name: string;
  readonly input: number[];
  readonly build: (b: GraphBuilder, x: Value) => Value;
}

const norm = (b: GraphBuilder, x: Value, channels: number, seed: number, epsilon = 1e-5) =>
  b.op1('onnx.InstanceNormalization', [x, b.constant(seeded([channels], seed, 0.5, 1.5), 'scale'), b.constant(seeded([channels], seed + 1), 'bias')], { epsilon: attrs.float(epsilon) });

const CASES: Case[] = [
  { name: 'InstanceNormalization 2-D (rank 4), epsilon 1e-3', input: [2, 3, 4, 5], build: (b, x) => norm(b, x, 3, 11, 1e-3) },
  { name: 'InstanceNormalization 1-D (rank 3)', input: [2, 4, 6], build: (b, x) => norm(b, x, 4, 13) },
  { name: 'InstanceNormalization 3-D (rank 5)', input: [1, 2, 3, 4, 3], build: (b, x) => norm(b, x, 2, 15) },
  {
    name: 'torch GroupNorm export: Reshape [0, G, -1] → InstanceNormalization → Reshape(Shape(x)) → Mul → Add',
    input: [2, 6, 3, 3],
    build: (b, x) => {
      const normalized = norm(b, b.op1('onnx.Reshape', [x, b.constant(i64([0, 3, -1]), 'grouped')]), 3, 17);
      const back = b.op1('onnx.Reshape', [normalized, b.op1('onnx.Shape', [x])]);
      return b.op1('onnx.Add', [b.op1('onnx.Mul', [back, b.constant(seeded([6, 1, 1], 19, 0.5, 1.5), 'gamma')]), b.constant(seeded([6, 1, 1], 20), 'beta')]);
    },
  },
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
