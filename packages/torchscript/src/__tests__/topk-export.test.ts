/**
 * TopK written as TorchScript, torch.topk (QA s12: a detection post-processing graph and a packed-sequence
 * LSTM could not be written as .pt: 'no torch.* spelling for onnx.TopK'). Values and int64 indices; K
 * a constant or computed at run time (Shape(x)[2] − 1); largest and smallest; any axis. Referees: ONNX
 * Runtime on the model, Debian torch on the archive (values within 1e-6, indices equal); the archive
 * also reads back into modelpass with the same numbers.
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
const dir = mkdtempSync(join(tmpdir(), 'modelpass-topk-export-'));
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

function topK(k: (b: GraphBuilder, x: Value) => Value, attributes: Record<string, ReturnType<typeof attrs.int>> = {}): Case['build'] {
  return (b, x) => {
    const [values, indices] = b.op('onnx.TopK', [x, k(b, x)], attributes, { outputs: 2 });
    return b.op1('onnx.Concat', [values!, b.op1('onnx.Cast', [indices!], { to: attrs.int(1) })], { axis: attrs.int(0) });
  };
}
const constantK = (k: number) => (b: GraphBuilder) => b.constant(i64([k]), 'k');

const CASES: Case[] = [
  { name: 'TopK k=3 over the last axis, largest', input: [2, 3, 7], build: topK(constantK(3)) },
  { name: 'TopK k=2 over axis 1, smallest', input: [2, 5, 4], build: topK(constantK(2), { axis: attrs.int(1), largest: attrs.int(0) }) },
  {
    name: 'TopK with K computed at run time (Shape(x)[2] - 1)',
    input: [1, 2, 6],
    build: topK((b, x) => b.op1('onnx.Sub', [b.op1('onnx.Slice', [b.op1('onnx.Shape', [x]), b.constant(i64([2]), 's'), b.constant(i64([3]), 'e')]), b.constant(i64([1]), 'one')])),
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
