/**
 * Verify hooks on the values of constant operands, where the inferred shape would otherwise come out
 * negative, infinite or larger than the input (and be written to the output file as such): Slice steps
 * of 0, Squeeze of an axis whose size is not 1, TopK's k beyond its axis, Pad that crops past a dim, Gather
 * indices outside their axis (ONNX Runtime fails at run time).
 */
import type { Dim, Node } from '@modelpass/ir';
import { staticDim } from '../util/inference.js';
import { constantIntsOf, inputShapeOf, intAttribute, intsAttribute, reportAt, type OpVerifier } from './verify-context.js';

function formatDims(shape: readonly Dim[]): string {
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(',')}]`;
}

/** `axis` counted from the end when negative, or undefined when outside the rank. */
function normalizedAxis(axis: number, rank: number): number | undefined {
  const normalized = axis < 0 ? axis + rank : axis;
  return normalized >= 0 && normalized < rank ? normalized : undefined;
}

/** An integer operand from input `index` (when the node has it) or the attribute of older opsets. */
function intsOperand(node: Node, index: number, attribute: string): readonly number[] | undefined {
  return node.inputs[index] ? constantIntsOf(node, index) : intsAttribute(node, attribute);
}

export const verifySliceSteps: OpVerifier = (context) => {
  const steps = context.node.inputs[4] ? constantIntsOf(context.node, 4) : undefined;
  const zero = steps?.indexOf(0) ?? -1;
  if (zero >= 0) reportAt(context, 'slice-step', `steps[${zero}] is 0`, { expected: 'non-zero steps (negative ones slice backwards)', actual: `[${steps!.join(',')}]` });
};

export const verifySqueezeAxes: OpVerifier = (context) => {
  const { node } = context;
  const shape = inputShapeOf(node, 0);
  const axes = intsOperand(node, 1, 'axes');
  if (!shape || !axes) return;
  for (const axis of axes) {
    const normalized = normalizedAxis(axis, shape.length);
    if (normalized === undefined) {
      reportAt(context, 'axis-range', `axis ${axis} is out of range for an input of rank ${shape.length}`, { actual: formatDims(shape) });
      continue;
    }
    const dim = staticDim(shape[normalized]);
    if (dim !== undefined && dim !== 1) {
      reportAt(context, 'squeeze-axis', `axis ${axis} of '${node.inputs[0]!.name}' ${formatDims(shape)} has size ${dim}; only a size-1 axis can be squeezed`, { expected: 'axes of size 1', actual: `size ${dim}` });
    }
  }
};

export const verifyTopK: OpVerifier = (context) => {
  const { node } = context;
  const shape = inputShapeOf(node, 0);
  const k = node.inputs[1] ? constantIntsOf(node, 1)?.[0] : intAttribute(node, 'k');
  if (k === undefined) return;
  if (k < 0) {
    reportAt(context, 'topk-k', `k is ${k}`, { expected: 'k >= 0' });
    return;
  }
  if (!shape) return;
  const axis = normalizedAxis(intAttribute(node, 'axis') ?? -1, shape.length);
  if (axis === undefined) {
    reportAt(context, 'axis-range', `axis ${intAttribute(node, 'axis') ?? -1} is out of range for an input of rank ${shape.length}`, { actual: formatDims(shape) });
    return;
  }
  const dim = staticDim(shape[axis]);
  if (dim !== undefined && k > dim) reportAt(context, 'topk-k', `k is ${k} but axis ${axis} of '${node.inputs[0]!.name}' ${formatDims(shape)} has only ${dim} elements`, { expected: `k <= ${dim}`, actual: String(k) });
};

export const verifyPadResult: OpVerifier = (context) => {
  const { node } = context;
  const shape = inputShapeOf(node, 0);
  if (!shape || node.inputs[3]) return; // with `axes` (opset 18) the pads cover only those axes
  const pads = intsOperand(node, 1, 'pads');
  if (!pads || pads.length !== 2 * shape.length) return;
  shape.forEach((d, axis) => {
    const dim = staticDim(d);
    if (dim === undefined) return;
    const size = dim + pads[axis]! + pads[axis + shape.length]!;
    if (size < 0) {
      reportAt(context, 'pad-size', `pads (${pads[axis]}, ${pads[axis + shape.length]}) crop axis ${axis} of '${node.inputs[0]!.name}' ${formatDims(shape)} to ${size} elements`, {
        expected: `begin + end >= -${dim} on axis ${axis}`,
        actual: `[${pads.join(',')}]`,
      });
    }
  });
};

export const verifyGatherIndices: OpVerifier = (context) => {
  const { node } = context;
  const shape = inputShapeOf(node, 0);
  if (!shape) return;
  const axis = normalizedAxis(intAttribute(node, 'axis') ?? 0, shape.length);
  if (axis === undefined) {
    // Whatever the indices (ONNX Runtime refuses it at load; run-time indices were let through before).
    reportAt(context, 'axis-range', `axis ${intAttribute(node, 'axis') ?? 0} is out of range for data of rank ${shape.length}`, { expected: `an axis in [${-shape.length}, ${shape.length - 1}]`, actual: `data ${formatDims(shape)}` });
    return;
  }
  const indices = constantIntsOf(node, 1);
  if (!indices) return;
  const dim = staticDim(shape[axis]);
  if (dim === undefined) return;
  const outside = indices.find((index) => index < -dim || index >= dim);
  if (outside !== undefined) {
    reportAt(context, 'gather-index', `index ${outside} is outside axis ${axis} of '${node.inputs[0]!.name}' ${formatDims(shape)}`, { expected: `indices in [${-dim}, ${dim - 1}]`, actual: String(outside) });
  }
};
