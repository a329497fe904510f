import { Tensor, tensorType, type DType, type Node, type Value } from '@modelpass/ir';
import { constantOf, numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, normalizeAxis, rankOfValue, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/** CumSum, TopK, OneHot, GatherND: ONNX indexing ops with a TFLite builtin of nearly the same meaning. */

const INDEX_DTYPES: readonly DType[] = ['int32', 'int64'];

/**
 * Indices that may be negative (counted from the end of `dims`) made non-negative: folded for
 * constants, else SELECT_V2(i < 0, i + dims, i). With `clamp`, run-time indices are also kept inside
 * [0, dim) (MAXIMUM/MINIMUM): ONNX leaves an out-of-range index undefined, and TFLite 2.9's GATHER_ND
 * reads outside the tensor (and can kill the process) where a valid model never goes.
 */
export function nonNegativeIndices(emit: TfliteEmitter, indices: Value, dims: readonly number[], name: string, clamp = false): Value {
  const constant = constantOf(indices);
  const width = dims.length;
  if (constant) {
    const values = constant.toNumbers().map((i, k) => (i < 0 ? i + dims[k % width]! : i));
    return emit.constant(Tensor.fromValues('int32', constant.shape, values), name);
  }
  const dtype = tensorTypeOf(indices)!.dtype;
  const make = (values: number[], shape: number[]) => (dtype === 'int64' ? Tensor.fromValues('int64', shape, values.map((v) => BigInt(v))) : Tensor.fromValues('int32', shape, values));
  const zero = emit.constant(make([0], []), `${name}_zero`);
  const negative = emit.op1('LESS', [indices, zero], {}, tensorType('bool', dimsOf(indices) ?? []));
  const shifted = emit.op1('ADD', [indices, emit.constant(make([...dims], [width]), `${name}_dims`)], { fused_activation_function: 'NONE' }, indices.type);
  const counted = emit.op1('SELECT_V2', [negative, shifted, indices], {}, indices.type);
  if (!clamp) return counted;
  const last = emit.constant(make(dims.map((d) => d - 1), [width]), `${name}_last`);
  return emit.op1('MINIMUM', [emit.op1('MAXIMUM', [counted, zero], {}, indices.type), last], {}, indices.type);
}

/** CumSum(x, axis) → CUMSUM with the same `exclusive` and `reverse`. */
const cumSum: LoweringRule = {
  ops: ['onnx.CumSum'],
  stage: 'lower',
  targets: ['CUMSUM'],
  check(node) {
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (dtype !== 'float32' && dtype !== 'int32' && dtype !== 'int64') return `CumSum on ${dtype ?? 'untyped'} tensors has no TFLite kernel (takes float32, int32, int64)`;
    const axis = numbersOf(node.inputs[1]);
    if (!axis || axis.length !== 1) return 'the axis must be a constant';
    if (rankOfValue(node.inputs[0]) === undefined || normalizeAxis(axis[0]!, rankOfValue(node.inputs[0])!) === undefined) return 'the axis is out of range (or the rank is unknown)';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const axis = normalizeAxis(numbersOf(node.inputs[1])![0]!, rankOfValue(node.inputs[0])!)!;
    const options = { exclusive: node.optionalAttr('exclusive', 'int') ?? 0, reverse: node.optionalAttr('reverse', 'int') ?? 0 };
    replaceNode(node, [emit.op1('CUMSUM', [node.input(0), emit.int32([axis], [], 'axis')], options, node.output(0).type)]);
  },
};

/** TopK (largest, last axis) → TOPK_V2 (values, int32 indices) + CAST of the indices to int64. */
const topK: LoweringRule = {
  ops: ['onnx.TopK'],
  stage: 'lower',
  targets: ['TOPK_V2', 'CAST'],
  check(node) {
    const rank = rankOfValue(node.inputs[0]);
    if (rank === undefined) return 'TopK needs the input rank';
    if (normalizeAxis(node.optionalAttr('axis', 'int') ?? -1, rank) !== rank - 1) return 'TopK over an axis other than the last has no TFLite equivalent yet (TOPK_V2 takes the last axis)';
    if ((node.optionalAttr('largest', 'int') ?? 1) !== 1) return 'TopK with largest=0 has no TFLite equivalent (TOPK_V2 takes the largest)';
    const k = node.optionalAttr('k', 'int') ?? numbersOf(node.inputs[1])?.[0];
    if (k === undefined) return 'k must be a constant';
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (dtype !== 'float32' && dtype !== 'int32') return `TopK on ${dtype ?? 'untyped'} tensors is not supported (float32, int32)`;
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const k = node.optionalAttr('k', 'int') ?? numbersOf(node.inputs[1])![0]!;
    const indicesType = node.outputs[1]?.type ?? tensorType('int64', dimsOf(node.outputs[0]) ?? []);
    const int32Type = tensorType('int32', dimsOf(node.outputs[0]) ?? []);
    const top = emit.op('TOPK_V2', [node.input(0), emit.int32([k], [], 'k')], {}, [node.output(0).type, int32Type]);
    const indices = node.outputs[1]?.hasUses ? emit.op1('CAST', [top.output(1)], { in_data_type: 'INT32', out_data_type: 'INT64' }, indicesType) : null;
    replaceNode(node, [top.output(0), indices]);
  },
};

/** OneHot(indices, depth, [off, on]) → ONE_HOT; negative indices count from `depth` as in ONNX. */
const oneHot: LoweringRule = {
  ops: ['onnx.OneHot'],
  stage: 'lower',
  targets: ['ONE_HOT', 'LESS', 'ADD', 'SELECT_V2'],
  check(node) {
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (!dtype || !INDEX_DTYPES.includes(dtype)) return `OneHot indices of dtype ${dtype ?? 'unknown'} are not supported (int32, int64)`;
    const depth = numbersOf(node.inputs[1]);
    if (!depth || depth.length !== 1) return 'the depth must be a constant';
    const values = constantOf(node.inputs[2]);
    if (!values || values.size !== 2) return 'the values ([off, on]) must be a constant of 2 elements';
    if (!['float32', 'int32', 'int64', 'bool'].includes(values.dtype)) return `OneHot values of dtype ${values.dtype} are not supported`;
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const depth = Math.trunc(numbersOf(node.inputs[1])![0]!);
    const values = constantOf(node.inputs[2])!;
    const [off, on] = values.toNumbers() as [number, number];
    const scalarOf = (v: number, name: string) => {
      if (values.dtype === 'int64') return emit.constant(Tensor.fromValues('int64', [], [BigInt(v)]), name);
      return emit.constant(values.dtype === 'bool' ? Tensor.fromValues('bool', [], [v !== 0]) : Tensor.fromValues(values.dtype, [], [v]), name);
    };
    const rank = rankOfValue(node.inputs[0]) ?? 0;
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? -1, rank + 1) ?? rank;
    const indices = nonNegativeIndices(emit, node.input(0), [depth], 'indices');
    const y = emit.op1('ONE_HOT', [indices, emit.int32([depth], [], 'depth'), scalarOf(on, 'on'), scalarOf(off, 'off')], { axis }, node.output(0).type);
    replaceNode(node, [y]);
  },
};

