/**
 * The `distill` pass under `distributedTrainingRunner` (embedded backend): one shard and one round
 * is `trainSteps` with the distillation loss on the teacher's outputs, computed from the teacher's
 * path (so the teacher really reaches the workers' loss); a resumed run ends bit-identical to an
 * uninterrupted one, feature projections included; another teacher in the same folder is refused.
 * (On BullMQ workers with a SIGKILL: the CLI's distributed-training test.)
 */
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Tensor, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx, readOnnx, writeOnnx } from '@modelpass/onnx';
import { inferShapes } from '@modelpass/ops';
import { PassManager } from '@modelpass/pass-manager';
import { loadDataset } from '@modelpass/runtime';
import { distillPasses, loadTeacher, shuffledBatches, trainSteps, withTeacherTargets } from '@modelpass/train';
import { EmbeddedBackend, defaultConvertEnvironment, distributedTrainingRunner, roundSeed, withTrainingRunner } from '@modelpass/distributed';
import { FASHION_CNN } from './quantize-fixture.js';

const TEACHER = FASHION_CNN.replace('fashion-cnn', 'fashion-resnet');
const MLP = FASHION_CNN.replace('fashion-cnn', 'fashion-mlp');
const backend = new EmbeddedBackend();

async function distillCnn(pipeline: string, shards = 2): Promise<Model> {
  const model = readOnnx(FASHION_CNN);
  const environment = defaultConvertEnvironment();
  environment.passes.register(distillPasses, '@modelpass/train');
  await withTrainingRunner(distributedTrainingRunner({ backend, shards }), () => new PassManager({ environment }).run(model, pipeline));
  return model;
}

const floats = (model: Model) => new Map(model.graph.constants.filter((v) => v.constant?.dtype === 'float32').map((v) => [v.name, Buffer.from(v.constant!.bytes())]));

describe('distill pass, data-parallel (withTrainingRunner)', () => {
  it('one shard, one round is trainSteps on the teacher’s soft targets, weight for weight', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'distill-'));
    const settings = 'dataset=fashion-mnist:train samples=128 batch=64 lr=0.01 momentum=0.9 temperature=3 alpha=0.8 seed=4';
    const distributed = await distillCnn(`distill{teacher=${TEACHER} ${settings} checkpoint=${folder}}`, 1);

    const student = readOnnx(FASHION_CNN);
    inferShapes(student);
    const seed = roundSeed(4, 0, 0);
    const batches = shuffledBatches(loadDataset('fashion-mnist:train', { limit: 128 }), { batchSize: 64, input: 'input', sampleShape: [1, 28, 28], seed, epochs: 1 });
    const teacher = loadTeacher(TEACHER, []);
    const targets = withTeacherTargets(batches, { teacher, studentInput: 'input', logitsInput: 'teacher_logits', features: new Map() });
    const direct = await trainSteps(student, targets, {
      lr: 0.01, momentum: 0.9, weightDecay: 0, seed, batchNormalization: 'batch-statistics',
      loss: { kind: 'distillation', teacher: 'teacher_logits', temperature: 3, alpha: 0.8, featureWeight: 1, features: [] },
    });
    await teacher.dispose();
    const expected = floats(direct.model);
    const actual = floats(distributed);
    for (const [name, bytes] of expected) expect(actual.get(name)!.equals(bytes), name).toBe(true);
  });

  it('a resumed run with a projected feature ends bit-identical to an uninterrupted one; another teacher there is refused', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'distill-'));
    const teacher = join(folder, 'teacher.onnx');
    copyFileSync(MLP, teacher);
    // The MLP's 128-wide hidden layer against the CNN's 64-wide one: a learned MatMul projection.
    const distill = (epochs: number, checkpoint: string) =>
      `distill{teacher=${teacher} dataset=fashion-mnist:train samples=128 epochs=${epochs} batch=64 lr=0.01 seed=3 features=[/Relu_output_0:/Relu_2_output_0] feature-weight=0.1 checkpoint=${checkpoint}}`;
    const checkpoints = join(folder, 'ckpt');
    const first = encodeOnnx(await distillCnn(distill(1, checkpoints)));
    expect(readOnnx(join(checkpoints, 'round-001.onnx')).graph.nodeList().some((node) => node.name === 'projection_0')).toBe(true);
    const resumed = encodeOnnx(await distillCnn(distill(2, checkpoints)));
    const uninterrupted = encodeOnnx(await distillCnn(distill(2, join(folder, 'other'))));
    expect(Buffer.from(first).equals(Buffer.from(uninterrupted))).toBe(false);
    expect(Buffer.from(resumed).equals(Buffer.from(uninterrupted))).toBe(true);
    expect(readFileSync(join(checkpoints, 'round-002.onnx')).equals(readFileSync(join(folder, 'other', 'round-002.onnx')))).toBe(true);
    // The projection is trained with the student and dropped from the pipeline's model.
    expect(readOnnx(join(checkpoints, 'round-002.onnx')).graph.nodeList().some((node) => node.name === 'projection_0')).toBe(true);
    expect(decodeOnnx(resumed).graph.nodeList().some((node) => node.name === 'projection_0')).toBe(false);
    const retrained = readOnnx(MLP);
    const weight = retrained.graph.constants.find((v) => v.constant?.dtype === 'float32')!;
    weight.setConstant(Tensor.fromValues('float32', weight.constant!.shape, (weight.constant!.data() as Float32Array).map((x) => x * 0.5)));
    writeOnnx(retrained, teacher);
    await expect(distillCnn(distill(2, checkpoints))).rejects.toThrow(/holds another training run/);
  });

  it('refuses what rounds of SGD cannot mean yet, and checkpoint= in one process, naming the options', async () => {
    await expect(distillCnn(`distill{teacher=${TEACHER} dataset=fashion-mnist:train samples=128 optimizer=adamw warmup=5}`)).rejects.toThrow(
      /distill\{optimizer=adamw warmup=5\} is not supported by data-parallel training on workers yet/,
    );
    // In one process (no runner) checkpoint= has no meaning yet: refused, not ignored.
    const environment = defaultConvertEnvironment();
    environment.passes.register(distillPasses, '@modelpass/train');
    await expect(new PassManager({ environment }).run(readOnnx(FASHION_CNN), `distill{teacher=${TEACHER} dataset=fashion-mnist:train samples=128 checkpoint=${tmpdir()}}`)).rejects.toThrow(
      /checkpoint='.*' is used by data-parallel distillation only/,
    );
  });
});
