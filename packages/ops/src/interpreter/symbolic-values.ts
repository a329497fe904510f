/**
 * Known element values of small integer tensors (shapes and the arithmetic on them), the way
 * ONNX's shape inference propagates data: each element is a number, a symbolic dim name, or
 * unknown (`null`). `inferShapes` tracks these for scalars and 1-D tensors and hands them to op
 * inference through `ShapeInferenceContext.inputValues`, so a Reshape whose target is
 * `Concat(Gather(Shape(x)), [-1])` resolves to `[N, ...]` even when `N` is symbolic.
 */
import { Tensor, type DType, type Dim, type InferenceContext } from '@modelpass/ir';
import { readInts, readNumbers } from '../util/elements.js';

/** The element values of a scalar (`scalar: true`, one entry) or a 1-D tensor. */
export interface DimValues {
  readonly scalar: boolean;
  readonly values: readonly Dim[];
}

/**
 * The inference context `inferShapes` gives op inference: `inputConstant` also returns outputs of
 * Constant nodes and values computed from constants, and `inputValues` the partially known values
 * of shape-like inputs. Plain `OpRegistry.inferNode` contexts lack `inputValues`; op inference reads
 * it through `inputDimValues`, which works with both.
 */
export interface ShapeInferenceContext extends InferenceContext {
  inputValues(index: number): DimValues | undefined;
  /**
   * The integer elements of input `index` when its data is known (a small integer constant, or propagated values that
   * are all numbers its dtype holds exactly): what `readInts(inputConstant(index))` gives, as a fresh array, without
   * building or decoding a tensor for it. Undefined otherwise (then `inputConstant` tells). Optional: `constantInts`
   * and `inputDimValues` fall back to `inputConstant` without it.
   */
  inputInts?(index: number): number[] | undefined;
}

/** The most elements a tensor may have for its values to be tracked element by element. */
export const MAX_TRACKED_VALUES = 64;

const INTEGER_DTYPES: ReadonlySet<DType> = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64']);

/** Whether values of this dtype are tracked (integers only: shapes, indices, sizes). */
export function isTrackedDType(dtype: DType): boolean {
  return INTEGER_DTYPES.has(dtype);
}

/**
 * The values of a constant integer tensor of rank 0 or 1, when small enough to track. Not cached per tensor: inferShapes
 * keeps the result with the value for the rest of its run, and a WeakMap entry per constant of a freshly read model
 * cost more than decoding a few small integers once per run.
 */
export function dimValuesOfTensor(tensor: Tensor): DimValues | undefined {
  if (!isTrackedDType(tensor.dtype) || tensor.rank > 1 || tensor.size > MAX_TRACKED_VALUES) return undefined;
  return { scalar: tensor.rank === 0, values: truncatedNumbers(tensor) };
}

/** `readInts` without its per-tensor cache and copy: the caller keeps the one result itself. */
function truncatedNumbers(tensor: Tensor): number[] {
  // int64 (shapes, axes, indices): whole numbers already, read without BigInts; a fresh array this function may keep.
  if (tensor.dtype === 'int64' || tensor.dtype === 'uint64') return tensor.toNumbers();
  const numbers = readNumbers(tensor);
  const ints = new Array<number>(numbers.length);
  for (let i = 0; i < numbers.length; i++) ints[i] = Math.trunc(numbers[i]!);
  return ints;
}

/** The least and greatest integer each tracked dtype holds exactly as a number (int64/uint64: the safe integers). */
const EXACT_INTEGERS: Partial<Record<DType, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/**
 * `values` as the numbers a tensor of `dtype` holding them reads back (`readInts`), when every one is an integer the
 * dtype holds exactly (a -0 reads back as 0); undefined when one is unknown, fractional or out of the dtype's range.
 */
export function exactInts(values: readonly Dim[], dtype: DType): number[] | undefined {
  const range = EXACT_INTEGERS[dtype];
  if (!range) return undefined;
  const ints = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < range[0] || value > range[1]) return undefined;
    ints[i] = value === 0 ? 0 : value;
  }
  return ints;
}

/** Whether every value is a known number. */
export function allKnown(values: readonly Dim[]): values is readonly number[] {
  return values.every((v) => typeof v === 'number');
}

/** A constant tensor of `dtype` holding fully known values, when every value is a number. */
export function tensorOfDimValues(data: DimValues, dtype: DType): Tensor | undefined {
  if (!allKnown(data.values) || !isTrackedDType(dtype)) return undefined;
  const shape = data.scalar ? [] : [data.values.length];
  // Safe integers (every shape value) go in as numbers: the ir writes their words without a BigInt each.
  if (dtype === 'int64' || dtype === 'uint64') return Tensor.fromValues(dtype, shape, data.values.every(Number.isSafeInteger) ? data.values : data.values.map((v) => BigInt(v)));
  return Tensor.fromValues(dtype, shape, data.values);
}

/** Whether two value lists are the same (same entries, symbols compared by name). */
export function sameDimValues(a: DimValues, b: DimValues): boolean {
  return a.scalar === b.scalar && a.values.length === b.values.length && a.values.every((v, i) => v === b.values[i]);
}

/**
 * The values of input `index` as dims: from a constant integer input, else (under `inferShapes`)
 * from propagated data. Unknown elements are `null`; undefined when nothing is known.
 */
export function inputDimValues(context: InferenceContext, index: number): Dim[] | undefined {
  if (context.node.inputs[index] === null || context.node.inputs[index] === undefined) return undefined;
  const shapeContext = context as Partial<ShapeInferenceContext>;
  // Under inferShapes, known integers without a tensor built and decoded (the same numbers `readInts` gives below).
  const known = shapeContext.inputInts?.(index);
  if (known) return known;
  const constant = context.inputConstant(index);
  if (constant && constant.dtype !== 'string' && constant.rank <= 1) return readInts(constant);
  if (shapeContext.inputValues) {
    const values = shapeContext.inputValues(index);
    return values ? [...values.values] : undefined;
  }
  // Outside inferShapes (the verifier's context): a Constant node's dense integer `value` is as known as an initializer,
  // so a declared output that contradicts it (Tile's repeats, Reshape's shape) is seen at input, not after a fold.
  const producer = context.node.inputs[index]!.producer;
  const tensor = producer?.op === 'onnx.Constant' ? producer.optionalAttr('value', 'tensor') : undefined;
  if (tensor && tensor.dtype !== 'string' && tensor.rank <= 1 && tensor.size <= 64) return readInts(tensor);
  const ints = producer?.op === 'onnx.Constant' ? producer.optionalAttr('value_ints', 'ints') : undefined;
  return ints ? [...ints] : undefined;
}
