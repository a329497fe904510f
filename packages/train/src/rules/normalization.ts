/** BatchNormalization (inference mode) and LayerNormalization gradients. */
import type { Value } from '@modelpass/ir';
import { defineGradientRule, type GradientRule } from '../rule-registry.js';
import { ruleError } from '../gradient-context.js';

/**
 * LayerNormalization over axes [axis, rank): with x̂ = (x − μ)·r, r = 1/√(σ² + ε) and g = dY·scale,
 * dX = r·(g − mean(g) − x̂·mean(g·x̂)); scale and bias get dY·x̂ and dY summed over the broadcast axes.
 */
const layerNormalization = defineGradientRule({
  op: 'onnx.LayerNormalization',
  gradient: ({ ctx, node, outputGrads, needs }) => {
    if (node.outputs.slice(1).some((o) => o && (o.hasUses || o.isGraphOutput))) throw ruleError(node, 'the Mean and InvStdDev outputs are not differentiable');
    const [x, scale, y, dy] = [node.input(0), node.input(1), node.output(0), outputGrads[0]!];
    const bias = node.inputs[2] ?? null;
    const rank = ctx.rankOf(x, node);
    const dtype = ctx.typeOf(x).dtype;
    const raw = node.attr('axis', 'int', -1);
    const first = raw < 0 ? raw + rank : raw;
    const axes = Array.from({ length: rank - first }, (_, i) => first + i);
    const centered = ctx.op('Sub', [x, ctx.reduceMean(x, axes, true)]);
    const variance = ctx.reduceMean(ctx.op('Mul', [centered, centered]), axes, true);
    const inverseStd = ctx.op('Div', [ctx.scalar(1, dtype), ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.scalar(node.attr('epsilon', 'float', 1e-5), dtype)])])]);
    const normalized = ctx.op('Mul', [centered, inverseStd]);
    const result: (Value | null)[] = [null, null, null];
    if (needs[0]) {
      const g = ctx.op('Mul', [dy, scale]);
      const inner = ctx.op('Sub', [ctx.op('Sub', [g, ctx.reduceMean(g, axes, true)]), ctx.op('Mul', [normalized, ctx.reduceMean(ctx.op('Mul', [g, normalized]), axes, true)])]);
      result[0] = ctx.op('Mul', [inner, inverseStd]);
    }
    if (needs[1]) result[1] = ctx.unbroadcast(ctx.op('Mul', [dy, normalized]), scale, y, node);
    if (bias && needs[2]) result[2] = ctx.unbroadcast(dy, bias, y, node);
    return result;
  },
});

export const normalizationRules: readonly GradientRule[] = [
  defineGradientRule({
    op: 'onnx.BatchNormalization',
    nonDifferentiable: [3, 4],
    gradient: ({ ctx, node, outputGrads, needs }) => {
      const training = node.attr('training_mode', 'int', 0) === 1 || node.outputs.slice(1).some((o) => o && (o.hasUses || o.isGraphOutput));
      if (training) throw ruleError(node, 'training-mode BatchNormalization (batch statistics) is not supported yet; only inference mode (running statistics) is');
      const [x, scale, mean, variance] = [node.input(0), node.input(1), node.input(3), node.input(4)];
      const dy = outputGrads[0]!;
      const rank = ctx.rankOf(x, node);
      const dtype = ctx.typeOf(x).dtype;
      const epsilon = node.attr('epsilon', 'float', 1e-5);
      const perChannelAxes = Array.from({ length: rank - 2 }, (_, i) => i + 1);
      const inverseStd = ctx.op('Div', [ctx.scalar(1, dtype), ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.scalar(epsilon, dtype)])])]);
      const inverseStdB = ctx.unsqueeze(inverseStd, perChannelAxes);
      const reduceAxes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
      const result: (Value | null)[] = [null, null, null, null, null];
      if (needs[0]) result[0] = ctx.op('Mul', [dy, ctx.unsqueeze(ctx.op('Mul', [scale, inverseStd]), perChannelAxes)]);
      if (needs[1]) {
        const normalized = ctx.op('Mul', [ctx.op('Sub', [x, ctx.unsqueeze(mean, perChannelAxes)]), inverseStdB]);
        result[1] = ctx.reduceSum(ctx.op('Mul', [dy, normalized]), reduceAxes, false);
      }
      if (needs[2]) result[2] = ctx.reduceSum(dy, reduceAxes, false);
      return result;
    },
  }),
  layerNormalization,
];
