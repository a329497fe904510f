import { Tensor, tensorType, type Dim, type DType, type Node, type Value } from '@modelpass/ir';
import { constantOf, numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, normalizeAxis, rankOfValue, replaceNode, staticDims, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

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

/**
 * TopK → TOPK_V2 (values, int32 indices) + CAST of the indices to int64. TOPK_V2 takes the largest
 * along the last axis: another axis is swapped there and back (TRANSPOSE), largest=0 takes the
 * largest of the negated input (NEG before and after; ties still go to the lower index).
 */
const topK: LoweringRule = {
  ops: ['onnx.TopK'],
  stage: 'lower',
  targets: ['TOPK_V2', 'CAST', 'TRANSPOSE', 'NEG'],
  check(node) {
    const rank = rankOfValue(node.inputs[0]);
    if (rank === undefined) return 'TopK needs the input rank';
    if (normalizeAxis(node.optionalAttr('axis', 'int') ?? -1, rank) === undefined) return 'the axis is out of range';
    const k = node.optionalAttr('k', 'int') ?? numbersOf(node.inputs[1])?.[0];
    if (k === undefined) return 'k must be a constant';
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (dtype !== 'float32' && dtype !== 'int32') return `TopK on ${dtype ?? 'untyped'} tensors is not supported (float32, int32)`;
    if (!dimsOf(node.outputs[0])) return 'TopK needs its output shape (run shape inference first)';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const rank = rankOfValue(node.inputs[0])!;
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? -1, rank)!;
    const smallest = (node.optionalAttr('largest', 'int') ?? 1) === 0;
    const k = node.optionalAttr('k', 'int') ?? numbersOf(node.inputs[1])![0]!;
    const perm = Array.from({ length: rank }, (_, d) => (d === axis ? rank - 1 : d === rank - 1 ? axis : d));
    const swap = (value: Value, dims: readonly Dim[], dtype: DType): Value =>
      axis === rank - 1 ? value : emit.op1('TRANSPOSE', [value, emit.int32(perm, [rank], 'perm')], {}, tensorType(dtype, perm.map((d) => dims[d]!)));
    const outDims = dimsOf(node.outputs[0])!;
    const swappedDims = perm.map((d) => outDims[d]!);
    const dtype = tensorTypeOf(node.inputs[0])!.dtype;
    let x = swap(node.input(0), dimsOf(node.inputs[0])!, dtype);
    if (smallest) x = emit.op1('NEG', [x], {}, x.type);
    const top = emit.op('TOPK_V2', [x, emit.int32([k], [], 'k')], {}, [tensorType(dtype, swappedDims), tensorType('int32', swappedDims)]);
    let values = top.output(0);
    if (smallest) values = emit.op1('NEG', [values], {}, values.type);
    values = axis === rank - 1 ? values : swap(values, swappedDims, dtype);
    let indices: Value | null = null;
    if (node.outputs[1]?.hasUses) {
      const int64 = emit.op1('CAST', [top.output(1)], { in_data_type: 'INT32', out_data_type: 'INT64' }, tensorType('int64', swappedDims));
      indices = swap(int64, swappedDims, 'int64');
    }
    replaceNode(node, [values, indices]);
  },
};

/**
 * float32 OneHot indices as ONNX Runtime reads them: a negative one counts from `depth` (in float),
 * and only a whole number is hot (1.5 and 4.9 give all-off rows): CAST to int32, and where that is
 * not the same number, `depth` (out of range: all off).
 */
function floatOneHotIndices(emit: TfliteEmitter, indices: Value, depth: number): Value {
  const dims = dimsOf(indices) ?? null;
  const float = tensorType('float32', dims);
  const int = tensorType('int32', dims);
  const zero = emit.constant(Tensor.fromValues('float32', [], [0]), 'float_zero');
  const counted = emit.op1('SELECT_V2', [emit.op1('LESS', [indices, zero], {}, tensorType('bool', dims)), emit.op1('ADD', [indices, emit.constant(Tensor.fromValues('float32', [], [depth]), 'float_depth')], { fused_activation_function: 'NONE' }, float), indices], {}, float);
  const whole = emit.op1('CAST', [counted], { in_data_type: 'FLOAT32', out_data_type: 'INT32' }, int);
  const exact = emit.op1('EQUAL', [emit.op1('CAST', [whole], { in_data_type: 'INT32', out_data_type: 'FLOAT32' }, float), counted], {}, tensorType('bool', dims));
  return emit.op1('SELECT_V2', [exact, whole, emit.int32([depth], [], 'off_index')], {}, int);
}

