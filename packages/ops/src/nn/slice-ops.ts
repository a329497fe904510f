/**
 * Joining and cutting: Concat, Split, Slice, Pad. Exact element copies for every dtype.
 */
import { tensorType, type DType, type Dim, type InferenceContext, type Node, type Tensor, type TensorType } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { readInts } from '../util/elements.js';
import { constantInts, hasInput, inputTensorType, normalizeAxisForInference, typeOf } from '../util/inference.js';
import { inputTensor, opError, optionalInputTensor } from '../util/kernel-io.js';
import { normalizeAxis, sizeOf, stridesOf } from '../util/shape.js';
import { forEachIndex, gatherElements, tensorFromNumbers } from './kernel-helpers.js';
import { axisOrRefuse, describeOperand, refuseShape } from '../util/shape-refusal.js';
import { verifyConcat, verifySplit } from '../verify/structure-checks.js';
import { verifyPadResult, verifySliceSteps } from '../verify/operand-value-checks.js';
import { verifyPadLength, verifySliceAxes } from '../verify/attribute-range-checks.js';
import { verifySliceOperandLengths } from '../verify/operand-shape-checks.js';

export const concatOp = defineCanonicalOp({
  op: 'onnx.Concat',
  summary: 'Joins tensors along an axis',
  inputs: [{ name: 'inputs', variadic: true }],
  outputs: [{ name: 'concat_result' }],
  attributes: { axis: { kind: 'int', required: true } },
  verify: verifyConcat,
  inferTypes(context) {
    const node = context.node;
    const count = node.inputs.length;
    // Indexed loops: the first typed input gives the dtype, the first ranked one (`first`) the rank.
    const types = new Array<TensorType | undefined>(count);
    let dtype: DType | undefined;
    let ranked: readonly Dim[] | undefined;
    let first = -1;
    for (let i = 0; i < count; i++) {
      const type = inputTensorType(context, i);
      types[i] = type;
      if (!type) continue;
      dtype ??= type.dtype;
      if (type.shape && !ranked) {
        ranked = type.shape;
        first = i;
      }
    }
    if (!dtype || !ranked) return [typeOf(dtype, null)];
    // A scalar has no axis to join along (kept as before: no shape is refused for it here).
    const axis = ranked.length === 0 ? normalizeAxisForInference(node.attr('axis', 'int'), 0) : axisOrRefuse(node, node.attr('axis', 'int'), ranked, first);
    if (axis === undefined) return [undefined];
    for (let i = 0; i < count; i++) {
      const shape = types[i]?.shape;
      if (shape) refuseConcatMismatch(node, axis, ranked, first, shape, i);
    }
    const out = new Array<Dim>(ranked.length);
    for (let d = 0; d < ranked.length; d++) out[d] = d === axis ? concatenatedDim(types, d) : joinedDim(types, d, ranked[d]!);
    return [tensorType(dtype, out)];
  },
  kernel(inputs, { node }) {
    const tensors = inputs.map((_, i) => inputTensor(inputs, i, node));
    return [concatTensors(node, tensors, normalizeAxis(node.attr('axis', 'int'), tensors[0]!.rank, node))];
  },
});

/** Refuses input `i` of a Concat when its rank differs from input `first`'s or a static dim off `axis` clashes. */
function refuseConcatMismatch(node: Node, axis: number, ranked: readonly Dim[], first: number, shape: readonly Dim[], i: number): void {
  if (shape.length !== ranked.length) {
    refuseShape(node, 'concat-rank', `inputs have ranks ${ranked.length} and ${shape.length}: ${describeOperand(node, first, ranked)} and ${describeOperand(node, i, shape)}`, {
      expected: 'one rank for every input',
    });
  }
  for (let clash = 0; clash < shape.length; clash++) {
    const dim = shape[clash];
    if (clash === axis || typeof dim !== 'number' || typeof ranked[clash] !== 'number' || dim === ranked[clash]) continue;
    refuseShape(node, 'concat-dims', `inputs differ on axis ${clash} (${ranked[clash]} and ${shape[clash]}), which is not the concatenation axis ${axis}: ${describeOperand(node, first, ranked)} and ${describeOperand(node, i, shape)}`, {
      expected: `equal dims on every axis but ${axis}`,
    });
  }
}

