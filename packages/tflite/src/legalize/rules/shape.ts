import { formatDim, Tensor, tensorType, type Dim, type Node, type Value } from '@modelpass/ir';
import { constantOf, hasNumbers, numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, normalizeAxis, rankOfValue, replaceNode, staticDims, tensorTypeOf, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { lowerRunTimeExpand, runTimeExpandProblem } from './run-time-expand.js';
import { lowerRunTimeSlice, runTimeSliceProblem } from './run-time-slice.js';
import { canSayMergedShape, mergedDim, mergedShapeOperand, runTimeShape, shapeOperandFor } from './run-time-dims.js';
import { MAX_TRANSPOSE_RANK, reduceTranspose, transposeRuns } from './transpose-rank.js';
import { eraseDeadPacks, transposeAsPack } from './pack-transpose.js';

const INT32_MAX = 2147483647;

/** Whether `dims` are known and at most one of them unknown: what `reshapeTarget` takes (checks ask this of every reshape, without building the target). */
function hasReshapeTarget(dims: readonly Dim[] | undefined): boolean {
  if (!dims) return false;
  let unknown = 0;
  for (let i = 0; i < dims.length; i++) if (typeof dims[i] !== 'number') unknown++;
  return unknown <= 1;
}

/** A RESHAPE target from the output's declared dims: at most one of them may be unknown (it becomes -1). */
function reshapeTarget(dims: readonly Dim[] | undefined): number[] | undefined {
  return dims && hasReshapeTarget(dims) ? dims.map((d) => (typeof d === 'number' ? d : -1)) : undefined;
}

/**
 * For a reshape that only inserts or drops axes of 1 (Unsqueeze, Squeeze, or a Reshape/Flatten doing the same), the
 * input axis each output axis reads (an empty group for an inserted 1), matched by equal dims: a number, or the same
 * symbol (an unknown `?` one with `matchUnknown`). Undefined when the dims do not line up that way.
 */
function unitAxisGroups(inDims: readonly Dim[] | undefined, outDims: readonly Dim[] | undefined, matchUnknown: boolean): number[][] | undefined {
  if (!inDims || !outDims) return undefined;
  const groups: number[][] = [];
  let next = 0;
  const skipOnes = () => {
    while (next < inDims.length && inDims[next] === 1) next++;
  };
  for (const dim of outDims) {
    if (dim === 1) {
      groups.push([]);
      continue;
    }
    skipOnes();
    // An unknown dim matches an unknown one only for Squeeze/Unsqueeze, which move no other axis (every input dim
    // that is not a static 1 must still be matched, so an unknown dim is never taken for a squeezed 1).
    if (next >= inDims.length || (dim === null ? !matchUnknown || inDims[next] !== null : inDims[next] !== dim)) return undefined;
    groups.push([next++]);
  }
  skipOnes();
  return next === inDims.length ? groups : undefined;
}

const movesNoAxis = (node: Node): boolean => node.op === 'onnx.Squeeze' || node.op === 'onnx.Unsqueeze';

/**
 * Reshape, Flatten, Unsqueeze, Squeeze: a RESHAPE to the output's shape (a non-constant Reshape shape is cast to
 * int32). Several unknown dims (a symbolic batch and sequence length) where the reshape only inserts or drops 1s:
 * the target is the input's SHAPE at run time with the 1s placed (a 1-D Conv's Unsqueeze of [batch, C, time]).
 */
const reshape: LoweringRule = {
  ops: ['onnx.Reshape', 'onnx.Flatten', 'onnx.Unsqueeze', 'onnx.Squeeze'],
  stage: 'lower',
  targets: ['RESHAPE', 'CAST', 'SHAPE', 'CONCATENATION', 'GATHER'],
  check(node) {
    if (hasReshapeTarget(dimsOf(node.outputs[0]))) return undefined;
    if (unitAxisGroups(dimsOf(node.inputs[0]), dimsOf(node.outputs[0]), movesNoAxis(node))) return undefined;
    if (node.op === 'onnx.Reshape' && !constantOf(node.inputs[1])) return undefined;
    const dims = dimsOf(node.outputs[0]);
    return `the output shape ${dims ? `[${dims.map(formatDim).join(',')}]` : '[*] (unranked)'} has more than one unknown dim; TFLite RESHAPE takes at most one (-1)`;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const target = reshapeTarget(dimsOf(node.outputs[0]));
    let shape: Value;
    const groups = target ? undefined : unitAxisGroups(dimsOf(node.inputs[0]), dimsOf(node.outputs[0]), movesNoAxis(node));
    if (target) shape = emit.int32(target, [target.length], 'shape');
    else if (groups) shape = mergedShapeOperand(emit, node.input(0), dimsOf(node.inputs[0])!, groups, 'shape');
    else {
      const given = node.input(1);
      shape = tensorTypeOf(given)?.dtype === 'int32' ? given : emit.op1('CAST', [given], { in_data_type: 'INT64', out_data_type: 'INT32' }, { kind: 'tensor', dtype: 'int32', shape: dimsOf(given) ?? null });
    }
    replaceNode(node, [emit.op1('RESHAPE', [node.input(0), shape], {}, node.output(0).type)]);
  },
};

function transposePermOf(node: Node): number[] {
  const rank = rankOfValue(node.inputs[0]) ?? node.attr('perm', 'ints').length;
  return [...(node.optionalAttr('perm', 'ints') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i))];
}

