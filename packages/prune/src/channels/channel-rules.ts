/**
 * How each op carries channels from its inputs to its outputs: a table of rules indexed by op
 * (a new op is one entry). Layer ops (Conv, Gemm, MatMul) consume groups and produce new ones;
 * channel-wise ops pass the layout through; elementwise ops tie their operands' groups; shape ops
 * live in `channel-shape-rules.ts`.
 */
import { attrs, type Node } from '@modelpass/ir';
import { fullPiece, scaleBlocks, keptIndices, type ChannelLayout } from './channel-layout.js';
import type { ChannelAnalysis } from './dependency-groups.js';
import { SHAPE_RULES } from './channel-shape-rules.js';
import { constantOf, describeNode, refuseUnknownOp, shapeOf, type ChannelRule } from './channel-rule-helpers.js';

export { refuseUnknownOp, type ChannelRule };

function intAttr(node: Node, name: string, fallback: number): number {
  return node.optionalAttr(name, 'int') ?? fallback;
}

function conv(node: Node, analysis: ChannelAnalysis): void {
  const input = analysis.trackedOf(node.inputs[0]);
  const weight = node.inputs[1]?.constant;
  if (!weight || weight.rank < 3) {
    refuseUnknownOp(node, analysis, 'has weights that are not a constant');
    return;
  }
  const groups = intAttr(node, 'group', 1);
  const outChannels = weight.shape[0]!;
  const perGroupIn = weight.shape[1]!;
  const inChannels = perGroupIn * groups;
  if (input && input.axis !== 1) {
    analysis.refuse(input.layout, `${describeNode(node)} reads channels on axis ${input.axis}, not 1`);
    return;
  }
  if (groups === 1) {
    if (input) {
      analysis.param(node, 1, 1, input.layout, 'consumer');
      analysis.addConsumer(node, input);
    }
    produce(node, analysis, outChannels, 0, 1);
    return;
  }
  if (perGroupIn === 1 && input) {
    // Depthwise (channel multiplier M): output channel o comes from input channel floor(o / M).
    const multiplier = outChannels / inChannels;
    const layout = scaleBlocks(input.layout, multiplier);
    analysis.param(node, 1, 0, layout, 'producer');
    analysis.param(node, 2, 0, layout, 'producer');
    analysis.fixup(node, 'group count', input.layout, () => node.setAttribute('group', attrs.int(keptIndices(input.layout).length)));
    analysis.track(node.outputs[0], 1, layout);
    return;
  }
  if (perGroupIn === 1) return; // depthwise over channels that are not tracked (a graph input): nothing to prune
  // Grouped convolution: remove channels evenly from each of its `groups` blocks, on both sides.
  if (input) {
    if (input.layout.length !== 1 || input.layout[0]!.block !== 1 || input.layout[0]!.to - input.layout[0]!.from !== inChannels || input.layout[0]!.from !== 0) {
      analysis.refuse(input.layout, `${describeNode(node)} (group=${groups}) reads channels that are not one whole group`);
    } else {
      const root = input.layout[0]!.group.root();
      root.granularity = lcm(root.granularity, groups);
      analysis.groupedWeights.push({ node, groups, input: input.layout });
      analysis.addConsumer(node, input);
    }
  }
  const output = produce(node, analysis, outChannels, 0, groups);
  if (output) output.group.root().granularity = lcm(output.group.root().granularity, groups);
}

/** ConvTranspose (group 1): weight [C_in, C_out, k…]; consumes on axis 0, produces on axis 1. */
function convTranspose(node: Node, analysis: ChannelAnalysis): void {
  const input = analysis.trackedOf(node.inputs[0]);
  const weight = node.inputs[1]?.constant;
  if (!weight || weight.rank < 3 || intAttr(node, 'group', 1) !== 1) {
    refuseUnknownOp(node, analysis, weight ? 'is a grouped transposed convolution' : 'has weights that are not a constant');
    return;
  }
  if (input) {
    if (input.axis !== 1) return analysis.refuse(input.layout, `${describeNode(node)} reads channels on axis ${input.axis}, not 1`);
    analysis.param(node, 1, 0, input.layout, 'consumer');
  }
  produce(node, analysis, weight.shape[1]!, 1, 1);
}

function lcm(a: number, b: number): number {
  const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
  return (a * b) / gcd(a, b);
}

