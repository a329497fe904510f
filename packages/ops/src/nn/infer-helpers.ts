/**
 * Helpers for nn-family type inference: reading input types and constant inputs, and arithmetic on
 * possibly symbolic dimensions (a computed dimension of a symbolic one becomes unknown, `null`).
 */
import { tensorType, type Dim, type DType, type InferenceContext, type Node, type TensorType, type Type } from '@modelpass/ir';
import { intData } from './kernel-helpers.js';

export function inputTensorType(context: InferenceContext, index: number): TensorType | undefined {
  const type = context.inputType(index);
  return type && type.kind === 'tensor' ? type : undefined;
}

/** The shape of input `index` when it is a ranked tensor. */
export function inputShape(context: InferenceContext, index: number): readonly Dim[] | undefined {
  return inputTensorType(context, index)?.shape ?? undefined;
}

export function inputDType(context: InferenceContext, index: number): DType | undefined {
  return inputTensorType(context, index)?.dtype;
}

/** Integer values of a constant input (shape, axes, starts...). */
export function constantInts(context: InferenceContext, index: number): number[] | undefined {
  if (context.node.inputs[index] === null || context.node.inputs[index] === undefined) return undefined;
  const tensor = context.inputConstant(index);
  if (!tensor) return undefined;
  try {
    return intData(tensor);
  } catch {
    return undefined;
  }
}

export function hasInput(node: Node, index: number): boolean {
  return node.inputs[index] !== null && node.inputs[index] !== undefined;
}

/** Same dtype and shape as input `index` (elementwise-shaped ops). */
export function sameAsInput(context: InferenceContext, index = 0): Type | undefined {
  return inputTensorType(context, index);
}

/** A tensor type with the given dtype and shape; undefined when the dtype is unknown. */
export function typeOf(dtype: DType | undefined, shape: readonly Dim[] | null): Type | undefined {
  return dtype ? tensorType(dtype, shape) : undefined;
}

export function normalizeAxisForInference(axis: number, rank: number): number | undefined {
  const normalized = axis < 0 ? axis + rank : axis;
  return normalized >= 0 && normalized < Math.max(rank, 1) ? normalized : undefined;
}

/** Product of dims: a number when all are numbers, otherwise null. */
export function dimProduct(dims: readonly Dim[]): Dim {
  let n = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

/** Broadcasts possibly symbolic shapes; an unknown dim against 1 stays itself. */
export function broadcastDims(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = i - (rank - a.length) >= 0 ? a[i - (rank - a.length)]! : 1;
    const y = i - (rank - b.length) >= 0 ? b[i - (rank - b.length)]! : 1;
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (x === y) out.push(x);
    else if (typeof x === 'number' && typeof y !== 'number') out.push(x);
    else if (typeof y === 'number' && typeof x !== 'number') out.push(y);
    else out.push(null);
  }
  return out;
}