/**
 * Transpose → TRANSPOSE. Above TFLite 2.9's 5 axes (swin's window partition is 6-D), the same
 * movement on fewer axes (`reduceTranspose`) between two RESHAPEs.
 */
const transpose: LoweringRule = {
  ops: ['onnx.Transpose'],
  stage: 'lower',
  targets: ['TRANSPOSE', 'RESHAPE', 'SHAPE', 'GATHER', 'CONCATENATION', 'MUL'],
  check(node) {
    if (!node.optionalAttr('perm', 'ints') && rankOfValue(node.inputs[0]) === undefined) return 'Transpose needs perm or a known rank';
    const perm = transposePermOf(node);
    if (perm.length <= MAX_TRANSPOSE_RANK) return undefined;
    const dims = dimsOf(node.inputs[0]);
    if (!dims) return `a rank-${perm.length} Transpose needs its input rank to be said in at most ${MAX_TRANSPOSE_RANK} axes (TFLite 2.9's TRANSPOSE stops at 5-D)`;
    const runs = transposeRuns(dims, perm);
    if (runs.perm.length > MAX_TRANSPOSE_RANK) return `this rank-${perm.length} Transpose moves ${runs.perm.length} separate axes; TFLite 2.9's TRANSPOSE stops at 5-D`;
    if (!canSayMergedShape(dims, runs.groups)) {
      return `this rank-${perm.length} Transpose of [${dims.map(formatDim).join(',')}] would merge several unknown dims into one axis; a RESHAPE cannot say that (give the shape with --input-shape)`;
    }
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const perm = transposePermOf(node);
    const packed = transposeAsPack(emit, node.input(0), perm);
    if (packed) {
      const before = node.input(0);
      replaceNode(node, [packed]);
      eraseDeadPacks(before);
      return;
    }
    if (perm.length <= MAX_TRANSPOSE_RANK) {
      replaceNode(node, [emit.op1('TRANSPOSE', [node.input(0), emit.int32(perm, [perm.length], 'perm')], {}, node.output(0).type)]);
      return;
    }
    if (!staticDims(node.inputs[0])) {
      replaceNode(node, [dynamicHighRankTranspose(emit, node, perm)]);
      return;
    }
    const reduced = reduceTranspose(staticDims(node.inputs[0])!, perm);
    const dtype = tensorTypeOf(node.inputs[0])!.dtype;
    const merged = emit.op1('RESHAPE', [node.input(0), emit.int32([...reduced.dims], [reduced.dims.length], 'merged')], {}, tensorType(dtype, [...reduced.dims]));
    const movedDims = reduced.perm.map((axis) => reduced.dims[axis]!);
    const moved = emit.op1('TRANSPOSE', [merged, emit.int32([...reduced.perm], [reduced.perm.length], 'perm')], {}, tensorType(dtype, movedDims));
    const outputDims = staticDims(node.outputs[0]) ?? perm.map((axis) => staticDims(node.inputs[0])![axis]!);
    replaceNode(node, [emit.op1('RESHAPE', [moved, emit.int32(outputDims, [outputDims.length], 'shape')], {}, node.output(0).type)]);
  },
};

