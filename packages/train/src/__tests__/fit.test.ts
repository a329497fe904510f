/**
 * The training loop on real data (Fashion-MNIST training images, the MLP fixture): an interrupted run
 * resumed from its checkpoint ends bit-identical to an uninterrupted run with the same seed; a run is
 * deterministic for a seed; validation accuracy per epoch; early stopping; damaged and mismatched
 * checkpoints are ModelpassErrors naming the file.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOnnx } from '@modelpass/onnx';
import { evaluateAccuracy, loadFashionMnist } from '@modelpass/runtime';
import { checkpointPath, fit, formatFitProgress, readCheckpoint, trainableInitializers, type FitOptions, type FitProgress } from '@modelpass/train';
import { afterAll, describe, expect, it } from 'vitest';

const mlpPath = fileURLToPath(new URL('../../../../fixtures/models/fashion-mlp/model.onnx', import.meta.url));
const train = loadFashionMnist({ split: 'train', limit: 1280 });
const OPTIONS: FitOptions = {
  epochs: 3, batchSize: 64, lr: 2e-3, optimizer: { kind: 'adamw', weightDecay: 0.01 }, schedule: { kind: 'cosine', warmup: 5 },
  seed: 3, validation: 0.1, threads: 1,
};

function weightBytes(model: Awaited<ReturnType<typeof readOnnx>>): Buffer[] {
  return trainableInitializers(model).map((name) => Buffer.from(model.graph.getValue(name)!.constant!.bytes()));
}

/** Checkpoint folders of this file, removed when it ends. */
const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});
function temporaryFolder(prefix: string): string {
  const folder = mkdtempSync(join(tmpdir(), prefix));
  folders.push(folder);
  return folder;
}

