/**
 * ScatterElements written as TorchScript (QA s12: a packed-sequence LSTM, whose pack_padded_sequence exports an
 * inverse permutation by ScatterElements, could not be written as .pt: 'no torch.* spelling for
 * onnx.ScatterElements'). torch.scatter / scatter_add along the axis, negative indices (ONNX counts them from the
 * end) wrapped. Referees: ONNX Runtime on the model, Debian torch on the archive; the archive also reads back.
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
const dir = mkdtempSync(join(tmpdir(), 'modelpass-scatter-elements-export-'));
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
  readonly opset?: number;
  readonly build: (b: GraphBuilder, x: Value) => Value;
}

const indices = (values: number[], shape: number[]) => Tensor.fromValues('int64', shape, values.map((v) => BigInt(v)));

const CASES: Case[] = [
  {
    name: 'ScatterElements axis 1, constant indices with a negative one',
    input: [2, 4],
    build: (b, x) => b.op1('onnx.ScatterElements', [x, b.constant(indices([0, -1, 2, 1], [2, 2]), 'idx'), b.constant(seeded([2, 2], 3), 'upd')], { axis: attrs.int(1) }),
  },
  {
    name: 'ScatterElements axis -2, reduction add, repeated constant indices',
    input: [3, 2],
    opset: 16,
    build: (b, x) => b.op1('onnx.ScatterElements', [x, b.constant(indices([1, 0, 1, 1], [2, 2]), 'idx'), b.constant(seeded([2, 2], 4), 'upd')], { axis: attrs.int(-2), reduction: attrs.string('add') }),
  },
  {
    name: 'ScatterElements with indices computed at run time (an inverse permutation, as pack_padded_sequence exports)',
    input: [5],
    build: (b, x) => {
      const order = b.op('onnx.TopK', [x, b.constant(indices([5], [1]), 'k')], {}, { outputs: 2 })[1]!;
      const positions = b.constant(indices([0, 1, 2, 3, 4], [5]), 'positions');
      const inverse = b.op1('onnx.ScatterElements', [positions, order, positions], { axis: attrs.int(0) });
      return b.op1('onnx.Cast', [inverse], { to: attrs.int(1) });
    },
  },
];

const modelOf = (c: Case): Model => {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', c.input));
  b.output(c.build(b, x));
  return b.model({ onnx: c.opset ?? 13 });
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
