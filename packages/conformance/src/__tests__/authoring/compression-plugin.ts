/**
 * A third-party-style plugin written only against the documented API of @modelpass/ir (its
 * README's "Mutation API" section) and @modelpass/pass-manager: the two passes of issue 7.
 *
 * - `int8-weights`: float32 weights of Conv/Gemm/MatMul become int8 behind DequantizeLinear
 *   (symmetric, per output channel by default).
 * - `prune-channels-l1`: removes the output channels with the smallest L1 norm from a Conv whose
 *   output reaches the next Conv only through channel-wise ops (BatchNormalization, Relu, pooling),
 *   and the matching input channels of that next Conv.
 */
import { Builder, quantizeSymmetric, reduceAlongAxis, takeAlongAxis, tensorType, weightOutputAxis, type Node, type Value } from '@modelpass/ir';
import { ANALYSES, definePass, definePlugin, option } from '@modelpass/pass-manager';

export const int8Weights = definePass({
  name: 'int8-weights',
  summary: 'Per-channel int8 weights behind DequantizeLinear',
  options: { perChannel: option.boolean({ default: true, help: 'one scale per output channel' }) },
  statistics: ['weights-quantized'],
  run(model, ctx) {
    for (const node of model.graph.nodesOf('onnx.Conv', 'onnx.Gemm', 'onnx.MatMul')) {
      const weightValue = node.inputs[1];
      const weight = weightValue?.constant;
      if (!weightValue || weight?.dtype !== 'float32') continue;
      const axis = ctx.options.perChannel ? weightOutputAxis(node) : undefined;
      const q = quantizeSymmetric(weight, { bits: 8, axis });
      const at = Builder.before(node);
      const dq = at.create(
        'onnx.DequantizeLinear',
        [at.constant(q.values, `${weightValue.name}_q`), at.constant(q.scale, `${weightValue.name}_scale`), at.constant(q.zeroPoint, `${weightValue.name}_zero`)],
        { axis },
        { types: [tensorType('float32', weight.shape)] },
      );
      node.setInput(1, dq.output(0));
      if (!weightValue.hasUses) model.graph.removeConstant(weightValue);
      ctx.statistic('weights-quantized');
    }
    return ctx.preserve([ANALYSES.shapes.name]);
  },
});

/** Ops that keep channel c of their input in channel c of their output (NCHW). */
const CHANNEL_WISE = new Set(['onnx.BatchNormalization', 'onnx.Relu', 'onnx.MaxPool', 'onnx.AveragePool', 'onnx.LeakyRelu', 'onnx.Sigmoid', 'onnx.Clip']);

/** Follows `value` through single-use channel-wise ops to the Conv that reads it as its data input. */
function channelPath(value: Value): { through: Node[]; next: Node } | undefined {
  const through: Node[] = [];
  let current = value;
  for (;;) {
    if (current.useCount !== 1 || current.isGraphOutput) return undefined;
    const [user] = current.users;
    if (!user || user.inputs[0] !== current) return undefined;
    if (user.op === 'onnx.Conv') return (user.optionalAttr('group', 'int') ?? 1) === 1 ? { through, next: user } : undefined;
    if (!CHANNEL_WISE.has(user.op) || user.outputs.filter((o) => o?.hasUses).length !== 1) return undefined;
    through.push(user);
    current = user.output(0);
  }
}

/** Replaces a constant operand by `slice(data)`: in place when only this node reads it, else a new constant. */
function sliceConstantInput(node: Node, index: number, slice: (t: NonNullable<Value['constant']>) => NonNullable<Value['constant']>): void {
  const value = node.inputs[index];
  if (!value?.constant) return;
  const sliced = slice(value.constant);
  if (value.useCount === 1) value.setConstant(sliced);
  else node.setInput(index, Builder.before(node).constant(sliced, value.name));
}

/** Sets dim 1 (channels) of a value's tensor type. */
function setChannels(value: Value, channels: number): void {
  if (value.type.kind !== 'tensor' || value.type.shape === null) return;
  const shape = value.type.shape.map((dim, axis) => (axis === 1 ? channels : dim));
  value.type = tensorType(value.type.dtype, shape, value.type.quant);
}

export const pruneChannelsL1 = definePass({
  name: 'prune-channels-l1',
  summary: 'Remove the lowest-L1 output channels of a Conv and the inputs of the next Conv that read them',
  options: {
    ratio: option.number({ default: 0.25, min: 0, max: 1, help: 'fraction of channels to remove' }),
    layers: option.list(option.string({}), { help: 'names of the Conv nodes to prune (default: every prunable one)' }),
  },
  statistics: ['channels-removed', 'convs-pruned'],
  run(model, ctx) {
    let changed = false;
    for (const conv of model.graph.nodesOf('onnx.Conv')) {
      const layers = ctx.options.layers;
      if (layers && layers.length > 0 && !layers.includes(conv.name)) continue;
      const weight = conv.inputs[1]?.constant;
      if (!weight || (conv.optionalAttr('group', 'int') ?? 1) !== 1) continue;
      const path = channelPath(conv.output(0));
      if (!path || !path.next.inputs[1]?.constant) {
        ctx.debug(`left ${conv.name} alone: its output does not reach another Conv through channel-wise ops only`);
        continue;
      }
      const norms = reduceAlongAxis(weight, 'l1', 0);
      const remove = Math.floor(norms.length * ctx.options.ratio);
      if (remove === 0 || remove >= norms.length) continue;
      const byNorm = Array.from(norms.keys()).sort((a, b) => norms[a]! - norms[b]! || a - b);
      const keep = byNorm.slice(remove).sort((a, b) => a - b);
      sliceConstantInput(conv, 1, (t) => takeAlongAxis(t, 0, keep));
      sliceConstantInput(conv, 2, (t) => takeAlongAxis(t, 0, keep));
      for (const node of path.through) {
        if (node.op === 'onnx.BatchNormalization') for (const index of [1, 2, 3, 4]) sliceConstantInput(node, index, (t) => takeAlongAxis(t, 0, keep));
      }
      sliceConstantInput(path.next, 1, (t) => takeAlongAxis(t, 1, keep));
      for (const value of [conv.output(0), ...path.through.map((node) => node.output(0))]) setChannels(value, keep.length);
      ctx.statistic('channels-removed', remove);
      ctx.statistic('convs-pruned');
      changed = true;
    }
    return changed ? ctx.preserve([ANALYSES.uses.name, ANALYSES.topologicalOrder.name]) : ctx.preserveAll();
  },
});

export default definePlugin({ name: 'authoring-compression', version: '1.0.0', passManager: '>=0.1.0', passes: [int8Weights, pruneChannelsL1] });
