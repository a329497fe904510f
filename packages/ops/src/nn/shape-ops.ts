/**
 * Shape manipulation: Flatten, Reshape, Transpose, Squeeze, Unsqueeze, Expand, Tile, Shape, Size,
 * ConstantOfShape, Constant, Identity, Range. Data-movement kernels copy elements exactly, for any dtype.
 */
import { Tensor, tensorType, type Dim, type Node, type Tensor as TensorT } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readInts } from '../util/elements.js';
import { constantInts, dimProduct, hasInput, inputShape, inputTensorType, normalizeAxisForInference, typeOf } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { axisOrRefuse, describeOperand, formatDims, refuseShape } from '../util/shape-refusal.js';
import { broadcastIndexMap, broadcastShapesOrUnknownDims, broadcastStaticShapes, normalizeAxis, sizeOf, stridesOf, transposedOrder } from '../util/shape.js';
import { forEachIndex, gatherElements, int64Tensor, tensorFromNumbers, zeroScalar } from './kernel-helpers.js';
import { verifyReshape, verifyTranspose } from '../verify/structure-checks.js';
import { verifySqueezeAxes } from '../verify/operand-value-checks.js';
import { inputDimValues } from '../interpreter/symbolic-values.js';
import { verifyAxisAttribute, verifyConstantOfShape, verifyNonNegativeOperand, verifyRange, verifyUnsqueezeAxes } from '../verify/attribute-range-checks.js';
import { verifyExpandBroadcast, verifyTileRepeatCount } from '../verify/operand-shape-checks.js';

export const flattenOp = defineCanonicalOp({
  op: 'onnx.Flatten',
  summary: 'Flattens to 2-D: dims before `axis` form rows, the rest columns',
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  attributes: { axis: { kind: 'int', default: 1 } },
  verify: verifyAxisAttribute(() => 1, true),
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    if (!type.shape) return [tensorType(type.dtype, [null, null])];
    const axis = axisOrRefuse(context.node, context.node.attr('axis', 'int', 1), type.shape, 0, true);
    return [tensorType(type.dtype, [dimProduct(type.shape.slice(0, axis)), dimProduct(type.shape.slice(axis))])];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const raw = node.attr('axis', 'int', 1);
    const axis = raw < 0 ? raw + x.rank : raw;
    if (axis < 0 || axis > x.rank) throw opError(node, `axis ${raw} is out of range for rank ${x.rank}`);
    return [x.reshape([sizeOf(x.shape.slice(0, axis)), sizeOf(x.shape.slice(axis))])];
  },
});

/**
 * Resolves a Reshape target (0 copies, -1 infers) against an input shape. The inferred dim is
 * computed even with symbolic dims when the same symbols appear on both sides (they cancel).
 */
export function resolveReshape(input: readonly Dim[], target: readonly Dim[], allowZero: boolean): Dim[] {
  const out = new Array<Dim>(target.length);
  for (let i = 0; i < target.length; i++) {
    const d = target[i]!;
    out[i] = d === 0 && !allowZero ? (input[i] ?? null) : d;
  }
  const inferred = out.indexOf(-1);
  if (inferred >= 0) out[inferred] = inferredDim(input, out, inferred);
  return out;
}

/** The dim at `out[skip]` (a -1): the input's elements over the other dims of `out`, symbols cancelling (a map only when some dim is one). */
function inferredDim(input: readonly Dim[], out: readonly Dim[], skip: number): Dim {
  let symbols: Map<string, number> | undefined;
  let numerator = 1;
  let denominator = 1;
  for (let i = 0; i < input.length; i++) {
    const d = input[i]!;
    if (d === null) return null;
    if (typeof d === 'number') numerator *= d;
    else {
      symbols ??= new Map<string, number>();
      symbols.set(d, (symbols.get(d) ?? 0) + 1);
    }
  }
  for (let i = 0; i < out.length; i++) {
    if (i === skip) continue;
    const d = out[i]!;
    if (d === null) return null;
    if (typeof d === 'number') denominator *= d;
    else {
      symbols ??= new Map<string, number>();
      symbols.set(d, (symbols.get(d) ?? 0) - 1);
    }
  }
  if (symbols) for (const count of symbols.values()) if (count !== 0) return null;
  if (denominator === 0) return null;
  // A -1 that does not divide exactly has no size (a static pair is refused before; symbols leave it to run time).
  return numerator % denominator === 0 ? numerator / denominator : null;
}

