import { tensorType, type Dim, type DType, type InferenceContext, type Tensor } from '@modelpass/ir';
import { defineCanonicalOp, type CanonicalOp, type KernelContext } from '../op-definition.js';
import { allocateElements, integerRange, readElements, readInts, tensorFromElements } from '../util/elements.js';
import { constantInts, inputTensorType, unknownDims } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { normalizeAxes, reducedShape, sizeOf, stridesOf } from '../util/shape.js';
import { elementClassOf } from './element-class.js';
import { verifyAxisAttribute, verifyReductionAxes } from '../verify/attribute-range-checks.js';

/** How one reduction folds the values of one output element. */
interface Reducer {
  /** `dtype` is the element type, for reductions whose intermediate ONNX Runtime keeps in it (ReduceL2). */
  readonly number: (values: readonly number[], dtype: DType) => number;
  /** Exact int64/uint64 version, when the reduction stays integral. */
  readonly bigint?: (values: readonly bigint[]) => bigint;
  /**
   * The reduction has an element-wise part (|x|, x², log x): with noop_with_empty_axes=1 and no axes each element is
   * reduced alone instead of passed through (see `reduceNothing`).
   */
  readonly elementwise?: true;
  /**
   * The float result is cast to an integer element type as ONNX Runtime 1.30 does (x86 truncation): a NaN or
   * infinite result (log of a sum ≤ 0, exp past double's range) becomes the signed type's minimum (INT_MIN) and
   * 0 for an unsigned type, where a JavaScript typed array would store 0 and a BigInt would throw.
   */
  readonly castsNonFinite?: true;
}

const sumOf = (values: readonly number[]): number => {
  let sum = 0;
  for (const v of values) sum += v;
  return sum;
};
const bigSum = (values: readonly bigint[]): bigint => values.reduce((a, b) => a + b, 0n);
const maxOf = (values: readonly number[]): number => {
  let best = -Infinity;
  for (const v of values) if (v > best || Number.isNaN(v)) best = v;
  return best;
};
const minOf = (values: readonly number[]): number => {
  let best = Infinity;
  for (const v of values) if (v < best || Number.isNaN(v)) best = v;
  return best;
};

const reducers: Readonly<Record<string, Reducer>> = {
  ReduceSum: { number: sumOf, bigint: bigSum },
  ReduceMean: { number: (values) => sumOf(values) / values.length, bigint: (values) => bigSum(values) / BigInt(values.length || 1) },
  ReduceMax: { number: maxOf, bigint: (values) => values.reduce((a, b) => (b > a ? b : a), values[0] ?? -(2n ** 63n)) },
  ReduceMin: { number: minOf, bigint: (values) => values.reduce((a, b) => (b < a ? b : a), values[0] ?? 2n ** 63n - 1n) },
  ReduceProd: { number: (values) => values.reduce((a, b) => a * b, 1), bigint: (values) => values.reduce((a, b) => a * b, 1n) },
  ReduceL1: { number: (values) => sumOf(values.map(Math.abs)), bigint: (values) => bigSum(values.map((v) => (v < 0n ? -v : v))), elementwise: true },
  // ONNX Runtime sums the squares in float32 for float32 data: past 3.4e38 the sum is inf before the root (1e20 → inf).
  ReduceL2: { number: (values, dtype) => Math.sqrt(roundedTo(dtype, sumOf(values.map((v) => v * v)))), elementwise: true },
  // int32/int64: ORT gives INT_MIN / INT64_MIN where the sum is ≤ 0 (log → -inf or NaN, then cast).
  ReduceLogSum: { number: (values) => Math.log(sumOf(values)), elementwise: true, castsNonFinite: true },
  ReduceLogSumExp: {
    castsNonFinite: true,
    number: (values, dtype) => {
      // ORT has no uint32/uint64 kernel and runs ONNX's function body instead: log(sum(exp(x))) in double with no
      // shift by the maximum, so past x ≈ 709 the sum is inf and the cast gives 0 (an int32 kernel shifts, as here).
      if (dtype === 'uint32' || dtype === 'uint64') return Math.log(sumOf(values.map(Math.exp)));
      const max = maxOf(values);
      if (!Number.isFinite(max)) return Math.log(sumOf(values.map(Math.exp)));
      return max + Math.log(sumOf(values.map((v) => Math.exp(v - max))));
    },
  },
  ReduceSumSquare: { number: (values) => sumOf(values.map((v) => v * v)), bigint: (values) => bigSum(values.map((v) => v * v)), elementwise: true },
};

/** What ONNX Runtime's cast of NaN or ±inf to an integer type gives (x86's 'integer indefinite'): the signed minimum, or 0 unsigned. */
function nonFiniteAsInteger(dtype: DType): number {
  const range = integerRange(dtype);
  return range && range.min < 0 ? range.min : 0;
}

