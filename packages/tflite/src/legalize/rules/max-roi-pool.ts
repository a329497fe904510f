import { Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { replaceNode, staticDims, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { channelsLastType, toChannelsFirst, toChannelsLast } from './channels-last.js';

/**
 * MaxRoiPool as ONNX Runtime computes it, with bins known only at run time: each roi's image is
 * GATHERed by its batch index, its corners rounded half away from zero, and each bin's
 * [start, end) rows and columns (floor/ceil edges, clipped) become masks over constant pixel
 * positions. A masked REDUCE_MAX over the columns per column bin, then over the rows per row bin
 * (SELECT_V2 with the lowest float), CONCATENATION; an empty bin is 0.
 */

const LOWEST = -3.4028234663852886e38;

function check(node: Node): string | undefined {
  if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32' || tensorTypeOf(node.inputs[1])?.dtype !== 'float32') return 'MaxRoiPool is supported on float32 X and rois';
  const x = staticDims(node.inputs[0]);
  const rois = staticDims(node.inputs[1]);
  if (!x || x.length !== 4 || !rois || rois.length !== 2 || rois[1] !== 5) return 'MaxRoiPool needs static X [N, C, H, W] and rois [R, 5]';
  return undefined;
}

function lower(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const [, channels, height, width] = staticDims(node.inputs[0]) as [number, number, number, number];
  const count = staticDims(node.inputs[1])![0]!;
  const [pooledH, pooledW] = node.attr('pooled_shape', 'ints') as [number, number];
  const scale = node.optionalAttr('spatial_scale', 'float') ?? 1;
  const f32 = (shape: number[]) => tensorType('float32', shape);
  const bool = (shape: number[]) => tensorType('bool', shape);
  const scalar = (value: number, name: string) => emit.constant(Tensor.fromValues('float32', [], [value]), name);
  const column = [count, 1];
  const arithmetic = (op: string, a: Value, b: Value, shape = column) => emit.op1(op, [a, b], { fused_activation_function: 'NONE' }, f32(shape));
  const unary = (op: string, a: Value) => emit.op1(op, [a], {}, f32(column));
  const [batch, ...corners] = emit.op('SPLIT', [emit.int32([1], [], 'split_axis'), node.input(1)], { num_splits: 5 }, new Array(5).fill(f32(column))).outputs as Value[];
  // std::round: floor(|v| + 0.5) with v's sign.
  const round = (v: Value): Value => {
    const scaled = arithmetic('MUL', v, scalar(scale, 'scale'));
    const up = unary('FLOOR', arithmetic('ADD', scaled, scalar(0.5, 'half')));
    const down = unary('NEG', unary('FLOOR', arithmetic('SUB', scalar(0.5, 'half_neg'), scaled)));
    return emit.op1('SELECT_V2', [emit.op1('GREATER_EQUAL', [scaled, scalar(0, 'zero')], {}, bool(column)), up, down], {}, f32(column));
  };
  const [x1, y1, x2, y2] = corners.map(round) as [Value, Value, Value, Value];
  const extent = (start: Value, end: Value) => emit.op1('MAXIMUM', [arithmetic('ADD', arithmetic('SUB', end, start), scalar(1, 'plus_one')), scalar(1, 'one')], {}, f32(column));
  const pixels = toChannelsLast(emit, node.input(0));
  const batchIndex = emit.op1('RESHAPE', [emit.op1('CAST', [batch], { in_data_type: 'FLOAT32', out_data_type: 'INT32' }, tensorType('int32', column)), emit.int32([count], [1], 'batch_shape')], {}, tensorType('int32', [count]));
  const images = emit.op1('GATHER', [pixels, batchIndex], { axis: 0, batch_dims: 0 }, f32([count, height, width, channels]));
  /** Masks `[R, …]` (positions along an axis placed by `shape`) of each bin's [start, end). */
  const binMasks = (start: Value, size: Value, bins: number, limit: number, shape: number[], what: string): Value[] => {
    const binSize = arithmetic('DIV', size, scalar(bins, `${what}_bins`));
    const positions = emit.constant(Tensor.fromValues('float32', shape.map((d) => (d === count ? 1 : d)), Array.from({ length: limit }, (_, i) => i)), `${what}_positions`);
    const clip = (v: Value) => emit.op1('MINIMUM', [emit.op1('MAXIMUM', [arithmetic('ADD', v, start), scalar(0, `${what}_low`)], {}, f32(column)), scalar(limit, `${what}_high`)], {}, f32(column));
    const broadcast = [count, 1, 1, 1];
    return Array.from({ length: bins }, (_, b) => {
      const from = emit.op1('RESHAPE', [clip(unary('FLOOR', arithmetic('MUL', binSize, scalar(b, `${what}_from_${b}`)))), emit.int32(broadcast, [4], `${what}_shape_${b}`)], {}, f32(broadcast));
      const to = emit.op1('RESHAPE', [clip(unary('CEIL', arithmetic('MUL', binSize, scalar(b + 1, `${what}_to_${b}`)))), emit.int32(broadcast, [4], `${what}_shape_end_${b}`)], {}, f32(broadcast));
      const maskShape = shape;
      return emit.op1('LOGICAL_AND', [emit.op1('GREATER_EQUAL', [positions, from], {}, bool(maskShape)), emit.op1('LESS', [positions, to], {}, bool(maskShape))], {}, bool(maskShape));
    });
  };
  const lowest = scalar(LOWEST, 'lowest');
  const columnsPooled = binMasks(x1, extent(x1, x2), pooledW, width, [count, 1, width, 1], 'x').map((mask) => {
    const masked = emit.op1('SELECT_V2', [mask, images, lowest], {}, f32([count, height, width, channels]));
    return emit.op1('REDUCE_MAX', [masked, emit.int32([2], [1], 'columns_axis')], { keep_dims: 1 }, f32([count, height, 1, channels]));
  });
  const byColumn = columnsPooled.length === 1 ? columnsPooled[0]! : emit.op1('CONCATENATION', columnsPooled, { axis: 2, fused_activation_function: 'NONE' }, f32([count, height, pooledW, channels]));
  const rowsPooled = binMasks(y1, extent(y1, y2), pooledH, height, [count, height, 1, 1], 'y').map((mask) => {
    const masked = emit.op1('SELECT_V2', [mask, byColumn, lowest], {}, f32([count, height, pooledW, channels]));
    return emit.op1('REDUCE_MAX', [masked, emit.int32([1], [1], 'rows_axis')], { keep_dims: 1 }, f32([count, 1, pooledW, channels]));
  });
  const pooled = rowsPooled.length === 1 ? rowsPooled[0]! : emit.op1('CONCATENATION', rowsPooled, { axis: 1, fused_activation_function: 'NONE' }, f32([count, pooledH, pooledW, channels]));
  const shape = [count, pooledH, pooledW, channels];
  const empty = emit.op1('LESS_EQUAL', [pooled, lowest], {}, bool(shape));
  const result = emit.op1('SELECT_V2', [empty, emit.constant(Tensor.fromValues('float32', [], [0]), 'empty'), pooled], {}, channelsLastType(node));
  replaceNode(node, [toChannelsFirst(emit, result)]);
}

const maxRoiPool: LoweringRule = {
  ops: ['onnx.MaxRoiPool'],
  stage: 'layout',
  targets: ['SPLIT', 'MUL', 'ADD', 'SUB', 'DIV', 'FLOOR', 'CEIL', 'NEG', 'SELECT_V2', 'MAXIMUM', 'MINIMUM', 'CAST', 'GATHER', 'GREATER_EQUAL', 'LESS', 'LOGICAL_AND', 'REDUCE_MAX', 'CONCATENATION', 'LESS_EQUAL'],
  check,
  lower,
};

export const maxRoiPoolRules: readonly LoweringRule[] = [maxRoiPool];