/**
 * Refuses a Reshape target no input can take (ONNX Runtime refuses it at load, or at run for a count that differs
 * without -1): a dim below -1, two -1s, a 0 past the input's rank (copying a dim it does not have), a 0 with a -1
 * under allowzero=1, and, with every dim known, a -1 that does not divide the element count or a count that differs.
 */
function checkReshapeTarget(node: Node, input: readonly Dim[] | undefined, target: readonly Dim[], allowZero: boolean): void {
  // One pass for what the checks ask (the refusals' text is built only when one is raised).
  let negative: number | undefined;
  let minusOnes = 0;
  let zero = -1;
  let zeroPast = -1;
  let known = true;
  for (let i = 0; i < target.length; i++) {
    const d = target[i];
    if (typeof d !== 'number') {
      known = false;
      continue;
    }
    if (d < -1 && negative === undefined) negative = d;
    else if (d === -1) minusOnes++;
    else if (d === 0) {
      if (zero < 0) zero = i;
      if (zeroPast < 0 && input && i >= input.length) zeroPast = i;
    }
  }
  if (negative === undefined && minusOnes <= 1 && !(zero >= 0 && allowZero && minusOnes > 0) && (!input || allowZero || zeroPast < 0)) {
    if (!input || !known) return;
    let size = 1;
    for (let i = 0; i < input.length; i++) {
      const d = input[i];
      if (typeof d !== 'number') return;
      size *= d;
    }
    // The target with copied dims resolved: the product of its dims other than -1, and whether it has a -1.
    let product = 1;
    let inferred = false;
    for (let i = 0; i < target.length; i++) {
      const d = target[i] as number;
      const resolved = d === 0 && !allowZero ? (input[i] as number) : d;
      if (resolved === -1) inferred = true;
      else product *= resolved;
    }
    if (inferred ? product !== 0 && size % product === 0 : product === size) return;
  }
  // Anything else is worded (or, where the quick checks above were stricter, accepted) by the full checks.
  refuseReshapeTarget(node, input, target, allowZero);
}