/**
 * A rank > 5 Transpose whose input has unknown (symbolic) dims: the same movement on its merged runs
 * (`transposeRuns`), the merge's RESHAPE shape a constant with one -1 or computed from SHAPE, and the
 * RESHAPE back to the output's dims (a constant with one -1, else the input's SHAPE permuted).
 */
function dynamicHighRankTranspose(emit: TfliteEmitter, node: Node, perm: readonly number[]): Value {
  const input = node.input(0);
  const dims = dimsOf(input)!;
  const dtype = tensorTypeOf(input)!.dtype;
  const runs = transposeRuns(dims, perm);
  const mergedDims = runs.groups.map((group) => mergedDim(group.map((axis) => dims[axis]!)));
  const merged = emit.op1('RESHAPE', [input, mergedShapeOperand(emit, input, dims, runs.groups, 'merged')], {}, tensorType(dtype, mergedDims));
  const moved = emit.op1('TRANSPOSE', [merged, emit.int32([...runs.perm], [runs.perm.length], 'perm')], {}, tensorType(dtype, runs.perm.map((axis) => mergedDims[axis]!)));
  const outputDims = perm.map((axis) => dims[axis]!);
  const shape = shapeOperandFor(emit, outputDims, 'shape', () => runTimeShape(emit, input, perm, 'permuted_axes'));
  return emit.op1('RESHAPE', [moved, shape], {}, node.output(0).type);
}

const concat: LoweringRule = {
  ops: ['onnx.Concat'],
  stage: 'lower',
  targets: ['CONCATENATION'],
  check: (node) => (rankOfValue(node.outputs[0]) === undefined ? 'Concat needs its output rank' : undefined),
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const axis = normalizeAxis(node.attr('axis', 'int'), rankOfValue(node.outputs[0])!)!;
    const inputs = node.inputs.filter((v): v is Value => v !== null);
    replaceNode(node, [emit.op1('CONCATENATION', inputs, { axis, fused_activation_function: 'NONE' }, node.output(0).type)]);
  },
};

function splitSizes(node: Node): number[] | undefined {
  const rank = rankOfValue(node.inputs[0]);
  if (rank === undefined) return undefined;
  const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, rank)!;
  if (node.inputs[1] && !numbersOf(node.inputs[1])) return undefined;
  const given = node.optionalAttr('split', 'ints') ?? (node.inputs[1] ? numbersOf(node.inputs[1]) : undefined);
  if (given) return [...given];
  const dim = dimsOf(node.inputs[0])![axis];
  if (typeof dim !== 'number') return undefined;
  const count = node.outputs.length;
  const size = Math.ceil(dim / count);
  return Array.from({ length: count }, (_, i) => Math.min(size, dim - i * size));
}

