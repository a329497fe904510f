import { ModelpassError, type Dim, type Node } from '@modelpass/ir';

/** Row-major strides of a static shape (in elements). */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let stride = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = stride;
    stride *= shape[i]!;
  }
  return strides;
}

/** Product of `shape[from..to)` (the whole shape by default). */
export function sizeOf(shape: readonly number[], from = 0, to = shape.length): number {
  let size = 1;
  for (let i = from; i < to; i++) size *= shape[i]!;
  return size;
}

/**
 * Normalizes a possibly negative axis into `[0, rank)` (or `[0, rank]` with `inclusiveEnd`, for
 * axes that may point one past the last dimension). Throws a located ModelpassError when out of range.
 */
export function normalizeAxis(axis: number, rank: number, node?: Node, what = 'axis', inclusiveEnd = false): number {
  const limit = inclusiveEnd ? rank + 1 : rank;
  const normalized = axis < 0 ? axis + limit : axis;
  if (!Number.isInteger(normalized) || normalized < 0 || normalized >= limit) {
    throw new ModelpassError({
      reason: `${what} ${axis} is out of range for a tensor of rank ${rank}`,
      expected: `an integer in [${-limit}, ${limit - 1}]`,
      actual: String(axis),
      source: '@modelpass/ops',
      ...(node ? { location: node.location } : {}),
    });
  }
  return normalized;
}

/** Normalizes a list of axes, rejecting duplicates. */
export function normalizeAxes(axes: readonly number[], rank: number, node?: Node, what = 'axes'): number[] {
  const result = new Array<number>(axes.length);
  let repeated = false;
  for (let i = 0; i < axes.length; i++) {
    const axis = normalizeAxis(axes[i]!, rank, node, what);
    for (let j = 0; j < i; j++) if (result[j] === axis) repeated = true;
    result[i] = axis;
  }
  if (repeated) {
    throw new ModelpassError({
      reason: `${what} [${axes.join(',')}] repeats an axis`,
      source: '@modelpass/ops',
      ...(node ? { location: node.location } : {}),
    });
  }
  return result;
}

/**
 * Numpy-style broadcast of one pair of dimensions, symbolic dims included: equal dims stay,
 * 1 yields to the other, a number other than 1 wins over an unknown. `undefined` when the dims can
 * never broadcast (two different numbers, neither 1).
 */
export function broadcastDim(a: Dim, b: Dim): Dim | undefined {
  if (a === b) return a;
  if (a === 1) return b;
  if (b === 1) return a;
  if (typeof a === 'number' && typeof b === 'number') return undefined;
  if (typeof a === 'number') return a;
  if (typeof b === 'number') return b;
  return null;
}

/**
 * Broadcasts shapes numpy-style. Returns `null` when some shape is unranked (`null`), `undefined`
 * when static dims conflict.
 */
export function broadcastShapes(shapes: readonly (readonly Dim[] | null)[]): Dim[] | null | undefined {
  // Indexed loops, no closures or spread: every elementwise node's inference comes through here.
  let rank = 0;
  for (let k = 0; k < shapes.length; k++) {
    const shape = shapes[k];
    if (shape === null) return null;
    if (shape!.length > rank) rank = shape!.length;
  }
  const ranked = shapes as readonly (readonly Dim[])[];
  const result: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    let dim: Dim | undefined = 1;
    for (let k = 0; k < ranked.length; k++) {
      const shape = ranked[k]!;
      const index = i - (rank - shape.length);
      if (index < 0) continue;
      dim = broadcastDim(dim, shape[index]!);
      if (dim === undefined) return undefined;
    }
    result.push(dim);
  }
  return result;
}

/**
 * Broadcasts two possibly symbolic shapes for inference, never failing: a pair of dims that cannot
 * broadcast becomes unknown (`null`) instead of making the whole shape unknown.
 */
export function broadcastShapesOrUnknownDims(a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const rank = Math.max(a.length, b.length);
  const result: Dim[] = [];
  for (let i = 0; i < rank; i++) {
    const x = i < rank - a.length ? 1 : a[i - (rank - a.length)]!;
    const y = i < rank - b.length ? 1 : b[i - (rank - b.length)]!;
    result.push(broadcastDim(x, y) ?? null);
  }
  return result;
}

/** Broadcasts static shapes; throws a located ModelpassError when they are incompatible. */
export function broadcastStaticShapes(shapes: readonly (readonly number[])[], node?: Node): number[] {
  const result = broadcastShapes(shapes);
  if (!result) {
    throw new ModelpassError({
      reason: 'input shapes cannot be broadcast together',
      actual: shapes.map((shape) => `[${shape.join(',')}]`).join(' and '),
      source: '@modelpass/ops',
      ...(node ? { location: node.location } : {}),
    });
  }
  return result as number[];
}

/**
 * For each element of `Transpose(x, perm)` (row-major), the flat index of the element of `x` (of shape
 * `shape`) it holds: ONNX Transpose's convention, output axis `i` is input axis `perm[i]`.
 */
