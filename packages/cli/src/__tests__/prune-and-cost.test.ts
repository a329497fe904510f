import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
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
