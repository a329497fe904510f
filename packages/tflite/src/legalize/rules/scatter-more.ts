import { Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { normalizeAxis, replaceNode, staticDims, tensorTypeOf, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { nonNegativeIndices } from './indexing.js';

/**
 * ScatterElements (and its opset 9–10 name Scatter) through SCATTER_ND: each update's coordinates are
 * its own position with the axis replaced by its index (constant grids + the indices, concatenated).
 * TFLite's SCATTER_ND adds updates that meet at one element, so reduction `add` is data + the
 * scattered sum; `none` selects the scattered value where an update landed (SELECT_V2).
 */

const INDEX_DTYPES = ['int32', 'int64'];
const REDUCTIONS = ['none', 'add'];

/** `[count, rank]` int32 coordinates of the elements addressed by per-element `indices` along `axis`. */
export function elementCoordinates(emit: TfliteEmitter, indices: Value, dataDims: readonly number[], shape: readonly number[], axis: number): Value {
  const rank = shape.length;
  const count = shape.reduce((n, d) => n * d, 1);
  const dtype = tensorTypeOf(indices)!.dtype;
  const flat = constantOf(indices) ? indices : emit.op1('RESHAPE', [indices, emit.int32([count], [1], 'flat_shape')], {}, tensorType(dtype, [count]));
  let along = nonNegativeIndices(emit, flat, [dataDims[axis]!], 'indices', true);
  if (tensorTypeOf(along)?.dtype !== 'int32') along = emit.op1('CAST', [along], { in_data_type: 'INT64', out_data_type: 'INT32' }, tensorType('int32', [count]));
  const columnType = tensorType('int32', [count, 1]);
  const columns = Array.from({ length: rank }, (_, d) => {
    if (d === axis) return emit.op1('RESHAPE', [along, emit.int32([count, 1], [2], 'column_shape')], {}, columnType);
    const stride = shape.slice(d + 1).reduce((n, k) => n * k, 1);
    const grid = Array.from({ length: count }, (_, i) => Math.floor(i / stride) % shape[d]!);
    return emit.constant(Tensor.fromValues('int32', [count, 1], grid), `grid_${d}`);
  });
  return emit.op1('CONCATENATION', columns, { axis: 1, fused_activation_function: 'NONE' }, tensorType('int32', [count, rank]));
}

function checkScatterElements(node: Node): string | undefined {
  const what = node.op.slice('onnx.'.length);
  const reduction = node.optionalAttr('reduction', 'string') ?? 'none';
  if (!REDUCTIONS.includes(reduction)) return `${what} with reduction '${reduction}' has no TFLite equivalent (SCATTER_ND only adds; none and add map)`;
  const dtype = tensorTypeOf(node.inputs[0])?.dtype;
  if (dtype !== 'float32' && dtype !== 'int32') return `${what} on ${dtype ?? 'untyped'} data is not supported (float32, int32)`;
  if (!INDEX_DTYPES.includes(tensorTypeOf(node.inputs[1])?.dtype ?? '')) return `${what} indices must be int32 or int64`;
  const data = staticDims(node.inputs[0]);
  if (!data || !staticDims(node.inputs[1]) || !staticDims(node.inputs[2])) return `${what} needs static data, indices and updates shapes`;
  if (normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, data.length) === undefined) return 'the axis is out of range';
  return undefined;
}

const scatterElements: LoweringRule = {
  ops: ['onnx.ScatterElements', 'onnx.Scatter'],
  stage: 'lower',
  targets: ['SCATTER_ND', 'CONCATENATION', 'RESHAPE', 'CAST', 'GREATER', 'SELECT_V2', 'ADD'],
  check: checkScatterElements,
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dataDims = staticDims(node.inputs[0])!;
    const shape = staticDims(node.inputs[1])!;
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, dataDims.length)!;
    const count = shape.reduce((n, d) => n * d, 1);
    const coordinates = elementCoordinates(emit, node.input(1), dataDims, shape, axis);
    const dataType = node.output(0).type;
    const target = emit.int32(dataDims, [dataDims.length], 'shape');
    const updates = emit.op1('RESHAPE', [node.input(2), emit.int32([count], [1], 'updates_shape')], {}, typeWithShape(node.input(2).type, [count]));
    const scattered = emit.op1('SCATTER_ND', [coordinates, updates, target], {}, dataType);
    if ((node.optionalAttr('reduction', 'string') ?? 'none') === 'add') {
      replaceNode(node, [emit.op1('ADD', [node.input(0), scattered], { fused_activation_function: 'NONE' }, dataType)]);
      return;
    }
    const ones = emit.constant(Tensor.fromValues('float32', [count], new Array<number>(count).fill(1)), 'ones');
    const marks = emit.op1('SCATTER_ND', [coordinates, ones, target], {}, tensorType('float32', dataDims));
    const written = emit.op1('GREATER', [marks, emit.constant(Tensor.fromValues('float32', [], [0]), 'zero')], {}, tensorType('bool', dataDims));
    replaceNode(node, [emit.op1('SELECT_V2', [written, scattered, node.input(0)], {}, dataType)]);
  },
};

