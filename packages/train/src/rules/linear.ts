/** Gradients of Gemm (alpha, beta, transA, transB, broadcast C) and MatMul (broadcast batch dims, 1-D operands). */
import { attrs, type Value } from '@modelpass/ir';
import { defineGradientRule, type GradientRule } from '../rule-registry.js';
import type { GradientContext } from '../gradient-context.js';

function lastTwoSwapped(rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  [perm[rank - 1], perm[rank - 2]] = [perm[rank - 2]!, perm[rank - 1]!];
  return perm;
}

function swapLastTwo(ctx: GradientContext, x: Value, rank: number): Value {
  return ctx.transpose(x, lastTwoSwapped(rank));
}

export const linearRules: readonly GradientRule[] = [
  defineGradientRule({
    op: 'onnx.Gemm',
    gradient: ({ ctx, node, outputGrads, needs }) => {
      const [a, b, dy] = [node.input(0), node.input(1), outputGrads[0]!];
      const c = node.inputs[2] ?? null;
      const alpha = attrs.float(node.attr('alpha', 'float', 1));
      const beta = node.attr('beta', 'float', 1);
      const transA = node.attr('transA', 'int', 0) === 1;
      const transB = node.attr('transB', 'int', 0) === 1;
      let da: Value | null = null;
      let db: Value | null = null;
      if (needs[0]) {
        da = transA
          ? ctx.op('Gemm', [b, dy], { alpha, transA: transB ? 1 : 0, transB: 1 })
          : ctx.op('Gemm', [dy, b], { alpha, transB: transB ? 0 : 1 });
      }
      if (needs[1]) {
        db = transB
          ? ctx.op('Gemm', [dy, a], { alpha, transA: 1, transB: transA ? 1 : 0 })
          : ctx.op('Gemm', [a, dy], { alpha, transA: transA ? 0 : 1 });
      }
      let dc: Value | null = null;
      if (c && needs[2]) {
        const scaled = beta === 1 ? dy : ctx.op('Mul', [dy, ctx.scalar(beta, ctx.typeOf(node.output(0)).dtype)]);
        dc = ctx.unbroadcast(scaled, c, node.output(0), node);
      }
      return [da, db, dc];
    },
  }),
  defineGradientRule({
    op: 'onnx.MatMul',
    gradient: ({ ctx, node, outputGrads, needs }) => {
      let [a, b, dy] = [node.input(0), node.input(1), outputGrads[0]!];
      const [aOriginal, bOriginal] = [a, b];
      const rankA = ctx.rankOf(a, node);
      const rankB = ctx.rankOf(b, node);
      if (rankA === 1 && rankB === 1) {
        a = ctx.unsqueeze(a, [0]); b = ctx.unsqueeze(b, [1]); dy = ctx.reshape(dy, [1, 1]);
      } else {
        if (rankA === 1) { a = ctx.unsqueeze(a, [0]); dy = ctx.unsqueeze(dy, [-2]); }
        if (rankB === 1) { b = ctx.unsqueeze(b, [1]); dy = ctx.unsqueeze(dy, [-1]); }
      }
      const rank = Math.max(2, rankA, rankB);
      const ra = Math.max(2, rankA);
      const rb = Math.max(2, rankB);
      const result: (Value | null)[] = [null, null];
      if (needs[0]) {
        const full = ctx.op('MatMul', [dy, swapLastTwo(ctx, b, rb)]);
        result[0] = sumToShape(ctx, full, aOriginal, rank - ra);
      }
      if (needs[1]) {
        const full = ctx.op('MatMul', [swapLastTwo(ctx, a, ra), dy]);
        result[1] = sumToShape(ctx, full, bOriginal, rank - rb);
      }
      return result;
    },
  }),
];

/**
 * Sums a batched matmul gradient over the batch axes its operand broadcast along: the `lead`
 * leading axes it lacks and the batch axes where it has size 1; then reshapes to the operand.
 */
function sumToShape(ctx: GradientContext, grad: Value, operand: Value, lead: number): Value {
  const shape = ctx.typeOf(operand).shape;
  const axes: number[] = [];
  for (let i = 0; i < lead; i++) axes.push(i);
  for (let i = 0; i < shape.length - 2; i++) if (shape[i] === 1) axes.push(lead + i);
  const reduced = axes.length ? ctx.reduceSum(grad, axes, true) : grad;
  return ctx.reshapeLike(reduced, operand);
}