/** OneHot(indices, depth, [off, on]) → ONE_HOT; negative indices count from `depth` as in ONNX; float32 ones as ONNX Runtime reads them (`floatOneHotIndices`). */
const oneHot: LoweringRule = {
  ops: ['onnx.OneHot'],
  stage: 'lower',
  targets: ['ONE_HOT', 'LESS', 'ADD', 'SELECT_V2', 'CAST', 'EQUAL'],
  check(node) {
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (!dtype || ![...INDEX_DTYPES, 'float32'].includes(dtype)) return `OneHot indices of dtype ${dtype ?? 'unknown'} are not supported (int32, int64, float32)`;
    const depth = numbersOf(node.inputs[1]);
    if (!depth || depth.length !== 1) {
      return `OneHot with a run-time depth ('${node.inputs[1]?.name ?? '?'}') is not supported: the output's one-hot axis would have a data-dependent length with no largest value to size it by (the depth must be a constant scalar or 1-element tensor)`;
    }
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
    const indices = tensorTypeOf(node.inputs[0])!.dtype === 'float32' ? floatOneHotIndices(emit, node.input(0), depth) : nonNegativeIndices(emit, node.input(0), [depth], 'indices');
    const y = emit.op1('ONE_HOT', [indices, emit.int32([depth], [], 'depth'), scalarOf(on, 'on'), scalarOf(off, 'off')], { axis }, node.output(0).type);
    replaceNode(node, [y]);
  },
};

/**
 * GatherND → GATHER_ND; negative indices count from the end of each indexed dim. With batch_dims b,
 * each index tuple is prefixed by its own b batch coordinates (a constant grid, CONCATENATION), so
 * one GATHER_ND over the whole data does it (static shapes).
 */
const gatherNd: LoweringRule = {
  ops: ['onnx.GatherND'],
  stage: 'lower',
  targets: ['GATHER_ND', 'LESS', 'ADD', 'SELECT_V2', 'CAST', 'CONCATENATION'],
  check(node) {
    const batchDims = node.optionalAttr('batch_dims', 'int') ?? 0;
    const dtype = tensorTypeOf(node.inputs[1])?.dtype;
    if (!dtype || !INDEX_DTYPES.includes(dtype)) return 'GatherND indices must be int32 or int64';
    const width = dimsOf(node.inputs[1])?.at(-1);
    const dims = dimsOf(node.inputs[0]);
    if (typeof width !== 'number' || !dims) return 'GatherND needs the index width (last dim of the indices) and the data rank';
    if (!constantOf(node.inputs[1]) && dims.slice(batchDims, batchDims + width).some((d) => typeof d !== 'number')) return 'GatherND with run-time indices needs static indexed dims (to count negative indices from the end)';
    if (batchDims > 0 && (!staticDims(node.inputs[1]) || !staticDims(node.inputs[0]))) return 'GatherND with batch_dims > 0 needs static data and indices shapes';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const batchDims = node.optionalAttr('batch_dims', 'int') ?? 0;
    const width = dimsOf(node.inputs[1])!.at(-1) as number;
    const indexed = dimsOf(node.inputs[0])!.slice(batchDims, batchDims + width) as number[];
    let indices = nonNegativeIndices(emit, node.input(1), indexed, 'indices', true);
    if (batchDims > 0) {
      const shape = staticDims(node.inputs[1])!;
      const tuples = shape.slice(0, -1);
      if (tensorTypeOf(indices)?.dtype !== 'int32') indices = emit.op1('CAST', [indices], { in_data_type: 'INT64', out_data_type: 'INT32' }, tensorType('int32', shape));
      const count = tuples.reduce((n, d) => n * d, 1);
      const grid: number[] = [];
      for (let t = 0; t < count; t++) {
        for (let d = 0; d < batchDims; d++) grid.push(Math.floor(t / tuples.slice(d + 1).reduce((n, k) => n * k, 1)) % tuples[d]!);
      }
      const batch = emit.constant(Tensor.fromValues('int32', [...tuples, batchDims], grid), 'batch_coordinates');
      indices = emit.op1('CONCATENATION', [batch, indices], { axis: tuples.length, fused_activation_function: 'NONE' }, tensorType('int32', [...tuples, batchDims + width]));
    }
    replaceNode(node, [emit.op1('GATHER_ND', [node.input(0), indices], {}, node.output(0).type)]);
  },
};

export const indexingRules: readonly LoweringRule[] = [cumSum, topK, oneHot, gatherNd];
