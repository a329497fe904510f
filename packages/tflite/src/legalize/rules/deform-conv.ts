import { Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { replaceNode, staticDims, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { channelsLastType, toChannelsFirst, toChannelsLast } from './channels-last.js';

/**
 * DeformConv (2-D, constant weights) as a deformable im2col and one FULLY_CONNECTED: for every offset
 * group and kernel tap, the sample position is the tap's regular place (a constant grid) plus its
 * (Δy, Δx) from the offset input; its four corners are GATHER_NDs of the group's NHWC channels with
 * bilinear weights, each corner zero outside the image; the optional mask scales the tap. The
 * columns, tap-major per offset group, meet a weight matrix in that order (zero between convolution
 * groups, so grouped convolutions are one product too).
 */

function check(node: Node): string | undefined {
  for (const index of [0, 2]) if (tensorTypeOf(node.inputs[index])?.dtype !== 'float32') return 'DeformConv is supported on float32 X and offset';
  const x = staticDims(node.inputs[0]);
  const offsets = staticDims(node.inputs[2]);
  if (!x || x.length !== 4 || !offsets || offsets.length !== 4) return 'only 2-D DeformConv with static X and offset shapes maps';
  const weight = constantOf(node.inputs[1]);
  if (!weight || weight.dtype !== 'float32') return 'the weights of DeformConv must be a float32 constant';
  if (node.inputs[3] && !constantOf(node.inputs[3])) return 'the bias must be a constant';
  if (node.inputs[4] && !staticDims(node.inputs[4])) return 'the mask needs a static shape';
  return undefined;
}

function lower(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const [n, channels, height, width] = staticDims(node.inputs[0]) as [number, number, number, number];
  const [, , outH, outW] = staticDims(node.inputs[2]) as [number, number, number, number];
  const weight = constantOf(node.inputs[1])!;
  const [outChannels, perGroup, kh, kw] = weight.shape as [number, number, number, number];
  const group = node.optionalAttr('group', 'int') ?? 1;
  const offsetGroups = node.optionalAttr('offset_group', 'int') ?? 1;
  const [sh, sw] = node.optionalAttr('strides', 'ints') ?? [1, 1];
  const [dh, dw] = node.optionalAttr('dilations', 'ints') ?? [1, 1];
  const [ph, pw] = node.optionalAttr('pads', 'ints') ?? [0, 0, 0, 0];
  const taps = kh * kw;
  const perOffsetGroup = channels / offsetGroups;
  const cell = [n, outH, outW, 1];
  const f32 = (shape: number[]) => tensorType('float32', shape);
  const scalar = (value: number, name: string) => emit.constant(Tensor.fromValues('float32', [], [value]), name);
  const add = (a: Value, b: Value, shape = cell) => emit.op1('ADD', [a, b], { fused_activation_function: 'NONE' }, f32(shape));
  const sub = (a: Value, b: Value) => emit.op1('SUB', [a, b], { fused_activation_function: 'NONE' }, f32(cell));
  const mul = (a: Value, b: Value, shape = cell) => emit.op1('MUL', [a, b], { fused_activation_function: 'NONE' }, f32(shape));
  const split = (value: Value, parts: number, each: number[], name: string) =>
    parts === 1 ? [value] : (emit.op('SPLIT', [emit.int32([3], [], `${name}_axis`), value], { num_splits: parts }, new Array(parts).fill(f32(each))).outputs as Value[]);
  const pixels = split(toChannelsLast(emit, node.input(0)), offsetGroups, [n, height, width, perOffsetGroup], 'pixel_groups');
  const shifts = split(toChannelsLast(emit, node.input(2)), offsetGroups * 2 * taps, cell, 'offsets');
  const masks = node.inputs[4] ? split(toChannelsLast(emit, node.input(4)), offsetGroups * taps, cell, 'masks') : undefined;
  const batch = emit.constant(Tensor.fromValues('int32', cell, Array.from({ length: n * outH * outW }, (_, i) => Math.floor(i / (outH * outW)))), 'batch');
  const grid = (stride: number, pad: number, along: 'row' | 'column') =>
    Array.from({ length: n * outH * outW }, (_, i) => (along === 'row' ? Math.floor(i / outW) % outH : i % outW) * stride - pad);
  const rowGrid = grid(sh!, ph!, 'row');
  const columnGrid = grid(sw!, pw!, 'column');
  const one = scalar(1, 'one');
  const corner = (g: number, row: Value, column: Value, weightOf: Value, name: string): Value => {
    const bool = tensorType('bool', cell);
    const inside = (v: Value, limit: number, what: string) =>
      emit.op1('LOGICAL_AND', [emit.op1('GREATER_EQUAL', [v, scalar(0, `${name}_${what}_low`)], {}, bool), emit.op1('LESS_EQUAL', [v, scalar(limit, `${name}_${what}_high`)], {}, bool)], {}, bool);
    const valid = emit.op1('CAST', [emit.op1('LOGICAL_AND', [inside(row, height - 1, 'row'), inside(column, width - 1, 'column')], {}, bool)], { in_data_type: 'BOOL', out_data_type: 'FLOAT32' }, f32(cell));
    const index = (v: Value, limit: number) =>
      emit.op1('CAST', [emit.op1('MINIMUM', [emit.op1('MAXIMUM', [v, scalar(0, `${name}_floor0`)], {}, f32(cell)), scalar(limit, `${name}_ceil`)], {}, f32(cell))], { in_data_type: 'FLOAT32', out_data_type: 'INT32' }, tensorType('int32', cell));
    const indices = emit.op1('CONCATENATION', [batch, index(row, height - 1), index(column, width - 1)], { axis: 3, fused_activation_function: 'NONE' }, tensorType('int32', [n, outH, outW, 3]));
    const values = emit.op1('GATHER_ND', [pixels[g]!, indices], {}, f32([n, outH, outW, perOffsetGroup]));
    return mul(values, mul(weightOf, valid), [n, outH, outW, perOffsetGroup]);
  };
  const columns: Value[] = [];
  for (let g = 0; g < offsetGroups; g++) {
    for (let t = 0; t < taps; t++) {
      const [i, j] = [Math.floor(t / kw), t % kw];
      const baseRow = emit.constant(Tensor.fromValues('float32', cell, rowGrid.map((r) => r + i * dh!)), `rows_${t}`);
      const baseColumn = emit.constant(Tensor.fromValues('float32', cell, columnGrid.map((c) => c + j * dw!)), `columns_${t}`);
      const y = add(baseRow, shifts[(g * taps + t) * 2]!);
      const x = add(baseColumn, shifts[(g * taps + t) * 2 + 1]!);
      const [y0, x0] = [emit.op1('FLOOR', [y], {}, f32(cell)), emit.op1('FLOOR', [x], {}, f32(cell))];
      const [y1, x1] = [add(y0, one), add(x0, one)];
      const [ly, lx] = [sub(y, y0), sub(x, x0)];
      const [hy, hx] = [sub(one, ly), sub(one, lx)];
      const tapName = `g${g}_t${t}`;
      let sampled = [
        corner(g, y0, x0, mul(hy, hx), `${tapName}_00`),
        corner(g, y0, x1, mul(hy, lx), `${tapName}_01`),
        corner(g, y1, x0, mul(ly, hx), `${tapName}_10`),
        corner(g, y1, x1, mul(ly, lx), `${tapName}_11`),
      ].reduce((a, b) => add(a, b, [n, outH, outW, perOffsetGroup]));
      if (masks) sampled = mul(sampled, masks[g * taps + t]!, [n, outH, outW, perOffsetGroup]);
      columns.push(sampled);
    }
  }
  const width2 = channels * taps;
  const im2col = columns.length === 1 ? columns[0]! : emit.op1('CONCATENATION', columns, { axis: 3, fused_activation_function: 'NONE' }, f32([n, outH, outW, width2]));
  // Weight matrix [O, offset group · tap · channel-in-group], zero between convolution groups.
  const source = weight.toNumbers();
  const matrix = new Float32Array(outChannels * width2);
  const outPerGroup = outChannels / group;
  for (let o = 0; o < outChannels; o++) {
    const convGroup = Math.floor(o / outPerGroup);
    for (let k = 0; k < perGroup; k++) {
      const c = convGroup * perGroup + k;
      const [g, cg] = [Math.floor(c / perOffsetGroup), c % perOffsetGroup];
      for (let t = 0; t < taps; t++) matrix[o * width2 + (g * taps + t) * perOffsetGroup + cg] = source[(o * perGroup + k) * taps + t]!;
    }
  }
  const bias = constantOf(node.inputs[3]);
  const y = emit.op1('FULLY_CONNECTED', [im2col, emit.constant(Tensor.fromValues('float32', [outChannels, width2], matrix), 'weights'), bias ? emit.constant(bias, 'bias') : null], { fused_activation_function: 'NONE', keep_num_dims: 1 }, channelsLastType(node));
  replaceNode(node, [toChannelsFirst(emit, y)]);
}

const deformConv: LoweringRule = {
  ops: ['onnx.DeformConv'],
  stage: 'layout',
  targets: ['SPLIT', 'ADD', 'SUB', 'MUL', 'FLOOR', 'MAXIMUM', 'MINIMUM', 'CAST', 'CONCATENATION', 'GATHER_ND', 'GREATER_EQUAL', 'LESS_EQUAL', 'LOGICAL_AND', 'FULLY_CONNECTED'],
  check,
  lower,
};

export const deformConvRules: readonly LoweringRule[] = [deformConv];
