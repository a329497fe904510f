/** Gradients of unary element-wise ops: activations, Erf, Sqrt, Pow (by a constant exponent), Exp, Log, casts. */
import { defineGradientRule, type GradientRule } from '../rule-registry.js';
import { dtypeCode, ruleError } from '../gradient-context.js';
import { eraseUnusedScatter, tiledMaxPoolGradientOf } from './max-pool-tiled.js';

const unary = (op: string, grad: GradientRule['gradient']): GradientRule => defineGradientRule({ op: `onnx.${op}`, gradient: grad });

export const elementwiseRules: readonly GradientRule[] = [
  unary('Identity', ({ outputGrads }) => [outputGrads[0]!]),
  defineGradientRule({
    op: 'onnx.Dropout',
    nonDifferentiable: [1, 2],
    gradient: ({ node, outputGrads }) => {
      const training = node.inputs[2];
      if (training && !(training.constant && training.constant.toNumbers()[0] === 0)) {
        throw ruleError(node, "a training-mode Dropout needs buildGradientGraph's dropout: 'train' (masks fed as inputs); in inference mode Dropout is the identity");
      }
      return [outputGrads[0]!];
    },
  }),
  unary('Neg', ({ ctx, outputGrads }) => [ctx.op('Neg', [outputGrads[0]!])]),
  unary('Relu', ({ ctx, node, outputGrads }) => {
    const x = node.input(0);
    const zero = ctx.scalar(0, ctx.typeOf(x).dtype);
    const pooled = tiledMaxPoolGradientOf(outputGrads[0]!);
    if (pooled && pooled.poolInput === node.output(0)) {
      // Relu then a tiling MaxPool: dY reaches only each window's selected element s, where relu'(x_s) = [Y > 0]
      // (Y = relu(x_s)), so mask the pooled gradient and scatter it instead of masking the full-size one.
      const masked = ctx.op('Where', [ctx.op('Greater', [pooled.pooled, zero]), pooled.pooledGrad, zero]);
      const dx = pooled.scatter(masked);
      eraseUnusedScatter(outputGrads[0]!);
      return [dx];
    }
    const positive = ctx.op('Greater', [x, zero]);
    return [ctx.op('Where', [positive, outputGrads[0]!, zero])];
  }),
  defineGradientRule({
    op: 'onnx.Clip',
    nonDifferentiable: [1, 2],
    gradient: ({ ctx, node, outputGrads }) => {
      const x = node.input(0);
      const dtype = ctx.typeOf(x).dtype;
      let inside = null;
      const min = node.inputs[1] ?? (node.optionalAttr('min', 'float') !== undefined ? ctx.scalar(node.attr('min', 'float'), dtype) : null);
      const max = node.inputs[2] ?? (node.optionalAttr('max', 'float') !== undefined ? ctx.scalar(node.attr('max', 'float'), dtype) : null);
      if (min) inside = ctx.op('GreaterOrEqual', [x, min]);
      if (max) {
        const below = ctx.op('LessOrEqual', [x, max]);
        inside = inside ? ctx.op('And', [inside, below]) : below;
      }
      if (!inside) return [outputGrads[0]!];
      return [ctx.op('Where', [inside, outputGrads[0]!, ctx.scalar(0, dtype)])];
    },
  }),
  unary('Sigmoid', ({ ctx, node, outputGrads }) => {
    const y = node.output(0);
    const oneMinus = ctx.op('Sub', [ctx.scalar(1, ctx.typeOf(y).dtype), y]);
    return [ctx.op('Mul', [outputGrads[0]!, ctx.op('Mul', [y, oneMinus])])];
  }),
  unary('Tanh', ({ ctx, node, outputGrads }) => {
    const y = node.output(0);
    const oneMinus = ctx.op('Sub', [ctx.scalar(1, ctx.typeOf(y).dtype), ctx.op('Mul', [y, y])]);
    return [ctx.op('Mul', [outputGrads[0]!, oneMinus])];
  }),
  unary('Exp', ({ ctx, node, outputGrads }) => [ctx.op('Mul', [outputGrads[0]!, node.output(0)])]),
  unary('Log', ({ ctx, node, outputGrads }) => [ctx.op('Div', [outputGrads[0]!, node.input(0)])]),
  unary('Sqrt', ({ ctx, node, outputGrads }) => {
    const y = node.output(0);
    return [ctx.op('Div', [outputGrads[0]!, ctx.op('Mul', [y, ctx.scalar(2, ctx.typeOf(y).dtype)])])];
  }),
  unary('Erf', ({ ctx, node, outputGrads }) => {
    const x = node.input(0);
    const dtype = ctx.typeOf(x).dtype;
    const gauss = ctx.op('Exp', [ctx.op('Neg', [ctx.op('Mul', [x, x])])]);
    return [ctx.op('Mul', [outputGrads[0]!, ctx.op('Mul', [gauss, ctx.scalar(2 / Math.sqrt(Math.PI), dtype)])])];
  }),
  defineGradientRule({
    op: 'onnx.Pow',
    nonDifferentiable: [1],
    gradient: ({ ctx, node, outputGrads }) => {
      const [x, exponent] = [node.input(0), node.input(1)];
      const dtype = ctx.typeOf(x).dtype;
      const e = ctx.typeOf(exponent).dtype === dtype ? exponent : ctx.op('Cast', [exponent], { to: dtypeCode(dtype) });
      const local = ctx.op('Mul', [e, ctx.op('Pow', [x, ctx.op('Sub', [e, ctx.scalar(1, dtype)])])]);
      return [ctx.unbroadcast(ctx.op('Mul', [outputGrads[0]!, local]), x, node.output(0), node)];
    },
  }),
  unary('Cast', ({ ctx, node, outputGrads }) => {
    const dtype = ctx.typeOf(node.input(0)).dtype;
    return [ctx.op('Cast', [outputGrads[0]!], { to: dtypeCode(dtype) })];
  }),
];
