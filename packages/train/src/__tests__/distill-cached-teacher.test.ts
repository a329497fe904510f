/**
 * `distill{cache-teacher=…}`: the teacher's logits computed once for the dataset and gathered per batch
 * train the student to the same weights as running the teacher on every batch (same seed, same batches),
 * over several epochs; feature matching and one-epoch runs keep the per-batch teacher.
 */
import { readOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, PassRegistry } from '@modelpass/pass-manager';
import { distillPasses, trainableInitializers } from '@modelpass/train';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = (name: string) => fileURLToPath(new URL(`../../../../fixtures/models/${name}/model.onnx`, import.meta.url));
const [mlpPath, cnnPath] = [fixture('fashion-mlp'), fixture('fashion-cnn')];

async function distilled(options: string): Promise<{ weights: Map<string, Float32Array>; lines: string[] }> {
  const lines: string[] = [];
  const manager = new PassManager({
    environment: new PassEnvironment({ passes: new PassRegistry(distillPasses, '@modelpass/train'), ops: createOpRegistry() }),
    debug: (line) => lines.push(line),
  });
  const student = readOnnx(mlpPath);
  await manager.run(student, `distill{teacher=${cnnPath} dataset=fashion-mnist:train samples=700 batch=64 lr=0.05 seed=3 temperature=3 alpha=0.8 ${options}}`);
  const weights = new Map(trainableInitializers(student).map((name) => [name, student.graph.getValue(name)!.constant!.data() as Float32Array]));
  return { weights, lines };
}

describe('distill with the teacher logits cached', () => {
  it('gives the weights of the per-batch teacher, and is used only with several epochs and no features', async () => {
    const cached = await distilled('epochs=3');
    const perBatch = await distilled('epochs=3 cache-teacher=false');
    expect(cached.lines.some((line) => line.includes('teacher logits computed once for 700 samples'))).toBe(true);
    expect(perBatch.lines.some((line) => line.includes('computed once'))).toBe(false);
    const original = readOnnx(mlpPath);
    let moved = 0;
    for (const [name, values] of cached.weights) {
      const reference = perBatch.weights.get(name)!;
      const before = original.graph.getValue(name)!.constant!.data() as Float32Array;
      let difference = 0;
      let scale = 0;
      for (let i = 0; i < values.length; i++) {
        difference = Math.max(difference, Math.abs(values[i]! - reference[i]!));
        scale = Math.max(scale, Math.abs(reference[i]!));
        moved = Math.max(moved, Math.abs(reference[i]! - before[i]!));
      }
      expect(difference, name).toBeLessThanOrEqual(1e-4 * Math.max(scale, 1e-3));
    }
    expect(moved).toBeGreaterThan(1e-3);
    const oneEpoch = await distilled('epochs=1');
    expect(oneEpoch.lines.some((line) => line.includes('computed once'))).toBe(false);
  }, 180_000);
});