/** A float32 intermediate rounded (and overflowed) as float32; other element types keep the double. */
function roundedTo(dtype: DType, value: number): number {
  return dtype === 'float32' ? Math.fround(value) : value;
}

/** Opset from which each reduction takes `axes` as an input instead of an attribute. */
function axesInputSince(opType: string): number {
  return opType === 'ReduceSum' ? 13 : 18;
}

/** The reduced axes, or 'all', or 'none' (noop_with_empty_axes with no axes). */
type AxesChoice = readonly number[] | 'all' | 'none';

function chooseAxes(axes: readonly number[] | undefined, noopWithEmptyAxes: boolean): AxesChoice {
  if (axes === undefined || axes.length === 0) return noopWithEmptyAxes ? 'none' : 'all';
  return axes;
}

/**
 * Reduces `x` over `axes` (normalized) with one reducer; the result keeps reduced dims as 1 when
 * `keepDims`.
 */
function reduceTensor(x: Tensor, axes: readonly number[], keepDims: boolean, reducer: Reducer, context: KernelContext): Tensor {
  const reduced = new Set(axes);
  const outShapeKept = x.shape.map((dim, axis) => (reduced.has(axis) ? 1 : dim));
  const outStrides = stridesOf(outShapeKept);
  const outCount = sizeOf(outShapeKept);
  const cls = elementClassOf(x.dtype);
  if (cls === 'string' || cls === 'bool') throw opError(context.node, `has no reference kernel for element type ${x.dtype}`);
  const useBigInt = cls === 'bigint' && reducer.bigint !== undefined;
  const groups: (number | bigint)[][] = Array.from({ length: outCount }, () => []);
  const data = readElements(x) as ArrayLike<number | bigint>;
  const rank = x.rank;
  const counter = new Array<number>(rank).fill(0);
  for (let i = 0, end = x.size; i < end; i++) {
    let outIndex = 0;
    for (let axis = 0; axis < rank; axis++) if (!reduced.has(axis)) outIndex += counter[axis]! * outStrides[axis]!;
    const value = data[i]!;
    groups[outIndex]!.push(useBigInt ? value : Number(value));
    for (let axis = rank - 1; axis >= 0; axis--) {
      if (++counter[axis]! < x.shape[axis]!) break;
      counter[axis] = 0;
    }
  }
  const out = allocateElements(x.dtype, outCount) as unknown as (number | bigint)[];
  for (let o = 0; o < outCount; o++) {
    if (useBigInt) out[o] = reducer.bigint!(groups[o] as bigint[]);
    else {
      const value = reducer.number(groups[o] as number[], x.dtype);
      const integral = cls === 'float' ? value : reducer.castsNonFinite && !Number.isFinite(value) ? nonFiniteAsInteger(x.dtype) : Math.trunc(value);
      out[o] = cls === 'bigint' ? BigInt(integral) : integral;
    }
  }
  const shape = keepDims ? outShapeKept : reducedShape(x.shape, axes, false);
  return tensorFromElements(x.dtype, shape, out as unknown as ArrayLike<number>);
}

/**
 * noop_with_empty_axes=1 and no axes. The spec text says the output equals the input, but both referees apply the
 * reduction's element-wise part: ONNX Runtime 1.30 returns |x| (ReduceL1), sqrt(x·x) with x·x in the element type
 * (ReduceL2), x·x (ReduceSumSquare) and log x (ReduceLogSum), and ONNX's reference implementation (onnx/reference,
 * newer than the 1.12 installed here) reduces over no axis, the same values. We follow the referees: each element is
 * reduced alone. The others (Sum, Mean, Max, Min, Prod, LogSumExp) return x itself (a lone -0 or NaN payload kept).
 */
function reduceNothing(x: Tensor, reducer: Reducer, context: KernelContext): Tensor {
  return reducer.elementwise ? reduceTensor(x, [], false, reducer, context) : x;
}

function axesFromNode(context: { node: KernelContext['node'] }, axesInput: readonly number[] | undefined): readonly number[] | undefined {
  return axesInput ?? context.node.optionalAttr('axes', 'ints');
}

function inferReduction(context: InferenceContext): ReturnType<NonNullable<Parameters<typeof defineCanonicalOp>[0]['inferTypes']>> {
  const x = inputTensorType(context, 0);
  if (!x) return [undefined];
  const node = context.node;
  const keepDims = node.attr('keepdims', 'int', 1) === 1;
  const noop = node.attr('noop_with_empty_axes', 'int', 0) === 1;
  const hasAxesInput = node.inputs[1] !== undefined && node.inputs[1] !== null;
  const axesInput = hasAxesInput ? constantInts(context, 1) : undefined;
  if (hasAxesInput && axesInput === undefined) {
    // Axes known only at run time: the rank survives with keepdims, nothing else is known.
    return [tensorType(x.dtype, keepDims && x.shape ? unknownDims(x.shape.length) : null)];
  }
  if (x.shape === null) return [tensorType(x.dtype, null)];
  const choice = chooseAxes(axesFromNode(context, axesInput), noop);
  if (choice === 'none') return [tensorType(x.dtype, x.shape)];
  const axes = choice === 'all' ? x.shape.map((_, i) => i) : normalizeAxes(choice, x.shape.length, node);
  return [tensorType(x.dtype, reducedShape<Dim>(x.shape, axes, keepDims))];
}

