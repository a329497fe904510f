/**
 * ONNX GRU/LSTM written as `torch.gru`/`torch.lstm`: every direction, both layouts, with and without
 * biases and initial states. Referees: ONNX Runtime (layout 0; its CPU kernels refuse layout 1) or the
 * reference interpreter (layout 1) for the ONNX side, Debian torch running the written archive.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphBuilder, ModelpassError, Tensor, tensorType, toAttributes, type Model } from '@modelpass/ir';
import { runReference } from '@modelpass/ops';
import { readNpy, runOrt, writeNpy } from '@modelpass/runtime';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';
import { runPython } from './torch/torch-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'modelpass-recurrent-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic values in [-0.5, 0.5). */
function seeded(shape: number[], seed: number): Tensor {
  let state = seed;
  const count = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: count }, () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 2 ** 32 - 0.5;
  });
  return Tensor.fromValues('float32', shape, values);
}

interface Case {
  cell: 'GRU' | 'LSTM';
  direction: 'forward' | 'reverse' | 'bidirectional';
  layout: 0 | 1;
  bias: boolean;
  initial: boolean;
}

const [SEQ, BATCH, IN, HIDDEN] = [5, 3, 4, 6];

function recurrentModel(c: Case): Model {
  const dirs = c.direction === 'bidirectional' ? 2 : 1;
  const gates = c.cell === 'GRU' ? 3 : 4;
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', c.layout === 0 ? [SEQ, BATCH, IN] : [BATCH, SEQ, IN]));
  const w = b.constant(seeded([dirs, gates * HIDDEN, IN], 1), 'W');
  const r = b.constant(seeded([dirs, gates * HIDDEN, HIDDEN], 2), 'R');
  const bias = c.bias ? b.constant(seeded([dirs, 2 * gates * HIDDEN], 3), 'B') : null;
  const stateShape = c.layout === 0 ? [dirs, BATCH, HIDDEN] : [BATCH, dirs, HIDDEN];
  const states = c.initial ? (c.cell === 'GRU' ? [4] : [4, 5]).map((seed) => b.constant(seeded(stateShape, seed), `state${seed}`)) : [];
  const inputs = [x, w, r, bias, null, ...states];
  const attributes = { hidden_size: HIDDEN, direction: c.direction, layout: c.layout, ...(c.cell === 'GRU' ? { linear_before_reset: 1 } : {}) };
  const node = b.node(`onnx.${c.cell}`, inputs, toAttributes(`onnx.${c.cell}`, attributes), { outputs: c.cell === 'GRU' ? 2 : 3 });
  b.output(...node.outputs.map((o) => o!));
  return b.model({ onnx: 14 });
}

const CASES: Case[] = [
  { cell: 'GRU', direction: 'forward', layout: 0, bias: true, initial: false },
  { cell: 'GRU', direction: 'reverse', layout: 0, bias: true, initial: true },
  { cell: 'GRU', direction: 'bidirectional', layout: 0, bias: false, initial: true },
  { cell: 'GRU', direction: 'bidirectional', layout: 1, bias: true, initial: true },
  { cell: 'LSTM', direction: 'forward', layout: 0, bias: false, initial: false },
  { cell: 'LSTM', direction: 'bidirectional', layout: 0, bias: true, initial: true },
  { cell: 'LSTM', direction: 'reverse', layout: 1, bias: true, initial: false },
];

const caseName = (c: Case): string => `${c.cell}-${c.direction}-${c.layout}-${c.bias}-${c.initial}`;
const inputOf = (c: Case): Tensor => seeded(c.layout === 0 ? [SEQ, BATCH, IN] : [BATCH, SEQ, IN], 7);

// Every case is written first and run by torch in one process (torch's start-up is the slow part).
beforeAll(() => {
  const manifest = CASES.map((c) => {
    const name = caseName(c);
    writeTorchScript(recurrentModel(c), join(dir, `${name}.pt`));
    writeNpy(inputOf(c), join(dir, `${name}.input.npy`));
    return { archive: join(dir, `${name}.pt`), runs: [{ inputs: [join(dir, `${name}.input.npy`)], out: join(dir, name) }] };
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifest));
  runPython(join(here, 'torch/run-many.py'), [join(dir, 'manifest.json')], 300_000);
}, 300_000);

describe.each(CASES)('onnx.$cell $direction layout=$layout bias=$bias initial=$initial', (c) => {
  it('is written as TorchScript that torch runs within 1e-4 of the ONNX semantics', async () => {
    const model = recurrentModel(c);
    const input = inputOf(c);
    // ORT's CPU GRU/LSTM refuse layout 1: the reference interpreter is the referee there.
    const expected = c.layout === 0
      ? [...(await runOrt(model, { x: input })).values()]
      : [...runReference(model, { x: input }).values()].map((value) => value as Tensor);
    expect(expected).toHaveLength(c.cell === 'GRU' ? 2 : 3);
    expected.forEach((tensor, index) => {
      const actual = readNpy(join(dir, `${caseName(c)}.${index}.npy`));
      expect(actual.shape).toEqual(tensor.shape);
      const a = actual.toNumbers();
      const e = tensor.toNumbers();
      expect(Math.max(...a.map((v, i) => Math.abs(v - e[i]!)))).toBeLessThan(1e-4);
    });
  }, 60_000);
});

