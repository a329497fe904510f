import { constantOf, dtypeOf, intsOf, rankOf, shapeOf } from '../util/constants.js';
import { whyDropoutIsNotIdentity } from '../util/dropout.js';
import { normalizeAxis } from '../util/graph-walk.js';
import { declined, definePattern, type TransformPattern } from './pattern.js';
import { dtypeOfToAttribute, forwardOutput, intsAttributeOrInput } from './helpers.js';

const notRenamable = 'its output is a graph output that cannot be renamed';

export const eliminateIdentity = definePattern({
  name: 'eliminate-identity',
  ops: ['onnx.Identity'],
  statistic: 'nodes-removed',
  rewrite(node, rewriter, env) {
    const input = node.inputs[0];
    if (!input) return false;
    return forwardOutput(node, input, rewriter) || declined(env, 'eliminate-identity', node, notRenamable);
  },
});

/** Dropout is the identity at inference time or with ratio 0 (`whyDropoutIsNotIdentity`), when its mask is unused. */
export const eliminateDropout = definePattern({
  name: 'eliminate-dropout',
  ops: ['onnx.Dropout'],
  statistic: 'nodes-removed',
  rewrite(node, rewriter, env) {
    const mask = node.outputs[1];
    if (mask && mask.hasUses) return declined(env, 'eliminate-dropout', node, 'its mask output is used');
    const random = whyDropoutIsNotIdentity(node, env.model);
    if (random) return declined(env, 'eliminate-dropout', node, random);
    return forwardOutput(node, node.input(0), rewriter) || declined(env, 'eliminate-dropout', node, notRenamable);
  },
});

function isIdentityPermutation(perm: readonly number[]): boolean {
  return perm.every((axis, i) => axis === i);
}

export const eliminateNoopTranspose = definePattern({
  name: 'eliminate-noop-transpose',
  ops: ['onnx.Transpose'],
  statistic: 'nodes-removed',
  rewrite(node, rewriter, env) {
    const perm = node.optionalAttr('perm', 'ints');
    const rank = rankOf(node.inputs[0]);
    const noop = perm ? isIdentityPermutation(perm) : rank !== undefined && rank <= 1;
    if (!noop) return false;
    return forwardOutput(node, node.input(0), rewriter) || declined(env, 'eliminate-noop-transpose', node, notRenamable);
  },
});

export const eliminateNoopCast = definePattern({
  name: 'eliminate-noop-cast',
  ops: ['onnx.Cast', 'onnx.CastLike'],
  statistic: 'nodes-removed',
  rewrite(node, rewriter, env) {
    const from = dtypeOf(node.inputs[0]);
    const to = node.op === 'onnx.Cast' ? dtypeOfToAttribute(node) : dtypeOf(node.inputs[1]);
    if (!from || !to) return false;
    if (from !== to) return false;
    return forwardOutput(node, node.input(0), rewriter) || declined(env, 'eliminate-noop-cast', node, notRenamable);
  },
});

/** Reshape to the shape the input already has (0 copies a dim, one -1 takes the rest). */
export const eliminateNoopReshape = definePattern({
  name: 'eliminate-noop-reshape',
  ops: ['onnx.Reshape'],
  statistic: 'nodes-removed',
  rewrite(node, rewriter, env) {
    const input = node.inputs[0];
    const target = intsOf(node.inputs[1]) ?? node.optionalAttr('shape', 'ints');
    const shape = shapeOf(input);
    if (!input || !target || !shape || target.length !== shape.length) return false;
    const allowZero = node.optionalAttr('allowzero', 'int') === 1;
    let wildcards = 0;
    const same = target.every((dim, i) => {
      if (dim === -1) return ++wildcards === 1;
      if (dim === 0 && !allowZero) return true;
      return dim === shape[i];
    });
    if (!same) return false;
    return forwardOutput(node, input, rewriter) || declined(env, 'eliminate-noop-reshape', node, notRenamable);
  },
});

/** Expand whose target shape broadcasts to the input's own shape. */
export const eliminateNoopExpand = definePattern({
  name: 'eliminate-noop-expand',
  ops: ['onnx.Expand'],
  statistic: 'nodes-removed',
  rewrite(node, rewriter, env) {
    const input = node.inputs[0];
    const target = intsOf(node.inputs[1]);
    const shape = shapeOf(input);
    if (!input || !target || !shape || target.length > shape.length) return false;
    const offset = shape.length - target.length;
    if (!target.every((dim, i) => dim === 1 || dim === shape[i + offset])) return false;
    return forwardOutput(node, input, rewriter) || declined(env, 'eliminate-noop-expand', node, notRenamable);
  },
});

export const eliminateNoopPad = definePattern({
  name: 'eliminate-noop-pad',
  ops: ['onnx.Pad'],
  statistic: 'nodes-removed',
  rewrite(node, rewriter, env) {
    const pads = intsAttributeOrInput(node, 'pads', 1);
    if (!pads || !pads.every((p) => p === 0)) return false;
    return forwardOutput(node, node.input(0), rewriter) || declined(env, 'eliminate-noop-pad', node, notRenamable);
  },
});

const HUGE_END = 2 ** 31 - 1;

/** Slice that keeps every element: starts at 0, ends past the end, steps of 1. */
export const eliminateNoopSlice = definePattern({
  name: 'eliminate-noop-slice',
  ops: ['onnx.Slice'],
  statistic: 'nodes-removed',
  rewrite(node, rewriter, env) {
    const input = node.inputs[0];
    const shape = shapeOf(input);
    const starts = intsAttributeOrInput(node, 'starts', 1);
    const ends = intsAttributeOrInput(node, 'ends', 2);
    const axesGiven = intsAttributeOrInput(node, 'axes', 3);
    const steps = intsAttributeOrInput(node, 'steps', 4);
    if (!input || !starts || !ends || axesGiven === undefined || steps === undefined) return false;
    if (starts.length !== ends.length) return false;
    const axes = axesGiven ?? starts.map((_, i) => i);
    for (let i = 0; i < starts.length; i++) {
      if (steps && steps[i] !== 1) return false;
      const rawAxis = axes[i]!;
      const axis = rawAxis < 0 ? (shape ? normalizeAxis(rawAxis, shape.length) : undefined) : rawAxis;
      const dim = axis !== undefined && shape ? shape[axis] : undefined;
      const start = starts[i]!;
      const end = ends[i]!;
      const startsAtZero = start === 0 || (typeof dim === 'number' && start <= -dim);
      const endsPastEnd = end >= HUGE_END || (typeof dim === 'number' && end >= dim);
      if (!startsAtZero || !endsPastEnd) return false;
    }
    return forwardOutput(node, input, rewriter) || declined(env, 'eliminate-noop-slice', node, notRenamable);
  },
});

export const eliminateSingleInputConcat = definePattern({
  name: 'eliminate-single-input-concat',
  ops: ['onnx.Concat', 'onnx.Sum', 'onnx.Max', 'onnx.Min', 'onnx.Mean'],
  statistic: 'nodes-removed',
  rewrite(node, rewriter, env) {
    if (node.inputs.length !== 1 || !node.inputs[0]) return false;
    return forwardOutput(node, node.input(0), rewriter) || declined(env, 'eliminate-single-input-concat', node, notRenamable);
  },
});

export const eliminationPatterns: readonly TransformPattern[] = [
  eliminateIdentity,
  eliminateDropout,
  eliminateNoopTranspose,
  eliminateNoopCast,
  eliminateNoopReshape,
  eliminateNoopExpand,
  eliminateNoopPad,
  eliminateNoopSlice,
  eliminateSingleInputConcat,
];
