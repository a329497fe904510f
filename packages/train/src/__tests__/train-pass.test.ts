/** The `train` pass in a pipeline: seeded and repeatable, trains the weights in place, refuses a missing dataset. */
import { GraphBuilder, Tensor } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, PassRegistry } from '@modelpass/pass-manager';
import { evaluateAccuracy, loadFashionMnist } from '@modelpass/runtime';
import { readCheckpoint, trainableInitializers, trainPasses } from '@modelpass/train';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';

const mlpPath = fileURLToPath(new URL('../../../../fixtures/models/fashion-mlp/model.onnx', import.meta.url));
const manager = () => new PassManager({ environment: new PassEnvironment({ passes: new PassRegistry(trainPasses, '@modelpass/train'), ops: createOpRegistry() }) });

describe('train pass', () => {
  it('fine-tunes the MLP in place, the same way for the same seed', async () => {
    const pipeline = 'train{dataset=fashion-mnist:train samples=512 epochs=1 batch=64 lr=0.01 seed=3}';
    const [a, b, original] = await Promise.all([readOnnx(mlpPath), readOnnx(mlpPath), readOnnx(mlpPath)]);
    await manager().run(a, pipeline);
    await manager().run(b, pipeline);
    const name = trainableInitializers(original)[0]!;
    expect(a.graph.getValue(name)!.constant!.equals(original.graph.getValue(name)!.constant!)).toBe(false);
    expect(a.graph.getValue(name)!.constant!.equals(b.graph.getValue(name)!.constant!)).toBe(true);
    const test = loadFashionMnist({ split: 'test', limit: 500 });
    const [{ accuracy: tuned }, { accuracy: before }] = await Promise.all([evaluateAccuracy(a, test, { batchSize: 500 }), evaluateAccuracy(original, test, { batchSize: 500 })]);
    expect(tuned).toBeGreaterThan(before - 0.03);
  });

  it('AdamW with a cosine schedule, validation, progress on stderr and a checkpoint that a rerun resumes from', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'train-pass-'));
    const pipeline = `train{dataset=fashion-mnist:train samples=640 epochs=2 batch=64 optimizer=adamw lr=0.002 schedule=cosine warmup=3 validation=0.1 checkpoint=${folder} progress=on threads=1 seed=5}`;
    const lines: string[] = [];
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => { lines.push(String(chunk)); return true; });
    const [a, b] = await Promise.all([readOnnx(mlpPath), readOnnx(mlpPath)]);
    try {
      await manager().run(a, pipeline);
      await manager().run(b, pipeline); // finds the finished checkpoint: no new steps, the same weights
    } finally {
      spy.mockRestore();
    }
    const text = lines.join('');
    expect(text).toMatch(/train: epoch 2\/2 done in [\d.]+ s: loss [\d.]+ accuracy [\d.]+% validation loss [\d.]+ accuracy [\d.]+%/);
    expect(text).toMatch(/train: resumed from '.*' after epoch 2 \(step 18\)/);
    expect(readCheckpoint(folder)).toMatchObject({ epoch: 2, step: 18 });
    const saved = readCheckpoint(folder)!;
    // weight, exp_avg, exp_avg_sq, and the best epoch's weights (what keep=best writes) when that is not the last epoch
    const bestWeights = saved.loop.bestEpoch === 2 ? 0 : trainableInitializers(a).length;
    expect(saved.tensors.size).toBe(3 * trainableInitializers(a).length + bestWeights);
    for (const name of trainableInitializers(a)) expect(a.graph.getValue(name)!.constant!.equals(b.graph.getValue(name)!.constant!)).toBe(true);
  }, 60_000);

  it('warns when training fills the zeros of a pruned weight (it keeps no mask), and not otherwise', async () => {
    const pipeline = 'train{dataset=fashion-mnist:train samples=256 epochs=1 batch=64 lr=0.01 threads=1}';
    const [pruned, dense] = await Promise.all([readOnnx(mlpPath), readOnnx(mlpPath)]);
    const name = trainableInitializers(pruned).find((n) => pruned.graph.getValue(n)!.constant!.rank === 2)!;
    const weight = pruned.graph.getValue(name)!;
    const values = Float32Array.from(weight.constant!.toNumbers(), (v, i) => (i % 5 === 0 ? v : 0)); // 80% zeros, as prune-magnitude leaves it
    weight.setConstant(Tensor.fromValues('float32', weight.constant!.shape, values));
    const warnings = (result: { diagnostics: readonly { severity: string; reason: string }[] }) =>
      result.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.reason);
    const prunedWarnings = warnings(await manager().run(pruned, pipeline));
    expect(prunedWarnings).toHaveLength(1);
    expect(prunedWarnings[0]).toContain(`training filled the zeros of 1 pruned weight (zeros before → after: '${name}' 80.0% → `);
    expect(prunedWarnings[0]).toContain('keeps no pruning mask');
    expect(warnings(await manager().run(dense, pipeline))).toEqual([]);
  }, 60_000);

  it('says what is missing', async () => {
    await expect(manager().run(await readOnnx(mlpPath), 'train{epochs=1}')).rejects.toThrow(/train needs dataset=/);
  });

  it('refuses a model with no trainable weights instead of running steps that change nothing', async () => {
    const b = new GraphBuilder();
    const x = b.input('x', { kind: 'tensor', dtype: 'float32', shape: ['N', 784] });
    const ten = (values: number[]) => b.constant(Tensor.fromValues('int64', [1], values));
    b.output(b.op1('onnx.Slice', [x, ten([0]), ten([10]), ten([1])]));
    const model = b.model({ onnx: 13 });
    model.graph.name = 'no_weights';
    await expect(manager().run(model, 'train{dataset=fashion-mnist:train samples=64 epochs=1}')).rejects.toThrow(/the model 'no_weights' has no trainable weights/);
  });

  it('refuses patience, monitor and keep without validation= (they would do nothing), and accepts them with it', async () => {
    const base = 'dataset=fashion-mnist:train epochs=1 batch=64 threads=1';
    for (const [used, text] of [['monitor=accuracy', 'option monitor=accuracy acts'], ['keep=best', 'option keep=best acts'], ['keep=last', 'option keep=last acts'], ['patience=2', 'option patience=2 acts'], ['monitor=loss keep=last', 'options monitor=loss, keep=last act']] as const) {
      const run = manager().run(await readOnnx(mlpPath), `train{${base} samples=128 ${used}}`);
      await expect(run, used).rejects.toThrow(`train ${text} on the validation split, and there is none (validation=0) (expected validation=FRACTION`);
    }
    const model = await readOnnx(mlpPath);
    await manager().run(model, `train{${base} samples=160 validation=0.2 monitor=accuracy keep=last}`);
    await manager().run(model, `train{${base} samples=128}`); // no validation-only option: trains as before
  }, 60_000);
});