/** Where an update landed (SCATTER_ND of ones > 0), the scattered value; elsewhere the data. */
function selectScattered(emit: TfliteEmitter, node: Node, coordinates: Value, updates: Value, count: number, dataDims: number[]): Value {
  const dataType = node.output(0).type;
  const target = emit.int32(dataDims, [dataDims.length], 'shape');
  const scattered = emit.op1('SCATTER_ND', [coordinates, updates, target], {}, dataType);
  const ones = emit.constant(Tensor.fromValues('float32', [count], new Array<number>(count).fill(1)), 'ones');
  const marks = emit.op1('SCATTER_ND', [coordinates, ones, target], {}, tensorType('float32', dataDims));
  const written = emit.op1('GREATER', [marks, emit.constant(Tensor.fromValues('float32', [], [0]), 'zero')], {}, tensorType('bool', dataDims));
  return emit.op1('SELECT_V2', [written, scattered, node.input(0)], {}, dataType);
}

/**
 * TensorScatter (opset 24, a KV-cache write): each update element's position along the axis is its
 * batch's write index plus its own (FLOOR_MOD by the cache length in circular mode), then the
 * ScatterElements lowering writes them into the cache.
 */
const tensorScatter: LoweringRule = {
  ops: ['onnx.TensorScatter'],
  stage: 'lower',
  targets: ['ADD', 'FLOOR_MOD', 'CAST', 'RESHAPE', 'CONCATENATION', 'SCATTER_ND', 'GREATER', 'SELECT_V2'],
  check(node) {
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (dtype !== 'float32' && dtype !== 'int32') return `TensorScatter on ${dtype ?? 'untyped'} data is not supported (float32, int32)`;
    const cache = staticDims(node.inputs[0]);
    if (!cache || !staticDims(node.inputs[1])) return 'TensorScatter needs static past_cache and update shapes';
    if (cache.length > 4) return 'TensorScatter of a cache of rank > 4 is not supported (TFLite 2.9 broadcasting kernels stop at 4-D)';
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? -2, cache.length);
    if (axis === undefined || axis === 0) return 'the axis must be a non-batch axis of the cache';
    if (node.inputs[2] && !INDEX_DTYPES.includes(tensorTypeOf(node.inputs[2])?.dtype ?? '')) return 'write_indices must be int64 or int32';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const cache = staticDims(node.inputs[0])!;
    const shape = staticDims(node.inputs[1])!;
    const rank = cache.length;
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? -2, rank)!;
    const count = shape.reduce((n, d) => n * d, 1);
    const stride = shape.slice(axis + 1).reduce((n, d) => n * d, 1);
    const own = Array.from({ length: count }, (_, i) => Math.floor(i / stride) % shape[axis]!);
    const int32 = (dims: number[]) => tensorType('int32', dims);
    let positions: Value = emit.constant(Tensor.fromValues('int32', shape, own), 'own_positions');
    const given = node.inputs[2];
    if (given) {
      let starts = given;
      const constant = constantOf(starts);
      if (constant) starts = emit.int32(constant.toNumbers(), [shape[0]!], 'starts');
      else if (tensorTypeOf(starts)!.dtype !== 'int32') starts = emit.op1('CAST', [starts], { in_data_type: 'INT64', out_data_type: 'INT32' }, int32([shape[0]!]));
      const column = [shape[0]!, ...new Array<number>(rank - 1).fill(1)];
      const perBatch = emit.op1('RESHAPE', [starts, emit.int32(column, [rank], 'starts_shape')], {}, int32(column));
      positions = emit.op1('ADD', [positions, perBatch], { fused_activation_function: 'NONE' }, int32(shape));
    }
    if (node.optionalAttr('mode', 'string') === 'circular') positions = emit.op1('FLOOR_MOD', [positions, emit.int32([cache[axis]!], [], 'length')], {}, int32(shape));
    const coordinates = elementCoordinates(emit, positions, cache, shape, axis);
    const updates = emit.op1('RESHAPE', [node.input(1), emit.int32([count], [1], 'updates_shape')], {}, typeWithShape(node.input(1).type, [count]));
    replaceNode(node, [selectScattered(emit, node, coordinates, updates, count, cache)]);
  },
};

export const scatterMoreRules: readonly LoweringRule[] = [scatterElements, tensorScatter];
