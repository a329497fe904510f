/**
 * Trilu and Softplus written as TorchScript (QA s12: a TransformerDecoder with a causal mask (triu) and a
 * Mish activation (x·tanh(softplus(x))) could not be written as .pt: 'no torch.* spelling for onnx.Trilu /
 * onnx.Softplus'). Referees: ONNX Runtime on the model, Debian torch on the archive; the archive also
 * reads back into modelpass with the same numbers.
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
const dir = mkdtempSync(join(tmpdir(), 'modelpass-trilu-softplus-export-'));
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
  { name: 'Trilu upper, k = 1', input: [2, 4, 5], build: (b, x) => b.op1('onnx.Trilu', [x, b.constant(Tensor.fromValues('int64', [], [1n]), 'k')]) },
  { name: 'Trilu lower, k = -1', input: [3, 4], build: (b, x) => b.op1('onnx.Trilu', [x, b.constant(Tensor.fromValues('int64', [], [-1n]), 'k')], { upper: attrs.int(0) }) },
  { name: 'Trilu upper without k (main diagonal kept)', input: [4, 4], build: (b, x) => b.op1('onnx.Trilu', [x]) },
  { name: 'Softplus over [-2, 3] and Mish', input: [2, 3, 4], build: (b, x) => b.op1('onnx.Mul', [x, b.op1('onnx.Tanh', [b.op1('onnx.Softplus', [x])])]) },
  { name: 'Softplus of large inputs (30·x)', input: [2, 5], build: (b, x) => b.op1('onnx.Softplus', [b.op1('onnx.Mul', [x, b.constant(Tensor.scalar('float32', 30), 'thirty')])]) },
];

const modelOf = (c: Case): Model => {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', c.input));
  b.output(c.build(b, x));
  return b.model({ onnx: 14 });
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
    expect(maxAbs(readNpy(join(dir, `${fileName(c)}.0.npy`)), expected)).toBeLessThan(1e-5 * (1 + Math.max(...expected.toNumbers().map(Math.abs))));
    const imported = readTorchScript(join(dir, `${fileName(c)}.pt`), { inputs: { x: { shape: c.input } } });
    expect(maxAbs([...(await runOrt(imported, feeds)).values()][0]!, expected)).toBeLessThan(1e-5);
  }, 60_000);
});
