/**
 * Gradients of Gather and Slice by one trick: run the same op on the flat positions of the input
 * (`Range(size)` shaped like it) to learn where each output element came from, then scatter-add the
 * output gradient into zeros at those positions (ScatterElements with `reduction=add`, opset 16).
 */
import type { Node, Value } from '@modelpass/ir';
import { defineGradientRule, type GradientRule } from '../rule-registry.js';
import type { GradientContext } from '../gradient-context.js';

/** Flat positions of `x`, shaped like `x` (int64). */
export function flatPositions(ctx: GradientContext, x: Value): Value {
  const size = ctx.op('Size', [x]);
  const range = ctx.op('Range', [ctx.scalar(0, 'int64'), size, ctx.scalar(1, 'int64')]);
  return ctx.reshapeLike(range, x);
}

/** Adds `grad` (shaped like `positions`) into zeros shaped like `x` at the flat `positions`. */
export function scatterAddFlat(ctx: GradientContext, x: Value, positions: Value, grad: Value): Value {
  const flatZeros = ctx.op('Reshape', [ctx.zerosLike(x), ctx.ints([-1])]);
  const scattered = ctx.op('ScatterElements', [flatZeros, ctx.reshape(positions, [-1]), ctx.reshape(grad, [-1])], { axis: 0, reduction: 'add' });
  return ctx.reshapeLike(scattered, x);
}

function replay(ctx: GradientContext, node: Node, source: Value): Value {
  const op = node.op.slice('onnx.'.length);
  const attributes = Object.fromEntries(node.attributes);
  return ctx.op(op, [source, ...node.inputs.slice(1)], attributes);
}

export const indexingRules: readonly GradientRule[] = [
  defineGradientRule({
    op: 'onnx.Gather',
    nonDifferentiable: [1],
    gradient: ({ ctx, node, outputGrads }) => {
      const x = node.input(0);
      return [scatterAddFlat(ctx, x, replay(ctx, node, flatPositions(ctx, x)), outputGrads[0]!)];
    },
  }),
  defineGradientRule({
    op: 'onnx.Slice',
    nonDifferentiable: [1, 2, 3, 4],
    gradient: ({ ctx, node, outputGrads }) => {
      const x = node.input(0);
      return [scatterAddFlat(ctx, x, replay(ctx, node, flatPositions(ctx, x)), outputGrads[0]!)];
    },
  }),
];
