import { Tensor, tensorType, type Dim, type Node, type Value } from '@modelpass/ir';
import { invertPermutation, permuteType } from '@modelpass/transforms';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, normalizeAxis, rankOfValue, replaceNode, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { reshapeTarget } from './compose.js';

/** The 2-D shape (RESHAPE target, -1 for the one unknown) an op before opset 13 coerces its input to at `axis`, or undefined when two are unknown. */
function coercedMatrix(dims: readonly Dim[], axis: number): [number, number] | undefined {
  const product = (part: readonly Dim[]): number => (part.every((d) => typeof d === 'number') ? (part as number[]).reduce((n, d) => n * d, 1) : -1);
  const rows = product(dims.slice(0, axis));
  const columns = product(dims.slice(axis));
  return rows === -1 && columns === -1 ? undefined : [rows, columns];
}

function coercedMatrixProblem(dims: readonly Dim[], axis: number): string | undefined {
  if (coercedMatrix(dims, axis)) return undefined;
  return `before opset 13 this op flattens the input to 2-D at axis ${axis}; input [${dims.map((d) => d ?? '?').join(', ')}] has unknown dims on both sides of it, so neither side of the 2-D shape is known`;
}

function softmaxAxis(node: Node, rank: number, opset: number): number | undefined {
  return normalizeAxis(node.optionalAttr('axis', 'int') ?? (opset < 13 ? 1 : -1), rank);
}

/**
 * Softmax/LogSoftmax: TFLite's kernels work on the last axis; another axis is swapped there and back. Before
 * opset 13 the op flattens the input to 2-D at its axis and runs along the second dim: RESHAPE, the op, RESHAPE back.
 */
function softmaxRule(op: string, builtin: string, options: Record<string, number>): LoweringRule {
  return {
    ops: [op],
    stage: 'lower',
    targets: [builtin, 'TRANSPOSE', 'RESHAPE', 'SHAPE'],
    check(node, context) {
      const rank = rankOfValue(node.inputs[0]);
      if (rank === undefined) return 'needs the input rank';
      const axis = softmaxAxis(node, rank, context.model.opset('onnx') ?? 13);
      if (axis === undefined) return 'the axis is out of range';
      if ((context.model.opset('onnx') ?? 13) < 13 && axis !== rank - 1) return coercedMatrixProblem(dimsOf(node.inputs[0])!, axis);
      return undefined;
    },
    lower(node, context) {
      const emit = new TfliteEmitter(node, context);
      const rank = rankOfValue(node.inputs[0])!;
      const axis = softmaxAxis(node, rank, context.model.opset('onnx') ?? 13)!;
      const type = node.output(0).type;
      if (axis === rank - 1) {
        replaceNode(node, [emit.op1(builtin, [node.input(0)], options, type)]);
        return;
      }
      if ((context.model.opset('onnx') ?? 13) < 13) {
        // Before opset 13 the input is coerced to 2-D at `axis`: [d0…d(axis-1), d(axis)…d(rank-1)], the op runs along the second dim.
        const dims = dimsOf(node.inputs[0])!;
        const matrix = coercedMatrix(dims, axis)!;
        const rows = matrix[0] === -1 ? `${node.name}_rows` : matrix[0]!;
        const columns = matrix[1] === -1 ? `${node.name}_columns` : matrix[1]!;
        const inputType = node.input(0).type;
        const flat = emit.op1('RESHAPE', [node.input(0), emit.int32(matrix, [2], 'matrix')], {}, typeWithShape(inputType, [rows, columns]));
        const y = emit.op1(builtin, [flat], options, typeWithShape(type, [rows, columns]));
        const back = reshapeTarget(dims) ? emit.int32(reshapeTarget(dims)!, [rank], 'shape') : emit.op1('SHAPE', [node.input(0)], { out_type: 'INT32' }, tensorType('int32', [rank]));
        replaceNode(node, [emit.op1('RESHAPE', [y, back], {}, type)]);
        return;
      }
      const perm = Array.from({ length: rank }, (_, i) => i);
      perm[axis] = rank - 1;
      perm[rank - 1] = axis;
      const swappedType = permuteType(type, perm);
      // The input swapped keeps the input's type (its int8 parameters are the input's, not the output's).
      const swapped = emit.op1('TRANSPOSE', [node.input(0), emit.int32(perm, [rank], 'perm')], {}, permuteType(node.input(0).type, perm));
      const y = emit.op1(builtin, [swapped], options, swappedType);
      replaceNode(node, [emit.op1('TRANSPOSE', [y, emit.int32(invertPermutation(perm), [rank], 'perm_back')], {}, type)]);
    },
  };
}