const split: LoweringRule = {
  ops: ['onnx.Split'],
  stage: 'lower',
  targets: ['SPLIT', 'SPLIT_V'],
  check: (node) => (splitSizes(node) ? undefined : 'Split needs constant sizes or a static dim along the axis'),
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, rankOfValue(node.inputs[0])!)!;
    const sizes = splitSizes(node)!;
    const types = node.outputs.map((v) => v!.type);
    const parts = sizes.every((s) => s === sizes[0])
      ? emit.op('SPLIT', [emit.int32([axis], [], 'axis'), node.input(0)], { num_splits: sizes.length }, types)
      : emit.op('SPLIT_V', [node.input(0), emit.int32(sizes, [sizes.length], 'sizes'), emit.int32([axis], [], 'axis')], { num_splits: sizes.length }, types);
    replaceNode(node, parts.outputs);
  },
};

/** Slice → STRIDED_SLICE over every dim (masks mark whole dims and ends past the edge). */
function sliceSpec(node: Node): { begin: number[]; end: number[]; strides: number[]; beginMask: number; endMask: number } | string {
  const dims = dimsOf(node.inputs[0]);
  if (!dims) return 'Slice needs the input rank';
  const rank = dims.length;
  const starts = numbersOf(node.inputs[1]) ?? node.optionalAttr('starts', 'ints');
  const ends = numbersOf(node.inputs[2]) ?? node.optionalAttr('ends', 'ints');
  if (!starts || !ends) return 'Slice starts and ends must be constants';
  const axes = (node.inputs[3] ? numbersOf(node.inputs[3]) : node.optionalAttr('axes', 'ints')) ?? starts.map((_, i) => i);
  const steps = (node.inputs[4] ? numbersOf(node.inputs[4]) : undefined) ?? starts.map(() => 1);
  const spec = { begin: new Array<number>(rank).fill(0), end: new Array<number>(rank).fill(0), strides: new Array<number>(rank).fill(1), beginMask: 0, endMask: 0 };
  for (let d = 0; d < rank; d++) {
    spec.beginMask |= 1 << d;
    spec.endMask |= 1 << d;
  }
  for (let i = 0; i < axes.length; i++) {
    const axis = normalizeAxis(axes[i]!, rank);
    if (axis === undefined) return `axis ${axes[i]} is out of range`;
    const step = steps[i]!;
    const clampStart = Math.max(-INT32_MAX, Math.min(INT32_MAX, starts[i]!));
    spec.begin[axis] = clampStart;
    spec.strides[axis] = step;
    spec.beginMask &= ~(1 << axis);
    const end = ends[i]!;
    if ((step > 0 && end >= INT32_MAX) || (step < 0 && end <= -INT32_MAX)) continue;
    spec.end[axis] = end;
    spec.endMask &= ~(1 << axis);
  }
  return spec;
}

/** Starts or ends computed at run time (opset 10+ inputs): `run-time-slice.ts`. */
function hasRunTimePositions(node: Node): boolean {
  return !!node.inputs[1] && !!node.inputs[2] && (!hasNumbers(node.inputs[1]) || !hasNumbers(node.inputs[2]));
}

const slice: LoweringRule = {
  ops: ['onnx.Slice'],
  stage: 'lower',
  targets: ['STRIDED_SLICE', 'SLICE'],
  check: (node) => {
    if ((rankOfValue(node.inputs[0]) ?? 0) > 5) return 'TFLite 2.9 STRIDED_SLICE takes inputs of rank 1 to 5';
    if (hasRunTimePositions(node)) return runTimeSliceProblem(node);
    const spec = sliceSpec(node);
    return typeof spec === 'string' ? spec : undefined;
  },
  lower(node, context) {
    if (hasRunTimePositions(node)) return lowerRunTimeSlice(node, context);
    const emit = new TfliteEmitter(node, context);
    const spec = sliceSpec(node) as Exclude<ReturnType<typeof sliceSpec>, string>;
    const r = spec.begin.length;
    const y = emit.op1(
      'STRIDED_SLICE',
      [node.input(0), emit.int32(spec.begin, [r], 'begin'), emit.int32(spec.end, [r], 'end'), emit.int32(spec.strides, [r], 'strides')],
      { begin_mask: spec.beginMask, end_mask: spec.endMask, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0, offset: 0 },
      node.output(0).type,
    );
    replaceNode(node, [y]);
  },
};

