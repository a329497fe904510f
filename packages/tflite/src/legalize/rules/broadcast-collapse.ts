import { tensorType, type Dim, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { dimsOf, tensorTypeOf, type TfliteEmitter } from '../lowering-tools.js';

/** TFLite 2.9's broadcasting kernels stop at 4-D. */
export const MAX_BROADCAST_RANK = 4;

/** A broadcast over rank > 4 said over fewer, merged axes: each operand's and the output's dims. */
export interface CollapsedBroadcast {
  readonly operandDims: readonly (readonly number[])[];
  readonly outputDims: readonly number[];
}

/**
 * Merges neighbouring axes along which every operand does the same thing (keeps the output's size,
 * or is broadcast from 1), and drops axes of size 1 in the output: `[1,64,3,49,49] + [1,64,1,49,49]`
 * is `[64,3,2401] + [64,1,2401]`. Static shapes only; undefined when the merged rank is still
 * above `maxRank`.
 */
export function collapseBroadcast(operands: readonly (readonly Dim[])[], output: readonly Dim[], maxRank = MAX_BROADCAST_RANK): CollapsedBroadcast | undefined {
  if (!output.every((d): d is number => typeof d === 'number')) return undefined;
  const rank = output.length;
  const aligned: number[][] = [];
  for (const dims of operands) {
    if (dims.length > rank || !dims.every((d): d is number => typeof d === 'number')) return undefined;
    aligned.push([...new Array<number>(rank - dims.length).fill(1), ...(dims as number[])]);
  }
  const groups: { pattern: string; size: number }[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const size = output[axis]!;
    if (size === 1) continue;
    let pattern = '';
    for (const dims of aligned) {
      if (dims[axis] === size) pattern += 'f';
      else if (dims[axis] === 1) pattern += 'b';
      else return undefined;
    }
    const last = groups[groups.length - 1];
    if (last && last.pattern === pattern) last.size *= size;
    else groups.push({ pattern, size });
  }
  if (groups.length > maxRank) return undefined;
  if (groups.length === 0) groups.push({ pattern: 'f'.repeat(operands.length), size: 1 });
  return {
    operandDims: operands.map((_, k) => groups.map((group) => (group.pattern[k] === 'f' ? group.size : 1))),
    outputDims: groups.map((group) => group.size),
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
  return outputDims && collapseBroadcast(shapes, outputDims);
}

/** `value` reshaped to `dims`: a constant is reshaped offline, anything else through a RESHAPE. */
export function reshapedOperand(emit: TfliteEmitter, value: Value, dims: readonly number[], name: string): Value {
  const tensor = constantOf(value);
  if (tensor) return emit.constant(tensor.reshape([...dims]), name);
  const dtype = tensorTypeOf(value)!.dtype;
  return emit.op1('RESHAPE', [value, emit.int32([...dims], [dims.length], `${name}_shape`)], {}, tensorType(dtype, [...dims]));
}
