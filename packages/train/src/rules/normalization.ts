/** BatchNormalization (inference mode, and with batch statistics) and LayerNormalization gradients. */
import { attrs, type Node, type Value } from '@modelpass/ir';
import { batchStatisticsOf, type BatchStatistics } from '../batch-norm-training.js';
import { defineGradientRule, type GradientRule } from '../rule-registry.js';
import { ruleError, type GradientContext } from '../gradient-context.js';

/**
 * A BatchNormalization normalizing with its own batch's statistics (`writeOutTrainingBatchNorm`), in closed
 * form: with c = x − mean, r = 1/√(σ² + ε), m the per-channel count and sums over every axis but the channel,
 * dβ = Σdy, dγ = r·Σ(dy·c), dx = γr·dy − c·(γr³·Σ(dy·c)/m) − γr·Σdy/m.
 * The per-channel factors are computed on [C] tensors; on the big tensors that leaves Σdy, dy·c and its sum,
 * and dx as an inference-mode BatchNormalization of c (mean 0, variance 1, ε = 0: exactly c·k + b) plus dy·γr.
 */
function batchStatisticsGradient(ctx: GradientContext, node: Node, dy: Value, needs: readonly boolean[], statistics: BatchStatistics): (Value | null)[] {
  const [x, scale, variance] = [node.input(0), node.input(1), node.input(4)];
  const rank = ctx.rankOf(x, node);
  const dtype = ctx.typeOf(x).dtype;
  const reduceAxes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
  const perChannelAxes = Array.from({ length: rank - 2 }, (_, i) => i + 1);
  const { centered, count } = statistics;
  const inverseStd = ctx.op('Div', [ctx.scalar(1, dtype), ctx.op('Sqrt', [ctx.op('Add', [variance, ctx.scalar(node.attr('epsilon', 'float', 1e-5), dtype)])])]);
  const sumDy = ctx.reduceSum(dy, reduceAxes, false);
  const sumDyCentered = ctx.reduceSum(ctx.op('Mul', [dy, centered]), reduceAxes, false);
  const result: (Value | null)[] = [null, null, null, null, null];
  if (needs[0]) {
    const gain = ctx.op('Mul', [scale, inverseStd]);
    const centeredFactor = ctx.op('Neg', [ctx.op('Div', [ctx.op('Mul', [ctx.op('Mul', [gain, ctx.op('Mul', [inverseStd, inverseStd])]), sumDyCentered]), count])]);
    const shift = ctx.op('Neg', [ctx.op('Div', [ctx.op('Mul', [gain, sumDy]), count])]);
    const zeros = ctx.op('Mul', [variance, ctx.scalar(0, dtype)]);
    const ones = ctx.op('Add', [zeros, ctx.scalar(1, dtype)]);
    const centeredTerm = ctx.op('BatchNormalization', [centered, centeredFactor, shift, zeros, ones], { epsilon: attrs.float(0) });
    result[0] = ctx.op('Add', [centeredTerm, ctx.op('Mul', [dy, ctx.unsqueeze(gain, perChannelAxes)])]);
  }
  if (needs[1]) result[1] = ctx.op('Mul', [sumDyCentered, inverseStd]);
  if (needs[2]) result[2] = sumDy;
  return result;
}

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

/** Whether `value` is computed (through any nodes) from `source`. */
function computedFrom(value: Value, source: Value): boolean {
  const seen = new Set<Value>();
  const stack = [value];
  while (stack.length) {
    const current = stack.pop()!;
    if (current === source) return true;
    if (seen.has(current)) continue;
    seen.add(current);
    for (const input of current.producer?.inputs ?? []) if (input) stack.push(input);
  }
  return false;
}

export const normalizationRules: readonly GradientRule[] = [
  defineGradientRule({
    op: 'onnx.BatchNormalization',
    nonDifferentiable: [3, 4],
    gradient: ({ ctx, node, outputGrads, needs }) => {
      const statistics = batchStatisticsOf(node);
      if (statistics) return batchStatisticsGradient(ctx, node, outputGrads[0]!, needs, statistics);
      const training = node.attr('training_mode', 'int', 0) === 1 || node.outputs.slice(1).some((o) => o && (o.hasUses || o.isGraphOutput));
      if (training) throw ruleError(node, 'training-mode BatchNormalization (batch statistics) is not supported yet; only inference mode (running statistics) is');
      const [x, scale, mean, variance] = [node.input(0), node.input(1), node.input(3), node.input(4)];
      if (computedFrom(mean, x) || computedFrom(variance, x)) {
        throw ruleError(node, 'its mean or variance is computed from its own input, which only a BatchNormalization written out by writeOutTrainingBatchNorm in the same buildGradientGraph call can be differentiated through (use batchNormalization: \'batch-statistics\' on the original model)');
      }
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
