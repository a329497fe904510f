import { attrs, Tensor, tensorType, type DType, type Node, type Value } from '@modelpass/ir';
import { numbersOf } from '../../legalize/constant-values.js';
import { dimsOf, staticDims, tensorTypeOf } from '../../legalize/lowering-tools.js';
import { CanonicalEmitter, replaceRaised } from '../canonical-emitter.js';
import type { RaiseContext, RaiseRule } from '../raise-rule.js';

/**
 * SEGMENT_SUM and UNSORTED_SEGMENT_SUM/MAX/MIN/PROD (ONNX has no segment op): a [segments, n] mask
 * Equal(ids, Range(0, segments)) picks each segment's rows, Where puts the reduction's identity elsewhere,
 * and ReduceSum/Max/Min/Prod over the rows gives [segments, ...rest]. The identity is what TFLite's kernels
 * start from (0, the dtype's lowest, its largest, 1), so an empty segment and an id outside
 * [0, segments) (skipped by TFLite) come out as in TFLite. SEGMENT_SUM's segments are max(ids) + 1.
 */

const REDUCTIONS: Readonly<Record<string, string>> = {
  'tflite.SEGMENT_SUM': 'ReduceSum',
  'tflite.UNSORTED_SEGMENT_SUM': 'ReduceSum',
  'tflite.UNSORTED_SEGMENT_MAX': 'ReduceMax',
  'tflite.UNSORTED_SEGMENT_MIN': 'ReduceMin',
  'tflite.UNSORTED_SEGMENT_PROD': 'ReduceProd',
};

const LIMITS: Partial<Record<DType, { lowest: number; highest: number }>> = {
  float32: { lowest: -3.4028234663852886e38, highest: 3.4028234663852886e38 },
  int32: { lowest: -2147483648, highest: 2147483647 },
};

function identityOf(op: string, dtype: DType): number {
  const reduction = REDUCTIONS[op];
  if (reduction === 'ReduceMax') return LIMITS[dtype]!.lowest;
  if (reduction === 'ReduceMin') return LIMITS[dtype]!.highest;
  return reduction === 'ReduceProd' ? 1 : 0;
}

function reduceRows(emit: CanonicalEmitter, op: string, x: Value, context: RaiseContext, type: ReturnType<typeof tensorType>): Value {
  const reduction = REDUCTIONS[op]!;
  if (reduction === 'ReduceSum' || context.opset >= 18) return emit.op1(reduction, [x, emit.int64([1], 'rows')], { keepdims: attrs.int(0) }, type);
  return emit.op1(reduction, [x], { axes: attrs.ints([1]), keepdims: attrs.int(0) }, type);
}