/** A layer's output channels: a new group sliced in weight `axis` and the bias. */
function produce(node: Node, analysis: ChannelAnalysis, channels: number, weightAxis: number, granularity: number, outputAxis = 1) {
  const group = analysis.newGroup(channels, `${describeNode(node)} output channels`);
  group.granularity = granularity;
  const piece = fullPiece(group);
  analysis.param(node, 1, weightAxis, [piece], 'producer');
  const bias = node.inputs[2];
  const biasShape = bias?.constant?.shape;
  if (biasShape && biasShape.length > 0 && biasShape[biasShape.length - 1] === channels) analysis.param(node, 2, biasShape.length - 1, [piece], 'channelwise');
  else if (bias && !bias.constant && biasShape === undefined) analysis.refuse([piece], `${describeNode(node)} adds a bias that is not a constant`);
  analysis.track(node.outputs[0], outputAxis, [piece]);
  const consumer = analysis.consumerOf(node);
  if (consumer) consumer.output = { axis: outputAxis, layout: [piece] };
  return piece;
}

function gemm(node: Node, analysis: ChannelAnalysis): void {
  const weight = node.inputs[1]?.constant;
  const input = analysis.trackedOf(node.inputs[0]);
  if (!weight || weight.rank !== 2 || intAttr(node, 'transA', 0) !== 0) {
    refuseUnknownOp(node, analysis, weight ? 'transposes its input (transA=1)' : 'has weights that are not a constant');
    return;
  }
  const transB = intAttr(node, 'transB', 0) === 1;
  if (input) {
    if (input.axis !== 1) analysis.refuse(input.layout, `${describeNode(node)} reads features on axis ${input.axis}, not 1`);
    else {
      analysis.param(node, 1, transB ? 1 : 0, input.layout, 'consumer');
      analysis.addConsumer(node, input);
    }
  }
  const bias = node.inputs[2];
  if (bias && !bias.constant) {
    refuseUnknownOp(node, analysis, 'adds a bias that is not a constant');
    return;
  }
  produce(node, analysis, weight.shape[transB ? 0 : 1]!, transB ? 0 : 1, 1);
}

function matMul(node: Node, analysis: ChannelAnalysis): void {
  const weight = node.inputs[1]?.constant;
  const input = analysis.trackedOf(node.inputs[0]);
  const rank = shapeOf(node.inputs[0])?.length;
  if (!weight || weight.rank !== 2 || rank === undefined || rank < 2) {
    refuseUnknownOp(node, analysis, 'multiplies by a value that is not a constant matrix');
    return;
  }
  if (input) {
    if (input.axis !== rank - 1) analysis.refuse(input.layout, `${describeNode(node)} reads features on axis ${input.axis}, not the last`);
    else {
      analysis.param(node, 1, 0, input.layout, 'consumer');
      analysis.addConsumer(node, input);
    }
  }
  const group = analysis.newGroup(weight.shape[1]!, `${describeNode(node)} output features`);
  analysis.param(node, 1, 1, [fullPiece(group)], 'producer');
  analysis.track(node.outputs[0], rank - 1, [fullPiece(group)]);
  const consumer = analysis.consumerOf(node);
  if (consumer) consumer.output = { axis: rank - 1, layout: [fullPiece(group)] };
}

function batchNormalization(node: Node, analysis: ChannelAnalysis): void {
  const input = analysis.trackedOf(node.inputs[0]);
  if (!input) return;
  if (input.axis !== 1 || node.outputs.slice(1).some((output) => output?.hasUses)) {
    analysis.refuse(input.layout, `${describeNode(node)} normalizes another axis or returns running statistics`);
    return;
  }
  for (const index of [1, 2, 3, 4]) {
    if (node.inputs[index] && !node.inputs[index]!.constant) analysis.refuse(input.layout, `${describeNode(node)} reads parameters that are not constants`);
    analysis.param(node, index, 0, input.layout, index === 1 ? 'bn-scale' : 'channelwise');
  }
  analysis.track(node.outputs[0], 1, input.layout);
}

function instanceNormalization(node: Node, analysis: ChannelAnalysis): void {
  const input = analysis.trackedOf(node.inputs[0]);
  if (!input) return;
  if (input.axis !== 1) return analysis.refuse(input.layout, `${describeNode(node)} normalizes another axis`);
  analysis.param(node, 1, 0, input.layout, 'bn-scale');
  analysis.param(node, 2, 0, input.layout, 'channelwise');
  analysis.track(node.outputs[0], 1, input.layout);
}

