/** Gradients of broadcasting binary arithmetic: Add, Sub, Mul, Div (sums over broadcast axes). */
import { defineGradientRule, type GradientRule } from '../rule-registry.js';

export const arithmeticRules: readonly GradientRule[] = [
  defineGradientRule({
    op: 'onnx.Add',
    gradient: ({ ctx, node, outputGrads, needs }) => {
      const [a, b, y, dy] = [node.input(0), node.input(1), node.output(0), outputGrads[0]!];
      return [needs[0] ? ctx.unbroadcast(dy, a, y, node) : null, needs[1] ? ctx.unbroadcast(dy, b, y, node) : null];
    },
  }),
  defineGradientRule({
    op: 'onnx.Sub',
    gradient: ({ ctx, node, outputGrads, needs }) => {
      const [a, b, y, dy] = [node.input(0), node.input(1), node.output(0), outputGrads[0]!];
      return [needs[0] ? ctx.unbroadcast(dy, a, y, node) : null, needs[1] ? ctx.unbroadcast(ctx.op('Neg', [dy]), b, y, node) : null];
    },
  }),
  defineGradientRule({
    op: 'onnx.Mul',
    gradient: ({ ctx, node, outputGrads, needs }) => {
      const [a, b, y, dy] = [node.input(0), node.input(1), node.output(0), outputGrads[0]!];
      return [
        needs[0] ? ctx.unbroadcast(ctx.op('Mul', [dy, b]), a, y, node) : null,
        needs[1] ? ctx.unbroadcast(ctx.op('Mul', [dy, a]), b, y, node) : null,
      ];
    },
  }),
  defineGradientRule({
    op: 'onnx.Div',
    gradient: ({ ctx, node, outputGrads, needs }) => {
      const [a, b, y, dy] = [node.input(0), node.input(1), node.output(0), outputGrads[0]!];
      const dyOverB = ctx.op('Div', [dy, b]);
      return [
        needs[0] ? ctx.unbroadcast(dyOverB, a, y, node) : null,
        needs[1] ? ctx.unbroadcast(ctx.op('Neg', [ctx.op('Mul', [dyOverB, y])]), b, y, node) : null,
      ];
    },
  }),
];
