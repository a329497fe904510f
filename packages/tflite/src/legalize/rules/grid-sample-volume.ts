import { Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import type { LoweringContext } from '../lowering-rule.js';
import { replaceNode, staticDims, TfliteEmitter } from '../lowering-tools.js';
import { toChannelsFirst, toChannelsLast } from './channels-last.js';

/**
 * Volumetric GridSample (opset 20, a 5-D input `[N, C, D, H, W]`; linear or nearest; zeros, border,
 * reflection) composed like the 4-D one (`grid-sample.ts`): the grid's x, y, z are denormalized,
 * border padding clamps them and reflection folds them (FLOOR_MOD, ABS), and each tap is a GATHER_ND
 * of NDHWC voxels at (n, z, y, x). Linear sums the 8 corners of the cell with trilinear weights,
 * nearest rounds half to even and takes one. TFLite 2.9's broadcasting kernels abort beyond 4-D, so
 * the sample points are flattened to `[N, Do·Ho·Wo, ·]` and the result RESHAPEd back.
 */

const f32 = (emit: TfliteEmitter, value: number, name: string): Value => emit.constant(Tensor.fromValues('float32', [], [value]), name);

export function checkVolume(node: Node): string | undefined {
  const mode = node.optionalAttr('mode', 'string') ?? 'bilinear';
  if (!['bilinear', 'linear', 'nearest'].includes(mode)) return `GridSample of a 5-D input takes mode linear or nearest (ONNX defines cubic for 4-D only), not '${mode}'`;
  const grid = staticDims(node.inputs[1]);
  const x = staticDims(node.inputs[0])!;
  if (!grid || grid.length !== 5 || grid[4] !== 3 || grid[0] !== x[0]) return `the grid of a 5-D GridSample must be [N, Do, Ho, Wo, 3] (static)`;
  return undefined;
}

interface Volume {
  readonly emit: TfliteEmitter;
  readonly voxels: Value;
  /** `[N, P, 1]` batch indices. */
  readonly batch: Value;
  /** The `[N, P, 1]` cell of one coordinate. */
  readonly cell: number[];
  /** [W, H, D]: the length along x, y, z. */
  readonly lengths: readonly number[];
  readonly zeros: boolean;
  readonly reflect?: (v: Value, axis: number) => Value;
}

/** low + r − |((v − low) mod 2r) − r| for r = high − low: reflection about [low, high] any number of times. */
function reflection(emit: TfliteEmitter, v: Value, low: number, high: number, name: string): Value {
  const range = high - low;
  const sub = (a: Value, b: Value) => emit.op1('SUB', [a, b], { fused_activation_function: 'NONE' }, v.type);
  if (range <= 0) return emit.op1('MUL', [v, f32(emit, 0, `${name}_flat`)], { fused_activation_function: 'NONE' }, v.type);
  const folded = emit.op1('FLOOR_MOD', [sub(v, f32(emit, low, `${name}_low`)), f32(emit, 2 * range, `${name}_period`)], {}, v.type);
  return sub(f32(emit, low + range, `${name}_top`), emit.op1('ABS', [sub(folded, f32(emit, range, `${name}_range`))], {}, v.type));
}

/** One tap at integral float coordinates [x, y, z]: voxels `[N, P, C]`, times `weight` and (zeros padding) whether it is inside. */
function tap(volume: Volume, coordinates: readonly Value[], weight: Value | undefined, channels: number, name: string): Value {
  const { emit, cell, lengths } = volume;
  const type = tensorType('float32', cell);
  const bool = tensorType('bool', cell);
  const placed = volume.reflect ? coordinates.map((v, axis) => volume.reflect!(v, axis)) : coordinates;
  const indexOf = (v: Value, axis: number) => {
    const clamped = emit.op1('MINIMUM', [emit.op1('MAXIMUM', [v, f32(emit, 0, `${name}_${axis}_zero`)], {}, type), f32(emit, lengths[axis]! - 1, `${name}_${axis}_last`)], {}, type);
    return emit.op1('CAST', [clamped], { in_data_type: 'FLOAT32', out_data_type: 'INT32' }, tensorType('int32', cell));
  };
  // GATHER_ND coordinates (n, z, y, x) of NDHWC voxels.
  const indices = emit.op1('CONCATENATION', [volume.batch, indexOf(placed[2]!, 2), indexOf(placed[1]!, 1), indexOf(placed[0]!, 0)], { axis: 2, fused_activation_function: 'NONE' }, tensorType('int32', [cell[0]!, cell[1]!, 4]));
  const outType = tensorType('float32', [cell[0]!, cell[1]!, channels]);
  const values = emit.op1('GATHER_ND', [volume.voxels, indices], {}, outType);
  let factor = weight;
  if (volume.zeros) {
    const inside = placed.map((v, axis) =>
      emit.op1('LOGICAL_AND', [emit.op1('GREATER_EQUAL', [v, f32(emit, 0, `${name}_${axis}_low`)], {}, bool), emit.op1('LESS_EQUAL', [v, f32(emit, lengths[axis]! - 1, `${name}_${axis}_high`)], {}, bool)], {}, bool),
    );
    const all = inside.reduce((a, b) => emit.op1('LOGICAL_AND', [a, b], {}, bool));
    const mask = emit.op1('CAST', [all], { in_data_type: 'BOOL', out_data_type: 'FLOAT32' }, type);
    factor = factor ? emit.op1('MUL', [factor, mask], { fused_activation_function: 'NONE' }, type) : mask;
  }
  return factor ? emit.op1('MUL', [values, factor], { fused_activation_function: 'NONE' }, outType) : values;
}

export function lowerVolume(node: Node, context: LoweringContext): void {
  const emit = new TfliteEmitter(node, context);
  const [n, channels, depth, height, width] = staticDims(node.inputs[0]) as [number, number, number, number, number];
  const [, outD, outH, outW] = staticDims(node.inputs[1]) as [number, number, number, number, number];
  const points = outD * outH * outW;
  const align = (node.optionalAttr('align_corners', 'int') ?? 0) === 1;
  const nearest = node.optionalAttr('mode', 'string') === 'nearest';
  const padding = node.optionalAttr('padding_mode', 'string') ?? 'zeros';
  const lengths = [width, height, depth];
  const border = (length: number): [number, number] => (align ? [0, length - 1] : [-0.5, length - 0.5]);
  let reflections = 0;
  const reflect = padding === 'reflection' ? (v: Value, axis: number) => reflection(emit, v, ...border(lengths[axis]!), `reflect_${reflections++}`) : undefined;
  const cell = [n, points, 1];
  const type = tensorType('float32', cell);
  const flatGrid = emit.op1('RESHAPE', [node.input(1), emit.int32([n, points, 3], [3], 'flat_grid')], {}, tensorType('float32', [n, points, 3]));
  const parts = emit.op('SPLIT', [emit.int32([2], [], 'split_axis'), flatGrid], { num_splits: 3 }, [type, type, type]).outputs;
  // Voxel coordinate = g·scale + offset (align_corners: (g + 1)(L − 1)/2, else ((g + 1)L − 1)/2).
  const coordinates = parts.map((g, axis) => {
    const length = lengths[axis]!;
    const scale = align ? (length - 1) / 2 : length / 2;
    const p = emit.op1('ADD', [emit.op1('MUL', [g!, f32(emit, scale, `scale_${axis}`)], { fused_activation_function: 'NONE' }, type), f32(emit, (length - 1) / 2, `offset_${axis}`)], { fused_activation_function: 'NONE' }, type);
    if (reflect && !nearest) return reflect(p, axis);
    if (padding === 'border') return emit.op1('MINIMUM', [emit.op1('MAXIMUM', [p, f32(emit, 0, `min_${axis}`)], {}, type), f32(emit, length - 1, `max_${axis}`)], {}, type);
    return p;
  });
  const batchIndices = Array.from({ length: n * points }, (_, i) => Math.floor(i / points));
  const volume: Volume = { emit, voxels: toChannelsLast(emit, node.input(0)), batch: emit.constant(Tensor.fromValues('int32', cell, batchIndices), 'batch'), cell, lengths, zeros: padding === 'zeros', ...(reflect ? { reflect } : {}) };
  const outType = tensorType('float32', [n, points, channels]);
  let sampled: Value;
  if (nearest) sampled = tap(volume, coordinates.map((p) => emit.op1('ROUND', [p], {}, type)), undefined, channels, 'nearest');
  else {
    const one = f32(emit, 1, 'one');
    const floors = coordinates.map((p) => emit.op1('FLOOR', [p], {}, type));
    const fractions = coordinates.map((p, axis) => emit.op1('SUB', [p, floors[axis]!], { fused_activation_function: 'NONE' }, type));
    const complements = fractions.map((t) => emit.op1('SUB', [one, t], { fused_activation_function: 'NONE' }, type));
    const ceilings = floors.map((f) => emit.op1('ADD', [f, one], { fused_activation_function: 'NONE' }, type));
    const taps: Value[] = [];
    for (let corner = 0; corner < 8; corner++) {
      const offsets = [corner & 1, (corner >> 1) & 1, (corner >> 2) & 1];
      const weight = offsets.map((o, axis) => (o ? fractions[axis]! : complements[axis]!)).reduce((a, b) => emit.op1('MUL', [a, b], { fused_activation_function: 'NONE' }, type));
      taps.push(tap(volume, offsets.map((o, axis) => (o ? ceilings[axis]! : floors[axis]!)), weight, channels, `corner${corner}`));
    }
    sampled = taps.reduce((sum, value) => emit.op1('ADD', [sum, value], { fused_activation_function: 'NONE' }, outType));
  }
  const shaped = emit.op1('RESHAPE', [sampled, emit.int32([n, outD, outH, outW, channels], [5], 'ndhwc')], {}, tensorType('float32', [n, outD, outH, outW, channels]));
  replaceNode(node, [toChannelsFirst(emit, shaped)]);
}
