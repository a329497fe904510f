import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tensor } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { readNpy, runOrt } from '@modelpass/runtime';
import { repoRoot, runCli } from './run-cli.js';

const PYTHON = '/usr/bin/python3';
const temp = mkdtempSync(join(tmpdir(), 'modelpass-convert-torchscript-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

beforeAll(() => {
  // Debian torch makes the archives (tools/setup.sh installs python3-torch).
  execFileSync(PYTHON, [join(repoRoot, 'tools/fixtures/make_torchscript.py'), '--out', temp, '--onnx', 'fashion_cnn', 'gru_tagger'], { stdio: 'ignore', timeout: 300_000 });
  execFileSync(PYTHON, [join(repoRoot, 'packages/torchscript/src/__tests__/torch/make-small-archives.py'), temp], { stdio: 'ignore', timeout: 120_000 });
}, 300_000);

function worstDifference(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  const x = a.toNumbers();
  const y = b.toNumbers();
  return x.reduce((worst, value, i) => Math.max(worst, Math.abs(value - y[i]!)), 0);
}

function torchOutput(archive: string, input: string): Tensor {
  const out = join(temp, 'torch-out.npy');
  const script = 'import sys, numpy as np, torch\nm = torch.jit.load(sys.argv[1])\nwith torch.no_grad(): np.save(sys.argv[3], m(torch.from_numpy(np.load(sys.argv[2]))).numpy())';
  execFileSync(PYTHON, ['-c', script, archive, input, out], { stdio: 'ignore', timeout: 120_000 });
  return readNpy(out);
}

describe('modelpass convert with TorchScript (.pt)', () => {
  const input = () => join(temp, 'fashion_cnn.input.npy');

  it.each(['scripted', 'traced'])('converts a %s archive to ONNX that ORT runs within 1e-4 of torch', async (mode) => {
    const output = join(temp, `cnn.${mode}.onnx`);
    const result = await runCli(['convert', join(temp, `fashion_cnn.${mode}.pt`), '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    const [actual] = [...(await runOrt(output, { x: readNpy(input()) })).values()];
    expect(worstDifference(actual!, readNpy(join(temp, `fashion_cnn.${mode}.expected.npy`)))).toBeLessThan(1e-4);
  }, 60_000);

  it('converts ONNX (torch.onnx.export) to a .pt that torch.jit.load runs within 1e-4', async () => {
    const output = join(temp, 'cnn-from-onnx.pt');
    const result = await runCli(['convert', join(temp, 'fashion_cnn.onnx'), '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    expect(worstDifference(torchOutput(output, input()), readNpy(join(temp, 'fashion_cnn.scripted.expected.npy')))).toBeLessThan(1e-4);
  }, 60_000);

  it('refuses to write ONNX for an op with no lowering: exit 1, the op and its TorchScript location, no file', async () => {
    const output = join(temp, 'logcumsumexp.onnx');
    const result = await runCli(['convert', join(temp, 'logcumsumexp.pt'), '-o', output]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/aten\.logcumsumexp \(node 'logcumsumexp' at .*logcumsumexp\.pt:code\/__torch__\.py:\d+:\d+\)/);
    expect(existsSync(output)).toBe(false);
  }, 60_000);

  it('converts a branch on tensor data to an ONNX If that ORT runs within 1e-4 of torch', async () => {
    const output = join(temp, 'data_if.onnx');
    const result = await runCli(['convert', join(temp, 'data_if.pt'), '-o', output]);
    expect(result.code, result.stderr).toBe(0);
    expect([...readOnnx(output).graph.nodes()].map((node) => node.op)).toContain('onnx.If');
    const [actual] = [...(await runOrt(output, { x: readNpy(join(temp, 'tokens.npy')) })).values()];
    expect(worstDifference(actual!, readNpy(join(temp, 'data_if.expected.npy')))).toBeLessThan(1e-4);
  }, 60_000);

  it('converts a scripted GRU tagger with --input-shape (symbolic batch and time) to ONNX that ORT runs within 1e-4', async () => {
    const output = join(temp, 'gru.scripted.onnx');
    const result = await runCli(['convert', join(temp, 'gru_tagger.scripted.pt'), '-o', output, '--input-shape', 'x=batch,time,16']);
    expect(result.code, result.stderr).toBe(0);
    const model = readOnnx(output);
    expect(model.graph.inputs[0]!.type).toMatchObject({ shape: ['batch', 'time', 16] });
    const [actual] = [...(await runOrt(output, { x: readNpy(join(temp, 'gru_tagger.input.npy')) })).values()];
    expect(worstDifference(actual!, readNpy(join(temp, 'gru_tagger.scripted.expected.npy')))).toBeLessThan(1e-4);
  }, 60_000);

  it('without --input-shape a scripted GRU says which flag gives the rank it needs (exit 1)', async () => {
    const result = await runCli(['convert', join(temp, 'gru_tagger.scripted.pt'), '-o', join(temp, 'gru-noshape.onnx')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/rank of self is not known/);
    expect(result.stderr).toMatch(/--input-shape NAME=DIMS/);
    expect(existsSync(join(temp, 'gru-noshape.onnx'))).toBe(false);
  }, 60_000);

  it('an --input-shape for an argument forward does not take is an error naming its arguments', async () => {
    const result = await runCli(['convert', join(temp, 'gru_tagger.scripted.pt'), '-o', join(temp, 'gru-bad.onnx'), '--input-shape', 'tokens=2,7,16']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/input shapes are given for 'tokens', but __torch__\.GruTagger\.forward takes 'x'/);
  }, 60_000);

  it('--input-shape sets symbolic dims of an ONNX input and refuses one that contradicts a declared size', async () => {
    const output = join(temp, 'cnn-batch3.onnx');
    const ok = await runCli(['convert', join(temp, 'fashion_cnn.onnx'), '-o', output, '--input-shape', 'input=3,1,28,28']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(readOnnx(output).graph.inputs[0]!.type).toMatchObject({ shape: [3, 1, 28, 28] });
    const contradicting = await runCli(['convert', join(temp, 'fashion_cnn.onnx'), '-o', join(temp, 'cnn-bad.onnx'), '--input-shape', 'input=3,2,28,28']);
    expect(contradicting.code).toBe(1);
    expect(contradicting.stderr).toMatch(/--input-shape input: dim 1 is declared 1/);
    const unknown = await runCli(['convert', join(temp, 'fashion_cnn.onnx'), '-o', join(temp, 'cnn-bad.onnx'), '--input-shape', 'y=3']);
    expect(unknown.stderr).toMatch(/the model has no input 'y' \(its inputs: input\)/);
    const malformed = await runCli(['convert', join(temp, 'fashion_cnn.onnx'), '-o', join(temp, 'cnn-bad.onnx'), '--input-shape', 'input=3,-1']);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/dim '-1' is not a size, a symbolic name or \?/);
    expect(existsSync(join(temp, 'cnn-bad.onnx'))).toBe(false);
  }, 60_000);

  it('compare and inspect take --input-shape for a scripted GRU (run from its folder; torch against ORT agree, exit 0)', async () => {
    const converted = await runCli(['convert', 'gru_tagger.scripted.pt', '-o', 'gru-compare.onnx', '--input-shape', 'x=batch,time,16'], temp);
    expect(converted.code, converted.stderr).toBe(0);
    // Since 1707424 the archive (second) borrows the .onnx's input shape, its symbolic dims sized as the random inputs (1).
    const withoutShape = await runCli(['compare', 'gru-compare.onnx', 'gru_tagger.scripted.pt', '--json'], temp);
    expect(withoutShape.code, withoutShape.stderr).toBe(0);
    expect(JSON.parse(withoutShape.stdout)).toMatchObject({ verdict: 'agree', dims: { batch: 1, time: 1 } });
    expect(withoutShape.stderr).toMatch(/x: \[1,1,16\] \(the \.pt records no input shapes; taken from '.*gru-compare\.onnx'.*set with --input-shape x=<dims>\)/);
    const compared = await runCli(['compare', 'gru-compare.onnx', 'gru_tagger.scripted.pt', '--input-shape', 'x=batch,time,16', '--dim', 'batch=2', '--dim', 'time=7', '--json'], temp);
    expect(compared.code, compared.stderr).toBe(0);
    expect(JSON.parse(compared.stdout)).toMatchObject({ verdict: 'agree', dims: { batch: 2, time: 7 } });
    const wrongName = await runCli(['compare', 'gru-compare.onnx', 'gru_tagger.scripted.pt', '--input-shape', 'tokens=2,7,16'], temp);
    expect(wrongName.code).toBe(2);
    expect(wrongName.stderr).toMatch(/gru-compare\.onnx: --input-shape tokens: the model has no input 'tokens' \(its inputs: x\)/);
    const inspected = await runCli(['inspect', 'gru_tagger.scripted.pt', '--input-shape', 'x=batch,time,16', '--json'], temp);
    expect(inspected.code, inspected.stderr).toBe(0);
    expect(JSON.stringify(JSON.parse(inspected.stdout).inputs)).toMatch(/"batch","time",16/);
  }, 120_000);

  it('eval of a scripted .pt asks for --sample-shape (exit 2, names the file and input) and runs with it', async () => {
    const without = await runCli(['eval', 'fashion_cnn.scripted.pt', '--dataset', 'fashion-mnist:test', '--limit', '64'], temp);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/fashion_cnn\.scripted\.pt: input 'x' has no recorded shape/);
    expect(without.stderr).toMatch(/--sample-shape 1,28,28/);
    const withShape = await runCli(['eval', 'fashion_cnn.scripted.pt', '--dataset', 'fashion-mnist:test', '--limit', '64', '--sample-shape', '1,28,28', '--json'], temp);
    expect(withShape.code, withShape.stderr).toBe(0);
    expect(JSON.parse(withShape.stdout)).toMatchObject({ total: 64 });
  }, 120_000);
});
