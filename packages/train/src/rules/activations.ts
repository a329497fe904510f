/** Gradients of piecewise and smooth activations beyond the basic set: LeakyRelu, HardSigmoid, HardSwish, Gelu (exact form). */
import type { DType, Node, Value } from '@modelpass/ir';
import { defineGradientRule, type GradientRule } from '../rule-registry.js';
import { ruleError, type GradientContext } from '../gradient-context.js';

function inRange(ctx: GradientContext, x: Value, low: number, high: number, dtype: DType): Value {
  return ctx.op('And', [ctx.op('Greater', [x, ctx.scalar(low, dtype)]), ctx.op('Less', [x, ctx.scalar(high, dtype)])]);
}

function zero(ctx: GradientContext, node: Node): Value {
  return ctx.scalar(0, ctx.typeOf(node.input(0)).dtype);
}

export const activationRules: readonly GradientRule[] = [
  defineGradientRule({
    op: 'onnx.LeakyRelu',
    gradient: ({ ctx, node, outputGrads }) => {
      const x = node.input(0);
      const dtype = ctx.typeOf(x).dtype;
      const scaled = ctx.op('Mul', [outputGrads[0]!, ctx.scalar(node.attr('alpha', 'float', 0.01), dtype)]);
      return [ctx.op('Where', [ctx.op('Greater', [x, zero(ctx, node)]), outputGrads[0]!, scaled])];
    },
  }),
  defineGradientRule({
    op: 'onnx.HardSigmoid',
    gradient: ({ ctx, node, outputGrads }) => {
      const x = node.input(0);
      const dtype = ctx.typeOf(x).dtype;
      const alpha = node.attr('alpha', 'float', 0.2);
      const beta = node.attr('beta', 'float', 0.5);
      const inside = inRange(ctx, ctx.op('Add', [ctx.op('Mul', [x, ctx.scalar(alpha, dtype)]), ctx.scalar(beta, dtype)]), 0, 1, dtype);
      return [ctx.op('Where', [inside, ctx.op('Mul', [outputGrads[0]!, ctx.scalar(alpha, dtype)]), zero(ctx, node)])];
    },
  }),
  defineGradientRule({
    op: 'onnx.HardSwish',
    gradient: ({ ctx, node, outputGrads }) => {
      const x = node.input(0);
      const dtype = ctx.typeOf(x).dtype;
      const dy = outputGrads[0]!;
      const slope = ctx.op('Add', [ctx.op('Mul', [x, ctx.scalar(1 / 3, dtype)]), ctx.scalar(0.5, dtype)]);
      const middle = ctx.op('Where', [inRange(ctx, x, -3, 3, dtype), ctx.op('Mul', [dy, slope]), zero(ctx, node)]);
      return [ctx.op('Where', [ctx.op('GreaterOrEqual', [x, ctx.scalar(3, dtype)]), dy, middle])];
    },
  }),
  defineGradientRule({
    op: 'onnx.Gelu',
    gradient: ({ ctx, node, outputGrads }) => {
      if (node.attr('approximate', 'string', 'none') !== 'none') throw ruleError(node, "only approximate='none' (the erf form) is supported yet");
      const x = node.input(0);
      const dtype = ctx.typeOf(x).dtype;
      const cdf = ctx.op('Mul', [ctx.scalar(0.5, dtype), ctx.op('Add', [ctx.scalar(1, dtype), ctx.op('Erf', [ctx.op('Mul', [x, ctx.scalar(Math.SQRT1_2, dtype)])])])]);
      const pdf = ctx.op('Mul', [ctx.op('Exp', [ctx.op('Mul', [ctx.op('Mul', [x, x]), ctx.scalar(-0.5, dtype)])]), ctx.scalar(1 / Math.sqrt(2 * Math.PI), dtype)]);
      return [ctx.op('Mul', [outputGrads[0]!, ctx.op('Add', [cdf, ctx.op('Mul', [x, pdf])])])];
    },
  }),
];
