import { tensorType, type Dim, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { dimsOf, tensorTypeOf, type TfliteEmitter } from '../lowering-tools.js';
import { canSayMergedShape, mergedDim, mergedShapeOperand } from './run-time-dims.js';

/** TFLite 2.9's broadcasting kernels stop at 4-D. */
export const MAX_BROADCAST_RANK = 4;

/** A broadcast over rank > 4 said over fewer, merged axes: each operand's and the output's dims. */
export interface CollapsedBroadcast {
  readonly operandDims: readonly (readonly Dim[])[];
  readonly outputDims: readonly Dim[];
  /** For each operand, its own axes merged into each output axis (empty where it is broadcast: a 1). */
  readonly operandGroups: readonly (readonly (readonly number[])[])[];
}

/**
 * What operand `k` does along an axis of output size `size`: `f` keeps the output's size, `b` is
 * broadcast from 1, undefined when that cannot be told from the types. An unknown (symbolic) dim
 * keeps the output's size when it is the output's symbol, or when every other operand is 1 there
 * (it alone sets the output's size).
 */
function roleAlong(aligned: readonly (readonly Dim[])[], k: number, axis: number, size: Dim): 'f' | 'b' | undefined {
  const dim = aligned[k]![axis]!;
  if (dim === 1) return 'b';
  if (typeof size === 'number') return dim === size ? 'f' : undefined;
  if (typeof dim === 'string' && dim === size) return 'f';
  for (let other = 0; other < aligned.length; other++) if (other !== k && aligned[other]![axis] !== 1) return undefined;
  return 'f';
}

/**
 * Merges neighbouring axes along which every operand does the same thing (keeps the output's size,
 * or is broadcast from 1), and drops axes of size 1 in the output: `[1,64,3,49,49] + [1,64,1,49,49]`
 * is `[64,3,2401] + [64,1,2401]`. With unknown (symbolic) dims, a merged axis holding one is unknown
 * (`[N,64,3,49,49] + [1,64,1,49,49]` is `[N·64,3,2401] + [1·64,1,2401]`); undefined when an operand's
 * role along an axis cannot be told, when the merged rank is still above `maxRank`, or when a RESHAPE
 * could not say an operand's or the output's merged shape (`canSayMergedShape`).
 */
export function collapseBroadcast(operands: readonly (readonly Dim[])[], output: readonly Dim[], maxRank = MAX_BROADCAST_RANK): CollapsedBroadcast | undefined {
  const rank = output.length;
  const aligned: Dim[][] = [];
  for (const dims of operands) {
    if (dims.length > rank) return undefined;
    aligned.push([...new Array<Dim>(rank - dims.length).fill(1), ...dims]);
  }
  const groups: { pattern: string; axes: number[] }[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const size = output[axis]!;
    if (size === 1) {
      if (aligned.some((dims) => dims[axis] !== 1)) return undefined;
      continue;
    }
    let pattern = '';
    for (let k = 0; k < aligned.length; k++) {
      const role = roleAlong(aligned, k, axis, size);
      if (!role) return undefined;
      pattern += role;
    }
    const last = groups[groups.length - 1];
    if (last && last.pattern === pattern) last.axes.push(axis);
    else groups.push({ pattern, axes: [axis] });
  }
  if (groups.length > maxRank) return undefined;
  const outputDims = groups.length === 0 ? [1] : groups.map((group) => mergedDim(group.axes.map((axis) => output[axis]!)));
  const operandGroups = operands.map((dims, k) => {
    if (groups.length === 0) return [[]];
    const offset = rank - dims.length;
    return groups.map((group) => (group.pattern[k] === 'f' ? group.axes.map((axis) => axis - offset) : []));
  });
  for (let k = 0; k < operands.length; k++) if (!canSayMergedShape(operands[k]!, operandGroups[k]!)) return undefined;
  return {
    operandDims: operands.map((dims, k) => operandGroups[k]!.map((axes) => mergedDim(axes.map((axis) => dims[axis]!)))),
    outputDims,
    operandGroups,
  };
}

/** Whether `values` broadcast over rank > 4 with shapes that differ (what TFLite 2.9's kernels cannot do as written). */
export function broadcastsAboveMaxRank(values: readonly (Value | null)[]): boolean {
  // Asked of every elementwise node twice (check, lower): nothing allocated unless an operand is above rank 4.
  let high = false;
  for (let i = 0; i < values.length; i++) if ((dimsOf(values[i])?.length ?? 0) > MAX_BROADCAST_RANK) high = true;
  if (!high) return false;
  const shapes = values.filter((value): value is Value => value !== null).map((value) => dimsOf(value));
  if (shapes.length < 2 || !shapes.some((dims) => (dims?.length ?? 0) > MAX_BROADCAST_RANK)) return false;
  const first = JSON.stringify(shapes[0]);
  return !shapes.every((dims) => JSON.stringify(dims) === first);
}

/** The collapsed form of `values` broadcast to `output`, or undefined (shapes unknown or not mergeable to 4-D). */
export function collapsedBroadcastOf(values: readonly Value[], output: Value): CollapsedBroadcast | undefined {
  const outputDims = dimsOf(output);
  const shapes: (readonly Dim[])[] = [];
  for (const value of values) {
    const dims = dimsOf(value);
    if (!dims) return undefined;
    shapes.push(dims);
  }
  if (!outputDims) return undefined;
  const collapsed = collapseBroadcast(shapes, outputDims);
  // The RESHAPE back to the output: a constant with at most one -1, else the SHAPE of an operand of the output's shape.
  if (!collapsed || unknownDims(outputDims) <= 1 || fullOperandIndex(collapsed, outputDims.length, values) >= 0) return collapsed;
  return undefined;
}

function unknownDims(dims: readonly Dim[]): number {
  let count = 0;
  for (const dim of dims) if (typeof dim !== 'number') count++;
  return count;
}

/** An operand with the output's shape (its rank, keeping the output's size along every merged axis), or -1. */
export function fullOperandIndex(collapsed: CollapsedBroadcast, outputRank: number, values: readonly Value[]): number {
  return values.findIndex((value, k) => dimsOf(value)?.length === outputRank && collapsed.operandGroups[k]!.every((axes) => axes.length > 0));
}

/**
 * `value` reshaped to its merged axes `groups` (`collapseBroadcast`): a constant is reshaped
 * offline, anything else through a RESHAPE (its shape a constant, or computed from SHAPE when more
 * than one merged dim is unknown).
 */
export function reshapedOperand(emit: TfliteEmitter, value: Value, groups: readonly (readonly number[])[], name: string): Value {
  const dims = dimsOf(value)!;
  const merged = groups.map((axes) => mergedDim(axes.map((axis) => dims[axis]!)));
  const tensor = constantOf(value);
  if (tensor) return emit.constant(tensor.reshape(merged as number[]), name);
  const dtype = tensorTypeOf(value)!.dtype;
  return emit.op1('RESHAPE', [value, mergedShapeOperand(emit, value, dims, groups, `${name}_shape`)], {}, tensorType(dtype, merged));
}
