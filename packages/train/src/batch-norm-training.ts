/**
 * Training-mode BatchNormalization, written out in standard ops (ONNX Runtime's inference build has
 * no training-mode BatchNormalization kernel): each node becomes an inference-mode BatchNormalization
 * fed the batch's mean and (biased) variance over every axis but the channel one (computed by
 * ReduceMean, Sub, Mul and ReduceSum), which normalizes in one pass as `x·α + (β − mean·α)`,
 * α = γ/√(σ² + ε), as PyTorch's CPU kernel does. The node is recorded (`batchStatisticsOf`) so that
 * its gradient rule differentiates through the statistics in closed form (`rules/normalization.ts`)
 * instead of autodiff walking the statistics' nodes. The updated running statistics become outputs,
 * PyTorch's way: `running = momentum·running + (1 − momentum)·batch` with ONNX's momentum (PyTorch's
 * 1 − momentum) and the unbiased batch variance for the running variance.
 */
import { Builder, ModelpassError, type Model, type Node, type Value } from '@modelpass/ir';
import { GradientContext } from './gradient-context.js';

/** Initializer name → output carrying its updated value. */
export type RunningStatisticOutputs = Map<string, Value>;

/** What the gradient of a BatchNormalization that normalizes with its batch's statistics reuses. */
export interface BatchStatistics {
  /** x − mean (the input centered per channel), shaped like x. */
  readonly centered: Value;
  /** The per-channel element count N·spatial as a scalar of x's dtype. */
  readonly count: Value;
}

const batchStatisticNodes = new WeakMap<Node, BatchStatistics>();

/** The batch statistics a BatchNormalization written out by `writeOutTrainingBatchNorm` normalizes with, if it is one. */
export function batchStatisticsOf(node: Node): BatchStatistics | undefined {
  return batchStatisticNodes.get(node);
}

export function writeOutTrainingBatchNorm(model: Model): RunningStatisticOutputs {
  const updates: RunningStatisticOutputs = new Map();
  for (const node of [...model.graph.nodesOf('onnx.BatchNormalization')]) {
    const [x, scale, bias, runningMean, runningVar] = [0, 1, 2, 3, 4].map((i) => node.input(i)) as [Value, Value, Value, Value, Value];
    const type = x.type;
    if (type.kind !== 'tensor' || type.shape === null) {
      throw new ModelpassError({ reason: `BatchNormalization '${node.name}': batch statistics need the rank of its input`, source: '@modelpass/train' });
    }
    if (node.outputs.slice(1).some((output) => output && (output.hasUses || output.isGraphOutput))) {
      throw new ModelpassError({ reason: `BatchNormalization '${node.name}': the model reads its running-statistics outputs; cannot write it out`, source: '@modelpass/train' });
    }
    const ctx = new GradientContext(model, type.dtype, Builder.before(node));
    const rank = type.shape.length;
    const reduceAxes = [0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2)];
    const epsilon = node.attr('epsilon', 'float', 1e-5);
    const momentum = node.attr('momentum', 'float', 0.9);
    const mean = ctx.reduceMean(x, reduceAxes, true);
    const centered = ctx.op('Sub', [x, mean]);
    const flatMean = ctx.reshape(mean, [-1]);
    const count = ctx.op('Div', [ctx.sizeAsFloat(x), ctx.sizeAsFloat(flatMean)]);
    // Mul then ReduceSum: ORT's ReduceSumSquare over these axes is slower than the two ops.
    const variance = ctx.op('Div', [ctx.reduceSum(ctx.op('Mul', [centered, centered]), reduceAxes, false), count]);
    const [y] = ctx.emit('BatchNormalization', [x, scale, bias, flatMean, variance], { epsilon: node.attributes.get('epsilon') ?? undefined });
    batchStatisticNodes.set(y!.producer!, { centered, count });
    node.output(0).replaceAllUsesWith(y!);

    const unbiased = ctx.op('Mul', [variance, ctx.op('Div', [count, ctx.op('Sub', [count, ctx.scalar(1)])])]);
    const blend = (running: Value, batch: Value) => ctx.op('Add', [ctx.op('Mul', [running, ctx.scalar(momentum)]), ctx.op('Mul', [batch, ctx.scalar(1 - momentum)])]);
    if (runningMean.isConstant) updates.set(runningMean.name, blend(runningMean, flatMean));
    if (runningVar.isConstant) updates.set(runningVar.name, blend(runningVar, unbiased));
    node.erase();
  }
  return updates;
}
