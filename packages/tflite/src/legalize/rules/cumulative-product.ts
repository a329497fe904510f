import { Tensor, tensorType, type DType, type Value } from '@modelpass/ir';
import { numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, normalizeAxis, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * CumProd (opset 26): TFLite has CUMSUM but no cumulative product, so the axis is unrolled: SPLIT
 * into its slices, a running MUL, CONCATENATION back (exclusive starts from ones, reverse runs from
 * the end). Needs a constant axis and a static length along it (at most MAX_LENGTH).
 */

const MAX_LENGTH = 1024;
const DTYPES: readonly DType[] = ['float32', 'int32', 'int64'];

function ones(dtype: DType, shape: readonly number[]): Tensor {
  const count = shape.reduce((n, d) => n * d, 1);
  return dtype === 'int64' ? Tensor.fromValues('int64', shape, new Array<bigint>(count).fill(1n)) : Tensor.fromValues(dtype, shape, new Array<number>(count).fill(1));
}

function cumProdAxis(node: Parameters<LoweringRule['check']>[0]): number | undefined {
  const rank = dimsOf(node.inputs[0])?.length;
  const axis = numbersOf(node.inputs[1]);
  return rank === undefined || axis?.length !== 1 ? undefined : normalizeAxis(axis[0]!, rank);
}

const cumProd: LoweringRule = {
  ops: ['onnx.CumProd'],
  stage: 'lower',
  targets: ['SPLIT', 'MUL', 'CONCATENATION', 'SHAPE', 'FILL'],
  check(node) {
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (!dtype || !DTYPES.includes(dtype)) return `CumProd on ${dtype ?? 'untyped'} tensors has no TFLite lowering (takes ${DTYPES.join(', ')})`;
    const axis = cumProdAxis(node);
    if (axis === undefined) return 'CumProd needs a constant scalar axis in range and the input rank';
    const length = dimsOf(node.inputs[0])![axis];
    if (typeof length !== 'number') return 'CumProd needs a static length along its axis (it is unrolled)';
    return length > MAX_LENGTH ? `CumProd over ${length} elements is not unrolled (at most ${MAX_LENGTH})` : undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dims = dimsOf(node.inputs[0])!;
    const dtype = tensorTypeOf(node.inputs[0])!.dtype;
    const axis = cumProdAxis(node)!;
    const length = dims[axis] as number;
    const sliceType = tensorType(dtype, dims.map((d, i) => (i === axis ? 1 : d)));
    const exclusive = (node.optionalAttr('exclusive', 'int') ?? 0) === 1;
    const reverse = (node.optionalAttr('reverse', 'int') ?? 0) === 1;
    const slices = length === 1 ? [node.input(0)] : emit.op('SPLIT', [emit.int32([axis], [], 'axis'), node.input(0)], { num_splits: length }, new Array(length).fill(sliceType)).outputs.map((v) => v!);
    const order = reverse ? [...slices].reverse() : slices;
    const sliceDims = sliceType.shape!;
    const one = (): Value =>
      sliceDims.every((d) => typeof d === 'number')
        ? emit.constant(ones(dtype, sliceDims as number[]), 'ones')
        : emit.op1('FILL', [emit.op1('SHAPE', [order[0]!], { out_type: 'INT32' }, tensorType('int32', [sliceDims.length])), emit.constant(ones(dtype, []), 'one')], {}, sliceType);
    const products: Value[] = [];
    let running: Value | undefined;
    for (const slice of order) {
      if (exclusive) products.push(running ?? one());
      running = running ? emit.op1('MUL', [running, slice], { fused_activation_function: 'NONE' }, sliceType) : slice;
      if (!exclusive) products.push(running);
    }
    const inOrder = reverse ? products.reverse() : products;
    const y = inOrder.length === 1 ? emit.op1('RESHAPE', [inOrder[0]!, emit.int32(dims.map((d) => (typeof d === 'number' ? d : -1)), [dims.length], 'shape')], {}, node.output(0).type) : emit.op1('CONCATENATION', inOrder, { axis, fused_activation_function: 'NONE' }, node.output(0).type);
    replaceNode(node, [y]);
  },
};

export const cumulativeProductRules: readonly LoweringRule[] = [cumProd];
