import type { RewritePattern } from '@modelpass/ir';
import { eraseIfUnused, forwardOutput } from './graph-edits.js';
import { clipLowerBound, isNonNegative } from './non-negative.js';

/**
 * `Relu(y)` where `y` can never be negative (the output of Relu, Sigmoid, HardSigmoid, Softplus,
 * Softmax, Exp, float Abs, or a Clip with a constant lower bound ≥ 0) is `y` itself: the Relu goes.
 * Exact, NaN and -0 included (Relu passes both through unchanged).
 */
export const dropRedundantRelu: RewritePattern = {
  name: 'activations.drop-redundant-relu',
  ops: ['onnx.Relu'],
  rewrite(node) {
    const input = node.inputs[0];
    if (!input || !isNonNegative(input)) return false;
    return forwardOutput(node, input);
  },
};

/**
 * `Clip(Relu(x), lo, hi)` with a constant `lo ≥ 0` is `Clip(x, lo, hi)`: the Clip already lifts
 * everything below `lo`, so the Relu before it changes nothing. The Relu is erased when the Clip
 * was its only reader. Works for Clip's attribute form (opset < 11) and input form alike.
 */
export const dropReluBeforeClip: RewritePattern = {
  name: 'activations.drop-relu-before-clip',
  ops: ['onnx.Clip'],
  rewrite(node) {
    const relu = node.inputs[0]?.producer;
    if (!relu || relu.op !== 'onnx.Relu' || !relu.inputs[0]) return false;
    const lower = clipLowerBound(node);
    if (lower === undefined || lower < 0) return false;
    node.setInput(0, relu.inputs[0]);
    eraseIfUnused(relu);
    return true;
  },
};

/** The patterns this plugin offers to `canonicalize`. */
export const activationPatterns: readonly RewritePattern[] = [dropRedundantRelu, dropReluBeforeClip];
