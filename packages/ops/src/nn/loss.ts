/**
 * Losses: NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (reductions none/sum/mean, class
 * weights, ignore_index). Sums run in float64 and round once to the output dtype.
 */
import { isTensorType, tensorType, type Dim, type InferenceContext, type Node, type Tensor, type TensorType, type Type } from '@modelpass/ir';
import { defineCanonicalOp, type KernelContext, type RuntimeValue } from '../op-definition.js';
import { tensorFromElements, readInts, readNumbers } from '../util/elements.js';
import { inputTensorType } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { sizeOf } from '../util/shape.js';
import { refuseShape } from '../util/shape-refusal.js';
import { reportAt, type OpVerifier } from '../verify/verify-context.js';

type Reduction = 'none' | 'sum' | 'mean';

const lossAttributes = {
  reduction: { kind: 'string', default: 'mean', oneOf: ['none', 'sum', 'mean'] },
  ignore_index: { kind: 'int' },
} as const;

/** The loss dims: the input's shape without the class axis (axis 1). */
function lossShape(shape: readonly Dim[]): Dim[] {
  return [shape[0]!, ...shape.slice(2)];
}

interface LossProblem {
  readonly reason: string;
  readonly expected: string;
  readonly actual: string;
}

const formatDims = (shape: readonly Dim[]): string => `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;

/**
 * What ONNX's shape inference (and so ONNX Runtime at load) refuses in a loss node: a target whose rank is not the
 * input's less one or whose dims differ from the input's without the class axis, a target that is not int32/int64,
 * a weight not of the input's type or not [C]. Unknown types and dims are not judged.
 */
function lossProblem(node: Node, input: TensorType | undefined, target: TensorType | undefined, weight: TensorType | undefined): LossProblem | undefined {
  const name = (index: number) => node.inputs[index]?.name ?? `input ${index}`;
  if (target && !['int32', 'int64'].includes(target.dtype)) return { reason: `target '${name(1)}' is ${target.dtype}`, expected: 'int32 or int64 class indices', actual: target.dtype };
  if (input && weight && weight.dtype !== input.dtype) return { reason: `weight '${name(2)}' is ${weight.dtype} but input '${name(0)}' is ${input.dtype}`, expected: `weight of ${input.dtype}`, actual: weight.dtype };
  if (!input?.shape) return undefined;
  if (input.shape.length < 2) return { reason: `input '${name(0)}' ${formatDims(input.shape)} has no class axis`, expected: 'rank 2 or more (N, C, d1, ...)', actual: `rank ${input.shape.length}` };
  const expected = lossShape(input.shape);
  if (target?.shape) {
    const clash = target.shape.length !== expected.length || target.shape.some((dim, i) => typeof dim === 'number' && typeof expected[i] === 'number' && dim !== expected[i]);
    if (clash) return { reason: `target '${name(1)}' ${formatDims(target.shape)} does not match input '${name(0)}' ${formatDims(input.shape)} without its class axis`, expected: formatDims(expected), actual: formatDims(target.shape) };
  }
  const classes = input.shape[1];
  if (weight?.shape && (weight.shape.length !== 1 || (typeof weight.shape[0] === 'number' && typeof classes === 'number' && weight.shape[0] !== classes)))
    return { reason: `weight '${name(2)}' ${formatDims(weight.shape)} is not one value per class of input '${name(0)}' ${formatDims(input.shape)}`, expected: `[${classes ?? 'C'}]`, actual: formatDims(weight.shape) };
  return undefined;
}

const typeOfInput = (node: Node, index: number): TensorType | undefined => {
  const type = node.inputs[index]?.type;
  return type && isTensorType(type) ? type : undefined;
};

const verifyLoss: OpVerifier = (context) => {
  const { node } = context;
  const problem = lossProblem(node, typeOfInput(node, 0), typeOfInput(node, 1), typeOfInput(node, 2));
  if (problem) reportAt(context, 'loss-operands', problem.reason, { expected: problem.expected, actual: problem.actual });
};

function inferLoss(context: InferenceContext, withLogProb: boolean): (Type | undefined)[] {
  const input = inputTensorType(context, 0);
  const target = inputTensorType(context, 1);
  const problem = lossProblem(context.node, input, target, context.node.inputs[2] ? inputTensorType(context, 2) : undefined);
  if (problem) refuseShape(context.node, 'loss-operands', problem.reason, { expected: problem.expected, actual: problem.actual });
  const reduction = context.node.attr('reduction', 'string', 'mean');
  const dtype = input?.dtype;
  let loss: Type | undefined;
  if (dtype) {
    if (reduction !== 'none') loss = tensorType(dtype, []);
    else if (target?.shape) loss = tensorType(dtype, target.shape);
    else loss = tensorType(dtype, input.shape && input.shape.length >= 2 ? lossShape(input.shape) : null);
  }
  const outputs: (Type | undefined)[] = [loss];
  if (withLogProb && context.node.outputs.length > 1) outputs.push(input ? tensorType(input.dtype, input.shape) : undefined);
  return outputs;
}

/**
 * The weighted loss of log-probabilities `logProb` (shape N, C, d1..dk, as float64) for `target`
 * (N, d1..dk), reduced as the node says. Returns the loss elements and their shape.
 */
function negativeLogLikelihood(
  node: Node,
  logProb: ArrayLike<number>,
  shape: readonly number[],
  target: Tensor,
  weight: Tensor | undefined,
): { values: Float64Array; shape: number[] } {
  if (shape.length < 2) throw opError(node, `input must have rank 2 or more (N, C, d1, ...)`, { actual: `rank ${shape.length}` });
  const [batch, classes] = [shape[0]!, shape[1]!];
  const inner = sizeOf(shape, 2);
  const targetShape = lossShape(shape) as number[];
  if (target.shape.join(',') !== targetShape.join(',')) {
    throw opError(node, 'target shape must be the input shape without the class axis', { expected: `[${targetShape}]`, actual: `[${target.shape}]` });
  }
  const labels = readInts(target);
  const weights = weight ? readNumbers(weight) : undefined;
  if (weights && weights.length !== classes) throw opError(node, `weight must have one value per class`, { expected: String(classes), actual: String(weights.length) });
  const ignoreIndex = node.optionalAttr('ignore_index', 'int');
  const reduction = node.attr('reduction', 'string', 'mean') as Reduction;
  const losses = new Float64Array(batch * inner);
  let weightTotal = 0;
  for (let n = 0; n < batch; n++) {
    for (let i = 0; i < inner; i++) {
      const at = n * inner + i;
      const label = labels[at]!;
      if (label === ignoreIndex) continue;
      if (label < 0 || label >= classes) {
        throw opError(node, `target value ${label} is not a class index`, { expected: `an integer in [0, ${classes - 1}]${ignoreIndex === undefined ? '' : ` or ignore_index ${ignoreIndex}`}` });
      }
      const w = weights ? weights[label]! : 1;
      losses[at] = -logProb[(n * classes + label) * inner + i]! * w;
      weightTotal += w;
    }
  }
  if (reduction === 'none') return { values: losses, shape: targetShape };
  let sum = 0;
  for (const value of losses) sum += value;
  return { values: Float64Array.of(reduction === 'sum' ? sum : sum / weightTotal), shape: [] };
}

function floatInput(inputs: readonly RuntimeValue[], context: KernelContext): Tensor {
  const x = inputTensor(inputs, 0, context);
  if (!['float32', 'float64', 'float16', 'bfloat16'].includes(x.dtype)) throw opError(context.node, 'input must be a float tensor', { actual: x.dtype });
  return x;
}

export const negativeLogLikelihoodLossOp = defineCanonicalOp({
  op: 'onnx.NegativeLogLikelihoodLoss',
  summary: 'loss = -input[n, target, d...] * weight[target], reduced by none/sum/mean (weighted mean)',
  inputs: [{ name: 'input' }, { name: 'target' }, { name: 'weight', optional: true }],
  outputs: [{ name: 'loss' }],
  attributes: lossAttributes,
  verify: verifyLoss,
  inferTypes: (context) => inferLoss(context, false),
  kernel(inputs, context) {
    const x = floatInput(inputs, context);
    const { values, shape } = negativeLogLikelihood(context.node, readNumbers(x), x.shape, inputTensor(inputs, 1, context), optionalInputTensor(inputs, 2, context));
    return [tensorFromElements(x.dtype, shape, values)];
  },
});

/** log(softmax(x)) along axis 1 of a (N, C, d...) tensor, in float64. */
function logSoftmaxOverClasses(x: ArrayLike<number>, shape: readonly number[]): Float64Array {
  const [batch, classes] = [shape[0]!, shape[1]!];
  const inner = sizeOf(shape, 2);
  const out = new Float64Array(x.length);
  for (let n = 0; n < batch; n++) {
    for (let i = 0; i < inner; i++) {
      const base = n * classes * inner + i;
      let max = -Infinity;
      for (let c = 0; c < classes; c++) max = Math.max(max, x[base + c * inner]!);
      let sum = 0;
      for (let c = 0; c < classes; c++) sum += Math.exp(x[base + c * inner]! - max);
      const logSum = Math.log(sum) + max;
      for (let c = 0; c < classes; c++) out[base + c * inner] = x[base + c * inner]! - logSum;
    }
  }
  return out;
}

export const softmaxCrossEntropyLossOp = defineCanonicalOp({
  op: 'onnx.SoftmaxCrossEntropyLoss',
  summary: 'NegativeLogLikelihoodLoss of LogSoftmax(scores) over the class axis; optional log_prob output',
  inputs: [{ name: 'scores' }, { name: 'labels' }, { name: 'weights', optional: true }],
  outputs: [{ name: 'output' }, { name: 'log_prob', optional: true }],
  attributes: lossAttributes,
  verify: verifyLoss,
  inferTypes: (context) => inferLoss(context, true),
  kernel(inputs, context) {
    const scores = floatInput(inputs, context);
    if (scores.rank < 2) throw opError(context.node, 'scores must have rank 2 or more (N, C, d1, ...)', { actual: `rank ${scores.rank}` });
    const logProb = logSoftmaxOverClasses(readNumbers(scores), scores.shape);
    const { values, shape } = negativeLogLikelihood(context.node, logProb, scores.shape, inputTensor(inputs, 1, context), optionalInputTensor(inputs, 2, context));
    return [tensorFromElements(scores.dtype, shape, values), tensorFromElements(scores.dtype, scores.shape, logProb)];
  },
});

export const lossOps = [negativeLogLikelihoodLossOp, softmaxCrossEntropyLossOp];