/** The concatenation axis's dim: the sum of every input's, when all are numbers. */
function concatenatedDim(types: readonly (TensorType | undefined)[], d: number): Dim {
  let sum = 0;
  for (let i = 0; i < types.length; i++) {
    const dim = types[i]?.shape?.[d];
    if (typeof dim !== 'number') return null;
    sum += dim;
  }
  return sum;
}

/** Another axis's dim: the first input's that is a number, else the first ranked input's. */
function joinedDim(types: readonly (TensorType | undefined)[], d: number, fallback: Dim): Dim {
  for (let i = 0; i < types.length; i++) {
    const dim = types[i]?.shape?.[d];
    if (typeof dim === 'number') return dim;
  }
  return fallback;
}

/** Joins tensors of equal shape except along `axis` (already normalized). */
export function concatTensors(node: Node, tensors: readonly Tensor[], axis: number): Tensor {
  const first = tensors[0]!;
  for (const t of tensors) {
    if (t.rank !== first.rank || t.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
      throw opError(node, `cannot concatenate [${t.shape.join(',')}] with [${first.shape.join(',')}] on axis ${axis}`);
    }
  }
  const outShape = [...first.shape];
  outShape[axis] = tensors.reduce((sum, t) => sum + t.shape[axis]!, 0);
  const outer = sizeOf(first.shape.slice(0, axis));
  const inner = sizeOf(first.shape.slice(axis + 1));
  const total = sizeOf(outShape);
  const map = new Int32Array(total);
  const which = new Int32Array(total);
  let flat = 0;
  for (let o = 0; o < outer; o++) {
    tensors.forEach((t, k) => {
      const block = t.shape[axis]! * inner;
      for (let j = 0; j < block; j++) {
        map[flat] = o * block + j;
        which[flat++] = k;
      }
    });
  }
  return gatherElements(tensors, outShape, map, which);
}

/** Sizes of the parts of a Split along a dimension of size `dim`. */
function splitSizes(node: Node, dim: number, outputs: number, split: readonly number[] | undefined): number[] {
  if (split && split.length > 0) return [...split];
  const numOutputs = node.optionalAttr('num_outputs', 'int');
  const parts = numOutputs ?? outputs;
  const chunk = numOutputs !== undefined ? Math.ceil(dim / parts) : dim / parts;
  return Array.from({ length: parts }, (_, i) => Math.max(Math.min(chunk, dim - chunk * i), 0));
}

/** The `length` entries of `x` from `start` along `axis` (already normalized). */
export function sliceAlongAxis(x: Tensor, axis: number, start: number, length: number): Tensor {
  const outShape = [...x.shape];
  outShape[axis] = length;
  const inner = sizeOf(x.shape.slice(axis + 1));
  const outer = sizeOf(x.shape.slice(0, axis));
  const map = new Int32Array(sizeOf(outShape));
  let flat = 0;
  for (let o = 0; o < outer; o++) {
    const base = o * x.shape[axis]! * inner + start * inner;
    for (let j = 0; j < length * inner; j++) map[flat++] = base + j;
  }
  return gatherElements(x, outShape, map);
}

export function splitTensor(node: Node, x: Tensor, axis: number, sizes: readonly number[]): Tensor[] {
  if (sizes.reduce((a, b) => a + b, 0) !== x.shape[axis]) {
    throw opError(node, `split sizes [${sizes.join(',')}] do not add up to dimension ${x.shape[axis]}`);
  }
  let start = 0;
  return sizes.map((size) => {
    const part = sliceAlongAxis(x, axis, start, size);
    start += size;
    return part;
  });
}

/**
 * Split sizes ONNX Runtime refuses at load for a static axis of `dim` elements: `split` sizes that do not add up to
 * it or do not match the outputs, and without `split` or `num_outputs` an axis the outputs do not divide evenly.
 */
function refuseUnevenSplit(node: Node, shape: readonly Dim[], axis: number, outputs: number, split: readonly number[] | undefined): void {
  const dim = shape[axis] as number;
  if (split && split.length > 0) {
    if (split.length !== outputs) {
      refuseShape(node, 'split-count', `split lists ${split.length} parts but the node has ${outputs} outputs`, { expected: `${outputs} sizes`, actual: `[${split.join(',')}]` });
    }
    const total = split.reduce((sum, size) => sum + size, 0);
    if (total !== dim || split.some((size) => size < 0)) {
      refuseShape(node, 'split-sizes', `split sizes [${split.join(',')}] add up to ${total}, not to dimension ${dim} of axis ${axis} of ${describeOperand(node, 0, shape)}`, {
        expected: `sizes >= 0 that add up to ${dim}`,
        actual: `[${split.join(',')}]`,
      });
    }
    return;
  }
  if (node.optionalAttr('num_outputs', 'int') !== undefined || split) return;
  if (dim % outputs !== 0) {
    refuseShape(node, 'split-sizes', `axis ${axis} of ${describeOperand(node, 0, shape)} has ${dim} elements, which ${outputs} outputs do not split evenly`, {
      expected: `a dimension that is a multiple of ${outputs}, or split sizes`,
      actual: String(dim),
    });
  }
}