const segments: RaiseRule = {
  ops: Object.keys(REDUCTIONS),
  targets: ['Range', 'Equal', 'Unsqueeze', 'Reshape', 'Where', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'Add'],
  check(node) {
    const data = staticDims(node.inputs[0]);
    const ids = staticDims(node.inputs[1]);
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (!data || !ids) return 'needs data and segment_ids of static shapes';
    if (tensorTypeOf(node.inputs[1])?.dtype !== 'int32') return `segment_ids of dtype ${tensorTypeOf(node.inputs[1])?.dtype ?? 'unknown'}: int32 expected (TFLite's kernels take int32)`;
    if (dtype === undefined || !(dtype in LIMITS) || tensorTypeOf(node.inputs[0])?.quant) return `data of dtype ${dtype ?? 'unknown'}: float32 or int32 expected`;
    if (ids.length === 0 || ids.length > data.length || ids.some((d, i) => d !== data[i])) return `segment_ids of shape [${ids.join(',')}] must be a leading part of the data's [${data.join(',')}]`;
    if (node.op === 'tflite.SEGMENT_SUM' && ids.length !== 1) return 'SEGMENT_SUM takes 1-D segment_ids';
    if (node.op !== 'tflite.SEGMENT_SUM' && !node.inputs[2]) return 'needs the num_segments operand';
    return undefined;
  },
  raise(node, context) {
    const emit = new CanonicalEmitter(node);
    const data = staticDims(node.inputs[0])!;
    const idsDims = staticDims(node.inputs[1])!;
    const dtype = tensorTypeOf(node.inputs[0])!.dtype;
    const idType = tensorTypeOf(node.inputs[1])!.dtype;
    const n = idsDims.reduce((p, d) => p * d, 1);
    const rest = data.slice(idsDims.length);
    const width = rest.reduce((p, d) => p * d, 1);
    const segmentsDim = dimsOf(node.outputs[0])?.[0] ?? null;
    const ids = node.input(1);
    let count: Value;
    const given = node.op === 'tflite.SEGMENT_SUM' ? numbersOf(ids) : numbersOf(node.inputs[2]);
    if (given) {
      const value = node.op === 'tflite.SEGMENT_SUM' ? Math.max(-1, ...given) + 1 : given[0]!;
      count = emit.constant(Tensor.scalar(idType, value), 'segments');
    } else if (node.op === 'tflite.SEGMENT_SUM') {
      const last = emit.op1('ReduceMax', [ids], { keepdims: attrs.int(0) }, tensorType(idType, []));
      count = emit.op1('Add', [last, emit.constant(Tensor.scalar(idType, 1), 'one')], {}, tensorType(idType, []));
    } else {
      const numType = tensorTypeOf(node.inputs[2])?.dtype ?? 'int32';
      count = emit.op1('Reshape', [node.input(2), emit.int64([], 'scalar', [0])], {}, tensorType(numType, []));
      if (numType !== idType) count = emit.op1('Cast', [count], { to: attrs.int(idType === 'int64' ? 7 : 6) }, tensorType(idType, []));
    }
    const range = emit.op1('Range', [emit.constant(Tensor.scalar(idType, 0), 'zero'), count, emit.constant(Tensor.scalar(idType, 1), 'step')], {}, tensorType(idType, [segmentsDim]));
    const column = emit.op1('Unsqueeze', [range, emit.int64([1], 'column_axis')], {}, tensorType(idType, [segmentsDim, 1]));
    const row = emit.op1('Reshape', [ids, emit.int64([1, n], 'row_shape')], {}, tensorType(idType, [1, n]));
    const mask = emit.op1('Equal', [row, column], {}, tensorType('bool', [segmentsDim, n]));
    const mask3 = emit.op1('Unsqueeze', [mask, emit.int64([2], 'mask_axis')], {}, tensorType('bool', [segmentsDim, n, 1]));
    const data3 = emit.op1('Reshape', [node.input(0), emit.int64([1, n, width], 'data_shape')], {}, tensorType(dtype, [1, n, width]));
    const identity = emit.constant(Tensor.scalar(dtype, identityOf(node.op, dtype)), 'identity');
    const picked = emit.op1('Where', [mask3, data3, identity], {}, tensorType(dtype, [segmentsDim, n, width]));
    const reduced = reduceRows(emit, node.op, picked, context, tensorType(dtype, [segmentsDim, width]));
    replaceRaised(node, [emit.op1('Reshape', [reduced, emit.int64([-1, ...rest], 'out_shape')], {}, node.output(0).type)]);
  },
};

/**
 * SPARSE_TO_DENSE(indices, output_shape, values, default_value) → ScatterND(Expand(default, shape), indices as
 * [n, rank] int64, values expanded to [n]). 0-D and 1-D indices are single indices of a 1-D output, as in TF.
 */
const sparseToDense: RaiseRule = {
  ops: ['tflite.SPARSE_TO_DENSE'],
  targets: ['Expand', 'ScatterND', 'Reshape', 'Cast'],
  check(node) {
    const indices = staticDims(node.inputs[0]);
    if (!indices || indices.length > 2) return 'needs indices of a static shape, 0-D to 2-D';
    if (!staticDims(node.inputs[1]) || staticDims(node.inputs[1])!.length !== 1) return 'needs a 1-D output_shape';
    if (!node.inputs[3]) return 'needs the default_value operand';
    return undefined;
  },
  raise(node) {
    const emit = new CanonicalEmitter(node);
    const dims = staticDims(node.inputs[0])!;
    const rank = staticDims(node.inputs[1])![0]!;
    const n = dims.length === 2 ? dims[0]! : dims.length === 1 ? dims[0]! : 1;
    const depth = dims.length === 2 ? dims[1]! : 1;
    const dtype = tensorTypeOf(node.inputs[2])!.dtype;
    const toInt64 = (value: Value, dimsOut: number[]): Value =>
      tensorTypeOf(value)?.dtype === 'int64' ? value : emit.op1('Cast', [value], { to: attrs.int(7) }, tensorType('int64', dimsOut));
    const shape = toInt64(node.input(1), [rank]);
    const outDims = dimsOf(node.outputs[0]) ?? null;
    const base = emit.op1('Expand', [node.input(3), shape], {}, tensorType(dtype, outDims));
    const indices = emit.op1('Reshape', [toInt64(node.input(0), dims), emit.int64([n, depth], 'indices_shape')], {}, tensorType('int64', [n, depth]));
    const updates = emit.op1('Expand', [emit.op1('Reshape', [node.input(2), emit.int64([-1], 'flat')], {}, tensorType(dtype, [null])), emit.int64([n], 'updates_shape')], {}, tensorType(dtype, [n]));
    replaceRaised(node, [emit.op1('ScatterND', [base, indices, updates], {}, node.output(0).type)]);
  },
};

export const segmentRaiseRules: readonly RaiseRule[] = [segments, sparseToDense];