function defineReduction(opType: string, reducer: Reducer): CanonicalOp {
  return defineCanonicalOp({
    op: `onnx.${opType}`,
    summary: `${opType} over the given axes (all axes when none are given)`,
    inputs: [{ name: 'data' }, { name: 'axes', optional: true, doc: `an input from opset ${axesInputSince(opType)}` }],
    outputs: [{ name: 'reduced' }],
    attributes: {
      axes: { kind: 'ints', doc: `before opset ${axesInputSince(opType)}: the axes to reduce` },
      keepdims: { kind: 'int', default: 1, oneOf: [0, 1] },
      noop_with_empty_axes: { kind: 'int', default: 0, oneOf: [0, 1], doc: `from opset ${axesInputSince(opType)}: empty axes mean identity` },
    },
    verify: verifyReductionAxes,
    inferTypes: inferReduction,
    kernel: (inputs, context) => {
      const x = inputTensor(inputs, 0, context);
      const axesTensor = optionalInputTensor(inputs, 1, context);
      const node = context.node;
      const keepDims = node.attr('keepdims', 'int', 1) === 1;
      const noop = node.attr('noop_with_empty_axes', 'int', 0) === 1;
      const choice = chooseAxes(axesFromNode(context, axesTensor ? readInts(axesTensor) : undefined), noop);
      if (choice === 'none') return [reduceNothing(x, reducer, context)];
      const axes = choice === 'all' ? x.shape.map((_, i) => i) : normalizeAxes(choice, x.rank, node);
      return [reduceTensor(x, axes, keepDims, reducer, context)];
    },
  });
}

export const reductionOps: readonly CanonicalOp[] = Object.entries(reducers).map(([opType, reducer]) => defineReduction(opType, reducer));

function defineArgReduction(opType: 'ArgMax' | 'ArgMin'): CanonicalOp {
  const better = opType === 'ArgMax' ? (a: number | bigint, b: number | bigint) => a > b : (a: number | bigint, b: number | bigint) => a < b;
  return defineCanonicalOp({
    op: `onnx.${opType}`,
    summary: `Indices (int64) of the ${opType === 'ArgMax' ? 'largest' : 'smallest'} elements along an axis`,
    inputs: [{ name: 'data' }],
    outputs: [{ name: 'reduced' }],
    attributes: {
      axis: { kind: 'int', default: 0 },
      keepdims: { kind: 'int', default: 1, oneOf: [0, 1] },
      select_last_index: { kind: 'int', default: 0, oneOf: [0, 1], doc: 'opset 12: pick the last of equal extremes' },
    },
    verify: verifyAxisAttribute(() => 0),
    inferTypes: (context) => {
      const x = inputTensorType(context, 0);
      if (!x) return [undefined];
      if (x.shape === null) return [tensorType('int64', null)];
      const axis = normalizeAxes([context.node.attr('axis', 'int', 0)], x.shape.length, context.node);
      return [tensorType('int64', reducedShape<Dim>(x.shape, axis, context.node.attr('keepdims', 'int', 1) === 1))];
    },
    kernel: (inputs, context) => {
      const x = inputTensor(inputs, 0, context);
      const node = context.node;
      const [axis] = normalizeAxes([node.attr('axis', 'int', 0)], x.rank, node) as [number];
      const keepDims = node.attr('keepdims', 'int', 1) === 1;
      const last = node.attr('select_last_index', 'int', 0) === 1;
      const outer = sizeOf(x.shape, 0, axis);
      const length = x.shape[axis]!;
      const inner = sizeOf(x.shape, axis + 1);
      const data = readElements(x) as ArrayLike<number | bigint>;
      const out = new BigInt64Array(outer * inner);
      for (let o = 0; o < outer; o++) {
        for (let i = 0; i < inner; i++) {
          let bestIndex = 0;
          let best = data[o * length * inner + i]!;
          for (let k = 1; k < length; k++) {
            const v = data[(o * length + k) * inner + i]!;
            if (better(v, best) || (last && v === best)) {
              best = v;
              bestIndex = k;
            }
          }
          out[o * inner + i] = BigInt(bestIndex);
        }
      }
      return [tensorFromElements('int64', reducedShape(x.shape, [axis], keepDims), out)];
    },
  });
}

export const argReductionOps: readonly CanonicalOp[] = [defineArgReduction('ArgMax'), defineArgReduction('ArgMin')];