/** GatherND (batch_dims 0) → GATHER_ND; negative indices count from the end of each indexed dim. */
const gatherNd: LoweringRule = {
  ops: ['onnx.GatherND'],
  stage: 'lower',
  targets: ['GATHER_ND', 'LESS', 'ADD', 'SELECT_V2'],
  check(node) {
    if ((node.optionalAttr('batch_dims', 'int') ?? 0) !== 0) return 'GatherND with batch_dims > 0 has no TFLite equivalent yet';
    const dtype = tensorTypeOf(node.inputs[1])?.dtype;
    if (!dtype || !INDEX_DTYPES.includes(dtype)) return 'GatherND indices must be int32 or int64';
    const width = dimsOf(node.inputs[1])?.at(-1);
    const dims = dimsOf(node.inputs[0]);
    if (typeof width !== 'number' || !dims) return 'GatherND needs the index width (last dim of the indices) and the data rank';
    if (!constantOf(node.inputs[1]) && dims.slice(0, width).some((d) => typeof d !== 'number')) return 'GatherND with run-time indices needs static indexed dims (to count negative indices from the end)';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const width = dimsOf(node.inputs[1])!.at(-1) as number;
    const indexed = dimsOf(node.inputs[0])!.slice(0, width) as number[];
    const indices = nonNegativeIndices(emit, node.input(1), indexed, 'indices', true);
    replaceNode(node, [emit.op1('GATHER_ND', [node.input(0), indices], {}, node.output(0).type)]);
  },
};

export const indexingRules: readonly LoweringRule[] = [cumSum, topK, oneHot, gatherNd];