describe('fit', () => {
  it('an interrupted run resumes from its checkpoint and ends bit-identical to an uninterrupted one', async () => {
    const model = await readOnnx(mlpPath);
    const whole = await fit(model, train, { ...OPTIONS, checkpoint: temporaryFolder('fit-a-') });
    expect(whole.steps).toBe(3 * 18);
    expect(whole.history.map((r) => r.epoch)).toEqual([1, 2, 3]);

    const folder = temporaryFolder('fit-b-');
    const controller = new AbortController();
    const events: FitProgress[] = [];
    const interrupted = fit(model, train, {
      ...OPTIONS, checkpoint: folder, signal: controller.signal, progressEvery: 5,
      onProgress: (event) => { events.push(event); if (event.kind === 'step' && event.epoch === 2 && event.step === 10) controller.abort(); },
    });
    await expect(interrupted).rejects.toThrow(/interrupted at step 28 \(epoch 2\); rerun the same command to resume from the checkpoint in '.*' \(after epoch 1\)/);
    expect(readCheckpoint(folder)!.epoch).toBe(1);
    expect(readCheckpoint(folder)!.step).toBe(18);
    const resumedEvents: FitProgress[] = [];
    const resumed = await fit(model, train, { ...OPTIONS, checkpoint: folder, onProgress: (e) => resumedEvents.push(e) });
    expect(resumed.resumedEpochs).toBe(1);
    expect(resumedEvents[0]).toMatchObject({ kind: 'resumed', epoch: 1, step: 18 });
    expect(resumed.steps).toBe(whole.steps);
    expect(weightBytes(resumed.model)).toEqual(weightBytes(whole.model));
    expect(resumed.history.map((r) => r.validationLoss)).toEqual(whole.history.map((r) => r.validationLoss));

    // and it learned: validation accuracy rises, the trained model is far better than the input model on test images
    expect(whole.history[2]!.validationAccuracy!).toBeGreaterThan(0.6);
    const test = loadFashionMnist({ split: 'test', limit: 500 });
    expect((await evaluateAccuracy(whole.model, test, { batchSize: 500 })).accuracy).toBeGreaterThan(0.6);
    expect(events.filter((e) => e.kind === 'epoch')).toHaveLength(1);
    expect(formatFitProgress(events.find((e) => e.kind === 'epoch')!)).toMatch(/^train: epoch 1\/3 done in [\d.]+ s: loss [\d.]+ accuracy [\d.]+% validation loss [\d.]+ accuracy [\d.]+% \(\d+ samples\/s\)$/);
    expect(formatFitProgress(events.find((e) => e.kind === 'step')!)).toMatch(/^train: epoch 1\/3 step 5\/18 loss [\d.]+ accuracy [\d.]+% lr [\d.e-]+ \d+ samples\/s$/);
  }, 120_000);

  it('is deterministic for a seed and differs for another seed', async () => {
    const model = await readOnnx(mlpPath);
    const options: FitOptions = { epochs: 1, batchSize: 64, lr: 0.05, seed: 1, threads: 1 };
    const a = await fit(model, train, options);
    const b = await fit(model, train, options);
    const c = await fit(model, train, { ...options, seed: 2 });
    expect(weightBytes(a.model)).toEqual(weightBytes(b.model));
    expect(weightBytes(c.model)).not.toEqual(weightBytes(a.model));
  }, 60_000);

  it('stops early when the validation loss stops improving', async () => {
    const model = await readOnnx(mlpPath);
    // lr 1e-12 leaves float32 weights unchanged: the validation loss never improves after epoch 1
    const result = await fit(model, train, { epochs: 5, batchSize: 128, lr: 1e-12, optimizer: { kind: 'sgd' }, validation: 0.2, patience: 2, threads: 1 });
    expect(result.stoppedEarly).toBe(true);
    expect(result.history).toHaveLength(3);
  }, 60_000);

  it('refuses damaged or mismatched checkpoints and bad options, naming them', async () => {
    const model = await readOnnx(mlpPath);
    const folder = temporaryFolder('fit-c-');
    await fit(model, train, { epochs: 1, batchSize: 128, lr: 0.01, checkpoint: folder, threads: 1 });
    await expect(fit(model, train, { epochs: 1, batchSize: 64, lr: 0.01, checkpoint: folder })).rejects.toThrow(/was written with other settings: batchSize: 128 → 64 \(expected the same settings/);
    await expect(fit(model, train, { epochs: 1, batchSize: 128, lr: 0.01, checkpoint: checkpointPath(folder) })).rejects.toThrow(/checkpoint '.*train-state\.mpck' is a file \(expected a folder/);
    // A folder that cannot be created is refused before the first step, not when epoch 1's checkpoint is written.
    let steps = 0;
    await expect(fit(model, train, { epochs: 1, batchSize: 128, lr: 0.01, checkpoint: join(checkpointPath(folder), 'sub'), onProgress: () => steps++ }))
      .rejects.toThrow(/checkpoint folder '.*train-state\.mpck\/sub' cannot be created or written: .*ENOTDIR/);
    expect(steps).toBe(0);
    // Interrupted before any epoch finished: nothing to resume from, and the message says so.
    const fresh = temporaryFolder('fit-d-');
    const controller = new AbortController();
    await expect(fit(model, train, { epochs: 2, batchSize: 128, lr: 0.01, checkpoint: fresh, signal: controller.signal, progressEvery: 1, onProgress: () => controller.abort() }))
      .rejects.toThrow(/interrupted at step 1 \(epoch 1\); no checkpoint was written yet \(one is written to '.*' after each epoch\), so a rerun starts over/);
    const file = checkpointPath(folder);
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 100));
    await expect(fit(model, train, { epochs: 1, batchSize: 128, lr: 0.01, checkpoint: folder })).rejects.toThrow(/checkpoint '.*train-state\.mpck' is damaged: tensor '.*' lies outside the file/);
    writeFileSync(file, 'not a checkpoint');
    await expect(fit(model, train, { epochs: 1, batchSize: 128, lr: 0.01, checkpoint: folder })).rejects.toThrow(/is damaged: it does not start with/);
    await expect(fit(model, train, { epochs: 1, batchSize: 128, lr: 0.01, patience: 2 })).rejects.toThrow(/'patience' needs a validation split/);
    await expect(fit(model, train, { epochs: 0, batchSize: 128, lr: 0.01 })).rejects.toThrow(/option 'epochs' is 0/);
    await expect(fit(model, train, { epochs: 1, batchSize: 5000, lr: 0.01 })).rejects.toThrow(/fewer than one batch of 5000/);
  }, 60_000);
});
