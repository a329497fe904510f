import { Tensor, type Node, type Value } from '@modelpass/ir';
import { numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, normalizeAxis, rankOfValue, replaceNode, TfliteEmitter } from '../lowering-tools.js';

const REDUCERS: Readonly<Record<string, string>> = {
  'onnx.ReduceMean': 'MEAN',
  'onnx.ReduceSum': 'SUM',
  'onnx.ReduceMax': 'REDUCE_MAX',
  'onnx.ReduceMin': 'REDUCE_MIN',
  'onnx.ReduceProd': 'REDUCE_PROD',
};

/** The reduced axes, normalized: from the attribute or a constant input; all axes when absent. */
export function reducedAxes(node: Node): number[] | string {
  const rank = rankOfValue(node.inputs[0]);
  if (rank === undefined) return 'needs the input rank';
  const given = node.optionalAttr('axes', 'ints') ?? (node.inputs[1] ? numbersOf(node.inputs[1]) : undefined);
  if (node.inputs[1] && !given) return 'the axes must be a constant';
  const axes = given && given.length > 0 ? given : Array.from({ length: rank }, (_, i) => i);
  const normalized = axes.map((a) => normalizeAxis(a, rank));
  return normalized.some((a) => a === undefined) ? 'an axis is out of range' : (normalized as number[]);
}

const reduce: LoweringRule = {
  ops: Object.keys(REDUCERS),
  stage: 'lower',
  targets: Object.values(REDUCERS),
  check(node) {
    const axes = reducedAxes(node);
    return typeof axes === 'string' ? axes : undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const given = node.optionalAttr('axes', 'ints') ?? (node.inputs[1] ? numbersOf(node.inputs[1]) : undefined);
    if ((!given || given.length === 0) && (node.optionalAttr('noop_with_empty_axes', 'int') ?? 0) === 1) {
      replaceNode(node, [node.input(0)]);
      return;
    }
    const axes = reducedAxes(node) as number[];
    const keep = (node.optionalAttr('keepdims', 'int') ?? 1) === 1 ? 1 : 0;
    const y = emit.op1(REDUCERS[node.op]!, [node.input(0), emit.int32(axes, [axes.length], 'axes')], { keep_dims: keep }, node.output(0).type);
    replaceNode(node, [y]);
  },
};

function selectsLastIndex(node: Node): boolean {
  return (node.optionalAttr('select_last_index', 'int') ?? 0) !== 0;
}

/** ArgMax/ArgMin → ARG_MAX/ARG_MIN (int64); select_last_index=1: REVERSE_V2 along the axis first, then n − 1 − index. */
const argReduce: LoweringRule = {
  ops: ['onnx.ArgMax', 'onnx.ArgMin'],
  stage: 'lower',
  targets: ['ARG_MAX', 'ARG_MIN', 'RESHAPE', 'REVERSE_V2', 'SUB'],
  check(node) {
    const rank = rankOfValue(node.inputs[0]);
    if (rank === undefined) return 'needs the input rank';
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, rank);
    if (axis === undefined) return `axis ${node.optionalAttr('axis', 'int') ?? 0} is out of range for rank ${rank}`;
    if (selectsLastIndex(node) && typeof dimsOf(node.inputs[0])![axis] !== 'number') return `select_last_index=1 needs a static size along axis ${axis} (the index is counted back from it)`;
    const out = dimsOf(node.outputs[0]);
    if ((node.optionalAttr('keepdims', 'int') ?? 1) === 1 && (!out || out.filter((d) => typeof d !== 'number').length > 1)) return 'keepdims=1 needs an output shape with at most one unknown dim';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const rank = rankOfValue(node.inputs[0])!;
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, rank)!;
    const builtin = node.op === 'onnx.ArgMax' ? 'ARG_MAX' : 'ARG_MIN';
    const inDims = dimsOf(node.inputs[0])!;
    const reducedType = { kind: 'tensor' as const, dtype: 'int64' as const, shape: inDims.filter((_, i) => i !== axis) };
    let y: Value;
    if (selectsLastIndex(node)) {
      // The last of equal extremes is the first one in the input reversed along the axis, counted from the other end.
      const size = inDims[axis] as number;
      const reversed = emit.op1('REVERSE_V2', [node.input(0), emit.int32([axis], [1], 'reverse_axis')], {}, node.input(0).type);
      const fromEnd = emit.op1(builtin, [reversed, emit.int32([axis], [], 'axis')], { output_type: 'INT64' }, reducedType);
      const last = emit.constant(Tensor.scalar('int64', BigInt(size - 1)), 'last_index');
      y = emit.op1('SUB', [last, fromEnd], { fused_activation_function: 'NONE' }, reducedType);
    } else y = emit.op1(builtin, [node.input(0), emit.int32([axis], [], 'axis')], { output_type: 'INT64' }, reducedType);
    if ((node.optionalAttr('keepdims', 'int') ?? 1) === 1) {
      const target = dimsOf(node.outputs[0])!.map((d) => (typeof d === 'number' ? d : -1));
      y = emit.op1('RESHAPE', [y, emit.int32(target, [target.length], 'shape')], {}, node.output(0).type);
    }
    replaceNode(node, [y]);
  },
};

export const reduceRules: readonly LoweringRule[] = [reduce, argReduce];
