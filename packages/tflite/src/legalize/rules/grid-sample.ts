import { Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import type { LoweringContext, LoweringRule } from '../lowering-rule.js';
import { replaceNode, staticDims, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { toChannelsFirst, toChannelsLast } from './channels-last.js';
import { checkVolume, lowerVolume } from './grid-sample-volume.js';

/**
 * GridSample (4-D; bilinear, nearest, bicubic; zeros, border, reflection; 5-D in `grid-sample-volume.ts`) composed from gathers: the grid's
 * x and y are denormalized (MUL/ADD), border padding clamps them, and each tap is a GATHER_ND of
 * NHWC pixels at (n, row, column) — indices clamped into the image, zeros padding multiplies the
 * tap's weight by whether it was inside. Bilinear sums four weighted taps; nearest rounds half to
 * even (ROUND) and takes one; bicubic sums 4 × 4 taps with the cubic weights (a = −0.75) and pads
 * each tap only (no clamp of the coordinate), as ONNX Runtime. Reflection padding folds coordinates
 * and taps back inside (FLOOR_MOD, ABS) the same way.
 */

const MODES = ['bilinear', 'linear', 'nearest', 'bicubic', 'cubic'];
const PADDINGS = ['zeros', 'border', 'reflection'];

function check(node: Node): string | undefined {
  const mode = node.optionalAttr('mode', 'string') ?? 'bilinear';
  if (!MODES.includes(mode)) return `GridSample mode '${mode}' is not supported`;
  const padding = node.optionalAttr('padding_mode', 'string') ?? 'zeros';
  if (!PADDINGS.includes(padding)) return `GridSample padding_mode '${padding}' is not supported`;
  if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32' || tensorTypeOf(node.inputs[1])?.dtype !== 'float32') return 'GridSample is supported on float32 input and grid';
  const x = staticDims(node.inputs[0]);
  const grid = staticDims(node.inputs[1]);
  if (!x || !grid) return 'GridSample needs static input and grid shapes';
  if (x.length === 5) return checkVolume(node);
  if (x.length !== 4) return `only 2-D and 3-D GridSample (a 4-D or 5-D input) map; this input has rank ${x.length}`;
  return undefined;
}

interface Sampler {
  readonly emit: TfliteEmitter;
  readonly pixels: Value;
  /** Constant `[N, Ho, Wo, 1]` batch indices. */
  readonly batch: Value;
  readonly cell: number[];
  readonly outType: Value['type'];
  /** Reflection padding: folds a (row or column) coordinate back inside its borders. */
  readonly reflect?: (v: Value, along: 'row' | 'column') => Value;
}

/**
 * Reflection about [low, high] without loops: low + r − |((v − low) mod 2r) − r| for r = high − low
 * (identity inside, mirrored any number of times outside).
 */
function reflection(emit: TfliteEmitter, v: Value, low: number, high: number, name: string): Value {
  const type = v.type;
  const range = high - low;
  if (range <= 0) return emit.op1('MUL', [v, floats(emit, 0, `${name}_flat`)], { fused_activation_function: 'NONE' }, type);
  const shifted = emit.op1('SUB', [v, floats(emit, low, `${name}_low`)], { fused_activation_function: 'NONE' }, type);
  const folded = emit.op1('FLOOR_MOD', [shifted, floats(emit, 2 * range, `${name}_period`)], {}, type);
  const distance = emit.op1('ABS', [emit.op1('SUB', [folded, floats(emit, range, `${name}_range`)], { fused_activation_function: 'NONE' }, type)], {}, type);
  return emit.op1('SUB', [floats(emit, low + range, `${name}_top`), distance], { fused_activation_function: 'NONE' }, type);
}

function floats(emit: TfliteEmitter, value: number, name: string): Value {
  return emit.constant(Tensor.fromValues('float32', [], [value]), name);
}

/** One tap: pixels at (row, column) (float coordinates already integral), times `weight` and (zeros padding) whether it is inside. */
function tap(sampler: Sampler, row: Value, column: Value, weight: Value | undefined, height: number, width: number, zeros: boolean, name: string): Value {
  const { emit, cell } = sampler;
  const type = tensorType('float32', cell);
  if (sampler.reflect) {
    row = sampler.reflect(row, 'row');
    column = sampler.reflect(column, 'column');
  }
  const clamp = (v: Value, limit: number, what: string) => emit.op1('MINIMUM', [emit.op1('MAXIMUM', [v, floats(emit, 0, `${name}_${what}_zero`)], {}, type), floats(emit, limit, `${name}_${what}_last`)], {}, type);
  const rowIndex = emit.op1('CAST', [clamp(row, height - 1, 'row')], { in_data_type: 'FLOAT32', out_data_type: 'INT32' }, tensorType('int32', cell));
  const columnIndex = emit.op1('CAST', [clamp(column, width - 1, 'column')], { in_data_type: 'FLOAT32', out_data_type: 'INT32' }, tensorType('int32', cell));
  const indices = emit.op1('CONCATENATION', [sampler.batch, rowIndex, columnIndex], { axis: 3, fused_activation_function: 'NONE' }, tensorType('int32', [...cell.slice(0, 3), 3]));
  const values = emit.op1('GATHER_ND', [sampler.pixels, indices], {}, sampler.outType);
  let factor = weight;
  if (zeros) {
    const inside = (v: Value, limit: number, what: string) =>
      emit.op1('LOGICAL_AND', [emit.op1('GREATER_EQUAL', [v, floats(emit, 0, `${name}_${what}_low`)], {}, tensorType('bool', cell)), emit.op1('LESS_EQUAL', [v, floats(emit, limit, `${name}_${what}_high`)], {}, tensorType('bool', cell))], {}, tensorType('bool', cell));
    const both = emit.op1('LOGICAL_AND', [inside(row, height - 1, 'row'), inside(column, width - 1, 'column')], {}, tensorType('bool', cell));
    const mask = emit.op1('CAST', [both], { in_data_type: 'BOOL', out_data_type: 'FLOAT32' }, type);
    factor = factor ? emit.op1('MUL', [factor, mask], { fused_activation_function: 'NONE' }, type) : mask;
  }
  return factor ? emit.op1('MUL', [values, factor], { fused_activation_function: 'NONE' }, sampler.outType) : values;
}

function lower(node: Node, context: LoweringContext): void {
  if (staticDims(node.inputs[0])!.length === 5) return lowerVolume(node, context);
  const emit = new TfliteEmitter(node, context);
  const [n, channels, height, width] = staticDims(node.inputs[0]) as [number, number, number, number];
  const [, outH, outW] = staticDims(node.inputs[1]) as [number, number, number, number];
  const align = (node.optionalAttr('align_corners', 'int') ?? 0) === 1;
  const nearest = node.optionalAttr('mode', 'string') === 'nearest';
  const cubic = ['bicubic', 'cubic'].includes(node.optionalAttr('mode', 'string') ?? '');
  const zeros = (node.optionalAttr('padding_mode', 'string') ?? 'zeros') === 'zeros';
  const reflecting = node.optionalAttr('padding_mode', 'string') === 'reflection';
  // Reflection borders: pixel centres with align_corners, else the image edges half a pixel out.
  const border = (length: number): [number, number] => (align ? [0, length - 1] : [-0.5, length - 0.5]);
  let reflections = 0;
  const reflect = reflecting ? (v: Value, along: 'row' | 'column') => reflection(emit, v, ...border(along === 'row' ? height : width), `reflect_${reflections++}`) : undefined;
  const cell = [n, outH, outW, 1];
  const type = tensorType('float32', cell);
  const outType = tensorType('float32', [n, outH, outW, channels]);
  const halves = emit.op('SPLIT', [emit.int32([3], [], 'split_axis'), node.input(1)], { num_splits: 2 }, [type, type]).outputs;
  // Pixel coordinate = g·scale + offset (align_corners: (g + 1)(L − 1)/2, else ((g + 1)L − 1)/2).
  const denormalize = (g: Value, length: number, what: string): Value => {
    const scale = align ? (length - 1) / 2 : length / 2;
    const offset = align ? (length - 1) / 2 : (length - 1) / 2;
    let p = emit.op1('ADD', [emit.op1('MUL', [g, floats(emit, scale, `${what}_scale`)], { fused_activation_function: 'NONE' }, type), floats(emit, offset, `${what}_offset`)], { fused_activation_function: 'NONE' }, type);
    if (reflect && !cubic && !nearest) return reflect(p, what === 'y' ? 'row' : 'column');
    if (!zeros && !reflecting && !cubic) p = emit.op1('MINIMUM', [emit.op1('MAXIMUM', [p, floats(emit, 0, `${what}_min`)], {}, type), floats(emit, length - 1, `${what}_max`)], {}, type);
    return p;
  };
  const column = denormalize(halves[0]!, width, 'x');
  const row = denormalize(halves[1]!, height, 'y');
  const batchIndices = Array.from({ length: n * outH * outW }, (_, i) => Math.floor(i / (outH * outW)));
  const sampler: Sampler = { emit, pixels: toChannelsLast(emit, node.input(0)), batch: emit.constant(Tensor.fromValues('int32', cell, batchIndices), 'batch'), cell, outType, ...(reflect ? { reflect } : {}) };
  let sampled: Value;
  if (cubic) {
    sampled = cubicSample(emit, sampler, row, column, height, width, zeros);
  } else if (nearest) {
    sampled = tap(sampler, emit.op1('ROUND', [row], {}, type), emit.op1('ROUND', [column], {}, type), undefined, height, width, zeros, 'nearest');
  } else {
    const row0 = emit.op1('FLOOR', [row], {}, type);
    const column0 = emit.op1('FLOOR', [column], {}, type);
    const one = floats(emit, 1, 'one');
    const row1 = emit.op1('ADD', [row0, one], { fused_activation_function: 'NONE' }, type);
    const column1 = emit.op1('ADD', [column0, one], { fused_activation_function: 'NONE' }, type);
    const dy = emit.op1('SUB', [row, row0], { fused_activation_function: 'NONE' }, type);
    const dx = emit.op1('SUB', [column, column0], { fused_activation_function: 'NONE' }, type);
    const oneMinus = (v: Value) => emit.op1('SUB', [one, v], { fused_activation_function: 'NONE' }, type);
    const [wy0, wx0] = [oneMinus(dy), oneMinus(dx)];
    const weight = (a: Value, b: Value) => emit.op1('MUL', [a, b], { fused_activation_function: 'NONE' }, type);
    const taps = [
      tap(sampler, row0, column0, weight(wy0, wx0), height, width, zeros, 'tap00'),
      tap(sampler, row0, column1, weight(wy0, dx), height, width, zeros, 'tap01'),
      tap(sampler, row1, column0, weight(dy, wx0), height, width, zeros, 'tap10'),
      tap(sampler, row1, column1, weight(dy, dx), height, width, zeros, 'tap11'),
    ];
    sampled = taps.reduce((sum, value) => emit.op1('ADD', [sum, value], { fused_activation_function: 'NONE' }, outType));
  }
  replaceNode(node, [toChannelsFirst(emit, sampled)]);
}

/** The cubic convolution weights (a = −0.75) of the taps at −1, 0, 1, 2 from ⌊p⌋, for t = p − ⌊p⌋. */
function cubicWeights(emit: TfliteEmitter, t: Value, type: Value['type'], name: string): Value[] {
  const a = -0.75;
  const constant = (value: number, what: string) => floats(emit, value, `${name}_${what}`);
  const add = (x: Value, y: Value) => emit.op1('ADD', [x, y], { fused_activation_function: 'NONE' }, type);
  const mul = (x: Value, y: Value) => emit.op1('MUL', [x, y], { fused_activation_function: 'NONE' }, type);
  const sub = (x: Value, y: Value) => emit.op1('SUB', [x, y], { fused_activation_function: 'NONE' }, type);
  // near(d) = ((a + 2)d − (a + 3))d² + 1; far(d) = ((a·d − 5a)d + 8a)d − 4a.
  const near = (d: Value, what: string) => add(mul(mul(sub(mul(d, constant(a + 2, `${what}_c1`)), constant(a + 3, `${what}_c2`)), d), d), constant(1, `${what}_c3`));
  const far = (d: Value, what: string) => add(mul(add(mul(sub(mul(d, constant(a, `${what}_c1`)), constant(5 * a, `${what}_c2`)), d), constant(8 * a, `${what}_c3`)), d), constant(-4 * a, `${what}_c4`));
  const one = constant(1, 'one');
  const complement = sub(one, t);
  return [far(add(t, one), 'w0'), near(t, 'w1'), near(complement, 'w2'), far(add(complement, one), 'w3')];
}

/** Bicubic: 4 × 4 taps around ⌊(y, x)⌋, each padded (zeros: masked; border: clamped index), weighted and summed. */
function cubicSample(emit: TfliteEmitter, sampler: Sampler, row: Value, column: Value, height: number, width: number, zeros: boolean): Value {
  const type = tensorType('float32', sampler.cell);
  const [row0, column0] = [emit.op1('FLOOR', [row], {}, type), emit.op1('FLOOR', [column], {}, type)];
  const rowWeights = cubicWeights(emit, emit.op1('SUB', [row, row0], { fused_activation_function: 'NONE' }, type), type, 'wy');
  const columnWeights = cubicWeights(emit, emit.op1('SUB', [column, column0], { fused_activation_function: 'NONE' }, type), type, 'wx');
  const shifted = (base: Value, by: number, what: string) => (by === 0 ? base : emit.op1('ADD', [base, floats(emit, by, what)], { fused_activation_function: 'NONE' }, type));
  const taps: Value[] = [];
  for (let r = 0; r < 4; r++) {
    const tapRow = shifted(row0, r - 1, `row_shift_${r}`);
    for (let q = 0; q < 4; q++) {
      const weight = emit.op1('MUL', [rowWeights[r]!, columnWeights[q]!], { fused_activation_function: 'NONE' }, type);
      taps.push(tap(sampler, tapRow, shifted(column0, q - 1, `column_shift_${r}_${q}`), weight, height, width, zeros, `cubic_${r}${q}`));
    }
  }
  return taps.reduce((sum, value) => emit.op1('ADD', [sum, value], { fused_activation_function: 'NONE' }, sampler.outType));
}

const gridSample: LoweringRule = {
  ops: ['onnx.GridSample'],
  stage: 'layout',
  targets: ['SPLIT', 'MUL', 'ADD', 'SUB', 'FLOOR', 'ROUND', 'MAXIMUM', 'MINIMUM', 'CAST', 'CONCATENATION', 'GATHER_ND', 'GREATER_EQUAL', 'LESS_EQUAL', 'LOGICAL_AND'],
  check,
  lower,
};

export const gridSampleRules: readonly LoweringRule[] = [gridSample];
