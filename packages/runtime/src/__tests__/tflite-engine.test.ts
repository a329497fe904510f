import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelpassError, Tensor } from '@modelpass/ir';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { TfliteEngine, SeededRandom } from '@modelpass/runtime';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import type { ThirdPartyModel } from '../../../../tools/fixtures/third-party.d.mts';

const models = await ensureThirdPartyModels({ format: 'tflite' });
const dir = mkdtempSync(join(tmpdir(), 'modelpass-tflite-engine-'));
const engine = new TfliteEngine();
afterAll(async () => {
  await engine.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function feedsFor(entry: ThirdPartyModel, seed: number): Map<string, Tensor> {
  const random = new SeededRandom(seed);
  const feeds = new Map<string, Tensor>();
  for (const input of entry.inputs) {
    const count = input.testShape.reduce((n, d) => n * d, 1);
    const low = input.fill.low ?? -1;
    const high = input.fill.high ?? 1;
    const values = Float32Array.from({ length: count }, () => random.uniform(low, high));
    feeds.set(input.name, Tensor.fromValues('float32', input.testShape, values));
  }
  return feeds;
}

describe('TFLite engine on MediaPipe models (TFLite 2.9 runtime)', () => {
  const runnable = models.filter((entry) => !entry.id.startsWith('mediapipe-selfie'));

  it.each(runnable.map((entry) => [entry.id, entry] as const))('%s: read → write gives bit-identical outputs', async (_id, entry) => {
    const model = readTflite(entry.path);
    const out = join(dir, `${entry.id}.tflite`);
    writeTflite(model, out);
    const feeds = feedsFor(entry, 7);
    const original = await engine.run(entry.path, feeds);
    const written = await engine.run(out, feeds);
    expect([...original.keys()]).toEqual(entry.outputs.map((output) => output.name));
    expect([...written.keys()]).toEqual([...original.keys()]);
    for (const [name, tensor] of original) {
      const other = written.get(name)!;
      expect(other.shape).toEqual(tensor.shape);
      expect(Buffer.from(other.bytes()).equals(Buffer.from(tensor.bytes()))).toBe(true);
    }
    // Outputs are not constant (a model that ignores its input would pass the check above trivially).
    const again = await engine.run(out, feedsFor(entry, 8));
    const first = [...written.values()][0]!;
    expect(Buffer.from([...again.values()][0]!.bytes()).equals(Buffer.from(first.bytes()))).toBe(false);
  });

  it('runs an in-memory tflite-dialect model', async () => {
    const entry = runnable[0]!;
    const model = readTflite(entry.path);
    const feeds = feedsFor(entry, 3);
    const fromFile = await engine.run(entry.path, feeds);
    const fromModel = await engine.run(model, feeds);
    for (const [name, tensor] of fromFile) expect(fromModel.get(name)!.toNumbers()).toEqual(tensor.toNumbers());
  });

  it('refuses a model with a custom op it has no kernel for, naming the op', async () => {
    const entry = models.find((m) => m.id === 'mediapipe-selfie-segmentation')!;
    const error = await engine.run(entry.path, feedsFor(entry, 1)).catch((e: unknown) => e);
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toContain("custom op 'Convolution2DTransposeBias'");
  });

  it('checks feeds against the model', async () => {
    const entry = runnable[0]!;
    const error = await engine.run(entry.path, { input: Tensor.fromValues('float32', [1, 2], [0, 0]) }).catch((e: unknown) => e);
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toContain("input 'input'");
    expect(engine.describe(entry.path).inputs).toEqual([{ name: 'input', dtype: 'float32', shape: [1, 128, 128, 3] }]);
  });
});
