/**
 * `fit` with a validation split returns the best epoch's weights (by validation loss, or accuracy with
 * `monitor: 'accuracy'`), not the last epoch's; the checkpoint records which epoch that is and carries
 * its weights, so a run resumed after the best epoch still ends with them. SGD with a constant, too-high
 * learning rate on the MLP fixture makes later epochs worse: the weights of "best epoch b of 5" must be
 * bit-identical to those of a run of b epochs (same seed, same batches, constant schedule).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOnnx } from '@modelpass/onnx';
import { loadFashionMnist } from '@modelpass/runtime';
import { fit, formatFitProgress, readCheckpoint, trainableInitializers, type FitOptions, type FitProgress } from '@modelpass/train';
import { describe, expect, it } from 'vitest';

const mlpPath = fileURLToPath(new URL('../../../../fixtures/models/fashion-mlp/model.onnx', import.meta.url));
const train = loadFashionMnist({ split: 'train', limit: 1280 });
const OPTIONS: FitOptions = { epochs: 5, batchSize: 64, lr: 0.5, optimizer: { kind: 'sgd', momentum: 0.9 }, seed: 3, validation: 0.2, threads: 1 };

function weightBytes(model: Awaited<ReturnType<typeof readOnnx>>): Buffer[] {
  return trainableInitializers(model).map((name) => Buffer.from(model.graph.getValue(name)!.constant!.bytes()));
}

describe('fit keeps the best epoch', () => {
  it("returns the weights of the epoch with the best validation loss, equal to a run that stopped there; keep: 'last' returns the last", async () => {
    const model = await readOnnx(mlpPath);
    const events: FitProgress[] = [];
    const best = await fit(model, train, { ...OPTIONS, onProgress: (e) => events.push(e) });
    const losses = best.history.map((r) => r.validationLoss!);
    const bestEpoch = losses.indexOf(Math.min(...losses)) + 1;
    expect(bestEpoch).toBeLessThan(5); // the setting: later epochs get worse
    expect(best.bestEpoch).toBe(bestEpoch);
    expect(best.keptEpoch).toBe(bestEpoch);
    expect(best.history).toHaveLength(5);

    const stoppedThere = await fit(model, train, { ...OPTIONS, epochs: bestEpoch, keep: 'last' });
    expect(weightBytes(best.model)).toEqual(weightBytes(stoppedThere.model));
    const last = await fit(model, train, { ...OPTIONS, keep: 'last' });
    expect(last.keptEpoch).toBe(5);
    expect(last.bestEpoch).toBe(bestEpoch);
    expect(weightBytes(last.model)).not.toEqual(weightBytes(best.model));

    const kept = events.find((e) => e.kind === 'kept-best')!;
    expect(kept).toMatchObject({ epoch: bestEpoch, lastEpoch: 5, monitor: 'loss', value: losses[bestEpoch - 1] });
    expect(formatFitProgress(kept)).toBe(`train: keeping the weights of epoch ${bestEpoch} (best validation loss ${losses[bestEpoch - 1]!.toFixed(4)}), not those of the last epoch 5`);
  }, 120_000);

  it("monitor: 'accuracy' picks the epoch with the best validation accuracy (ties: the earlier), and patience follows it", async () => {
    const model = await readOnnx(mlpPath);
    const result = await fit(model, train, { ...OPTIONS, monitor: 'accuracy' });
    const accuracies = result.history.map((r) => r.validationAccuracy!);
    const bestEpoch = accuracies.indexOf(Math.max(...accuracies)) + 1;
    expect(result.bestEpoch).toBe(bestEpoch);
    const losses = result.history.map((r) => r.validationLoss!);
    expect(bestEpoch).not.toBe(losses.indexOf(Math.min(...losses)) + 1); // this setting tells the two metrics apart
    const stoppedThere = await fit(model, train, { ...OPTIONS, epochs: bestEpoch, keep: 'last' });
    expect(weightBytes(result.model)).toEqual(weightBytes(stoppedThere.model));

    const events: FitProgress[] = [];
    const early = await fit(model, train, { ...OPTIONS, monitor: 'accuracy', patience: 1, onProgress: (e) => events.push(e) });
    expect(early.history).toHaveLength(Math.min(5, bestEpoch + 1));
    if (early.stoppedEarly) expect(formatFitProgress(events.find((e) => e.kind === 'early-stop')!)).toMatch(/no better validation accuracy since epoch \d/);
    expect(weightBytes(early.model)).toEqual(weightBytes(stoppedThere.model));
  }, 120_000);

  it('the checkpoint records the best epoch and its weights: a run resumed after it ends with the same weights', async () => {
    const model = await readOnnx(mlpPath);
    const whole = await fit(model, train, OPTIONS);
    const bestEpoch = whole.bestEpoch!;
    const folder = mkdtempSync(join(tmpdir(), 'fit-best-'));
    const controller = new AbortController();
    const interrupted = fit(model, train, {
      ...OPTIONS, checkpoint: folder, signal: controller.signal, progressEvery: 4,
      onProgress: (event) => { if (event.kind === 'step' && event.epoch === 5 && event.step === 4) controller.abort(); },
    });
    await expect(interrupted).rejects.toThrow(/interrupted at step \d+ \(epoch 5\)/);
    const saved = readCheckpoint(folder)!;
    expect(saved.epoch).toBe(4);
    expect(saved.loop).toMatchObject({ bestEpoch, bestValue: whole.history[bestEpoch - 1]!.validationLoss });
    const bestTensors = [...saved.tensors.keys()].filter((name) => name.startsWith('best-epoch/'));
    expect(bestTensors.length).toBe(trainableInitializers(model).length); // the MLP has no running statistics
    const resumed = await fit(model, train, { ...OPTIONS, checkpoint: folder });
    expect(resumed.resumedEpochs).toBe(4);
    expect(resumed.bestEpoch).toBe(bestEpoch);
    expect(weightBytes(resumed.model)).toEqual(weightBytes(whole.model));
  }, 120_000);

  it('without a validation split the last epoch is kept; bad monitor/keep options are named', async () => {
    const model = await readOnnx(mlpPath);
    const result = await fit(model, train, { ...OPTIONS, epochs: 2, validation: 0 });
    expect(result.bestEpoch).toBeUndefined();
    expect(result.keptEpoch).toBe(2);
    await expect(fit(model, train, { ...OPTIONS, monitor: 'f1' as never })).rejects.toThrow(/fit option 'monitor' is 'f1'/);
    await expect(fit(model, train, { ...OPTIONS, keep: 'first' as never })).rejects.toThrow(/fit option 'keep' is 'first'/);
    await expect(fit(model, train, { ...OPTIONS, epochs: 1, validation: 0, monitor: 'accuracy' })).rejects.toThrow(/fit option 'monitor' needs a validation split/);
    await expect(fit(model, train, { ...OPTIONS, epochs: 1, validation: 0, keep: 'best' })).rejects.toThrow(/fit option 'keep' needs a validation split/);
  }, 60_000);
});
