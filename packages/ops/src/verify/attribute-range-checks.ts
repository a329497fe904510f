/**
 * Verify hooks for attributes and constant operands ONNX Runtime refuses at load or at run time, which
 * the conversions otherwise carried into a .tflite, .pt or .onnx with exit 0 (QA s15 round 8): an `axis`
 * outside the input's rank (ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax, Flatten, LayerNormalization,
 * CumSum), a DepthToSpace/SpaceToDepth blocksize below 1 or not dividing the dims it splits, a
 * ConstantOfShape of a negative dim, a Range whose delta is 0 or whose bounds are not finite, Unsqueeze
 * axes outside the output rank or named twice, a Cast `to` that is no data type, reduction and Slice
 * axes outside the rank or named twice, Pad lists of the wrong length, and negative Tile repeats,
 * Expand dims and OneHot depths.
 */
import { dtypeFromOnnxCode, type Dim, type Node } from '@modelpass/ir';
import { readNumbers } from '../util/elements.js';
import { staticDim } from '../util/inference.js';
import { constantIntsOf, inputShapeOf, intAttribute, intsAttribute, reportAt, type OpVerifier } from './verify-context.js';

function formatDims(shape: readonly Dim[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

function reportAxis(context: Parameters<OpVerifier>[0], axis: number, shape: readonly Dim[], upper: number): void {
  const rank = shape.length;
  if (axis >= -rank && axis <= upper) return;
  reportAt(context, 'axis-range', `axis ${axis} is out of range for '${context.node.inputs[0]!.name}' ${formatDims(shape)} of rank ${rank}`, {
    expected: `an axis in [${-rank}, ${upper}]`,
    actual: String(axis),
  });
}

/**
 * The `axis` attribute (or its default for the node's opset) within input 0's rank: `[-r, r-1]`, or
 * `[-r, r]` with `inclusiveEnd` (Flatten's axis may name the position after the last dim).
 */
export function verifyAxisAttribute(defaultAxis: (opset: number | undefined) => number, inclusiveEnd = false): OpVerifier {
  return (context) => {
    const shape = inputShapeOf(context.node, 0);
    if (!shape) return;
    reportAxis(context, intAttribute(context.node, 'axis') ?? defaultAxis(context.opset), shape, inclusiveEnd ? shape.length : shape.length - 1);
  };
}

/** CumSum/CumProd: a constant `axis` input within the input's rank. */
export const verifyCumulativeAxis: OpVerifier = (context) => {
  const shape = inputShapeOf(context.node, 0);
  const axis = constantIntsOf(context.node, 1);
  if (!shape || !axis || axis.length !== 1) return;
  reportAxis(context, axis[0]!, shape, shape.length - 1);
};

/** DepthToSpace (channels split into blocks) / SpaceToDepth (height and width split): blocksize >= 1 and dividing them. */
export function verifyBlockSize(kind: 'depth-to-space' | 'space-to-depth'): OpVerifier {
  return (context) => {
    const { node } = context;
    const b = intAttribute(node, 'blocksize');
    if (b === undefined) return;
    if (b < 1) {
      reportAt(context, 'blocksize', `blocksize is ${b}`, { expected: 'a blocksize of 1 or more', actual: String(b) });
      return;
    }
    const shape = inputShapeOf(node, 0);
    if (!shape || shape.length !== 4) return;
    const checks: [axis: number, divisor: number][] = kind === 'depth-to-space' ? [[1, b * b]] : [[2, b], [3, b]];
    for (const [axis, divisor] of checks) {
      const dim = staticDim(shape[axis]);
      if (dim !== undefined && dim % divisor !== 0) {
        reportAt(context, 'blocksize', `axis ${axis} of '${node.inputs[0]!.name}' ${formatDims(shape)} has ${dim} elements, not a multiple of ${divisor} (blocksize ${b})`, {
          expected: `a multiple of ${divisor}`,
          actual: String(dim),
        });
      }
    }
  };
}

/** ConstantOfShape of a constant shape with a negative dim. */
export const verifyConstantOfShape: OpVerifier = (context) => {
  const dims = constantIntsOf(context.node, 0);
  const negative = dims?.find((d) => d < 0);
  if (negative !== undefined) reportAt(context, 'negative-dim', `the shape [${dims!.join(',')}] holds ${negative}`, { expected: 'dims of 0 or more', actual: String(negative) });
};

function constantScalar(node: Node, index: number): number | undefined {
  const tensor = node.inputs[index]?.constant;
  if (!tensor || tensor.size !== 1 || tensor.dtype === 'string' || tensor.dtype === 'bool') return undefined;
  return Number(readNumbers(tensor)[0]);
}

/** Range with constant operands: delta 0 never ends; a NaN or infinite bound has no element count. */
export const verifyRange: OpVerifier = (context) => {
  const [start, limit, delta] = [0, 1, 2].map((index) => constantScalar(context.node, index));
  if (delta === 0) reportAt(context, 'range-delta', 'delta is 0, so the range never ends', { expected: 'a non-zero delta', actual: '0' });
  const names = ['start', 'limit', 'delta'];
  [start, limit, delta].forEach((value, index) => {
    if (value !== undefined && !Number.isFinite(value)) reportAt(context, 'range-bound', `${names[index]} is ${value}, so the range has no element count`, { expected: 'finite start, limit and delta', actual: String(value) });
  });
};

/** Unsqueeze: each axis within the output rank (input rank + axes), none twice. */
export const verifyUnsqueezeAxes: OpVerifier = (context) => {
  const { node } = context;
  const shape = inputShapeOf(node, 0);
  const axes = node.inputs[1] ? constantIntsOf(node, 1) : intsAttribute(node, 'axes');
  if (!shape || !axes) return;
  const rank = shape.length + axes.length;
  const seen = new Set<number>();
  for (const axis of axes) {
    if (axis < -rank || axis >= rank) {
      reportAt(context, 'axis-range', `axis ${axis} is out of range for an output of rank ${rank} ('${node.inputs[0]!.name}' ${formatDims(shape)} plus ${axes.length} axes)`, {
        expected: `axes in [${-rank}, ${rank - 1}]`,
        actual: `[${axes.join(',')}]`,
      });
      return;
    }
    const normalized = axis < 0 ? axis + rank : axis;
    if (seen.has(normalized)) {
      reportAt(context, 'unsqueeze-axes', `axis ${normalized} is named twice in [${axes.join(',')}]`, { expected: 'distinct axes', actual: `[${axes.join(',')}]` });
      return;
    }
    seen.add(normalized);
  }
};

/** Cast: `to` must name a data type. */
export const verifyCastTarget: OpVerifier = (context) => {
  const to = intAttribute(context.node, 'to');
  if (to !== undefined && !dtypeFromOnnxCode(to)) reportAt(context, 'cast-to', `to is ${to}, which is no TensorProto data type`, { expected: 'a TensorProto.DataType code (1 float, 7 int64, ...)', actual: String(to) });
};

/** Axes (of a reduction or a Slice) within the input rank and named once. */
function checkAxesList(context: Parameters<OpVerifier>[0], axes: readonly number[], shape: readonly Dim[]): void {
  const rank = shape.length;
  const seen = new Set<number>();
  for (const axis of axes) {
    if (axis < -rank || axis >= rank) {
      reportAt(context, 'axis-range', `axis ${axis} is out of range for '${context.node.inputs[0]!.name}' ${formatDims(shape)} of rank ${rank}`, { expected: `axes in [${-rank}, ${rank - 1}]`, actual: `[${axes.join(',')}]` });
      return;
    }
    const normalized = axis < 0 ? axis + rank : axis;
    if (seen.has(normalized)) {
      reportAt(context, 'repeated-axis', `axis ${normalized} is named twice in [${axes.join(',')}]`, { expected: 'distinct axes', actual: `[${axes.join(',')}]` });
      return;
    }
    seen.add(normalized);
  }
}

/** Reduce*: the `axes` attribute (older opsets) or constant input 1. */
export const verifyReductionAxes: OpVerifier = (context) => {
  const shape = inputShapeOf(context.node, 0);
  const axes = context.node.inputs[1] ? constantIntsOf(context.node, 1) : intsAttribute(context.node, 'axes');
  if (shape && axes) checkAxesList(context, axes, shape);
};

/** Slice: constant `axes` (input 3, or the attribute before opset 10). */
export const verifySliceAxes: OpVerifier = (context) => {
  const shape = inputShapeOf(context.node, 0);
  const axes = context.node.inputs[3] ? constantIntsOf(context.node, 3) : context.node.inputs.length > 1 ? undefined : intsAttribute(context.node, 'axes');
  if (shape && axes) checkAxesList(context, axes, shape);
};

/** Pad without `axes`: a begin and an end per input dim. */
export const verifyPadLength: OpVerifier = (context) => {
  const { node } = context;
  const shape = inputShapeOf(node, 0);
  if (!shape || node.inputs[3]) return;
  const pads = node.inputs[1] ? constantIntsOf(node, 1) : intsAttribute(node, 'pads');
  if (pads && pads.length !== 2 * shape.length) {
    reportAt(context, 'pad-length', `pads has ${pads.length} entries for '${node.inputs[0]!.name}' ${formatDims(shape)} of rank ${shape.length}`, { expected: `${2 * shape.length} entries (begins, then ends)`, actual: `[${pads.join(',')}]` });
  }
};

/** Tile repeats / Expand shape / OneHot depth: constant integers that must not be negative (depth: positive). */
export function verifyNonNegativeOperand(index: number, what: string, minimum = 0): OpVerifier {
  return (context) => {
    const values = constantIntsOf(context.node, index);
    const bad = values?.find((v) => v < minimum);
    if (bad !== undefined) reportAt(context, 'negative-operand', `${what} [${values!.join(',')}] holds ${bad}`, { expected: `values of ${minimum} or more`, actual: String(bad) });
  };
}
