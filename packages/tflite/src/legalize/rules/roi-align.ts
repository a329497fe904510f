import { Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { replaceNode, staticDims, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { channelsLastType, toChannelsFirst, toChannelsLast } from './channels-last.js';

/**
 * RoiAlign with a fixed sampling_ratio (> 0) composed as ONNX Runtime computes it: every region's
 * `[outH·s, outW·s]` sample grid is its start plus constant bin fractions times its bin size (run-time
 * MUL/ADD on the rois), each sample's four corner taps are GATHER_NDs of NHWC pixels at
 * (batch index, row, column) with bilinear weights (zero more than one pixel outside), and an
 * s × s AVERAGE_POOL_2D (avg) or MAX_POOL_2D of the largest weighted corner (max) makes the bins.
 * sampling_ratio 0 samples ⌈roi size / bins⌉ per axis: a data-dependent count, refused.
 */

function check(node: Node): string | undefined {
  if ((node.optionalAttr('sampling_ratio', 'int') ?? 0) <= 0) return 'RoiAlign with sampling_ratio 0 samples ⌈roi size / output size⌉ points per bin, a count that depends on the rois; only a fixed sampling_ratio > 0 maps';
  if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32' || tensorTypeOf(node.inputs[1])?.dtype !== 'float32') return 'RoiAlign is supported on float32 X and rois';
  const x = staticDims(node.inputs[0]);
  const rois = staticDims(node.inputs[1]);
  if (!x || x.length !== 4 || !rois || rois.length !== 2 || rois[1] !== 4) return 'RoiAlign needs static X [N, C, H, W] and rois [R, 4]';
  const batch = tensorTypeOf(node.inputs[2]);
  if (!batch || (batch.dtype !== 'int64' && batch.dtype !== 'int32')) return `RoiAlign's batch_indices '${node.inputs[2]?.name ?? ''}' needs a known int64 (or int32) type, not ${batch ? batch.dtype : 'an unknown one'}`;
  return undefined;
}

function lower(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const [, channels, height, width] = staticDims(node.inputs[0]) as [number, number, number, number];
  const count = staticDims(node.inputs[1])![0]!;
  const [outH, outW] = [node.optionalAttr('output_height', 'int') ?? 1, node.optionalAttr('output_width', 'int') ?? 1];
  const ratio = node.attr('sampling_ratio', 'int');
  const scale = node.optionalAttr('spatial_scale', 'float') ?? 1;
  const max = node.optionalAttr('mode', 'string') === 'max';
  const mode = node.optionalAttr('coordinate_transformation_mode', 'string') ?? ((context.model.opset('onnx') ?? 17) >= 16 ? 'half_pixel' : 'output_half_pixel');
  const halfPixel = mode === 'half_pixel';
  const [sh, sw] = [outH * ratio, outW * ratio];
  const f32 = (shape: number[]) => tensorType('float32', shape);
  const scalar = (value: number, name: string) => emit.constant(Tensor.fromValues('float32', [], [value]), name);
  const binary = (op: string, a: Value, b: Value, shape: number[]) => emit.op1(op, [a, b], ['ADD', 'SUB', 'MUL', 'DIV'].includes(op) ? { fused_activation_function: 'NONE' } : {}, f32(shape));
  // Region corners scaled (and shifted by half a pixel): [R, 4] → x1, y1, x2, y2 as [R, 1] each.
  let corners = binary('MUL', node.input(1), scalar(scale, 'scale'), [count, 4]);
  if (halfPixel) corners = binary('SUB', corners, scalar(0.5, 'half'), [count, 4]);
  const [x1, y1, x2, y2] = emit.op('SPLIT', [emit.int32([1], [], 'split_axis'), corners], { num_splits: 4 }, new Array(4).fill(f32([count, 1]))).outputs as Value[];
  const extent = (start: Value, end: Value, what: string): Value => {
    const size = binary('SUB', end, start, [count, 1]);
    return halfPixel ? size : emit.op1('MAXIMUM', [size, scalar(1, `${what}_min_size`)], {}, f32([count, 1]));
  };
  // Sample coordinates: start + bin · (p + (i + 0.5) / s), the fraction a constant per sample.
  const positions = (start: Value, size: Value, bins: number, what: string): Value => {
    const fractions = Array.from({ length: bins * ratio }, (_, k) => Math.floor(k / ratio) + ((k % ratio) + 0.5) / ratio);
    const bin = binary('DIV', size, scalar(bins, `${what}_bins`), [count, 1]);
    const offsets = binary('MUL', bin, emit.constant(Tensor.fromValues('float32', [1, bins * ratio], fractions), `${what}_fractions`), [count, bins * ratio]);
    return binary('ADD', start, offsets, [count, bins * ratio]);
  };
  const ys = emit.op1('RESHAPE', [positions(y1, extent(y1, y2, 'y'), outH, 'y'), emit.int32([count, sh, 1, 1], [4], 'y_shape')], {}, f32([count, sh, 1, 1]));
  const xs = emit.op1('RESHAPE', [positions(x1, extent(x1, x2, 'x'), outW, 'x'), emit.int32([count, 1, sw, 1], [4], 'x_shape')], {}, f32([count, 1, sw, 1]));
  const cell = [count, sh, sw, 1];
  const zeros = emit.constant(Tensor.fromValues('float32', cell, new Array<number>(count * sh * sw).fill(0)), 'grid_zeros');
  const y = binary('ADD', ys, zeros, cell);
  const x = binary('ADD', xs, zeros, cell);
  const bool = tensorType('bool', cell);
  const within = (v: Value, limit: number, what: string) =>
    emit.op1('LOGICAL_AND', [emit.op1('GREATER_EQUAL', [v, scalar(-1, `${what}_low`)], {}, bool), emit.op1('LESS_EQUAL', [v, scalar(limit, `${what}_high`)], {}, bool)], {}, bool);
  const inside = emit.op1('CAST', [emit.op1('LOGICAL_AND', [within(y, height, 'y'), within(x, width, 'x')], {}, bool)], { in_data_type: 'BOOL', out_data_type: 'FLOAT32' }, f32(cell));
  const clamp = (v: Value, limit: number, what: string) => emit.op1('MINIMUM', [emit.op1('MAXIMUM', [v, scalar(0, `${what}_zero`)], {}, f32(cell)), scalar(limit, `${what}_last`)], {}, f32(cell));
  const [cy, cx] = [clamp(y, height - 1, 'y'), clamp(x, width - 1, 'x')];
  const [y0, x0] = [emit.op1('FLOOR', [cy], {}, f32(cell)), emit.op1('FLOOR', [cx], {}, f32(cell))];
  const one = scalar(1, 'one');
  const [y1i, x1i] = [emit.op1('MINIMUM', [binary('ADD', y0, one, cell), scalar(height - 1, 'y_top')], {}, f32(cell)), emit.op1('MINIMUM', [binary('ADD', x0, one, cell), scalar(width - 1, 'x_top')], {}, f32(cell))];
  const [ly, lx] = [binary('SUB', cy, y0, cell), binary('SUB', cx, x0, cell)];
  const [hy, hx] = [binary('SUB', one, ly, cell), binary('SUB', one, lx, cell)];
  // Batch index of each region, broadcast over its samples.
  let batch = node.input(2);
  const constantBatch = constantOf(batch);
  if (constantBatch) batch = emit.int32(constantBatch.toNumbers(), [count], 'batch');
  else if (tensorTypeOf(batch)!.dtype !== 'int32') batch = emit.op1('CAST', [batch], { in_data_type: 'INT64', out_data_type: 'INT32' }, tensorType('int32', [count]));
  const batchColumn = emit.op1('ADD', [emit.op1('RESHAPE', [batch, emit.int32([count, 1, 1, 1], [4], 'batch_shape')], {}, tensorType('int32', [count, 1, 1, 1])), emit.int32(new Array<number>(count * sh * sw).fill(0), cell, 'batch_zeros')], { fused_activation_function: 'NONE' }, tensorType('int32', cell));
  const pixels = toChannelsLast(emit, node.input(0));
  const valuesType = f32([count, sh, sw, channels]);
  const tap = (row: Value, column: Value, weight: Value): Value => {
    const toInt = (v: Value) => emit.op1('CAST', [v], { in_data_type: 'FLOAT32', out_data_type: 'INT32' }, tensorType('int32', cell));
    const indices = emit.op1('CONCATENATION', [batchColumn, toInt(row), toInt(column)], { axis: 3, fused_activation_function: 'NONE' }, tensorType('int32', [count, sh, sw, 3]));
    const values = emit.op1('GATHER_ND', [pixels, indices], {}, valuesType);
    return emit.op1('MUL', [values, binary('MUL', weight, inside, cell)], { fused_activation_function: 'NONE' }, valuesType);
  };
  const taps = [tap(y0, x0, binary('MUL', hy, hx, cell)), tap(y0, x1i, binary('MUL', hy, lx, cell)), tap(y1i, x0, binary('MUL', ly, hx, cell)), tap(y1i, x1i, binary('MUL', ly, lx, cell))];
  const samples = taps.reduce((a, b) => emit.op1(max ? 'MAXIMUM' : 'ADD', [a, b], max ? {} : { fused_activation_function: 'NONE' }, valuesType));
  const options = { padding: 'VALID', stride_h: ratio, stride_w: ratio, filter_height: ratio, filter_width: ratio, fused_activation_function: 'NONE' };
  const bins = emit.op1(max ? 'MAX_POOL_2D' : 'AVERAGE_POOL_2D', [samples], options, channelsLastType(node));
  replaceNode(node, [toChannelsFirst(emit, bins)]);
}

const roiAlign: LoweringRule = {
  ops: ['onnx.RoiAlign'],
  stage: 'layout',
  targets: ['SPLIT', 'MUL', 'SUB', 'DIV', 'ADD', 'MAXIMUM', 'MINIMUM', 'FLOOR', 'RESHAPE', 'CAST', 'CONCATENATION', 'GATHER_ND', 'AVERAGE_POOL_2D', 'MAX_POOL_2D'],
  check,
  lower,
};

export const roiAlignRules: readonly LoweringRule[] = [roiAlign];