export const splitOp = defineCanonicalOp({
  op: 'onnx.Split',
  summary: 'Cuts a tensor into parts along an axis (sizes from split, num_outputs or the output count)',
  inputs: [{ name: 'input' }, { name: 'split', optional: true }],
  outputs: [{ name: 'outputs', variadic: true }],
  attributes: { axis: { kind: 'int', default: 0 }, split: { kind: 'ints' }, num_outputs: { kind: 'int' } },
  verify: verifySplit,
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    const count = context.node.outputs.length;
    if (!type) return new Array<undefined>(count).fill(undefined);
    if (!type.shape) return new Array(count).fill(tensorType(type.dtype, null));
    const shape = type.shape;
    const axis = axisOrRefuse(context.node, context.node.attr('axis', 'int', 0), shape);
    const split = hasInput(context.node, 1) ? constantInts(context, 1) : context.node.optionalAttr('split', 'ints')?.slice();
    const dim = shape[axis];
    // A split input whose values are not known here (a Constant node's output before folding, a run-time tensor)
    // still gives the sizes: the even-split rule is only for a node without split and num_outputs.
    const splitUnknown = hasInput(context.node, 1) && !split;
    if (typeof dim === 'number' && !splitUnknown) refuseUnevenSplit(context.node, shape, axis, count, split);
    const sizes = split && split.length > 0 ? split : typeof dim === 'number' && !splitUnknown ? splitSizes(context.node, dim, count, undefined) : undefined;
    return Array.from({ length: count }, (_, i) => tensorType(type.dtype, shape.map((d, k) => (k === axis ? (sizes?.[i] ?? null) : d))));
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const axis = normalizeAxis(node.attr('axis', 'int', 0), x.rank, node);
    const splitTensorArg = optionalInputTensor(inputs, 1, node);
    const split = splitTensorArg ? readInts(splitTensorArg) : node.optionalAttr('split', 'ints');
    return splitTensor(node, x, axis, splitSizes(node, x.shape[axis]!, node.outputs.length, split));
  },
});

interface SliceSpec {
  starts: number[];
  ends: number[];
  axes: number[];
  steps: number[];
}

function sliceSpec(node: Node, inputs: readonly (Tensor | undefined)[], rank: number): SliceSpec {
  const [startsT, endsT, axesT, stepsT] = inputs;
  const starts = startsT ? readInts(startsT) : [...node.attr('starts', 'ints')];
  const ends = endsT ? readInts(endsT) : [...node.attr('ends', 'ints')];
  const axesRaw = axesT ? readInts(axesT) : (node.optionalAttr('axes', 'ints')?.slice() ?? starts.map((_, i) => i));
  const axes = axesRaw.map((a) => (a < 0 ? a + rank : a));
  const steps = stepsT ? readInts(stepsT) : starts.map(() => 1);
  return { starts, ends, axes, steps };
}

/** Clamped start and element count of a slice of a dimension, per the ONNX Slice rules. */
export function sliceRange(dim: number, start: number, end: number, step: number): { start: number; count: number } {
  let s = start < 0 ? start + dim : start;
  let e = end < 0 ? end + dim : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), dim);
    e = Math.min(Math.max(e, 0), dim);
    return { start: s, count: Math.max(Math.ceil((e - s) / step), 0) };
  }
  s = Math.min(Math.max(s, 0), dim - 1);
  e = Math.min(Math.max(e, -1), dim - 1);
  return { start: s, count: Math.max(Math.ceil((e - s) / step), 0) };
}

/** Slice's starts/ends/axes at input `index` (opset 10+, when known) or attribute `attribute` (before). */
function sliceOperand(context: InferenceContext, fromInputs: boolean, index: number, attribute: string): number[] | undefined {
  if (!fromInputs) return context.node.optionalAttr(attribute, 'ints')?.slice();
  return hasInput(context.node, index) ? constantInts(context, index) : undefined;
}