/**
 * The pads of every axis ([begin…, end…] over the input's rank): the attribute (before opset 11), or the constant
 * input, spread over the constant `axes` input (opset 18: pads only for those axes, 0 elsewhere). A string says why not.
 */
function padsOf(node: Node): number[] | string {
  const given = node.optionalAttr('pads', 'ints')?.slice() ?? numbersOf(node.inputs[1]);
  if (!given) return 'Pad pads must be a constant';
  if (!node.inputs[3]) return given;
  const axes = numbersOf(node.inputs[3]);
  const rank = rankOfValue(node.inputs[0]);
  if (!axes) return 'Pad axes must be a constant';
  if (rank === undefined) return 'Pad with axes needs the input rank';
  if (given.length !== 2 * axes.length) return `Pad has ${given.length} pads for ${axes.length} axes (expected ${2 * axes.length})`;
  const full = new Array<number>(2 * rank).fill(0);
  for (let i = 0; i < axes.length; i++) {
    const axis = normalizeAxis(axes[i]!, rank);
    if (axis === undefined) return `Pad axis ${axes[i]} is out of range for rank ${rank}`;
    full[axis] = given[i]!;
    full[axis + rank] = given[i + axes.length]!;
  }
  return full;
}

const pad: LoweringRule = {
  ops: ['onnx.Pad'],
  stage: 'lower',
  targets: ['PAD', 'PADV2', 'MIRROR_PAD', 'STRIDED_SLICE'],
  check(node) {
    const pads = padsOf(node);
    if (typeof pads === 'string') return pads;
    const mode = node.optionalAttr('mode', 'string') ?? 'constant';
    if (pads.some((p) => p < 0) && mode !== 'constant') return `negative pads (cropping) with mode '${mode}' are not supported (constant mode only: there the crop and the padding commute)`;
    if (mode !== 'constant' && mode !== 'reflect') return `Pad mode '${mode}' has no TFLite builtin`;
    if (node.inputs[2] && !constantOf(node.inputs[2])) return 'the pad value must be a constant';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const pads = padsOf(node) as number[];
    const rank = pads.length / 2;
    let x = node.input(0);
    if (pads.some((p) => p < 0)) {
      // Negative pads crop (constant mode): STRIDED_SLICE first — ends counted from each axis's end, end_mask where
      // nothing is cropped there, so run-time dims need nothing — then PAD by the positive pads.
      const begin = pads.slice(0, rank).map((p) => Math.max(0, -p));
      const end = pads.slice(rank).map((p) => Math.min(0, p));
      const endMask = end.reduce((mask, e, axis) => (e === 0 ? mask | (1 << axis) : mask), 0);
      const inDims = dimsOf(x)!;
      const croppedDims = inDims.map((d, axis) => (typeof d === 'number' ? d - begin[axis]! + end[axis]! : null));
      const options = { begin_mask: 0, end_mask: endMask, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0, offset: 0 };
      x = emit.op1('STRIDED_SLICE', [x, emit.int32(begin, [rank], 'crop_begin'), emit.int32(end, [rank], 'crop_end'), emit.int32(new Array<number>(rank).fill(1), [rank], 'crop_strides')], options, typeWithShape(x.type, croppedDims));
      if (pads.every((p) => p <= 0)) {
        replaceNode(node, [x]);
        return;
      }
    }
    const pairs = Array.from({ length: rank }, (_, i) => [Math.max(0, pads[i]!), Math.max(0, pads[i + rank]!)]).flat();
    const paddings = emit.int32(pairs, [rank, 2], 'paddings');
    const mode = node.optionalAttr('mode', 'string') ?? 'constant';
    const value = node.inputs[2] ? numbersOf(node.inputs[2])?.[0] : (node.optionalAttr('value', 'float') ?? 0);
    let y: Value;
    if (mode === 'reflect') y = emit.op1('MIRROR_PAD', [x, paddings], { mode: 'REFLECT' }, node.output(0).type);
    else if (!value) y = emit.op1('PAD', [x, paddings], {}, node.output(0).type);
    else {
      const dtype = tensorTypeOf(node.inputs[0])?.dtype ?? 'float32';
      y = emit.op1('PADV2', [x, paddings, emit.constant(Tensor.fromValues(dtype, [], [value]), 'pad_value')], {}, node.output(0).type);
    }
    replaceNode(node, [y]);
  },
};

