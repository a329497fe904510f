import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { repoRoot, runCli } from './run-cli.js';

const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const work = mkdtempSync(join(tmpdir(), 'modelpass-cli-prune-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('inspect: FLOPs and parameters', () => {
  it('reports per-layer and total cost of the Fashion-MNIST CNN (batch N taken as 1)', async () => {
    const result = await runCli(['inspect', cnn, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const summary = JSON.parse(result.stdout);
    const conv1 = summary.layers.find((l: { node: string }) => l.node === '/conv1/Conv');
    // Conv 1→16, 3×3, padding 1 on 28×28: 16·28·28 outputs × 9 MACs, plus a bias add per output
    expect(conv1).toEqual({ node: '/conv1/Conv', op: 'onnx.Conv', macs: 112_896, flops: 2 * 112_896 + 12_544, parameters: 160 });
    const fc2 = summary.layers.find((l: { node: string }) => l.node === '/fc2/Gemm');
    expect(fc2).toMatchObject({ macs: 640, parameters: 650 });
    expect(summary.flops).toBe(summary.layers.reduce((n: number, l: { flops: number }) => n + l.flops, 0));
    expect(summary.uncounted).toEqual([]);
    expect(summary.costAssumptions).toEqual(["input 'input' dim 0 'N' = 1"]);
    const text = await runCli(['inspect', cnn]);
    expect(text.stdout).toMatch(/flops: +2\.33 M \(1\.12 M MACs\), assuming input 'input' dim 0 'N' = 1/);
    expect(text.stdout).toMatch(/\/conv2\/Conv +Conv +1\.81 M flops +77\.9%/);
  });
  it('says the assumed sizes are too small instead of a total of 0 (QA s19: squeezenet with symbolic h, w)', async () => {
    const g = new GraphBuilder();
    const x = g.input('image', tensorType('float32', ['n', 3, 'h', 'w']));
    const weights = Tensor.fromValues('float32', [8, 3, 7, 7], new Array(8 * 3 * 49).fill(0.1));
    g.output(g.op1('onnx.Conv', [x, g.constant(weights, 'w')], { kernel_shape: attrs.ints([7, 7]), strides: attrs.ints([2, 2]) }, { name: 'stem' }));
    const path = join(work, 'stem.onnx');
    writeOnnx(g.model({ onnx: 13 }), path);
    const assumed = await runCli(['inspect', path]);
    expect(assumed.code, assumed.stderr).toBe(0);
    expect(assumed.stdout).toMatch(/flops: +unknown \(assuming .*'h' = 1.*Conv 'stem' computes an empty float32\[1,8,0,0\]: the assumed sizes are too small .*--input-shape/);
    const sized = await runCli(['inspect', path, '--input-shape', 'image=1,3,32,32']);
    expect(sized.stdout).toMatch(/flops: +\d/);
  });
});

describe('convert with prune passes', () => {
  it('prune-nm through the CLI, then eval on 1,000 test images', async () => {
    const out = join(work, 'cnn-2-4.onnx');
    const convert = await runCli(['convert', cnn, '-o', out, '--pipeline', 'prune-nm{n=2 m=4}', '--statistics']);
    expect(convert.code, convert.stderr).toBe(0);
    expect(convert.stderr).toMatch(/layers-pruned/);
    const evaluation = await runCli(['eval', out, '--dataset', 'fashion-mnist:test', '--limit', '1000', '--json']);
    expect(evaluation.code, evaluation.stderr).toBe(0);
    const { accuracy, total } = JSON.parse(evaluation.stdout);
    expect(total).toBe(1000);
    expect(accuracy).toBeGreaterThan(0.84);
    const passes = await runCli(['passes']);
    expect(passes.stdout).toMatch(/prune-magnitude/);
    expect(passes.stdout).toMatch(/prune-nm/);
  }, 60_000);
});
