/** Gradients of Softmax, LogSoftmax, ReduceSum and ReduceMean. */
import type { Node, Value } from '@modelpass/ir';
import { defineGradientRule, type GradientRule } from '../rule-registry.js';
import { ruleError, type GradientContext } from '../gradient-context.js';

function softmaxAxis(ctx: GradientContext, node: Node): number {
  const rank = ctx.rankOf(node.input(0), node);
  const axis = node.attr('axis', 'int', ctx.opset >= 13 ? -1 : 1);
  const normalized = axis < 0 ? axis + rank : axis;
  if (ctx.opset < 13 && normalized !== rank - 1) throw ruleError(node, 'before opset 13 only a softmax over the last axis is differentiable');
  return normalized;
}

/** The reduced axes of a reduction node (attribute or constant input), normalized; all axes when none. */
function reducedAxes(ctx: GradientContext, node: Node): number[] {
  const rank = ctx.rankOf(node.input(0), node);
  let axes: number[] | undefined = node.optionalAttr('axes', 'ints')?.slice();
  const axesInput = node.inputs[1];
  if (axesInput) {
    if (!axesInput.constant) throw ruleError(node, 'the axes input must be a constant');
    axes = axesInput.constant.toNumbers();
  }
  if (!axes || axes.length === 0) {
    if (node.attr('noop_with_empty_axes', 'int', 0) === 1) return [];
    return Array.from({ length: rank }, (_, i) => i);
  }
  return axes.map((a) => (a < 0 ? a + rank : a)).sort((a, b) => a - b);
}

/** dY of a reduction, brought back to the input's shape. */
function expandReduced(ctx: GradientContext, node: Node, dy: Value): Value {
  const axes = reducedAxes(ctx, node);
  const kept = node.attr('keepdims', 'int', 1) === 1;
  const restored = kept || axes.length === 0 ? dy : ctx.unsqueeze(dy, axes);
  return ctx.op('Expand', [restored, ctx.shapeOf(node.input(0))]);
}

export const softmaxReduceRules: readonly GradientRule[] = [
  defineGradientRule({
    op: 'onnx.Softmax',
    gradient: ({ ctx, node, outputGrads }) => {
      const axis = softmaxAxis(ctx, node);
      const [y, dy] = [node.output(0), outputGrads[0]!];
      const dot = ctx.reduceSum(ctx.op('Mul', [dy, y]), [axis], true);
      return [ctx.op('Mul', [y, ctx.op('Sub', [dy, dot])])];
    },
  }),
  defineGradientRule({
    op: 'onnx.LogSoftmax',
    gradient: ({ ctx, node, outputGrads }) => {
      const axis = softmaxAxis(ctx, node);
      const [y, dy] = [node.output(0), outputGrads[0]!];
      const total = ctx.reduceSum(dy, [axis], true);
      return [ctx.op('Sub', [dy, ctx.op('Mul', [ctx.op('Exp', [y]), total])])];
    },
  }),
  defineGradientRule({
    op: 'onnx.ReduceSum',
    nonDifferentiable: [1],
    gradient: ({ ctx, node, outputGrads }) => [expandReduced(ctx, node, outputGrads[0]!)],
  }),
  defineGradientRule({
    op: 'onnx.ReduceMean',
    nonDifferentiable: [1],
    gradient: ({ ctx, node, outputGrads }) => {
      const count = ctx.op('Div', [ctx.sizeAsFloat(node.input(0)), ctx.sizeAsFloat(node.output(0))]);
      return [ctx.op('Div', [expandReduced(ctx, node, outputGrads[0]!), count])];
    },
  }),
];