/** The refusal `checkReshapeTarget` found, worded (the checks again, in the order they are reported). */
function refuseReshapeTarget(node: Node, input: readonly Dim[] | undefined, target: readonly Dim[], allowZero: boolean): void {
  const text = `[${target.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
  const expected = 'sizes >= 0, 0 to copy an input dim, and at most one -1 (inferred)';
  const negative = target.find((d) => typeof d === 'number' && d < -1);
  if (negative !== undefined) refuseShape(node, 'reshape-target', `the target shape ${text} holds ${negative}`, { expected, actual: text });
  if (target.filter((d) => d === -1).length > 1) refuseShape(node, 'reshape-target', `the target shape ${text} has more than one -1`, { expected, actual: text });
  const zero = target.indexOf(0);
  if (zero >= 0 && allowZero && target.includes(-1)) {
    refuseShape(node, 'reshape-target', `the target shape ${text} has a 0 and a -1 with allowzero=1, so the -1 cannot be solved`, {
      expected: 'no 0 beside a -1 when allowzero=1 (a 0 is a real 0 then)',
      actual: text,
    });
  }
  if (!input) return;
  const past = allowZero ? -1 : target.findIndex((d, i) => d === 0 && i >= input.length);
  if (past >= 0) {
    refuseShape(node, 'reshape-target', `the target shape ${text} has a 0 at position ${past}, which copies a dim ${describeOperand(node, 0, input)} of rank ${input.length} does not have`, {
      expected: `0s only at positions below ${input.length}`,
      actual: text,
    });
  }
  if (!input.every((d) => typeof d === 'number')) return;
  const resolved = target.map((d, i) => (d === 0 && !allowZero ? input[i]! : d));
  if (!resolved.every((d) => typeof d === 'number')) return;
  const size = (input as number[]).reduce((p, d) => p * d, 1);
  const known = (resolved as number[]).filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const inferred = resolved.includes(-1);
  if (inferred ? known !== 0 && size % known === 0 : known === size) return;
  refuseShape(node, 'reshape-size', `cannot reshape ${describeOperand(node, 0, input)} (${size} elements) to ${text}`, {
    expected: inferred ? `a target whose known dims divide ${size}${known === 0 ? ' (a known product of 0 leaves the -1 unsolvable)' : ''}` : `a target of ${size} elements`,
    actual: `${text}${inferred ? '' : ` (${known} elements)`}`,
  });
}

export const reshapeOp = defineCanonicalOp({
  op: 'onnx.Reshape',
  summary: 'Gives the data a new shape (0 copies the input dim unless allowzero, -1 is inferred)',
  inputs: [{ name: 'data' }, { name: 'shape', optional: true }],
  outputs: [{ name: 'reshaped' }],
  attributes: { allowzero: { kind: 'int', default: 0, oneOf: [0, 1] }, shape: { kind: 'ints' } },
  verify: verifyReshape,
  inferTypes(context) {
    const dtype = inputTensorType(context, 0)?.dtype;
    const target = hasInput(context.node, 1) ? inputDimValues(context, 1) : context.node.optionalAttr('shape', 'ints')?.slice();
    if (!target) {
      const rank = inputShape(context, 1)?.[0];
      return [typeOf(dtype, typeof rank === 'number' ? new Array<Dim>(rank).fill(null) : null)];
    }
    const allowZero = context.node.attr('allowzero', 'int', 0) === 1;
    const input = inputShape(context, 0);
    checkReshapeTarget(context.node, input, target, allowZero);
    const shape = input ?? target.map(() => null);
    return [typeOf(dtype, resolveReshape(shape, target, allowZero))];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const shapeTensor = optionalInputTensor(inputs, 1, node);
    const target = shapeTensor ? readInts(shapeTensor) : [...node.attr('shape', 'ints')];
    const shape = resolveReshape(x.shape, target, node.attr('allowzero', 'int', 0) === 1);
    if (!shape.every((d) => typeof d === 'number' && Number.isInteger(d) && d >= 0) || sizeOf(shape as number[]) !== x.size) {
      throw opError(node, `cannot reshape [${x.shape.join(',')}] to [${target.join(',')}]`);
    }
    return [x.reshape(shape as number[])];
  },
});

/** Whether `perm` holds each of 0..perm.length-1 once (a check per Transpose node: no sorted copy). */
function isPermutation(perm: readonly number[]): boolean {
  const n = perm.length;
  for (let i = 0; i < n; i++) {
    const p = perm[i]!;
    if (!Number.isInteger(p) || p < 0 || p >= n) return false;
    for (let j = 0; j < i; j++) if (perm[j] === p) return false;
  }
  return true;
}

function transposePermutation(rank: number, perm: readonly number[] | undefined): number[] {
  return perm && perm.length > 0 ? perm.map((p) => (p < 0 ? p + rank : p)) : Array.from({ length: rank }, (_, i) => rank - 1 - i);
}

/** Transposes any tensor by a permutation (used by other kernels too). */
export function transposeTensor(x: TensorT, perm: readonly number[]): TensorT {
  return gatherElements(
    x,
    perm.map((p) => x.shape[p]!),
    transposedOrder(x.shape, perm),
  );
}

export const transposeOp = defineCanonicalOp({
  op: 'onnx.Transpose',
  summary: 'Permutes the axes (reverses them when perm is absent)',
  inputs: [{ name: 'data' }],
  outputs: [{ name: 'transposed' }],
  attributes: { perm: { kind: 'ints' } },
  verify: verifyTranspose,
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    const perm = context.node.optionalAttr('perm', 'ints');
    if (!type.shape) return [tensorType(type.dtype, perm ? perm.map(() => null) : null)];
    const shape = type.shape;
    if (perm && perm.length > 0) {
      if (perm.length !== shape.length || !isPermutation(perm)) {
        refuseShape(context.node, 'transpose-perm', `perm [${perm.join(',')}] is not a permutation of the ${shape.length} axes of ${describeOperand(context.node, 0, shape)}`, {
          expected: `a reordering of 0..${shape.length - 1}`,
          actual: `[${perm.join(',')}]`,
        });
      }
    }
    return [tensorType(type.dtype, transposePermutation(shape.length, perm).map((p) => shape[p] ?? null))];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const perm = transposePermutation(x.rank, node.optionalAttr('perm', 'ints'));
    if (perm.length !== x.rank || new Set(perm).size !== x.rank || perm.some((p) => p < 0 || p >= x.rank)) {
      throw opError(node, `perm [${perm.join(',')}] is not a permutation of rank ${x.rank}`);
    }
    return [transposeTensor(x, perm)];
  },
});

/** Axes from input 1 (opset ≥ 13) or the `axes` attribute (older opsets). */
function axesArgument(node: import('@modelpass/ir').Node, axesTensor: TensorT | undefined): number[] | undefined {
  if (axesTensor) return readInts(axesTensor);
  return node.optionalAttr('axes', 'ints')?.slice();
}

export const squeezeOp = defineCanonicalOp({
  op: 'onnx.Squeeze',
  summary: 'Removes size-1 axes (all of them when no axes are given)',
  inputs: [{ name: 'data' }, { name: 'axes', optional: true }],
  outputs: [{ name: 'squeezed' }],
  attributes: { axes: { kind: 'ints' } },
  verify: verifySqueezeAxes,
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    const axes = hasInput(context.node, 1) ? constantInts(context, 1) : (context.node.optionalAttr('axes', 'ints')?.slice() ?? []);
    if (!type.shape || !axes) return [tensorType(type.dtype, null)];
    const shape = type.shape;
    const drop = new Set(axes.map((a) => axisOrRefuse(context.node, a, shape)));
    for (const axis of drop) {
      const dim = shape[axis];
      if (typeof dim === 'number' && dim !== 1) {
        refuseShape(context.node, 'squeeze-axis', `axis ${axis} of ${describeOperand(context.node, 0, shape)} has size ${dim}; only a size-1 axis can be squeezed`, {
          expected: 'axes of size 1',
          actual: `size ${dim}`,
        });
      }
    }
    if (axes.length === 0) {
      if (type.shape.some((d) => typeof d !== 'number')) return [tensorType(type.dtype, null)];
      return [tensorType(type.dtype, type.shape.filter((d) => d !== 1))];
    }
    return [tensorType(type.dtype, type.shape.filter((_, i) => !drop.has(i)))];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const axes = (axesArgument(node, optionalInputTensor(inputs, 1, node)) ?? []).map((a) => normalizeAxis(a, x.rank, node));
    for (const a of axes) if (x.shape[a] !== 1) throw opError(node, `cannot squeeze axis ${a} of size ${x.shape[a]}`);
    const shape = axes.length === 0 ? x.shape.filter((d) => d !== 1) : x.shape.filter((_, i) => !axes.includes(i));
    return [x.reshape(shape)];
  },
});

function unsqueezeShape<D>(shape: readonly D[], axes: readonly number[], one: D): D[] | undefined {
  const rank = shape.length + axes.length;
  // Every output position is an inserted axis (marked) or the next input dim: one array, no sets or copies.
  const out = new Array<D>(rank);
  const inserted = new Array<boolean>(rank).fill(false);
  for (let k = 0; k < axes.length; k++) {
    const raw = axes[k]!;
    const axis = raw < 0 ? raw + rank : raw;
    if (axis < 0 || axis >= rank || inserted[axis]) return undefined;
    inserted[axis] = true;
  }
  let next = 0;
  for (let i = 0; i < rank; i++) out[i] = inserted[i] ? one : shape[next++]!;
  return out;
}

/** Unsqueeze axes outside the output rank, or one named twice (ONNX Runtime refuses both at load). */
function refuseUnsqueezeAxes(node: Node, shape: readonly Dim[], axes: readonly number[]): never {
  const rank = shape.length + axes.length;
  const outside = axes.find((a) => a < -rank || a >= rank);
  if (outside !== undefined) {
    refuseShape(node, 'axis-range', `axis ${outside} is out of range for an output of rank ${rank} (${describeOperand(node, 0, shape)} plus ${axes.length} axes)`, {
      expected: `axes in [${-rank}, ${rank - 1}]`,
      actual: `[${axes.join(',')}]`,
    });
  }
  const normalized = axes.map((a) => (a < 0 ? a + rank : a));
  const twice = normalized.find((a, i) => normalized.indexOf(a) !== i);
  return refuseShape(node, 'unsqueeze-axes', `axis ${twice} is named twice in [${axes.join(',')}]`, { expected: 'distinct axes', actual: `[${axes.join(',')}]` });
}

export const unsqueezeOp = defineCanonicalOp({
  op: 'onnx.Unsqueeze',
  summary: 'Inserts size-1 axes at the given positions of the output',
  inputs: [{ name: 'data' }, { name: 'axes', optional: true }],
  outputs: [{ name: 'expanded' }],
  attributes: { axes: { kind: 'ints' } },
  verify: verifyUnsqueezeAxes,
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    const axes = hasInput(context.node, 1) ? constantInts(context, 1) : context.node.optionalAttr('axes', 'ints')?.slice();
    if (!type.shape || !axes) return [tensorType(type.dtype, null)];
    const shape = unsqueezeShape<Dim>(type.shape, axes, 1);
    if (!shape) refuseUnsqueezeAxes(context.node, type.shape, axes);
    return [tensorType(type.dtype, shape)];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const axes = axesArgument(node, optionalInputTensor(inputs, 1, node));
    if (!axes) throw opError(node, 'needs axes (an input from opset 13, an attribute before)');
    const shape = unsqueezeShape(x.shape, axes, 1);
    if (!shape) throw opError(node, `axes [${axes.join(',')}] are invalid for rank ${x.rank}`);
    return [x.reshape(shape)];
  },
});

/** Expand's input and shape operand must broadcast (numpy rules, aligned at the last dim): two static dims that differ and are not 1 never do. */
function refuseExpandClash(node: Node, shape: readonly Dim[], target: readonly Dim[]): void {
  const rank = Math.max(shape.length, target.length);
  for (let i = 0; i < rank; i++) {
    const a = i < rank - shape.length ? 1 : shape[i - (rank - shape.length)];
    const b = i < rank - target.length ? 1 : target[i - (rank - target.length)];
    if (typeof a !== 'number' || typeof b !== 'number' || a === 1 || b === 1 || a === b) continue;
    refuseShape(node, 'expand-shape', `the shape ${formatDims(target)} does not broadcast with ${describeOperand(node, 0, shape)} (${a} against ${b})`, {
      expected: 'dims, aligned at the last one, that are equal or 1',
      actual: formatDims(target),
    });
  }
}

export const expandOp = defineCanonicalOp({
  op: 'onnx.Expand',
  summary: 'Broadcasts the input to a shape (numpy rules; the result may be larger than the shape)',
  inputs: [{ name: 'input' }, { name: 'shape' }],
  outputs: [{ name: 'output' }],
  verify: (context) => {
    verifyNonNegativeOperand(1, 'the shape')(context);
    verifyExpandBroadcast(context);
  },
  inferTypes(context) {
    const dtype = inputTensorType(context, 0)?.dtype;
    const target = inputDimValues(context, 1);
    const shape = inputShape(context, 0);
    if (!target || !shape) {
      const length = inputShape(context, 1)?.[0];
      return [typeOf(dtype, shape && typeof length === 'number' ? new Array<Dim>(Math.max(length, shape.length)).fill(null) : null)];
    }
    refuseExpandClash(context.node, shape, target);
    return [typeOf(dtype, broadcastShapesOrUnknownDims(shape, target))];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const target = readInts(inputTensor(inputs, 1, node));
    const outShape = broadcastStaticShapes([x.shape, target], node);
    return [gatherElements(x, outShape, broadcastIndexMap(x.shape, outShape))];
  },
});

/** A dim repeated `times` times: exact for numbers, the same symbol for 1 (or a dim of 1). */
function tiledDim(dim: Dim, times: Dim): Dim {
  if (typeof dim === 'number' && typeof times === 'number') return dim * times;
  if (times === 1) return dim;
  if (dim === 1) return times;
  return null;
}

export const tileOp = defineCanonicalOp({
  op: 'onnx.Tile',
  summary: 'Repeats the input along each axis',
  inputs: [{ name: 'input' }, { name: 'repeats' }],
  outputs: [{ name: 'output' }],
  verify: (context) => {
    verifyNonNegativeOperand(1, 'repeats')(context);
    verifyTileRepeatCount(context);
  },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    const repeats = inputDimValues(context, 1);
    if (!type.shape) return [tensorType(type.dtype, null)];
    if (!repeats) return [tensorType(type.dtype, type.shape.map(() => null))];
    if (repeats.length !== type.shape.length) {
      refuseShape(context.node, 'tile-repeats', `repeats ${formatDims(repeats)} has ${repeats.length} entries for ${describeOperand(context.node, 0, type.shape)} of rank ${type.shape.length}`, {
        expected: `${type.shape.length} repeats (one per dim)`,
        actual: formatDims(repeats),
      });
    }
    return [tensorType(type.dtype, type.shape.map((d, i) => tiledDim(d, repeats[i] ?? null)))];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const repeats = readInts(inputTensor(inputs, 1, node));
    if (repeats.length !== x.rank) throw opError(node, `repeats has ${repeats.length} entries for rank ${x.rank}`);
    const outShape = x.shape.map((d, i) => d * repeats[i]!);
    const strides = stridesOf(x.shape);
    const map = new Int32Array(sizeOf(outShape));
    forEachIndex(outShape, (index, flat) => {
      let offset = 0;
      for (let d = 0; d < index.length; d++) offset += (index[d]! % x.shape[d]!) * strides[d]!;
      map[flat] = offset;
    });
    return [gatherElements(x, outShape, map)];
  },
});

/** Shape's `start`/`end` attributes clamped into `[0, rank]` (negative ones counted from the end). */
export function shapeSliceBounds(rank: number, start: number, end: number | undefined): [number, number] {
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  return [clamp(start), clamp(end ?? rank)];
}

export const shapeOp = defineCanonicalOp({
  op: 'onnx.Shape',
  summary: 'The shape of the input as an int64 tensor (optionally a start/end slice of it)',
  inputs: [{ name: 'data' }],
  outputs: [{ name: 'shape' }],
  attributes: { start: { kind: 'int', default: 0 }, end: { kind: 'int' } },
  inferTypes(context) {
    const shape = inputShape(context, 0);
    if (!shape) return [tensorType('int64', [null])];
    const [start, end] = shapeSliceBounds(shape.length, context.node.attr('start', 'int', 0), context.node.optionalAttr('end', 'int'));
    return [tensorType('int64', [Math.max(end - start, 0)])];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const [start, end] = shapeSliceBounds(x.rank, node.attr('start', 'int', 0), node.optionalAttr('end', 'int'));
    const dims = x.shape.slice(start, Math.max(start, end));
    return [int64Tensor([dims.length], dims)];
  },
});

export const sizeOp = defineCanonicalOp({
  op: 'onnx.Size',
  summary: 'The number of elements of the input, as an int64 scalar',
  inputs: [{ name: 'data' }],
  outputs: [{ name: 'size' }],
  inferTypes: () => [tensorType('int64', [])],
  kernel(inputs, { node }) {
    return [int64Tensor([], [inputTensor(inputs, 0, node).size])];
  },
});

export const constantOfShapeOp = defineCanonicalOp({
  op: 'onnx.ConstantOfShape',
  summary: 'A tensor of the given shape filled with one value (float32 zero by default)',
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  attributes: { value: { kind: 'tensor' } },
  verify: verifyConstantOfShape,
  inferTypes(context) {
    const dtype = context.node.optionalAttr('value', 'tensor')?.dtype ?? 'float32';
    // ONNX Runtime: "shape input must be 1D tensor"; a scalar holding -3 was read as the shape [-3] (passes fuzz s18).
    const rank = inputShape(context, 0)?.length;
    if (rank !== undefined && rank !== 1) refuseShape(context.node, 'shape-operand', `the shape input ${describeOperand(context.node, 0, inputShape(context, 0)!)} is not 1-D`, { expected: 'a 1-D int64 tensor of dims', actual: `rank ${rank}` });
    const dims = inputDimValues(context, 0);
    const negative = dims?.find((dim) => typeof dim === 'number' && dim < 0);
    if (negative !== undefined) refuseShape(context.node, 'negative-dim', `the shape [${dims!.join(',')}] holds ${negative}`, { expected: 'dims of 0 or more', actual: `[${dims!.join(',')}]` });
    if (dims) return [tensorType(dtype, dims)];
    const length = inputShape(context, 0)?.[0];
    return [tensorType(dtype, typeof length === 'number' ? new Array<Dim>(length).fill(null) : null)];
  },
  kernel(inputs, { node }) {
    const dims = readInts(inputTensor(inputs, 0, node));
    const value = node.optionalAttr('value', 'tensor') ?? Tensor.fromValues('float32', [1], [0]);
    if (value.size !== 1) throw opError(node, 'attribute value must hold exactly one element', { actual: `${value.size} elements` });
    return [gatherElements(value, dims, new Int32Array(sizeOf(dims)))];
  },
});

/** The tensor a Constant node produces, from whichever value attribute it carries. */
export function constantNodeValue(node: import('@modelpass/ir').Node): TensorT | undefined {
  const tensor = node.optionalAttr('value', 'tensor');
  if (tensor) return tensor;
  const f = node.optionalAttr('value_float', 'float');
  if (f !== undefined) return Tensor.fromValues('float32', [], [f]);
  const fs = node.optionalAttr('value_floats', 'floats');
  if (fs) return Tensor.fromValues('float32', [fs.length], fs);
  const i = node.optionalAttr('value_int', 'int');
  if (i !== undefined) return int64Tensor([], [i]);
  const is = node.optionalAttr('value_ints', 'ints');
  if (is) return int64Tensor([is.length], is);
  const s = node.optionalAttr('value_string', 'string');
  if (s !== undefined) return Tensor.fromStrings([], [s]);
  const ss = node.optionalAttr('value_strings', 'strings');
  if (ss) return Tensor.fromStrings([ss.length], ss);
  return undefined;
}

export const constantOp = defineCanonicalOp({
  op: 'onnx.Constant',
  summary: 'A constant tensor given by exactly one value attribute',
  inputs: [],
  outputs: [{ name: 'output' }],
  attributes: {
    value: { kind: 'tensor' },
    sparse_value: { kind: 'sparse-tensor' },
    value_float: { kind: 'float' },
    value_floats: { kind: 'floats' },
    value_int: { kind: 'int' },
    value_ints: { kind: 'ints' },
    value_string: { kind: 'string' },
    value_strings: { kind: 'strings' },
  },
  inferTypes(context) {
    const value = constantNodeValue(context.node);
    return [value ? tensorType(value.dtype, value.shape) : undefined];
  },
  kernel(_inputs, { node }) {
    const value = constantNodeValue(node);
    if (value) return [value];
    const sparse = node.optionalAttr('sparse_value', 'sparse-tensor');
    if (sparse) return [densify(sparse, node)];
    throw opError(node, 'has no value attribute', { expected: 'one of value, value_float(s), value_int(s), value_string(s), sparse_value' });
  },
});

function densify(sparse: import('@modelpass/ir').SparseTensor, node: import('@modelpass/ir').Node): TensorT {
  const values = sparse.values;
  const indices = readInts(sparse.indices);
  const count = values.size;
  const strides = stridesOf(sparse.dims);
  const flat = sparse.indices.rank === 2
    ? Array.from({ length: count }, (_, k) => sparse.dims.reduce((sum, _d, r) => sum + indices[k * sparse.dims.length + r]! * strides[r]!, 0))
    : indices;
  const total = sizeOf(sparse.dims);
  const zero = zeroScalar(values.dtype);
  const map = new Int32Array(total);
  const which = new Int32Array(total).fill(1);
  flat.forEach((position, k) => {
    if (position < 0 || position >= total) throw opError(node, `sparse index ${position} is out of range`);
    map[position] = k;
    which[position] = 0;
  });
  return gatherElements([values, zero], sparse.dims, map, which);
}

export const identityOp = defineCanonicalOp({
  op: 'onnx.Identity',
  summary: 'Returns its input (a tensor, a sequence or an optional)',
  inputs: [{ name: 'input' }],
  outputs: [{ name: 'output' }],
  inferTypes: (context) => [context.inputType(0)],
  kernel: (inputs) => [inputs[0] ?? null],
});

export const rangeOp = defineCanonicalOp({
  op: 'onnx.Range',
  summary: 'start, start+delta, ... up to (excluding) limit; int64 is computed exactly',
  inputs: [{ name: 'start' }, { name: 'limit' }, { name: 'delta' }],
  outputs: [{ name: 'output' }],
  verify: verifyRange,
  inferTypes(context) {
    const dtype = inputTensorType(context, 0)?.dtype;
    const [start, limit, delta] = [0, 1, 2].map((i) => constantInts(context, i)?.[0]);
    if (start !== undefined && limit !== undefined && delta !== undefined && delta !== 0 && dtype !== 'float32' && dtype !== 'float64') {
      return [typeOf(dtype, [Math.max(Math.ceil((limit - start) / delta), 0)])];
    }
    return [typeOf(dtype, [null])];
  },
  kernel(inputs, { node }) {
    const [startT, limitT, deltaT] = [0, 1, 2].map((i) => inputTensor(inputs, i, node)) as [TensorT, TensorT, TensorT];
    if (startT.dtype === 'int64') {
      const [start, limit, delta] = [startT, limitT, deltaT].map((t) => (t.data() as BigInt64Array)[0]!) as [bigint, bigint, bigint];
      if (delta === 0n) throw opError(node, 'delta must not be zero');
      const span = limit - start;
      let count = span / delta + (span % delta !== 0n && span > 0n === delta > 0n ? 1n : 0n);
      if (count < 0n) count = 0n;
      const values = Array.from({ length: Number(count) }, (_, i) => start + BigInt(i) * delta);
      return [Tensor.fromValues('int64', [values.length], values)];
    }
    const [start, limit, delta] = [startT, limitT, deltaT].map((t) => Number(intOrFloat(t)));
    if (delta === 0) throw opError(node, 'delta must not be zero');
    const count = Math.max(Math.ceil((limit - start) / delta), 0);
    const values = Array.from({ length: count }, (_, i) => start + i * delta);
    return [tensorFromNumbers(startT.dtype, [count], values)];
  },
});

function intOrFloat(t: TensorT): number {
  return t.toNumbers()[0]!;
}

export const shapeOps = [
  flattenOp,
  reshapeOp,
  transposeOp,
  squeezeOp,
  unsqueezeOp,
  expandOp,
  tileOp,
  shapeOp,
  sizeOp,
  constantOfShapeOp,
  constantOp,
  identityOp,
  rangeOp,
];