export function transposedOrder(shape: readonly number[], perm: readonly number[]): Int32Array {
  const inStrides = stridesOf(shape);
  return stridedOffsets(
    perm.map((axis) => shape[axis]!),
    perm.map((axis) => inStrides[axis]!),
  );
}

/**
 * For each element of `shape` (row-major), `Σ index[axis]·strides[axis]`: the flat offsets of a strided
 * view (a transpose, a broadcast with stride 0 on repeated axes), walked with additions only.
 */
function stridedOffsets(shape: readonly number[], strides: readonly number[]): Int32Array {
  const rank = shape.length;
  const offsets = new Int32Array(sizeOf(shape));
  const index = new Array<number>(rank).fill(0);
  let at = 0;
  for (let i = 0; i < offsets.length; i++) {
    offsets[i] = at;
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]!++;
      at += strides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      at -= strides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return offsets;
}

/**
 * For each element of `outShape` (row-major), the flat index of the element of `inShape` that
 * broadcasting reads. `inShape` must broadcast to `outShape`.
 */
export function broadcastIndexMap(inShape: readonly number[], outShape: readonly number[]): Int32Array {
  const rank = outShape.length;
  const offset = rank - inShape.length;
  const inStrides = stridesOf(inShape);
  // Effective stride per output axis: 0 where the input is broadcast.
  const strides = outShape.map((_, axis) => {
    const inAxis = axis - offset;
    return inAxis < 0 || inShape[inAxis] === 1 ? 0 : inStrides[inAxis]!;
  });
  return stridedOffsets(outShape, strides);
}

/** Same shape after removing (or, with keepDims, setting to 1) the given axes. */
export function reducedShape<D extends Dim>(shape: readonly D[], axes: readonly number[], keepDims: boolean): (D | 1)[] {
  const result: (D | 1)[] = [];
  for (let axis = 0; axis < shape.length; axis++) {
    if (!axes.includes(axis)) result.push(shape[axis]!);
    else if (keepDims) result.push(1);
  }
  return result;
}

/**
 * How a binary broadcast walks its operands in runs: the output is `offsets.length` runs of `run`
 * consecutive elements; in run `r`, operand A reads from `aOffsets[r]` advancing by `aStep` (1: its
 * elements are contiguous along the run, 0: one element repeated), B likewise. Same-shape operands
 * give one run over everything; a per-channel bias gives runs of the spatial size with B's step 0.
 */
export interface BroadcastRuns {
  readonly run: number;
  readonly aStep: 0 | 1;
  readonly bStep: 0 | 1;
  readonly aOffsets: Int32Array;
  readonly bOffsets: Int32Array;
}

/** Effective row-major strides of `inShape` read through broadcasting to `outShape` (0 where broadcast). */
function broadcastStrides(inShape: readonly number[], outShape: readonly number[]): number[] {
  const offset = outShape.length - inShape.length;
  const inStrides = stridesOf(inShape);
  return outShape.map((_, axis) => {
    const inAxis = axis - offset;
    return inAxis < 0 || inShape[inAxis] === 1 ? 0 : inStrides[inAxis]!;
  });
}

/** Plans the runs of a broadcast of `aShape` and `bShape` to `outShape` (see `BroadcastRuns`). */
export function broadcastRuns(aShape: readonly number[], bShape: readonly number[], outShape: readonly number[]): BroadcastRuns {
  const rank = outShape.length;
  const aStrides = broadcastStrides(aShape, outShape);
  const bStrides = broadcastStrides(bShape, outShape);
  // Grow the run over trailing axes while each operand keeps one mode (contiguous or repeated).
  let aMode: 0 | 1 | undefined;
  let bMode: 0 | 1 | undefined;
  let run = 1;
  let split = rank;
  for (let axis = rank - 1; axis >= 0; axis--) {
    const dim = outShape[axis]!;
    if (dim === 1) {
      split = axis;
      continue;
    }
    const a: 0 | 1 = aStrides[axis] === 0 ? 0 : 1;
    const b: 0 | 1 = bStrides[axis] === 0 ? 0 : 1;
    if ((aMode !== undefined && a !== aMode) || (bMode !== undefined && b !== bMode)) break;
    aMode = a;
    bMode = b;
    run *= dim;
    split = axis;
  }
  const outer = outShape.slice(0, split);
  const count = sizeOf(outer);
  const aOffsets = new Int32Array(count);
  const bOffsets = new Int32Array(count);
  const counter = new Array<number>(split).fill(0);
  let aAt = 0;
  let bAt = 0;
  for (let r = 0; r < count; r++) {
    aOffsets[r] = aAt;
    bOffsets[r] = bAt;
    for (let axis = split - 1; axis >= 0; axis--) {
      counter[axis]!++;
      aAt += aStrides[axis]!;
      bAt += bStrides[axis]!;
      if (counter[axis]! < outer[axis]!) break;
      aAt -= aStrides[axis]! * counter[axis]!;
      bAt -= bStrides[axis]! * counter[axis]!;
      counter[axis] = 0;
    }
  }
  return { run: count === 0 ? 0 : run, aStep: aMode ?? 0, bStep: bMode ?? 0, aOffsets, bOffsets };
}