/** LayerNormalization written out: mean, centred square mean, rsqrt, scale, shift. */
const layerNorm: LoweringRule = {
  ops: ['onnx.LayerNormalization'],
  stage: 'lower',
  targets: ['MEAN', 'SUB', 'MUL', 'ADD', 'RSQRT'],
  check(node) {
    if (rankOfValue(node.inputs[0]) === undefined) return 'needs the input rank';
    if (node.outputs.slice(1).some((v) => v?.hasUses)) return 'the Mean and InvStdDev outputs are not supported';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const rank = rankOfValue(node.inputs[0])!;
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? -1, rank)!;
    const axes = Array.from({ length: rank - axis }, (_, i) => axis + i);
    const type = node.output(0).type;
    const dims = dimsOf(node.inputs[0])!;
    const reducedType = typeWithShape(type, dims.map((d, i) => (i >= axis ? 1 : d)));
    const none = { fused_activation_function: 'NONE' };
    const x = node.input(0);
    const axesValue = emit.int32(axes, [axes.length], 'axes');
    const mean = emit.op1('MEAN', [x, axesValue], { keep_dims: 1 }, reducedType);
    const centred = emit.op1('SUB', [x, mean], none, type);
    const square = emit.op1('MUL', [centred, centred], none, type);
    const variance = emit.op1('MEAN', [square, axesValue], { keep_dims: 1 }, reducedType);
    const epsilon = emit.constant(Tensor.scalar('float32', node.optionalAttr('epsilon', 'float') ?? 1e-5), 'epsilon');
    const shifted = emit.op1('ADD', [variance, epsilon], none, reducedType);
    const inverse = emit.op1('RSQRT', [shifted], {}, reducedType);
    let y: Value = emit.op1('MUL', [centred, inverse], none, type);
    y = emit.op1('MUL', [y, node.input(1)], none, type);
    if (node.inputs[2]) y = emit.op1('ADD', [y, node.input(2)], none, type);
    replaceNode(node, [y, null, null]);
  },
};

/** BatchNormalization left after folding (no Conv before it): per-channel MUL and ADD on axis 1. */
export function batchNormAsScaleShift(node: Node): { scale: Tensor; shift: Tensor } | undefined {
  const [gamma, beta, mean, variance] = [1, 2, 3, 4].map((i) => constantOf(node.inputs[i]));
  if (!gamma || !beta || !mean || !variance) return undefined;
  const epsilon = node.optionalAttr('epsilon', 'float') ?? 1e-5;
  const g = gamma.toNumbers();
  const b = beta.toNumbers();
  const m = mean.toNumbers();
  const v = variance.toNumbers();
  const scale = g.map((gi, i) => gi / Math.sqrt(v[i]! + epsilon));
  const shift = b.map((bi, i) => bi - m[i]! * scale[i]!);
  return { scale: Tensor.fromValues('float32', [g.length], scale), shift: Tensor.fromValues('float32', [g.length], shift) };
}

export const normalizationRules: readonly LoweringRule[] = [
  softmaxRule('onnx.Softmax', 'SOFTMAX', { beta: 1 }),
  softmaxRule('onnx.LogSoftmax', 'LOG_SOFTMAX', {}),
  layerNorm,
];
