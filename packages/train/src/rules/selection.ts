/** Gradients of Where (condition not differentiable) and variadic Sum, with broadcasting. */
import type { Value } from '@modelpass/ir';
import { defineGradientRule, type GradientRule } from '../rule-registry.js';

export const selectionRules: readonly GradientRule[] = [
  defineGradientRule({
    op: 'onnx.Where',
    nonDifferentiable: [0],
    gradient: ({ ctx, node, outputGrads, needs }) => {
      const [condition, a, b, y, dy] = [node.input(0), node.input(1), node.input(2), node.output(0), outputGrads[0]!];
      const zero = ctx.scalar(0, ctx.typeOf(y).dtype);
      return [
        null,
        needs[1] ? ctx.unbroadcast(ctx.op('Where', [condition, dy, zero]), a, y, node) : null,
        needs[2] ? ctx.unbroadcast(ctx.op('Where', [condition, zero, dy]), b, y, node) : null,
      ];
    },
  }),
  defineGradientRule({
    op: 'onnx.Sum',
    gradient: ({ ctx, node, outputGrads, needs }) =>
      node.inputs.map((input, i): Value | null => (input && needs[i] ? ctx.unbroadcast(outputGrads[0]!, input, node.output(0), node) : null)),
  }),
];