describe('weights given as graph inputs (as ONNX test models do)', () => {
  /** LSTM/GRU whose W, R and B are graph inputs: written as forward arguments, which the importer must read back. */
  function weightsAsInputs(cell: 'GRU' | 'LSTM', bidirectional: boolean): { model: Model; feeds: Record<string, Tensor> } {
    const dirs = bidirectional ? 2 : 1;
    const gates = cell === 'GRU' ? 3 : 4;
    const feeds: Record<string, Tensor> = {
      X: seeded([SEQ, BATCH, IN], 11),
      W: seeded([dirs, gates * HIDDEN, IN], 12),
      R: seeded([dirs, gates * HIDDEN, HIDDEN], 13),
      B: seeded([dirs, 2 * gates * HIDDEN], 14),
    };
    const b = new GraphBuilder();
    const inputs = Object.entries(feeds).map(([name, tensor]) => b.input(name, tensorType('float32', [...tensor.shape])));
    const attributes = { hidden_size: HIDDEN, direction: bidirectional ? 'bidirectional' : 'forward', ...(cell === 'GRU' ? { linear_before_reset: 1 } : {}) };
    const node = b.node(`onnx.${cell}`, inputs, toAttributes(`onnx.${cell}`, attributes), { outputs: 2 });
    b.output(node.outputs[1]!);
    return { model: b.model({ onnx: 14 }), feeds };
  }

  it.each([['LSTM', false], ['GRU', true]] as const)('%s (bidirectional=%s): the .pt keeps the input names and reads back with the same numbers', async (cell, bidirectional) => {
    const { model, feeds } = weightsAsInputs(cell, bidirectional);
    const path = join(dir, `${cell}-weights-as-inputs.pt`);
    writeTorchScript(model, path);
    const shapes = Object.fromEntries(Object.entries(feeds).map(([name, tensor]) => [name, { shape: [...tensor.shape] }]));
    const imported = readTorchScript(path, { inputs: shapes });
    expect(imported.graph.inputs.map((value) => value.name)).toEqual(['X', 'W', 'R', 'B']);
    const expected = [...(await runOrt(model, feeds)).values()][0]!.toNumbers();
    const actual = [...(await runOrt(imported, feeds)).values()][0]!.toNumbers();
    expect(actual).toHaveLength(expected.length);
    expect(Math.max(...actual.map((v, i) => Math.abs(v - expected[i]!)))).toBeLessThan(1e-5);
    // Without shapes given, the ones the archive records (extra/modelpass.json) regroup the gates: the same numbers.
    const recorded = [...(await runOrt(readTorchScript(path), feeds)).values()][0]!.toNumbers();
    expect(Math.max(...recorded.map((v, i) => Math.abs(v - expected[i]!)))).toBeLessThan(1e-5);
    // With W's sizes unknown the gate layout cannot be regrouped: the error says which argument and how to give it.
    expect(() => readTorchScript(path, { inputs: { W: { shape: ['dirs', 'rows', 'in'] } } })).toThrow(/run-time tensor of unknown shape[\s\S]*--input-shape/);
  });
});

describe('what torch.gru/lstm cannot compute is refused by name before anything is written', () => {
  it.each([
    ['GRU with linear_before_reset=0', 'GRU', { linear_before_reset: 0 }, /linear_before_reset=0/],
    ['custom activations', 'LSTM', { activations: ['Relu', 'Tanh', 'Tanh'] }, /activations \[Relu, Tanh, Tanh\]/],
    ['cell clipping', 'LSTM', { clip: 3 }, /clip/],
  ] as const)('%s', (_, cell, extra, message) => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [SEQ, BATCH, IN]));
    const gates = cell === 'GRU' ? 3 : 4;
    const w = b.constant(seeded([1, gates * HIDDEN, IN], 1), 'W');
    const r = b.constant(seeded([1, gates * HIDDEN, HIDDEN], 2), 'R');
    const node = b.node(`onnx.${cell}`, [x, w, r], toAttributes(`onnx.${cell}`, { hidden_size: HIDDEN, ...(cell === 'GRU' ? { linear_before_reset: 1 } : {}), ...extra }), { outputs: 2 });
    b.output(node.output(0));
    const path = join(dir, 'refused.pt');
    const error = (() => {
      try {
        writeTorchScript(b.model({ onnx: 14 }), path);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ModelpassError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).toContain(`onnx.${cell}`);
  });
});