/** Refuses an axis out of range or named twice (normalized: -1 and rank-1 are one axis). */
function refuseRepeatedAxes(node: Node, givenAxes: readonly number[], shape: readonly Dim[]): void {
  const seen: number[] = [];
  for (let i = 0; i < givenAxes.length; i++) {
    const axis = axisOrRefuse(node, givenAxes[i]!, shape);
    if (seen.includes(axis)) refuseShape(node, 'repeated-axis', `axis ${axis} is named twice in [${givenAxes.join(',')}]`, { expected: 'distinct axes', actual: `[${givenAxes.join(',')}]` });
    seen.push(axis);
  }
}

export const sliceOp = defineCanonicalOp({
  op: 'onnx.Slice',
  summary: 'Takes a strided window (starts/ends/axes/steps: inputs from opset 10, attributes before)',
  inputs: [{ name: 'data' }, { name: 'starts', optional: true }, { name: 'ends', optional: true }, { name: 'axes', optional: true }, { name: 'steps', optional: true }],
  outputs: [{ name: 'output' }],
  attributes: { starts: { kind: 'ints' }, ends: { kind: 'ints' }, axes: { kind: 'ints' } },
  verify: (context) => {
    verifySliceSteps(context);
    verifySliceAxes(context);
    verifySliceOperandLengths(context);
  },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    if (!type.shape) return [tensorType(type.dtype, null)];
    const shape = type.shape;
    const node = context.node;
    const fromInputs = hasInput(node, 1);
    const starts = sliceOperand(context, fromInputs, 1, 'starts');
    const ends = sliceOperand(context, fromInputs, 2, 'ends');
    const givenAxes = sliceOperand(context, fromInputs, 3, 'axes');
    if (givenAxes) refuseRepeatedAxes(node, givenAxes, shape);
    const axes = givenAxes ?? (fromInputs && hasInput(node, 3) ? undefined : starts?.map((_, i) => i));
    const steps = fromInputs && hasInput(node, 4) ? constantInts(context, 4) : starts?.map(() => 1);
    // Known once inference propagates them (steps from a Constant node): the verifier's check on constants.
    const zeroStep = steps?.indexOf(0) ?? -1;
    if (zeroStep >= 0) refuseShape(node, 'slice-step', `steps[${zeroStep}] is 0`, { expected: 'non-zero steps', actual: `[${steps!.join(',')}]` });
    if (!starts || !ends || !axes || !steps) {
      // Unknown bounds: only axes that cannot be sliced keep their dims; without axes every dim is unknown.
      if (axes) return [tensorType(type.dtype, shape.map((d, i) => (axes.some((a) => (a < 0 ? a + shape.length : a) === i) ? null : d)))];
      return [tensorType(type.dtype, shape.map(() => null))];
    }
    const out = [...shape];
    axes.forEach((a, i) => {
      const axis = a < 0 ? a + shape.length : a;
      const dim = shape[axis];
      out[axis] = typeof dim === 'number' ? sliceRange(dim, starts[i]!, ends[i]!, steps[i]!).count : null;
    });
    return [tensorType(type.dtype, out)];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const spec = sliceSpec(node, [1, 2, 3, 4].map((i) => optionalInputTensor(inputs, i, node)), x.rank);
    const start = x.shape.map(() => 0);
    const step = x.shape.map(() => 1);
    const outShape = [...x.shape];
    spec.axes.forEach((axis, i) => {
      if (axis < 0 || axis >= x.rank) throw opError(node, `axis ${spec.axes[i]} is out of range for rank ${x.rank}`);
      if (spec.steps[i] === 0) throw opError(node, 'a slice step must not be zero');
      const range = sliceRange(x.shape[axis]!, spec.starts[i]!, spec.ends[i]!, spec.steps[i]!);
      start[axis] = range.start;
      step[axis] = spec.steps[i]!;
      outShape[axis] = range.count;
    });
    const strides = stridesOf(x.shape);
    const map = new Int32Array(sizeOf(outShape));
    forEachIndex(outShape, (index, flat) => {
      let offset = 0;
      for (let d = 0; d < index.length; d++) offset += (start[d]! + index[d]! * step[d]!) * strides[d]!;
      map[flat] = offset;
    });
    return [gatherElements(x, outShape, map)];
  },
});

