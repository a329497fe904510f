/**
 * TorchScript ⇄ IR on real architectures, refereed by ONNX Runtime and torch.jit.load: a fixed set
 * (the fashion fixtures) plus a seeded sample of torchvision nets (MODELPASS_SAMPLE_SEED picks
 * another sample; tools/bench/torchscript runs them all).
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { readNpy, runOrt } from '@modelpass/runtime';
import { readTorchScript, writeTorchScript } from '@modelpass/torchscript';
import { makeModelFixtures, seededSample, TORCHVISION_SAMPLE_POOL, type ModelFixtures } from './torch/model-fixtures.js';
import { torchRun } from './torch/torch-fixtures.js';

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
const TOLERANCE = 1e-4;

let fx: ModelFixtures;
beforeAll(() => {
  fx = makeModelFixtures([...sample, ...new Set(SEQUENCE_CASES.map(([name]) => name))]);
}, 600_000);
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
    const written = join(fx.dir, `${name}.${mode}.rewritten.pt`);
    writeTorchScript(readTorchScript(fx.archive(name, mode)), written);
    const out = join(fx.dir, `${name}.${mode}.rewritten.npy`);
    torchRun(written, fx.input(name), out);
    expect(maxDifference(readNpy(out), readNpy(fx.expected(name, mode)))).toBeLessThan(TOLERANCE);
  }, 120_000);

  it('torch.onnx.export ONNX → TorchScript loads in torch and matches', () => {
    const written = join(fx.dir, `${name}.from-onnx.pt`);
    writeTorchScript(readOnnx(fx.onnx(name)), written);
    const out = join(fx.dir, `${name}.from-onnx.npy`);
    torchRun(written, fx.input(name), out);
    expect(maxDifference(readNpy(out), readNpy(fx.expected(name, 'scripted')))).toBeLessThan(TOLERANCE);
  }, 120_000);
});

describe.each(SEQUENCE_CASES)('%s (%s, input shape given)', (name, mode, writeBack) => {
  it('imports into ONNX that ORT runs within 1e-4 of torch', async () => {
    const input = readNpy(fx.input(name));
    const model = readTorchScript(fx.archive(name, mode), { inputs: [{ shape: input.shape }] });
    expect([...model.graph.nodes()].filter((node) => node.op.startsWith('aten.'))).toEqual([]);
    const onnxPath = join(fx.dir, `${name}.${mode}.imported.onnx`);
    writeOnnx(model, onnxPath);
    const [output] = [...(await runOrt(onnxPath, { [model.graph.inputs[0]!.name]: input })).values()];
    expect(maxDifference(output!, readNpy(fx.expected(name, mode)))).toBeLessThan(TOLERANCE);
    if (!writeBack) return;
    const written = join(fx.dir, `${name}.${mode}.rewritten.pt`);
    writeTorchScript(model, written);
    const out = join(fx.dir, `${name}.${mode}.rewritten.npy`);
    torchRun(written, fx.input(name), out);
    expect(maxDifference(readNpy(out), readNpy(fx.expected(name, mode)))).toBeLessThan(TOLERANCE);
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

describe.each(['gru_tagger', 'lstm_tagger'])('%s: torch.onnx.export ONNX (GRU/LSTM nodes) → TorchScript', (name) => {
  it('loads in torch and matches torch within 1e-4', () => {
    const written = join(fx.dir, `${name}.from-onnx.pt`);
    const model = readOnnx(fx.onnx(name));
    expect([...model.graph.nodes()].some((node) => node.op === 'onnx.GRU' || node.op === 'onnx.LSTM')).toBe(true);
    writeTorchScript(model, written);
    const out = join(fx.dir, `${name}.from-onnx.npy`);
    torchRun(written, fx.input(name), out);
    expect(maxDifference(readNpy(out), readNpy(fx.expected(name, 'scripted')))).toBeLessThan(TOLERANCE);
  }, 120_000);
});
