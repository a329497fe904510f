/**
 * BatchNormalization whose running statistics are tied to another tensor is refused per node: torch's own
 * export of an untrained BatchNorm (running_var/mean become Identity(weight/bias)), an initializer shared with
 * a trainable input, and statistics computed by a node; untied and harmlessly shared statistics still train.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GraphBuilder, ModelpassError, Tensor, type Value } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import type { LabelledDataset } from '@modelpass/runtime';
import { buildGradientGraph, fit } from '@modelpass/train';
import { afterAll, describe, expect, it } from 'vitest';

const work = mkdtempSync(join(tmpdir(), 'modelpass-bn-ties-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** An untrained Conv+BatchNorm+Linear net exported by torch as torch.onnx.export does by default. */
function torchExportOfUntrainedBatchNorm(): string {
  const path = join(work, 'untrained-bn.onnx');
  const script = `
import sys, torch, torch.nn as nn
torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(), nn.Linear(4 * 6 * 6, 3)).eval()
torch.onnx.export(net, torch.zeros(2, 1, 6, 6), sys.argv[1], opset_version=13, do_constant_folding=True,
                  training=torch.onnx.TrainingMode.PRESERVE, input_names=['x'], output_names=['y'], dynamic_axes={'x': {0: 'N'}, 'y': {0: 'N'}})
`;
  execFileSync('/usr/bin/python3', ['-c', script, path], { stdio: 'pipe' });
  return path;
}

const f32 = (shape: number[], values: number[]) => Tensor.fromValues('float32', shape, values);

/** x → BatchNormalization(scale, bias, mean, var) → Flatten → MatMul, with the four tensors chosen by `tie`. */
function batchNormNet(tie: (b: GraphBuilder, own: { scale: Value; bias: Value; mean: Value; variance: Value }) => Value[]) {
  const b = new GraphBuilder();
  const x = b.input('x', { kind: 'tensor', dtype: 'float32', shape: ['N', 2, 2, 2] });
  const own = {
    scale: b.constant(f32([2], [1, 1]), 'bn.weight'), bias: b.constant(f32([2], [0, 0]), 'bn.bias'),
    mean: b.constant(f32([2], [0, 0]), 'bn.running_mean'), variance: b.constant(f32([2], [1, 1]), 'bn.running_var'),
  };
  const normalized = b.op1('onnx.BatchNormalization', [x, ...tie(b, own)], {}, { name: 'bn' });
  const flat = b.op1('onnx.Flatten', [normalized]);
  b.output(b.op1('onnx.MatMul', [flat, b.constant(f32([8, 3], Array.from({ length: 24 }, (_, i) => (i % 5) / 10 - 0.2)), 'fc')]));
  return b.model({ onnx: 13 });
}

function refusal(run: () => unknown): ModelpassError {
  try {
    run();
  } catch (error) {
    expect(ModelpassError.is(error)).toBe(true);
    return error as ModelpassError;
  }
  throw new Error('expected a refusal');
}

describe('BatchNormalization running statistics tied to another tensor', () => {
  it("torch's export of an untrained BatchNorm: refused in both modes, naming the node, both statistics and a hint", async () => {
    const model = await readOnnx(torchExportOfUntrainedBatchNorm());
    expect([...model.graph.nodesOf('onnx.Identity')].length).toBeGreaterThan(0); // what makes this case: the export's aliasing
    for (const mode of ['batch-statistics', 'running-statistics'] as const) {
      const error = refusal(() => buildGradientGraph(model, { loss: { kind: 'cross-entropy' }, batchNormalization: mode }));
      expect(error.diagnostics.map((d) => d.location?.op)).toEqual(['onnx.BatchNormalization', 'onnx.BatchNormalization']);
      expect(error.message).toMatch(/running mean is the initializer '[^']+' \(through an Identity\), which its own B also reads/);
      expect(error.message).toMatch(/running variance is the initializer '[^']+' \(through an Identity\), which its own scale also reads/);
      expect(error.message).toMatch(/hint: give each running mean and variance an initializer of its own/);
    }
  });

  it('fit refuses it before training a step', async () => {
    const model = batchNormNet((b, own) => [own.scale, own.bias, b.op1('onnx.Identity', [own.bias]), own.variance]);
    const dataset: LabelledDataset = { size: 4, sampleShape: [2, 2, 2], samples: f32([4, 2, 2, 2], Array.from({ length: 32 }, (_, i) => i / 32)), labels: new Int32Array([0, 1, 2, 0]) };
    await expect(fit(model, dataset, { epochs: 1, batchSize: 2, lr: 0.1 })).rejects.toThrow(/BatchNormalization 'bn': its running mean is the initializer 'bn.bias'/);
  });

  it('one initializer as both scale and running variance, with no Identity between them, is refused too', () => {
    const model = batchNormNet((_, own) => [own.scale, own.bias, own.mean, own.scale]);
    const error = refusal(() => buildGradientGraph(model, { loss: { kind: 'cross-entropy' } }));
    expect(error.location).toEqual({ node: 'bn', op: 'onnx.BatchNormalization' });
    expect(error.reason).toContain("its running variance is the initializer 'bn.weight', which its own scale also reads");
  });

  it('an Identity of an own initializer: harmless with running statistics, refused with batch statistics (no update could land)', () => {
    const model = batchNormNet((b, own) => [own.scale, own.bias, own.mean, b.op1('onnx.Identity', [own.variance])]);
    expect(buildGradientGraph(model, { loss: { kind: 'cross-entropy' } }).gradients.has('bn.weight')).toBe(true);
    const error = refusal(() => buildGradientGraph(model, { loss: { kind: 'cross-entropy' }, batchNormalization: 'batch-statistics' }));
    expect(error.reason).toMatch(/running variance '[^']+' is an Identity of the initializer 'bn.running_var'/);
  });

  it('statistics computed by a node are refused with batch statistics only, with the running-statistics way out', () => {
    const model = batchNormNet((b, own) => [own.scale, own.bias, own.mean, b.op1('onnx.Abs', [own.variance], {}, { name: 'abs_var' })]);
    expect(() => buildGradientGraph(model, { loss: { kind: 'cross-entropy' } })).not.toThrow();
    const error = refusal(() => buildGradientGraph(model, { loss: { kind: 'cross-entropy' }, batchNormalization: 'batch-statistics' }));
    expect(error.reason).toContain("computed by Abs 'abs_var'");
    expect(error.message).toContain('or train with batch-norm=running-statistics');
  });

  it('own statistics train in both modes; a mean and variance sharing one tensor is refused only with batch statistics', () => {
    const untied = batchNormNet((_, own) => [own.scale, own.bias, own.mean, own.variance]);
    expect(buildGradientGraph(untied, { loss: { kind: 'cross-entropy' }, batchNormalization: 'batch-statistics' }).runningStatistics.size).toBe(2);
    const shared = batchNormNet((_, own) => [own.scale, own.bias, own.variance, own.variance]);
    expect(() => buildGradientGraph(shared, { loss: { kind: 'cross-entropy' } })).not.toThrow();
    const error = refusal(() => buildGradientGraph(shared, { loss: { kind: 'cross-entropy' }, batchNormalization: 'batch-statistics' }));
    expect(error.diagnostics).toHaveLength(2);
    expect(error.message).toContain("its own input_var also reads");
  });
});