const gather: LoweringRule = {
  ops: ['onnx.Gather'],
  stage: 'lower',
  targets: ['GATHER', 'FLOOR_MOD'],
  check(node) {
    if (rankOfValue(node.inputs[0]) === undefined) return 'Gather needs the data rank';
    const dtype = tensorTypeOf(node.inputs[1])?.dtype;
    if (!constantOf(node.inputs[1]) && dtype !== 'int32' && dtype !== 'int64') return 'Gather indices computed at run time must be int32 or int64';
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, rankOfValue(node.inputs[0])!);
    if (!constantOf(node.inputs[1]) && typeof dimsOf(node.inputs[0])![axis!] !== 'number') return 'Gather with run-time indices needs a static dim along the axis (TFLite GATHER takes no negative index)';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const rank = rankOfValue(node.inputs[0])!;
    const axis = normalizeAxis(node.optionalAttr('axis', 'int') ?? 0, rank)!;
    let indices = node.input(1);
    const constant = constantOf(indices);
    const dim = dimsOf(node.inputs[0])![axis];
    if (constant && typeof dim === 'number' && constant.toNumbers().some((i) => i < 0)) {
      // TFLite GATHER has no negative indices: count them from the end here.
      indices = emit.constant(Tensor.fromValues('int32', constant.shape, constant.toNumbers().map((i) => (i < 0 ? i + dim : i))), 'indices');
    } else if (!constant && typeof dim === 'number') {
      // Indices known only at run time: floor-mod by the dim maps [-dim, dim) onto [0, dim).
      const dtype = tensorTypeOf(indices)?.dtype === 'int32' ? 'int32' : 'int64';
      const modulus = emit.constant(dtype === 'int32' ? Tensor.fromValues('int32', [], [dim]) : Tensor.fromValues('int64', [], [BigInt(dim)]), 'dim');
      indices = emit.op1('FLOOR_MOD', [indices, modulus], {}, indices.type);
    }
    replaceNode(node, [emit.op1('GATHER', [node.input(0), indices], { axis, batch_dims: 0 }, node.output(0).type)]);
  },
};

function int32Operand(emit: TfliteEmitter, value: Value, name: string): Value {
  const data = numbersOf(value);
  if (data) return emit.int32(data, [data.length], name);
  if (tensorTypeOf(value)?.dtype === 'int32') return value;
  return emit.op1('CAST', [value], { in_data_type: 'INT64', out_data_type: 'INT32' }, { kind: 'tensor', dtype: 'int32', shape: dimsOf(value) ?? null });
}

/** The most dims TFLite 2.9's BROADCAST_TO takes (its kernel's kMaxDims). */
const BROADCAST_TO_MAX_RANK = 8;

/**
 * Expand with a static result: one BROADCAST_TO to the result's dims (version 2, which TFLite 2.9 runs: the kernel
 * copies bytes, so any non-string dtype and quantized tensors keep their values exactly; the input's dims are 1 or the
 * result's, ranks up to 8). An empty result or one above rank 8 stays RESHAPE to the result's rank + TILE. A shape
 * known only at run time: `run-time-expand.ts`.
 */
