import { refuseBroadcastClash } from './shape-refusal.js';
import { isTensorType, tensorType, type DType, type Dim, type InferenceContext, type Node, type TensorType, type Type, type TypeInference } from '@modelpass/ir';
import { readInts } from './elements.js';
import type { ShapeInferenceContext } from '../interpreter/symbolic-values.js';
import { broadcastShapes } from './shape.js';

/** Input `index`'s type when it is a tensor type. */
export function inputTensorType(context: InferenceContext, index: number): TensorType | undefined {
  const type = context.inputType(index);
  return type && isTensorType(type) ? type : undefined;
}

/** The integer contents of a constant input (axes, shapes), when it is present, constant and numeric. */
export function constantInts(context: InferenceContext, index: number): number[] | undefined {
  if (!hasInput(context.node, index)) return undefined;
  // Under inferShapes, small integer data it knows, without a tensor decoded or built (the same numbers as below).
  const ints = (context as Partial<ShapeInferenceContext>).inputInts?.(index);
  if (ints) return ints;
  const tensor = context.inputConstant(index);
  if (!tensor || tensor.dtype === 'string') return undefined;
  return readInts(tensor);
}

/** Whether input `index` is given (not omitted, not an empty-named optional). */
export function hasInput(node: Node, index: number): boolean {
  return node.inputs[index] !== null && node.inputs[index] !== undefined;
}

/** The shape of `type` when it is a ranked tensor type. */
export function shapeOfType(type: Type | undefined): readonly Dim[] | undefined {
  return type && isTensorType(type) ? (type.shape ?? undefined) : undefined;
}

/** `dim` as a number when it is static. */
export function staticDim(dim: Dim | undefined): number | undefined {
  return typeof dim === 'number' ? dim : undefined;
}

/** The shape of input `index` when it is a ranked tensor. */
export function inputShape(context: InferenceContext, index: number): readonly Dim[] | undefined {
  return inputTensorType(context, index)?.shape ?? undefined;
}

/** A tensor type with the given dtype and shape; undefined when the dtype is unknown. */
export function typeOf(dtype: DType | undefined, shape: readonly Dim[] | null): Type | undefined {
  return dtype ? tensorType(dtype, shape) : undefined;
}

/** `axis` normalized into `[0, rank)`, or undefined when out of range (inference reports nothing then). */
export function normalizeAxisForInference(axis: number, rank: number): number | undefined {
  const normalized = axis < 0 ? axis + rank : axis;
  return normalized >= 0 && normalized < Math.max(rank, 1) ? normalized : undefined;
}

/** Product of dims: a number when all are numbers, otherwise null (unknown). */
export function dimProduct(dims: readonly Dim[]): Dim {
  let n = 1;
  for (const d of dims) {
    if (typeof d !== 'number') return null;
    n *= d;
  }
  return n;
}

/** Inference: one output with input `index`'s type (dtype and shape), without quantization. */
export function sameAsInput(index = 0): TypeInference {
  return (context) => {
    const type = inputTensorType(context, index);
    return [type ? tensorType(type.dtype, type.shape) : undefined];
  };
}

/**
 * Numpy broadcasting of the inputs at `indices` (all inputs when omitted). The output dtype is
 * `dtype`, or the first input's dtype. Unknown input types give an unknown output, unranked inputs
 * an unranked output.
 */
export function broadcastInputs(context: InferenceContext, indices?: readonly number[], dtype?: DType): Type | undefined {
  const count = indices ? indices.length : context.node.inputs.length;
  // Indexed loops, no closures: every elementwise node's inference comes through here.
  const types = new Array<TensorType | undefined>(count);
  let untyped = false;
  for (let k = 0; k < count; k++) {
    const type = inputTensorType(context, indices ? indices[k]! : k);
    types[k] = type;
    if (!type) untyped = true;
  }
  const first = types[0];
  const outDType = dtype ?? first?.dtype;
  if (!outDType) return undefined;
  if (untyped) return tensorType(outDType, null);
  const shapes = new Array<readonly Dim[] | null>(count);
  for (let k = 0; k < count; k++) shapes[k] = types[k]!.shape;
  const shape = broadcastShapes(shapes);
  // Static dims that clash: refused (ONNX Runtime: "Incompatible dimensions"), unless the pre-opset-7 `broadcast`
  // attribute aligns B at `axis` instead of numpy's rule.
  if (shape === undefined && context.node.getAttribute('broadcast') === undefined) {
    refuseBroadcastClash(context.node, types.map((type) => type!.shape!), indices ?? Array.from({ length: count }, (_, i) => i));
  }
  return tensorType(outDType, shape === undefined ? null : shape);
}

/** Inference for elementwise ops with broadcasting: output dtype `dtype` or the first input's. */
export function broadcastInference(dtype?: DType): TypeInference {
  return (context) => [broadcastInputs(context, undefined, dtype)];
}

/** A shape of `rank` unknown dims. */
export function unknownDims(rank: number): Dim[] {
  return new Array<Dim>(rank).fill(null);
}
