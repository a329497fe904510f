import { Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, normalizeAxis, replaceNode, staticDims, tensorTypeOf, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { nonNegativeIndices } from './indexing.js';

/** ScatterND and GatherElements, which TFLite has no builtin for, through SCATTER_ND and GATHER_ND. */

const INDEX_DTYPES = ['int32', 'int64'];

/** Indices as int32 (TFLite's SCATTER_ND takes int32 only). */
function int32Indices(emit: TfliteEmitter, indices: Value): Value {
  if (tensorTypeOf(indices)?.dtype === 'int32') return indices;
  return emit.op1('CAST', [indices], { in_data_type: 'INT64', out_data_type: 'INT32' }, tensorType('int32', dimsOf(indices) ?? []));
}

/**
 * ScatterND (reduction none; add: data + SCATTER_ND): where SCATTER_ND of ones marks an index, the scattered updates, else
 * the data (SELECT_V2, so no arithmetic touches the data).
 */
const scatterNd: LoweringRule = {
  ops: ['onnx.ScatterND'],
  stage: 'lower',
  targets: ['SCATTER_ND', 'CAST', 'GREATER', 'SELECT_V2', 'ADD'],
  check(node) {
    const reduction = node.optionalAttr('reduction', 'string') ?? 'none';
    if (reduction !== 'none' && reduction !== 'add') return `ScatterND with reduction '${reduction}' has no TFLite equivalent (SCATTER_ND only adds; none and add map)`;
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (dtype !== 'float32' && dtype !== 'int32') return `ScatterND on ${dtype ?? 'untyped'} data is not supported (float32, int32)`;
    if (!INDEX_DTYPES.includes(tensorTypeOf(node.inputs[1])?.dtype ?? '')) return 'ScatterND indices must be int32 or int64';
    if (!staticDims(node.inputs[0]) || !staticDims(node.inputs[1]) || !staticDims(node.inputs[2])) return 'ScatterND needs static data, indices and updates shapes';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dataDims = staticDims(node.inputs[0])!;
    const width = staticDims(node.inputs[1])!.at(-1)!;
    const updatesDims = staticDims(node.inputs[2])!;
    const indices = int32Indices(emit, nonNegativeIndices(emit, node.input(1), dataDims.slice(0, width), 'indices', true));
    const shape = emit.int32(dataDims, [dataDims.length], 'shape');
    const dataType = node.output(0).type;
    if (node.optionalAttr('reduction', 'string') === 'add') {
      // SCATTER_ND sums the updates that meet at one element: data + that sum is ONNX's add.
      const sums = emit.op1('SCATTER_ND', [indices, node.input(2), shape], {}, dataType);
      replaceNode(node, [emit.op1('ADD', [node.input(0), sums], { fused_activation_function: 'NONE' }, dataType)]);
      return;
    }
    const count = updatesDims.reduce((n, d) => n * d, 1);
    const ones = emit.constant(Tensor.fromValues('float32', updatesDims, new Array<number>(count).fill(1)), 'ones');
    const marks = emit.op1('SCATTER_ND', [indices, ones, shape], {}, tensorType('float32', dataDims));
    const written = emit.op1('GREATER', [marks, emit.constant(Tensor.fromValues('float32', [], [0]), 'zero')], {}, tensorType('bool', dataDims));
    const scattered = emit.op1('SCATTER_ND', [indices, node.input(2), shape], {}, dataType);
    replaceNode(node, [emit.op1('SELECT_V2', [written, scattered, node.input(0)], {}, dataType)]);
  },
};

/**
 * GatherElements(data, indices, axis) = GATHER_ND(data, coordinates) where each element's coordinates
 * are its own position with the axis replaced by its index (constant grids + the indices, concatenated).
 */
const gatherElements: LoweringRule = {
  ops: ['onnx.GatherElements'],
  stage: 'lower',
  targets: ['GATHER_ND', 'CONCATENATION', 'RESHAPE', 'CAST', 'MAXIMUM', 'MINIMUM'],
  check(node) {
    if (!INDEX_DTYPES.includes(tensorTypeOf(node.inputs[1])?.dtype ?? '')) return 'GatherElements indices must be int32 or int64';
    const data = staticDims(node.inputs[0]);
    if (!data || !staticDims(node.inputs[1])) return 'GatherElements needs static data and indices shapes';
    if (normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, data.length) === undefined) return 'the axis is out of range';
    return undefined;
  },
  lower(node: Node, context) {
    const emit = new TfliteEmitter(node, context);
    const data = staticDims(node.inputs[0])!;
    const shape = staticDims(node.inputs[1])!;
    const rank = data.length;
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, rank)!;
    const count = shape.reduce((n, d) => n * d, 1);
    // Flat [count, rank] coordinates (low-rank tensors throughout: TFLite 2.9 kernels abort on some high ranks).
    const indices = node.input(1);
    const flat = emit.op1('RESHAPE', [indices, emit.int32([count], [1], 'flat_shape')], {}, tensorType(tensorTypeOf(indices)!.dtype, [count]));
    const normalized = int32Indices(emit, nonNegativeIndices(emit, constantOf(indices) ? indices : flat, [data[axis]!], 'indices', true));
    const columnType = tensorType('int32', [count, 1]);
    const columns = Array.from({ length: rank }, (_, d) => {
      if (d === axis) return emit.op1('RESHAPE', [normalized, emit.int32([count, 1], [2], 'column_shape')], {}, columnType);
      const stride = shape.slice(d + 1).reduce((n, k) => n * k, 1);
      const grid = Array.from({ length: count }, (_, i) => Math.floor(i / stride) % shape[d]!);
      return emit.constant(Tensor.fromValues('int32', [count, 1], grid), `grid_${d}`);
    });
    const coordinates = emit.op1('CONCATENATION', columns, { axis: 1, fused_activation_function: 'NONE' }, tensorType('int32', [count, rank]));
    const gathered = emit.op1('GATHER_ND', [node.input(0), coordinates], {}, typeWithShape(node.output(0).type, [count]));
    replaceNode(node, [emit.op1('RESHAPE', [gathered, emit.int32(shape, [shape.length], 'shape')], {}, node.output(0).type)]);
  },
};

export const scatterGatherRules: readonly LoweringRule[] = [scatterNd, gatherElements];
