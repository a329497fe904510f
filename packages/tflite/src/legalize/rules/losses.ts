/**
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (exported training graphs, evaluation
 * models): the class picked by each target is a ONE_HOT mask over the class axis (1), so
 * `loss = −Σ_c onehot·input · Σ_c onehot·weight`, with `reduction` none / sum / mean (divided by the
 * summed weights of the targets, ONNX's weighted mean). TFLite's ONE_HOT gives an all-zero row for
 * an index outside [0, C), so an ignore_index outside the classes drops out by itself; one inside
 * is masked by NOT_EQUAL. SoftmaxCrossEntropyLoss takes LOG_SOFTMAX over the class axis first (moved
 * last and back by TRANSPOSE when the scores have more than two dims) and can output it.
 */
import { Tensor, tensorType, type Node, type Type, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { replaceNode, staticDims, TfliteEmitter, tensorTypeOf, typeWithShape } from '../lowering-tools.js';

const none = { fused_activation_function: 'NONE' };

function lossProblem(node: Node): string | undefined {
  const dims = staticDims(node.inputs[0]);
  if (!dims || dims.length < 2) return `${node.opType} needs a static input shape [N, C, …]`;
  if (dims.length > 4) return `${node.opType} over more than 4 dims: TFLite 2.9's MUL/SUM broadcast at most 4-D`;
  if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return `${node.opType} is lowered for float32 input only`;
  const targetType = tensorTypeOf(node.inputs[1])?.dtype;
  if (targetType !== 'int32' && targetType !== 'int64') return `targets of dtype ${targetType ?? 'unknown'} are not supported (int32, int64)`;
  const reduction = node.optionalAttr('reduction', 'string') ?? 'mean';
  if (!['none', 'sum', 'mean'].includes(reduction)) return `reduction '${reduction}' is not none, sum or mean`;
  return undefined;
}

/** The loss of every target (reduction none), and the weight each target counts with. */
function pickedLoss(emit: TfliteEmitter, node: Node, logProbabilities: Value): { loss: Value; weights: Value } {
  const dims = staticDims(logProbabilities)!;
  const classes = dims[1]!;
  const rank = dims.length;
  const target = node.input(1);
  const targetDims = staticDims(target) ?? [dims[0]!, ...dims.slice(2)];
  const full = tensorType('float32', dims);
  const picked = tensorType('float32', targetDims);
  const f = (value: number, name: string) => emit.constant(Tensor.scalar('float32', value), name);
  const oneHot = emit.op1('ONE_HOT', [target, emit.int32([classes], [], 'depth'), f(1, 'on'), f(0, 'off')], { axis: 1 }, full);
  const classAxis = emit.int32([1], [1], 'class_axis');
  const sumClasses = (value: Value) => emit.op1('SUM', [value, classAxis], { keep_dims: 0 }, picked);
  const chosen = sumClasses(emit.op1('MUL', [oneHot, logProbabilities], none, full));
  const weightShape = [1, classes, ...new Array<number>(rank - 2).fill(1)];
  let weights: Value;
  const given = node.inputs[2];
  if (given) {
    const constant = constantOf(given);
    const shaped = constant ? emit.constant(constant.reshape(weightShape), 'class_weights') : emit.op1('RESHAPE', [given, emit.int32(weightShape, [rank], 'weight_shape')], {}, tensorType('float32', weightShape));
    weights = sumClasses(emit.op1('MUL', [oneHot, shaped], none, full));
  } else {
    weights = sumClasses(oneHot);
  }
  const ignore = node.optionalAttr('ignore_index', 'int');
  if (ignore !== undefined && ignore >= 0 && ignore < classes) {
    const targetDtype = tensorTypeOf(target)!.dtype;
    const ignored = emit.constant(targetDtype === 'int64' ? Tensor.scalar('int64', BigInt(ignore)) : Tensor.scalar('int32', ignore), 'ignore_index');
    const kept = emit.op1('NOT_EQUAL', [target, ignored], {}, tensorType('bool', targetDims));
    weights = emit.op1('MUL', [weights, emit.op1('CAST', [kept], { in_data_type: 'BOOL', out_data_type: 'FLOAT32' }, picked)], none, picked);
  }
  const loss = emit.op1('MUL', [emit.op1('NEG', [chosen], {}, picked), weights], none, picked);
  return { loss, weights };
}

function reduced(emit: TfliteEmitter, node: Node, loss: Value, weights: Value, type: Type): Value {
  const reduction = node.optionalAttr('reduction', 'string') ?? 'mean';
  if (reduction === 'none') return loss;
  const rank = staticDims(loss)!.length;
  const all = emit.int32(Array.from({ length: rank }, (_, i) => i), [rank], 'all_axes');
  const scalar = tensorType('float32', []);
  const total = emit.op1('SUM', [loss, all], { keep_dims: 0 }, reduction === 'sum' ? type : scalar);
  if (reduction === 'sum') return total;
  return emit.op1('DIV', [total, emit.op1('SUM', [weights, all], { keep_dims: 0 }, scalar)], none, type);
}

function lowerNll(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const { loss, weights } = pickedLoss(emit, node, node.input(0));
  replaceNode(node, [reduced(emit, node, loss, weights, node.output(0).type)]);
}

/** LOG_SOFTMAX over axis 1 (TFLite's works on the last axis: TRANSPOSE there and back beyond rank 2). */
function logSoftmaxOverClasses(emit: TfliteEmitter, scores: Value): Value {
  const dims = staticDims(scores)!;
  const rank = dims.length;
  if (rank === 2) return emit.op1('LOG_SOFTMAX', [scores], {}, scores.type);
  const perm = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1];
  const back = [0, rank - 1, ...Array.from({ length: rank - 2 }, (_, i) => i + 1)];
  const moved = typeWithShape(scores.type, perm.map((p) => dims[p]!));
  const last = emit.op1('TRANSPOSE', [scores, emit.int32(perm, [rank], 'perm')], {}, moved);
  const log = emit.op1('LOG_SOFTMAX', [last], {}, moved);
  return emit.op1('TRANSPOSE', [log, emit.int32(back, [rank], 'perm_back')], {}, scores.type);
}

function lowerSoftmaxCrossEntropy(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const logProbabilities = logSoftmaxOverClasses(emit, node.input(0));
  const { loss, weights } = pickedLoss(emit, node, logProbabilities);
  replaceNode(node, [reduced(emit, node, loss, weights, node.output(0).type), logProbabilities]);
}

export const lossRules: readonly LoweringRule[] = [
  { ops: ['onnx.NegativeLogLikelihoodLoss'], stage: 'lower', targets: ['ONE_HOT', 'MUL', 'SUM', 'NEG', 'NOT_EQUAL', 'CAST', 'DIV', 'RESHAPE'], check: lossProblem, lower: lowerNll },
  { ops: ['onnx.SoftmaxCrossEntropyLoss'], stage: 'lower', targets: ['LOG_SOFTMAX', 'TRANSPOSE', 'ONE_HOT', 'MUL', 'SUM', 'NEG', 'NOT_EQUAL', 'CAST', 'DIV', 'RESHAPE'], check: lossProblem, lower: lowerSoftmaxCrossEntropy },
];
