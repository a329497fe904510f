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

export const scatterMoreRules: readonly LoweringRule[] = [scatterElements];