/** Ops whose output channel c depends only on input channel c (other operands are scalars or attributes). */
const CHANNEL_WISE_OPS = [
  'Relu', 'LeakyRelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Clip', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'Gelu', 'Mish',
  'Erf', 'Identity', 'Neg', 'Abs', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'ThresholdedRelu', 'Shrink', 'Dropout',
  'MaxPool', 'AveragePool', 'LpPool', 'GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool', 'Cast',
];

function channelWise(node: Node, analysis: ChannelAnalysis): void {
  const input = analysis.trackedOf(node.inputs[0]);
  if (!input) return;
  for (const extra of node.inputs.slice(1)) {
    if (!extra) continue;
    const constant = constantOf(extra);
    const size = constant ? constant.shape.reduce((a, b) => a * b, 1) : undefined;
    if (size !== 1 && node.opType !== 'Dropout') return analysis.refuse(input.layout, `${describeNode(node)} reads '${extra.name}', which is not a scalar`);
  }
  if (node.opType === 'MaxPool' && node.outputs[1]?.hasUses) return analysis.refuse(input.layout, `${describeNode(node)} returns indices that count channels`);
  analysis.track(node.outputs[0], input.axis, input.layout);
}

/** Elementwise ops with numpy broadcasting: tracked operands are tied, constant operands sliced. */
function elementwise(node: Node, analysis: ChannelAnalysis): void {
  const outputRank = shapeOf(node.outputs[0])?.length ?? Math.max(...node.inputs.map((input) => shapeOf(input)?.length ?? 0));
  let axis: number | undefined;
  let layout: ChannelLayout | undefined;
  const trackedInputs = node.inputs.map((input) => analysis.trackedOf(input));
  for (let i = 0; i < node.inputs.length; i++) {
    const dim = trackedInputs[i];
    if (!dim) continue;
    const aligned = dim.axis + outputRank - (shapeOf(node.inputs[i])?.length ?? outputRank);
    if (axis === undefined || layout === undefined) {
      axis = aligned;
      layout = dim.layout;
    } else if (aligned !== axis) {
      analysis.refuse(dim.layout, `${describeNode(node)} combines channels on different axes`);
      analysis.refuse(layout, `${describeNode(node)} combines channels on different axes`);
    } else analysis.unify(layout, dim.layout, `${describeNode(node)} ties channel layouts that do not line up piece by piece`);
  }
  if (axis === undefined || layout === undefined) return;
  for (let i = 0; i < node.inputs.length; i++) {
    const input = node.inputs[i];
    if (!input || trackedInputs[i]) continue;
    const shape = shapeOf(input);
    const local = shape ? axis - (outputRank - shape.length) : undefined;
    const size = shape && local !== undefined && local >= 0 ? shape[local] : 1;
    if (size === 1) continue;
    if (input.constant && local !== undefined) analysis.param(node, i, local, layout, 'channelwise');
    else analysis.refuse(layout, `${describeNode(node)} combines them with '${input.name}', which the analysis does not follow`);
  }
  analysis.track(node.outputs[0], axis, layout);
}

function softmaxLike(node: Node, analysis: ChannelAnalysis): void {
  const input = analysis.trackedOf(node.inputs[0]);
  if (!input) return;
  const rank = shapeOf(node.inputs[0])?.length ?? 0;
  const axis = intAttr(node, 'axis', -1);
  if ((axis + rank) % rank === input.axis || rank === 0) return analysis.refuse(input.layout, `${describeNode(node)} normalizes across channels`);
  analysis.track(node.outputs[0], input.axis, input.layout);
}

export const CHANNEL_RULES: ReadonlyMap<string, ChannelRule> = new Map<string, ChannelRule>([
  ['onnx.Conv', conv],
  ['onnx.ConvTranspose', convTranspose],
  ['onnx.Gemm', gemm],
  ['onnx.MatMul', matMul],
  ['onnx.BatchNormalization', batchNormalization],
  ['onnx.InstanceNormalization', instanceNormalization],
  ...CHANNEL_WISE_OPS.map((op): [string, ChannelRule] => [`onnx.${op}`, channelWise]),
  ...['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum', 'Mean', 'PRelu', 'Pow'].map((op): [string, ChannelRule] => [`onnx.${op}`, elementwise]),
  ['onnx.Softmax', softmaxLike],
  ['onnx.LogSoftmax', softmaxLike],
  ...SHAPE_RULES,
]);
