/** The `train` pass in a pipeline: seeded and repeatable, trains the weights in place, refuses a missing dataset. */
import { readOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, PassRegistry } from '@modelpass/pass-manager';
import { evaluateAccuracy, loadFashionMnist } from '@modelpass/runtime';
import { trainableInitializers, trainPasses } from '@modelpass/train';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

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

  it('says what is missing', async () => {
    await expect(manager().run(await readOnnx(mlpPath), 'train{epochs=1}')).rejects.toThrow(/train needs dataset=/);
  });
});
