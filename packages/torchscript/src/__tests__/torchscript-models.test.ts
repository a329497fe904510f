/**
 * TorchScript ⇄ IR on real architectures, refereed by ONNX Runtime and torch.jit.load: a fixed set
 * (the fashion fixtures) plus a seeded sample of torchvision nets (MODELPASS_SAMPLE_SEED picks
 * another sample; tools/bench/torchscript runs them all).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { readNpy, runOrt } from '@modelpass/runtime';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';
import { makeModelFixtures, seededSample, TORCHVISION_SAMPLE_POOL, type ModelFixtures } from './torch/model-fixtures.js';
import { runPython } from './torch/torch-fixtures.js';

const here = dirname(fileURLToPath(import.meta.url));
const seed = Number(process.env['MODELPASS_SAMPLE_SEED'] ?? 13);
const sample = ['fashion_cnn', 'fashion_mlp', ...seededSample(TORCHVISION_SAMPLE_POOL, 2, seed)];
/** Sequence models: [name, mode, also written back to TorchScript]. Their input shape is given (ranks and size checks need it). */
const SEQUENCE_CASES: Array<[string, 'scripted' | 'traced', boolean]> = [
  ['gru_tagger', 'scripted', true],
  ['gru_tagger', 'traced', true],
  ['lstm_tagger', 'scripted', true],
  ['lstm_tagger', 'traced', true],
  ['fashion_transformer', 'traced', true],
  ['torch_encoder', 'traced', true],
  ['torch_encoder', 'scripted', true],
];
/** Sequence models whose torch.onnx.export ONNX (GRU/LSTM nodes) is written as TorchScript. */
const RECURRENT_ONNX = ['gru_tagger', 'lstm_tagger'];
const TOLERANCE = 1e-4;

let fx: ModelFixtures;

/** Archives written from the IR; torch runs them all in one process (its start-up is the slow part). */
interface TorchRun {
  written: string;
  input: string;
  expected: string;
  error?: unknown;
}
const torchRuns = new Map<string, TorchRun>();

function writeForTorch(key: string, input: string, expected: string, write: (path: string) => void): void {
  const written = join(fx.dir, `${key}.pt`);
  try {
    write(written);
    torchRuns.set(key, { written, input, expected });
  } catch (error) {
    torchRuns.set(key, { written, input, expected, error });
  }
}

/** Worst |torch(written archive) − torch(original)| of a prepared run; its write or torch's error is thrown. */
function torchDifference(key: string): number {
  const run = torchRuns.get(key);
  if (!run) throw new Error(`no torch run was prepared for ${key}`);
  if (run.error) throw run.error;
  const failure = join(fx.dir, `${key}.error.txt`);
  if (existsSync(failure)) throw new Error(`torch could not run ${run.written}:\n${readFileSync(failure, 'utf8')}`);
  return maxDifference(readNpy(join(fx.dir, `${key}.0.npy`)), readNpy(run.expected));
}

const givenShape = (name: string) => ({ inputs: [{ shape: readNpy(fx.input(name)).shape }] });

beforeAll(() => {
  fx = makeModelFixtures([...sample, ...new Set(SEQUENCE_CASES.map(([name]) => name))]);
  for (const name of sample) {
    for (const mode of ['scripted', 'traced'] as const) {
      writeForTorch(`${name}.${mode}.rewritten`, fx.input(name), fx.expected(name, mode), (path) => writeTorchScript(readTorchScript(fx.archive(name, mode)), path));
    }
    writeForTorch(`${name}.from-onnx`, fx.input(name), fx.expected(name, 'scripted'), (path) => writeTorchScript(readOnnx(fx.onnx(name)), path));
  }
  for (const [name, mode, writeBack] of SEQUENCE_CASES) {
    if (writeBack) writeForTorch(`${name}.${mode}.sequence-rewritten`, fx.input(name), fx.expected(name, mode), (path) => writeTorchScript(readTorchScript(fx.archive(name, mode), givenShape(name)), path));
  }
  for (const name of RECURRENT_ONNX) {
    writeForTorch(`${name}.recurrent-from-onnx`, fx.input(name), fx.expected(name, 'scripted'), (path) => writeTorchScript(readOnnx(fx.onnx(name)), path));
  }
  const manifest = [...torchRuns].filter(([, run]) => !run.error).map(([key, run]) => ({ archive: run.written, runs: [{ inputs: [run.input], out: join(fx.dir, key) }] }));
  writeFileSync(join(fx.dir, 'torch-runs.json'), JSON.stringify(manifest));
  runPython(join(here, 'torch/run-many.py'), [join(fx.dir, 'torch-runs.json')], 600_000);
}, 1_200_000);
afterAll(() => fx?.cleanup());

