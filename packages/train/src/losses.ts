/**
 * Loss builders, in a registry keyed by kind. Each appends ONNX nodes computing a scalar loss from a
 * model output and new graph inputs (labels, targets, teacher logits); autodiff then differentiates
 * the loss nodes with the same rules as the model.
 *
 * - `cross-entropy`: mean over the batch of −log softmax(logits)[label]; labels int64 `[N]`.
 * - `mse`: mean of (prediction − target)² over all elements.
 * - `kl`: T² · batch-mean of KL(softmax(teacher/T) ‖ softmax(student/T)) (Hinton et al.), teacher logits as an input.
 * - `distillation`: α·kl + (1−α)·cross-entropy, plus β · Σ mse over matched intermediate features.
 */
import { ModelpassError, Tensor, tensorType, type Value } from '@modelpass/ir';
import type { GradientContext } from './gradient-context.js';

export type LossSpec =
  | { readonly kind: 'cross-entropy'; readonly output?: string; readonly labels?: string }
  | { readonly kind: 'mse'; readonly output?: string; readonly target?: string }
  | { readonly kind: 'kl'; readonly output?: string; readonly teacher?: string; readonly temperature?: number }
  | DistillationLossSpec;

/** One intermediate-feature term of a distillation loss: mse between a student value and a new input holding the teacher's tensor. */
export interface FeatureMatchSpec {
  /** The student's value (an intermediate tensor, or a projection of one). */
  readonly student: string;
  /** Name of the input the teacher's tensor is fed through. */
  readonly target: string;
}

export interface DistillationLossSpec {
  readonly kind: 'distillation';
  readonly output?: string;
  /** Input names (default `labels`, `teacher_logits`). */
  readonly labels?: string;
  readonly teacher?: string;
  /** Softmax temperature T (default 4). */
  readonly temperature?: number;
  /** Weight α of the soft-target term (default 0.7); 1−α weighs the hard labels. */
  readonly alpha?: number;
  readonly features?: readonly FeatureMatchSpec[];
  /** Weight β of each feature term (default 1). */
  readonly featureWeight?: number;
}

export type LossBuilder = (ctx: GradientContext, prediction: Value, spec: LossSpec) => Value;

function classAxisSize(ctx: GradientContext, logits: Value, what: string): number {
  const shape = ctx.typeOf(logits).shape;
  const classes = shape[shape.length - 1];
  if (shape.length !== 2 || typeof classes !== 'number') {
    throw new ModelpassError({ reason: `${what} needs logits of shape [N, classes] with a static class count; '${logits.name}' has [${shape.join(',')}]`, source: '@modelpass/train' });
  }
  return classes;
}

function batchMean(ctx: GradientContext, perSample: Value): Value {
  return ctx.op('ReduceMean', [perSample], { keepdims: 0 });
}

export const lossBuilders = new Map<LossSpec['kind'], LossBuilder>([
  ['cross-entropy', (ctx, logits, spec) => {
    const classes = classAxisSize(ctx, logits, 'cross-entropy');
    const labelName = (spec.kind === 'cross-entropy' && spec.labels) || 'labels';
    const batch = ctx.typeOf(logits).shape[0] ?? 'N';
    const labels = ctx.graph.addInput(labelName, tensorType('int64', [batch]));
    const dtype = ctx.floatType;
    const oneHot = ctx.op('OneHot', [labels, ctx.ints([classes]), ctx.graph.addConstant(ctx.graph.uniqueName('onehot_values'), Tensor.fromValues(dtype, [2], [0, 1]))], { axis: -1 });
    const logProbabilities = ctx.op('LogSoftmax', [logits], { axis: 1 });
    const picked = ctx.reduceSum(ctx.op('Mul', [logProbabilities, oneHot]), [1], false);
    return ctx.op('Neg', [batchMean(ctx, picked)]);
  }],
  ['mse', (ctx, prediction, spec) => {
    const type = ctx.typeOf(prediction);
    const target = ctx.graph.addInput((spec.kind === 'mse' && spec.target) || 'target', tensorType(type.dtype, type.shape));
    const difference = ctx.op('Sub', [prediction, target]);
    return ctx.op('ReduceMean', [ctx.op('Mul', [difference, difference])], { keepdims: 0 });
  }],
  ['kl', (ctx, studentLogits, spec) => {
    classAxisSize(ctx, studentLogits, 'kl');
    const temperature = (spec.kind === 'kl' && spec.temperature) || 1;
    const type = ctx.typeOf(studentLogits);
    const teacherLogits = ctx.graph.addInput((spec.kind === 'kl' && spec.teacher) || 'teacher_logits', tensorType(type.dtype, type.shape));
    const invT = ctx.scalar(1 / temperature);
    const teacherLog = ctx.op('LogSoftmax', [ctx.op('Mul', [teacherLogits, invT])], { axis: 1 });
    const studentLog = ctx.op('LogSoftmax', [ctx.op('Mul', [studentLogits, invT])], { axis: 1 });
    const terms = ctx.op('Mul', [ctx.op('Exp', [teacherLog]), ctx.op('Sub', [teacherLog, studentLog])]);
    const perSample = ctx.reduceSum(terms, [1], false);
    return ctx.op('Mul', [batchMean(ctx, perSample), ctx.scalar(temperature * temperature)]);
  }],
  ['distillation', (ctx, studentLogits, spec) => distillationLoss(ctx, studentLogits, spec as DistillationLossSpec)],
]);

function distillationLoss(ctx: GradientContext, studentLogits: Value, spec: DistillationLossSpec): Value {
  const temperature = spec.temperature ?? 4;
  const alpha = spec.alpha ?? 0.7;
  const featureWeight = spec.featureWeight ?? 1;
  const bad = (name: string, value: number, expected: string) => new ModelpassError({ reason: `distillation loss option '${name}' is ${value}`, expected, source: '@modelpass/train' });
  if (!(Number.isFinite(temperature) && temperature > 0)) throw bad('temperature', temperature, 'a positive number');
  if (!(alpha >= 0 && alpha <= 1)) throw bad('alpha', alpha, 'a number in [0, 1]');
  if (!(Number.isFinite(featureWeight) && featureWeight >= 0)) throw bad('featureWeight', featureWeight, 'a number ≥ 0');
  const soft = lossBuilders.get('kl')!(ctx, studentLogits, { kind: 'kl', temperature, ...(spec.teacher ? { teacher: spec.teacher } : {}) });
  const hard = lossBuilders.get('cross-entropy')!(ctx, studentLogits, { kind: 'cross-entropy', ...(spec.labels ? { labels: spec.labels } : {}) });
  let total = ctx.op('Add', [ctx.op('Mul', [soft, ctx.scalar(alpha)]), ctx.op('Mul', [hard, ctx.scalar(1 - alpha)])]);
  for (const feature of spec.features ?? []) {
    const value = ctx.graph.getValue(feature.student);
    if (!value || value.type.kind !== 'tensor' || !['float32', 'float64', 'float16'].includes(value.type.dtype)) {
      throw new ModelpassError({ reason: `feature matching reads the student's tensor '${feature.student}', which the model does not have as a float tensor`, source: '@modelpass/train' });
    }
    const mse = lossBuilders.get('mse')!(ctx, value, { kind: 'mse', target: feature.target });
    total = ctx.op('Add', [total, ctx.op('Mul', [mse, ctx.scalar(featureWeight)])]);
  }
  return total;
}