const expand: LoweringRule = {
  ops: ['onnx.Expand'],
  stage: 'lower',
  targets: ['BROADCAST_TO', 'RESHAPE', 'TILE', 'SHAPE', 'MAXIMUM', 'FILL', 'MUL', 'LOGICAL_AND'],
  check: (node) => (staticDims(node.inputs[0]) && staticDims(node.outputs[0]) ? undefined : runTimeExpandProblem(node)),
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    if (!staticDims(node.inputs[0]) || !staticDims(node.outputs[0])) {
      replaceNode(node, [lowerRunTimeExpand(emit, node)]);
      return;
    }
    const inDims = staticDims(node.inputs[0])!;
    const outDims = staticDims(node.outputs[0])!;
    const empty = outDims.some((d) => d === 0);
    if (!empty && outDims.length <= BROADCAST_TO_MAX_RANK && tensorTypeOf(node.inputs[0])?.dtype !== 'string') {
      replaceNode(node, [emit.op1('BROADCAST_TO', [node.input(0), emit.int32(outDims, [outDims.length], 'shape')], {}, node.output(0).type)]);
      return;
    }
    const padded = [...new Array<number>(outDims.length - inDims.length).fill(1), ...inDims];
    let x = node.input(0);
    if (padded.length !== inDims.length) x = emit.op1('RESHAPE', [x, emit.int32(padded, [padded.length], 'shape')], {}, { kind: 'tensor', dtype: tensorTypeOf(x)?.dtype ?? 'float32', shape: padded });
    const multiples = outDims.map((d, i) => (padded[i] === 0 ? 1 : d / padded[i]!));
    replaceNode(node, [emit.op1('TILE', [x, emit.int32(multiples, [multiples.length], 'multiples')], {}, node.output(0).type)]);
  },
};

const tile: LoweringRule = {
  ops: ['onnx.Tile'],
  stage: 'lower',
  targets: ['TILE'],
  check: () => undefined,
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    replaceNode(node, [emit.op1('TILE', [node.input(0), int32Operand(emit, node.input(1), 'multiples')], {}, node.output(0).type)]);
  },
};

/** Shape → SHAPE; with start/end (opset 15), a STRIDED_SLICE of it (bounds clamped into [0, rank] as ONNX does). */
const shape: LoweringRule = {
  ops: ['onnx.Shape'],
  stage: 'lower',
  targets: ['SHAPE', 'STRIDED_SLICE'],
  check: (node) => (rankOfValue(node.inputs[0]) === undefined && (node.optionalAttr('start', 'int') !== undefined || node.optionalAttr('end', 'int') !== undefined) ? 'Shape with start/end needs the input rank' : undefined),
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const rank = rankOfValue(node.inputs[0]);
    const bound = (value: number) => Math.min(Math.max(value < 0 ? value + rank! : value, 0), rank!);
    const start = rank === undefined ? 0 : bound(node.optionalAttr('start', 'int') ?? 0);
    const end = rank === undefined ? 0 : bound(node.optionalAttr('end', 'int') ?? rank);
    if (rank === undefined || (start === 0 && end === rank)) {
      replaceNode(node, [emit.op1('SHAPE', [node.input(0)], { out_type: 'INT64' }, node.output(0).type)]);
      return;
    }
    const whole = emit.op1('SHAPE', [node.input(0)], { out_type: 'INT64' }, { kind: 'tensor', dtype: 'int64', shape: [rank] });
    const options = { begin_mask: 0, end_mask: 0, ellipsis_mask: 0, new_axis_mask: 0, shrink_axis_mask: 0, offset: 0 };
    const part = emit.op1('STRIDED_SLICE', [whole, emit.int32([start], [1], 'begin'), emit.int32([Math.max(end, start)], [1], 'end'), emit.int32([1], [1], 'strides')], options, node.output(0).type);
    replaceNode(node, [part]);
  },
};

export const shapeRules: readonly LoweringRule[] = [reshape, transpose, concat, split, slice, pad, gather, expand, tile, shape];
