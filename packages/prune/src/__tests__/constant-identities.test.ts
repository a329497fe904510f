/**
 * PyTorch's exporter writes one initializer per distinct tensor and an `Identity` for each parameter
 * equal to another (deep-copied blocks): those layers' weights were "not a constant" to prune-magnitude
 * and prune-nm, so the statistics counted one layer for three, a layer behind an Identity could not be
 * named in skip/overrides ("is not a prunable layer"), and it was pruned anyway through the Identity —
 * even the last layer, which skip-first-last leaves alone. The passes now forward those Identities
 * (transforms' forwardConstantIdentities) and give readers of one weight that are pruned differently
 * their own copy.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { prunePasses } from '@modelpass/prune';
import { OrtRunner } from '@modelpass/runtime';

const work = mkdtempSync(join(tmpdir(), 'modelpass-prune-identities-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

async function prune(model: Model, pipeline: string): Promise<Record<string, number>> {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(prunePasses, '@modelpass/prune');
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment, instrumentations: [statistics] }).run(model, pipeline);
  return Object.assign({}, ...Object.values(statistics.toJSON() as Record<string, Record<string, number>>));
}

/** Zeros of the weight (input 1) of `node`, looked up through an Identity. */
function zerosOf(model: Model, node: string): number {
  const found = [...model.graph.nodes()].find((n) => n.name === node)!;
  let weight = found.input(1);
  if (weight.producer?.op === 'onnx.Identity') weight = weight.producer.input(0);
  return weight.constant!.toNumbers().filter((v) => v === 0).length;
}

/** torch: Linear(32→64), then three deep copies of one Linear(64→64)+ReLU block, then Linear(64→10). */
function torchDeepCopies(): string {
  const path = join(work, 'deep-copies.onnx');
  const script = `
import torch, torch.nn as nn, copy, sys
torch.manual_seed(0)
block = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
m = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), block, copy.deepcopy(block), copy.deepcopy(block), nn.Linear(64, 10)).eval()
torch.onnx.export(m, torch.randn(1, 32), sys.argv[1], input_names=['x'], output_names=['y'], opset_version=13)
`;
  execFileSync('/usr/bin/python3', ['-c', script, path], { stdio: 'pipe' });
  return path;
}

const hidden = ['/2/2.0/Gemm', '/3/3.0/Gemm', '/4/4.0/Gemm'];

describe('prune passes look through Identity(constant)', () => {
  const source = torchDeepCopies();

  it('torch export of deep-copied blocks: prune-magnitude counts and prunes all three hidden layers', async () => {
    const model = readOnnx(source);
    expect([...model.graph.nodes()].filter((node) => node.op === 'onnx.Identity')).toHaveLength(4);
    const stats = await prune(model, 'prune-magnitude{sparsity=0.5}');
    expect(stats['identities-forwarded']).toBe(4);
    expect(stats['layers-pruned']).toBe(3);
    expect(stats['layers-skipped']).toBe(2);
    // one stored weight of 64×64, half of it zeroed
    expect(stats['weights-considered']).toBe(4096);
    expect(stats['weights-zeroed']).toBe(2048);
    for (const name of hidden) expect(zerosOf(model, name), name).toBe(2048);
    const out = join(work, 'deep-copies-pruned.onnx');
    writeOnnx(model, out);
    const runner = new OrtRunner();
    try {
      const outputs = await runner.run(out, { x: Tensor.fromValues('float32', [1, 32], Array.from({ length: 32 }, (_, i) => Math.sin(i))) });
      expect(outputs.get('y')!.shape).toEqual([1, 10]);
    } finally {
      await runner.dispose();
    }
  });

  it('a layer behind an Identity can be named in skip: it keeps its dense copy, the others are pruned', async () => {
    const model = readOnnx(source);
    const stats = await prune(model, `prune-magnitude{sparsity=0.5 skip=[${hidden[1]}]}`);
    expect(stats['shared-weights-untied']).toBe(1);
    expect(stats['layers-pruned']).toBe(2);
    expect(zerosOf(model, hidden[0]!)).toBe(2048);
    expect(zerosOf(model, hidden[1]!)).toBe(0);
    expect(zerosOf(model, hidden[2]!)).toBe(2048);
  });

  it('overrides for a layer behind an Identity: its own sparsity on its own copy', async () => {
    const model = readOnnx(source);
    await prune(model, `prune-magnitude{sparsity=0.5 overrides=[${hidden[2]}:0.25]}`);
    expect(zerosOf(model, hidden[0]!)).toBe(2048);
    expect(zerosOf(model, hidden[2]!)).toBe(1024);
  });

  it('prune-nm: skip names a layer behind an Identity', async () => {
    const model = readOnnx(source);
    const stats = await prune(model, `prune-nm{skip=[${hidden[0]}]}`);
    expect(stats['layers-pruned']).toBe(2);
    expect(zerosOf(model, hidden[0]!)).toBe(0);
    expect(zerosOf(model, hidden[1]!)).toBe(2048);
  });

  it('the last layer reading the weight of a middle one through an Identity stays dense (skip-first-last)', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', tensorType('float32', [1, 16]));
    const w = g.constant(Tensor.fromValues('float32', [16, 16], Array.from({ length: 256 }, (_, i) => Math.cos(i * 0.7))), 'w');
    const first = g.op1('onnx.Gemm', [x, g.constant(Tensor.fromValues('float32', [16, 16], Array.from({ length: 256 }, (_, i) => Math.sin(i + 1))), 'w0')], { transB: attrs.int(1) }, { name: 'first' });
    const middle = g.op1('onnx.Gemm', [first, w], { transB: attrs.int(1) }, { name: 'middle' });
    const tied = g.op1('onnx.Identity', [w], {}, { name: 'tie' });
    g.output(g.op1('onnx.Gemm', [middle, tied], { transB: attrs.int(1) }, { name: 'last', outputs: ['y'] }));
    const model = g.model({ onnx: 13 });
    const stats = await prune(model, 'prune-magnitude{sparsity=0.5}');
    expect(zerosOf(model, 'middle')).toBe(128);
    expect(zerosOf(model, 'last')).toBe(0);
    expect(zerosOf(model, 'first')).toBe(0);
    expect(stats['layers-pruned']).toBe(1);
    expect(stats['layers-skipped']).toBe(2);
  });
});
