/**
 * `train-round`: one worker's part of a data-parallel training round. From the round's checkpoint,
 * SGD on its shard of the data (seeded shuffling per round and shard, whole batches), then the
 * trained model is written next to the result for the coordinator to average. A distillation round
 * loads the teacher from its path on this worker and adds its outputs (soft targets, matched
 * features) to each batch, as the `distill` pass does in one process.
 */
import { performance } from 'node:perf_hooks';
import { writeOnnx, readOnnx } from '@modelpass/onnx';
import { countDatasetReads, readDatasetRange } from '@modelpass/runtime';
import { loadTeacher, shuffledBatches, trainSteps, withTeacherTargets, type LossSpec, type TrainBatch } from '@modelpass/train';
import { distributedError } from '../errors.js';
import type { DistillationTargets, TrainRoundJob, TrainRoundResult } from '../job-types.js';

/** The seed of shard `shard` in round `round`: distinct per (round, shard), the same on every run. */
export function roundSeed(seed: number, round: number, shard: number): number {
  return ((seed * 1_000_003 + round * 10_007 + shard) >>> 0) % 2 ** 31;
}

export async function trainRound(job: TrainRoundJob): Promise<TrainRoundResult> {
  if (!(Number.isInteger(job.start) && Number.isInteger(job.end) && job.start >= 0 && job.end > job.start)) {
    throw distributedError({ reason: `train-round job has samples [${job.start}, ${job.end})`, expected: 'integers 0 ≤ start < end' });
  }
  const started = performance.now();
  const model = readOnnx(job.model);
  const input = model.graph.inputs.find((i) => i.constant === undefined);
  const shape = input?.type.kind === 'tensor' ? input.type.shape : undefined;
  if (!input || !shape || shape.slice(1).some((d) => typeof d !== 'number')) {
    throw distributedError({ reason: `model '${job.model}' needs one input with a known sample shape to train on '${job.dataset}'`, location: { file: job.model } });
  }
  const { value: dataset, reads } = await countDatasetReads(() => readDatasetRange(job.dataset, { cwd: job.cwd, start: job.start, end: job.end }));
  if (dataset.size < job.batchSize) throw distributedError({ reason: `shard [${job.start}, ${job.end}) holds ${dataset.size} samples, fewer than one batch of ${job.batchSize}`, hint: 'use fewer shards or a smaller batch' });
  const read = (performance.now() - started) / 1000;
  const seed = roundSeed(job.seed, job.round, job.shard);
  const batches = shuffledBatches(dataset, { batchSize: job.batchSize, input: input.name, sampleShape: shape.slice(1) as number[], seed, epochs: job.epochs });
  const settings = {
    lr: job.lr, momentum: job.momentum, weightDecay: job.weightDecay, seed,
    ...(job.batchNormalization ? { batchNormalization: job.batchNormalization } : {}), ...(job.dropout ? { dropout: job.dropout } : {}),
  };
  const trained = job.distillation
    ? await distillSteps(job.distillation, input.name, batches, (targets, loss) => trainSteps(model, targets, { ...settings, loss }))
    : await trainSteps(model, batches, settings);
  const computed = performance.now();
  writeOnnx(trained.model, job.output);
  return {
    output: job.output,
    steps: trained.losses.length,
    meanLoss: trained.losses.reduce((a, b) => a + b, 0) / Math.max(1, trained.losses.length),
    phases: { read, compute: (computed - started) / 1000 - read, write: (performance.now() - computed) / 1000 },
    reads,
  };
}

/** Runs `train` on the batches with the teacher's outputs added (the teacher read and run here, released after). */
async function distillSteps<T>(distillation: DistillationTargets, studentInput: string, batches: Iterable<TrainBatch>, train: (targets: AsyncIterable<TrainBatch>, loss: LossSpec) => Promise<T>): Promise<T> {
  const teacher = loadTeacher(distillation.teacher, distillation.features.map((feature) => feature.teacherTensor));
  try {
    const targets = withTeacherTargets(batches, {
      teacher, studentInput, logitsInput: distillation.logitsInput,
      features: new Map(distillation.features.map((feature) => [feature.teacherTensor, feature.target])),
    });
    return await train(targets, {
      kind: 'distillation', teacher: distillation.logitsInput, temperature: distillation.temperature, alpha: distillation.alpha,
      featureWeight: distillation.featureWeight, features: distillation.features.map(({ student, target }) => ({ student, target })),
    });
  } finally {
    await teacher.dispose();
  }
}
