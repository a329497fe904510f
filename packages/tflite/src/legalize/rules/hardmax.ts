import { Tensor, tensorType, type Node } from '@modelpass/ir';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { dimsOf, normalizeAxis, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { reshapeTarget } from './compose.js';

/**
 * Hardmax: 1 at the first maximum along the axis, 0 elsewhere = ONE_HOT(ARG_MAX) (TFLite's ARG_MAX
 * keeps the first of equal maxima, as ONNX does). Before opset 13 the input is coerced to 2-D at
 * `axis` (default 1): RESHAPE to [rows, columns], one-hot of each row, RESHAPE back.
 */

function hardmaxAxis(node: Node, context: LoweringContext): { axis: number; coerced: boolean } | undefined {
  const rank = dimsOf(node.inputs[0])?.length;
  if (rank === undefined) return undefined;
  const coerced = (context.model.opset('onnx') ?? 13) < 13;
  const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? (coerced ? 1 : -1), rank);
  return axis === undefined ? undefined : { axis, coerced };
}

const hardmax: LoweringRule = {
  ops: ['onnx.Hardmax'],
  stage: 'lower',
  targets: ['ARG_MAX', 'ONE_HOT', 'RESHAPE'],
  check(node, context) {
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'Hardmax is lowered for float32 only';
    const dims = dimsOf(node.inputs[0])!;
    const where = hardmaxAxis(node, context);
    if (!where) return 'Hardmax needs the input rank and an axis in range';
    if (where.coerced) {
      const columns = dims.slice(where.axis);
      if (columns.some((d) => typeof d !== 'number')) return 'Hardmax before opset 13 needs static dims from its axis on (the one-hot depth)';
      if (!reshapeTarget(dims)) return 'Hardmax before opset 13 needs at most one unknown dim';
      return undefined;
    }
    return typeof dims[where.axis] === 'number' ? undefined : 'Hardmax needs a static size along its axis (the one-hot depth)';
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dims = dimsOf(node.inputs[0])!;
    const { axis, coerced } = hardmaxAxis(node, context)!;
    const on = emit.constant(Tensor.scalar('float32', 1), 'on');
    const off = emit.constant(Tensor.scalar('float32', 0), 'off');
    if (!coerced) {
      const depth = dims[axis] as number;
      const indices = emit.op1('ARG_MAX', [node.input(0), emit.int32([axis], [], 'axis')], { output_type: 'INT32' }, tensorType('int32', dims.filter((_, i) => i !== axis)));
      replaceNode(node, [emit.op1('ONE_HOT', [indices, emit.int32([depth], [], 'depth'), on, off], { axis }, node.output(0).type)]);
      return;
    }
    const columns = (dims.slice(axis) as number[]).reduce((n, d) => n * d, 1);
    const leading = dims.slice(0, axis);
    const rows = leading.every((d) => typeof d === 'number') ? (leading as number[]).reduce((n, d) => n * d, 1) : `${node.name}_rows`;
    const matrix = emit.op1('RESHAPE', [node.input(0), emit.int32([-1, columns], [2], 'matrix')], {}, tensorType('float32', [rows, columns]));
    const indices = emit.op1('ARG_MAX', [matrix, emit.int32([1], [], 'axis')], { output_type: 'INT32' }, tensorType('int32', [rows]));
    const hot = emit.op1('ONE_HOT', [indices, emit.int32([columns], [], 'depth'), on, off], { axis: 1 }, tensorType('float32', [rows, columns]));
    replaceNode(node, [emit.op1('RESHAPE', [hot, emit.int32(reshapeTarget(dims)!, [dims.length], 'shape')], {}, node.output(0).type)]);
  },
};

export const hardmaxRules: readonly LoweringRule[] = [hardmax];