/** Source index along one axis for a padded position, or -1 for the constant. */
function padSource(position: number, dim: number, mode: string): number {
  if (position >= 0 && position < dim) return position;
  switch (mode) {
    case 'edge':
      return Math.min(Math.max(position, 0), dim - 1);
    case 'wrap':
      return ((position % dim) + dim) % dim;
    case 'reflect': {
      if (dim === 1) return 0;
      const period = 2 * (dim - 1);
      let p = ((position % period) + period) % period;
      if (p >= dim) p = period - p;
      return p;
    }
    default:
      return -1;
  }
}

export const padOp = defineCanonicalOp({
  op: 'onnx.Pad',
  summary: 'Pads (or crops, with negative pads) with a constant, reflection, edge copy or wrap-around',
  inputs: [{ name: 'data' }, { name: 'pads', optional: true }, { name: 'constant_value', optional: true }, { name: 'axes', optional: true }],
  outputs: [{ name: 'output' }],
  attributes: {
    mode: { kind: 'string', default: 'constant', oneOf: ['constant', 'reflect', 'edge', 'wrap'] },
    pads: { kind: 'ints' },
    value: { kind: 'float', default: 0 },
  },
  verify: (context) => {
    verifyPadLength(context);
    verifyPadResult(context);
  },
  inferTypes(context) {
    const type = inputTensorType(context, 0);
    if (!type) return [undefined];
    if (!type.shape) return [tensorType(type.dtype, null)];
    const shape = type.shape;
    const pads = hasInput(context.node, 1) ? constantInts(context, 1) : context.node.optionalAttr('pads', 'ints')?.slice();
    const axesRaw = hasInput(context.node, 3) ? constantInts(context, 3) : shape.map((_, i) => i);
    if (!pads || !axesRaw) return [tensorType(type.dtype, shape.map(() => null))];
    const axes = axesRaw.map((a) => (a < 0 ? a + shape.length : a));
    const out: Dim[] = [...shape];
    axes.forEach((axis, i) => {
      const dim = shape[axis];
      out[axis] = typeof dim === 'number' ? dim + pads[i]! + pads[i + axes.length]! : pads[i] === 0 && pads[i + axes.length] === 0 ? dim! : null;
    });
    return [tensorType(type.dtype, out)];
  },
  kernel(inputs, { node }) {
    const x = inputTensor(inputs, 0, node);
    const padsT = optionalInputTensor(inputs, 1, node);
    const padList = padsT ? readInts(padsT) : [...node.attr('pads', 'ints')];
    const axesT = optionalInputTensor(inputs, 3, node);
    const axes = axesT ? readInts(axesT).map((a) => normalizeAxis(a, x.rank, node)) : x.shape.map((_, i) => i);
    if (padList.length !== 2 * axes.length) throw opError(node, `pads has ${padList.length} entries`, { expected: `${2 * axes.length}` });
    const begin = x.shape.map(() => 0);
    const end = x.shape.map(() => 0);
    axes.forEach((axis, i) => {
      begin[axis] = padList[i]!;
      end[axis] = padList[i + axes.length]!;
    });
    const mode = node.attr('mode', 'string', 'constant');
    const outShape = x.shape.map((d, i) => d + begin[i]! + end[i]!);
    if (outShape.some((d) => d < 0)) throw opError(node, 'negative pads remove more than the whole dimension');
    if (mode !== 'constant' && x.shape.some((d, i) => d === 0 && outShape[i]! > 0)) {
      throw opError(node, `mode '${mode}' cannot pad an empty dimension`);
    }
    const constantT = optionalInputTensor(inputs, 2, node);
    const fill = constantT ? constantT.reshape([1]) : tensorFromNumbers(x.dtype, [1], [node.attr('value', 'float', 0)]);
    const strides = stridesOf(x.shape);
    const total = sizeOf(outShape);
    const map = new Int32Array(total);
    const which = new Int32Array(total);
    forEachIndex(outShape, (index, flat) => {
      let offset = 0;
      for (let d = 0; d < index.length; d++) {
        const source = padSource(index[d]! - begin[d]!, x.shape[d]!, mode);
        if (source < 0) {
          which[flat] = 1;
          map[flat] = 0;
          return;
        }
        offset += source * strides[d]!;
      }
      map[flat] = offset;
    });
    return [gatherElements([x, fill], outShape, map, which)];
  },
});

export const sliceOps = [concatOp, splitOp, sliceOp, padOp];
