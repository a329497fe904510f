/** Gradients of data-movement ops: Reshape, Flatten, Squeeze, Unsqueeze, Expand, Transpose, Concat, Split. */
import { defineGradientRule, type GradientRule } from '../rule-registry.js';
import type { Value } from '@modelpass/ir';

const reshapeBack = (op: string, nonDifferentiable: readonly number[] = []): GradientRule =>
  defineGradientRule({ op: `onnx.${op}`, nonDifferentiable, gradient: ({ ctx, node, outputGrads }) => [ctx.reshapeLike(outputGrads[0]!, node.input(0))] });

export const shapeRules: readonly GradientRule[] = [
  reshapeBack('Reshape', [1]),
  reshapeBack('Flatten'),
  reshapeBack('Squeeze', [1]),
  reshapeBack('Unsqueeze', [1]),
  defineGradientRule({
    op: 'onnx.Expand',
    nonDifferentiable: [1],
    gradient: ({ ctx, node, outputGrads }) => [ctx.unbroadcast(outputGrads[0]!, node.input(0), node.output(0), node)],
  }),
  defineGradientRule({
    op: 'onnx.Transpose',
    gradient: ({ ctx, node, outputGrads }) => {
      const rank = ctx.rankOf(node.input(0), node);
      const perm = node.optionalAttr('perm', 'ints') ?? Array.from({ length: rank }, (_, i) => rank - 1 - i);
      const inverse = new Array<number>(rank);
      perm.forEach((p, i) => (inverse[p] = i));
      return [ctx.transpose(outputGrads[0]!, inverse)];
    },
  }),
  defineGradientRule({
    op: 'onnx.Concat',
    gradient: ({ ctx, node, outputGrads, needs }) => {
      const rank = ctx.rankOf(node.input(0), node);
      const raw = node.attr('axis', 'int');
      const axis = raw < 0 ? raw + rank : raw;
      const sizes = node.inputs.map((input) => ctx.op('Slice', [ctx.shapeOf(input!), ctx.ints([axis]), ctx.ints([axis + 1])]));
      const pieces = ctx.emit('Split', [outputGrads[0]!, ctx.op('Concat', sizes, { axis: 0 })], { axis }, node.inputs.length);
      return pieces.map((piece, i) => (needs[i] ? piece : null));
    },
  }),
  defineGradientRule({
    op: 'onnx.Split',
    nonDifferentiable: [1],
    gradient: ({ ctx, node, outputGrads }) => {
      const rank = ctx.rankOf(node.input(0), node);
      const raw = node.attr('axis', 'int', 0);
      const grads: Value[] = node.outputs.map((output, i) => outputGrads[i] ?? ctx.zerosLike(output!));
      return [ctx.op('Concat', grads, { axis: raw < 0 ? raw + rank : raw })];
    },
  }),
];
