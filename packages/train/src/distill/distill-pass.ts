/**
 * `distill{teacher=PATH dataset=… epochs=… temperature=4 alpha=0.7 features=[t:s,…] …}`: knowledge
 * distillation (Hinton et al. 2015). The model in the pipeline is the student; the teacher runs in ONNX
 * Runtime once per batch for its soft targets (and matched features), and the student is trained with
 * the `distillation` loss (α·T²·KL + (1−α)·CE + β·Σ feature mse) by `trainSteps`. With more than one
 * epoch and no feature matching, the teacher's logits are computed once for the whole dataset and
 * gathered per batch (`cached-teacher-logits.ts`; `cache-teacher=false` runs it on every batch). A QDQ
 * student trains fake-quantized and keeps its scales; feature projections are trained and dropped.
 */
import { ModelpassError, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { inferShapes } from '@modelpass/ops';
import { definePass, option } from '@modelpass/pass-manager';
import { loadDataset } from '@modelpass/runtime';
import type { OptimizerSpec } from '../optimizers/index.js';
import { shuffledBatches } from '../shuffled-batches.js';
import { trainSteps } from '../train-steps.js';
import { batchesWithCachedLogits, computeTeacherLogits, teacherLogitsFit } from './cached-teacher-logits.js';
import { prepareFakeQuantStudent, requantizeWeights } from './fake-quant-student.js';
import { addFeatureProjections, parseFeaturePairs } from './feature-matching.js';
import { currentTrainingRunner } from '../training-runner.js';
import { upgradeForAutodiff } from '../old-opset.js';
import { lostSparsityWarning, zeroFractions } from '../sparsity-guard.js';
import { loadTeacher, tensorTypeOf, withTeacherTargets } from './teacher.js';

const LOGITS_INPUT = 'teacher_logits';

function distillError(reason: string, hint?: string): ModelpassError {
  return new ModelpassError({ reason, ...(hint ? { hint } : {}), source: '@modelpass/train' });
}

export const distillPass = definePass({
  name: 'distill',
  summary: "Train the model (the student) on a teacher model's soft targets and the labels (knowledge distillation, run in ONNX Runtime)",
  options: {
    teacher: option.string({ default: '', files: 'read', help: 'the teacher model file: ONNX (run in ONNX Runtime), or a .tflite / TorchScript file (run on its own engine)' }),
    dataset: option.string({ default: '', files: 'read', help: 'labelled training data, e.g. fashion-mnist:train, npy:DIR or "idx:IMAGES,LABELS" (quoted: it holds a comma)' }),
    epochs: option.integer({ default: 1, min: 1, help: 'passes over the (sampled) dataset' }),
    temperature: option.number({ default: 4, min: 0.01, help: 'softmax temperature T of the soft targets (at least 0.01)' }),
    alpha: option.number({ default: 0.7, min: 0, max: 1, help: 'weight of the soft-target term (1−alpha weighs the labels)' }),
    features: option.list(option.string({}), { default: [], help: 'intermediate tensors to match, teacherTensor:studentTensor (mse; a learned 1×1 projection when channels differ)' }),
    featureWeight: option.number({ default: 1, min: 0, help: 'weight β of each feature-matching term' }),
    optimizer: option.enum(['sgd', 'adamw'], { default: 'sgd', help: 'SGD (momentum, L2 weight decay) or AdamW, as in train{…}' }),
    lr: option.number({ default: 0.01, min: 0, help: 'learning rate (the peak, with a schedule)' }),
    momentum: option.number({ default: 0.9, min: 0, max: 0.999, help: 'SGD momentum' }),
    weightDecay: option.number({ min: 0, help: 'weight decay (default: 0 for sgd, 0.01 for adamw)' }),
    schedule: option.enum(['constant', 'cosine', 'linear'], { default: 'constant', help: 'learning-rate schedule over all steps' }),
    warmup: option.integer({ default: 0, min: 0, help: 'linear warm-up steps before the schedule' }),
    batch: option.integer({ default: 64, min: 1, help: 'batch size' }),
    samples: option.integer({ default: 0, min: 0, help: 'train on the first N samples only (0: all)' }),
    seed: option.integer({ default: 0, min: 0, help: 'shuffle and projection seed' }),
    batchNorm: option.enum(['running-statistics', 'batch-statistics'], { default: 'batch-statistics', help: "the student's BatchNormalization during training (the teacher's always uses its running statistics)" }),
    threads: option.integer({ default: 0, min: 0, help: "ONNX Runtime intra-op threads of the student's and the teacher's sessions (0: one per core)" }),
    cacheTeacher: option.boolean({ default: true, help: "with epochs > 1 and no features: compute the teacher's logits once for the whole dataset (when they fit in 256 MiB) instead of once per batch" }),
    checkpoint: option.string({ default: '', files: 'write', help: 'data-parallel runs (convert --redis): folder of the per-round checkpoints (default a new folder under --shared)' }),
    resume: option.boolean({ default: true, help: 'data-parallel runs: continue from the last round in checkpoint= when it is the same run' }),
  },
  statistics: ['steps', 'weights-trained', 'fake-quantized-weights', 'projections'],
  async run(model, context) {
    const o = context.options;
    if (!o.teacher) throw distillError("distill needs teacher=PATH (the model to learn from)");
    if (!o.dataset) throw distillError("distill needs dataset=… (e.g. 'fashion-mnist:train')");
    if (!(o.lr > 0)) throw distillError(`distill option lr is ${o.lr}`, 'a positive number');
    if (!(o.temperature > 0)) throw distillError(`distill option temperature is ${o.temperature}`, 'a positive number');
    upgradeForAutodiff(model, context); // the student, as train does (the teacher only runs in ONNX Runtime)
    const zerosBefore = zeroFractions(model);
    const pairs = parseFeaturePairs(o.features);
    const teacher = loadTeacher(o.teacher, pairs.map((pair) => pair.teacher), o.threads > 0 ? { threads: o.threads } : {});

    const student = decodeOnnx(encodeOnnx(model));
    inferShapes(student);
    const input = student.graph.inputs.find((value) => !value.isConstant);
    const type = input?.type;
    if (!input || type?.kind !== 'tensor' || type.shape === null || !type.shape.slice(1).every((d) => typeof d === 'number')) {
      throw distillError('distill needs a student whose first input has static dims after the batch axis');
    }
    const fixedBatch = type.shape[0];
    if (typeof fixedBatch === 'number' && fixedBatch > 0 && fixedBatch !== o.batch) {
      // ORT refused the first step with "Got invalid dimensions for input" (QA s12: a [1,3,16,16] student, batch=8).
      await teacher.dispose();
      throw distillError(
        `option 'batch' of pass 'distill' is ${o.batch}, but the student's input '${input.name}' takes a fixed batch of ${fixedBatch} (its first dimension)`,
        `give batch=${fixedBatch}, or export the student with a dynamic batch dimension (torch.onnx.export(…, dynamic_axes={'${input.name}': {0: 'batch'}}))`,
      );
    }
    const studentLogits = tensorTypeOf(student, student.graph.outputs[0]?.name ?? '')?.shape?.at(-1);
    const teacherLogits = tensorTypeOf(teacher.model, teacher.logits)?.shape?.at(-1);
    if (typeof studentLogits === 'number' && typeof teacherLogits === 'number' && studentLogits !== teacherLogits) {
      throw distillError(`distill: the teacher '${o.teacher}' gives ${teacherLogits} classes ('${teacher.logits}'), the student ${studentLogits}`);
    }
    const fakeQuantized = prepareFakeQuantStudent(student);
    const features = addFeatureProjections(student, teacher.model, pairs, o.seed);

    const runner = currentTrainingRunner();
    let result: { readonly model: Model; readonly losses: readonly number[]; readonly steps: number };
    if (runner) {
      // Trained elsewhere (data-parallel on workers): the runner runs the teacher itself, from its path.
      await teacher.dispose();
      const ran = await runner(student, {
        pass: 'distill', options: o, logitsInput: LOGITS_INPUT,
        features: features.map(({ teacherTensor, target, student: value }) => ({ teacherTensor, target, student: value })),
      });
      result = { model: ran.model, losses: [], steps: ran.steps };
    } else {
      if (o.checkpoint) throw distillError(`distill option checkpoint='${o.checkpoint}' is used by data-parallel distillation only (convert … --redis URL)`, 'leave checkpoint= out when distilling in this process');
      const dataset = loadDataset(o.dataset, o.samples > 0 ? { limit: o.samples } : {});
      const batchOptions = { batchSize: o.batch, input: input.name, sampleShape: type.shape.slice(1) as number[], seed: o.seed, epochs: o.epochs };
      try {
        const table = o.cacheTeacher && o.epochs > 1 && features.length === 0 && teacherLogitsFit(dataset.size, teacherLogits)
          ? await computeTeacherLogits(teacher, dataset, { input: input.name, sampleShape: batchOptions.sampleShape, logitsInput: LOGITS_INPUT, classes: teacherLogits })
          : undefined;
        if (table) context.debug(`teacher logits computed once for ${dataset.size} samples`);
        const targets = table
          ? batchesWithCachedLogits(dataset, table, { ...batchOptions, logitsInput: LOGITS_INPUT })
          : withTeacherTargets(shuffledBatches(dataset, batchOptions), {
            teacher, studentInput: input.name, logitsInput: LOGITS_INPUT,
            features: new Map(features.map((feature) => [feature.teacherTensor, feature.target])),
          });
        const optimizer: OptimizerSpec = o.optimizer === 'adamw'
          ? { kind: 'adamw', ...(o.weightDecay !== undefined ? { weightDecay: o.weightDecay } : {}) }
          : { kind: 'sgd', momentum: o.momentum, weightDecay: o.weightDecay ?? 0 };
        const trained = await trainSteps(student, targets, {
          lr: o.lr, optimizer, schedule: { kind: o.schedule, warmup: o.warmup }, totalSteps: Math.max(1, Math.floor(dataset.size / o.batch) * o.epochs),
          batchNormalization: o.batchNorm, seed: o.seed, ...(o.threads > 0 ? { threads: o.threads } : {}),
          loss: { kind: 'distillation', teacher: LOGITS_INPUT, temperature: o.temperature, alpha: o.alpha, featureWeight: o.featureWeight, features: features.map(({ student: s, target }) => ({ student: s, target })) },
          onStep: (step, loss) => {
            // Ctrl-C (the pipeline's signal): stop after this step, as train does, not after the last epoch.
            if (context.signal.aborted) throw distillError(`distill interrupted at step ${step + 1}`);
            if (step % 50 === 0) context.debug(`step ${step}: loss ${loss.toFixed(4)}`);
          },
        });
        result = { ...trained, steps: trained.losses.length };
      } finally {
        await teacher.dispose();
      }
    }

    let trained = 0;
    for (const value of model.graph.constants) {
      const updated = result.model.graph.getValue(value.name)?.constant;
      if (updated && value.constant && updated.dtype === value.constant.dtype && !updated.equals(value.constant)) { value.setConstant(updated); trained++; }
    }
    trained += requantizeWeights(result.model, model, fakeQuantized);
    context.statistic('steps', result.steps);
    context.statistic('weights-trained', trained);
    context.statistic('fake-quantized-weights', fakeQuantized.filter((w) => w.training === 'fake-quantized').length);
    context.statistic('projections', features.filter((f) => f.projection).length);
    if (result.losses.length) context.debug(`loss: first ${result.losses[0]!.toFixed(4)}, last ${result.losses.at(-1)!.toFixed(4)}`);
    const densified = lostSparsityWarning('distill', zerosBefore, model);
    if (densified) context.report({ severity: 'warning', reason: densified });
    return context.preserve(['shapes']);
  },
});

export const distillPasses = [distillPass];