function maxDifference(actual: Tensor, expected: Tensor): number {
  expect(actual.shape).toEqual(expected.shape);
  const a = actual.toNumbers();
  const b = expected.toNumbers();
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe.each(sample)(`%s (sample seed ${seed})`, (name) => {
  it.each(['scripted', 'traced'] as const)('%s archive → ONNX runs in ORT within 1e-4 of torch', async (mode) => {
    expect(fx.modes(name)).toContain(mode);
    const model = readTorchScript(fx.archive(name, mode));
    const onnxPath = join(fx.dir, `${name}.${mode}.imported.onnx`);
    writeOnnx(model, onnxPath);
    const outputs = await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: readNpy(fx.input(name)) });
    const [output] = [...outputs.values()];
    expect(maxDifference(output!, readNpy(fx.expected(name, mode)))).toBeLessThan(TOLERANCE);
  }, 120_000);

  it.each(['scripted', 'traced'] as const)('%s archive → IR → TorchScript loads in torch and matches', (mode) => {
    expect(torchDifference(`${name}.${mode}.rewritten`)).toBeLessThan(TOLERANCE);
  });

  it('torch.onnx.export ONNX → TorchScript loads in torch and matches', () => {
    expect(torchDifference(`${name}.from-onnx`)).toBeLessThan(TOLERANCE);
  });
});

describe.each(SEQUENCE_CASES)('%s (%s, input shape given)', (name, mode, writeBack) => {
  it('imports into ONNX that ORT runs within 1e-4 of torch', async () => {
    const input = readNpy(fx.input(name));
    const model = readTorchScript(fx.archive(name, mode), givenShape(name));
    expect([...model.graph.nodes()].filter((node) => node.op.startsWith('aten.'))).toEqual([]);
    const onnxPath = join(fx.dir, `${name}.${mode}.imported.onnx`);
    writeOnnx(model, onnxPath);
    const [output] = [...(await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: input })).values()];
    expect(maxDifference(output!, readNpy(fx.expected(name, mode)))).toBeLessThan(TOLERANCE);
    if (writeBack) expect(torchDifference(`${name}.${mode}.sequence-rewritten`)).toBeLessThan(TOLERANCE);
  }, 120_000);
});

describe('scripted torch.nn.TransformerEncoder with symbolic batch and time', () => {
  it('folds the attention size checks through inferred intermediate shapes and runs in ORT within 1e-4', async () => {
    const input = readNpy(fx.input('torch_encoder'));
    const model = readTorchScript(fx.archive('torch_encoder', 'scripted'), { inputs: [{ shape: ['batch', 'time', input.shape[2]!] }] });
    expect(model.graph.inputs[0]!.type).toMatchObject({ shape: ['batch', 'time', input.shape[2]] });
    const onnxPath = join(fx.dir, 'torch_encoder.symbolic.onnx');
    writeOnnx(model, onnxPath);
    const [output] = [...(await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: input })).values()];
    expect(maxDifference(output!, readNpy(fx.expected('torch_encoder', 'scripted')))).toBeLessThan(TOLERANCE);
  }, 120_000);
});

describe.each(RECURRENT_ONNX)('%s: torch.onnx.export ONNX (GRU/LSTM nodes) → TorchScript', (name) => {
  it('loads in torch and matches torch within 1e-4', () => {
    expect([...readOnnx(fx.onnx(name)).graph.nodes()].some((node) => node.op === 'onnx.GRU' || node.op === 'onnx.LSTM')).toBe(true);
    expect(torchDifference(`${name}.recurrent-from-onnx`)).toBeLessThan(TOLERANCE);
  });
});
