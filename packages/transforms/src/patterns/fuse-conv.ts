import { attrs, type Node, type Rewriter, type Tensor } from '@modelpass/ir';
import { constantOf } from '../util/constants.js';
import { denseOf, floatsOf, floatTensor, FUSIBLE_FLOAT_DTYPES, perChannelVector, scaleAlongAxis, tooLargeToFuse } from '../util/float-math.js';
import { hasSingleUse } from '../util/graph-walk.js';
import { batchNormAffine } from './batch-norm.js';
import { addConstant, adoptConstantName, intsAttributeOrInput, replaceWithNode, splitConstantOperand } from './helpers.js';
import { declined, definePattern, type PatternEnv, type TransformPattern } from './pattern.js';

interface ConvWeights {
  conv: Node;
  weight: Tensor;
  bias: Tensor | undefined;
  /** Output channels. */
  channels: number;
}

/** A Conv/ConvTranspose producing `value` alone for `consumer`, with constant weight and bias. */
function convWeightsFeeding(consumer: Node, inputIndex: number, ops: readonly string[], pattern: string, env: PatternEnv): ConvWeights | false {
  const value = consumer.inputs[inputIndex];
  const conv = value?.producer;
  if (!value || !conv || !ops.includes(conv.op)) return false;
  if (!hasSingleUse(value)) return declined(env, pattern, consumer, `${conv.op} '${conv.name}' output has other users`);
  const weight = constantOf(conv.inputs[1]);
  if (!weight) return declined(env, pattern, consumer, `${conv.op} '${conv.name}' weight is not constant`);
  if (!FUSIBLE_FLOAT_DTYPES.has(weight.dtype)) return declined(env, pattern, consumer, `weight dtype ${weight.dtype} is not float32/float64`);
  if (weight.rank < 3) return declined(env, pattern, consumer, 'weight rank below 3');
  const tooLarge = tooLargeToFuse(weight);
  if (tooLarge) return declined(env, pattern, consumer, tooLarge);
  const biasValue = conv.inputs[2];
  const bias = biasValue ? constantOf(biasValue) : undefined;
  if (biasValue && !bias) return declined(env, pattern, consumer, `${conv.op} '${conv.name}' bias is not constant`);
  let channels = weight.shape[0]!;
  if (conv.op === 'onnx.ConvTranspose') {
    const group = conv.optionalAttr('group', 'int') ?? 1;
    channels = weight.shape[1]! * group;
  }
  if (bias && (bias.rank !== 1 || bias.size !== channels)) return declined(env, pattern, consumer, `bias of shape [${bias.shape.join(',')}] does not have ${channels} entries`);
  return { conv, weight, bias, channels };
}

/** Scales output channel c of the weight by scale[c] (Conv: axis 0; ConvTranspose: axis 1 per group). */
function scaledWeight(conv: Node, weight: Tensor, scale: Float64Array): Tensor {
  const dense = denseOf(weight);
  let values: Float64Array;
  if (conv.op === 'onnx.ConvTranspose') {
    const group = conv.optionalAttr('group', 'int') ?? 1;
    const perGroupIn = weight.shape[0]! / group;
    const perGroupOut = weight.shape[1]!;
    const inner = weight.shape.slice(2).reduce((n, d) => n * d, 1);
    values = new Float64Array(dense.values.length);
    for (let i = 0; i < values.length; i++) {
      const row = Math.floor(i / (perGroupOut * inner));
      const column = Math.floor(i / inner) % perGroupOut;
      const channel = Math.floor(row / perGroupIn) * perGroupOut + column;
      values[i] = dense.values[i]! * scale[channel]!;
    }
  } else {
    values = scaleAlongAxis(dense, 0, (c) => scale[c]!);
  }
  return floatTensor(weight.dtype, weight.shape, values);
}

/** Emits the conv with new weight and bias, replacing `consumer`'s output. */
function emitConv(consumer: Node, fused: ConvWeights, weight: Tensor, bias: Float64Array, rewriter: Rewriter): boolean {
  const graph = rewriter.graph;
  const weightValue = addConstant(graph, `${fused.conv.name}_weight`, weight);
  const biasValue = addConstant(graph, `${fused.conv.name}_bias`, floatTensor(weight.dtype, [fused.channels], bias));
  const oldWeight = fused.conv.input(1);
  const oldBias = fused.conv.inputs[2];
  const conv = rewriter.createNode({
    op: fused.conv.op,
    inputs: [fused.conv.input(0), weightValue, biasValue],
    attributes: fused.conv.attributes,
    name: fused.conv.name,
    before: consumer,
  });
  if (!replaceWithNode(consumer, conv, rewriter)) return false;
  rewriter.eraseNode(fused.conv);
  adoptConstantName(weightValue, oldWeight);
  adoptConstantName(biasValue, oldBias);
  return true;
}

function biasOrZeros(fused: ConvWeights): Float64Array {
  return fused.bias ? floatsOf(fused.bias) : new Float64Array(fused.channels);
}

/** Both have the output channel on axis 1 of their output, so a per-channel constant has the same shape. */
const CONV_OPS = ['onnx.Conv', 'onnx.ConvTranspose'] as const;

export const fuseBatchNormIntoConv = definePattern({
  name: 'fuse-bn-into-conv',
  ops: ['onnx.BatchNormalization'],
  statistic: 'nodes-fused',
  rewrite(node, rewriter, env) {
    const fused = convWeightsFeeding(node, 0, CONV_OPS, 'fuse-bn-into-conv', env);
    if (!fused) return false;
    const affine = batchNormAffine(node, fused.channels, env);
    if (typeof affine === 'string') return declined(env, 'fuse-bn-into-conv', node, affine);
    const bias = biasOrZeros(fused).map((b, c) => (b - affine.mean[c]!) * affine.scale[c]! + affine.shift[c]!);
    return emitConv(node, fused, scaledWeight(fused.conv, fused.weight, affine.scale), bias, rewriter);
  },
});

/** Conv/ConvTranspose → Add(per-channel constant) becomes the conv with that constant in its bias. */
export const fuseAddIntoConvBias = definePattern({
  name: 'fuse-add-into-conv-bias',
  ops: ['onnx.Add'],
  statistic: 'nodes-fused',
  rewrite(node, rewriter, env) {
    const split = splitConstantOperand(node, true);
    if (!split) return false;
    const fused = convWeightsFeeding(node, split.constantIndex === 1 ? 0 : 1, CONV_OPS, 'fuse-add-into-conv-bias', env);
    if (!fused) return false;
    if (split.constant.dtype !== fused.weight.dtype) return declined(env, 'fuse-add-into-conv-bias', node, 'addend dtype differs from the weight');
    const addend = perChannelVector(split.constant, fused.weight.rank, 1, fused.channels);
    if (!addend) return declined(env, 'fuse-add-into-conv-bias', node, `addend of shape [${split.constant.shape.join(',')}] is not per-channel for the conv output`);
    const bias = biasOrZeros(fused).map((b, c) => b + addend[c]!);
    return emitConv(node, fused, fused.weight, bias, rewriter);
  },
});

/** Conv/ConvTranspose → Mul/Div by a per-channel constant becomes the conv with scaled weight and bias. */
export const fuseScaleIntoConv = definePattern({
  name: 'fuse-mul-into-conv',
  ops: ['onnx.Mul', 'onnx.Div'],
  statistic: 'nodes-fused',
  rewrite(node, rewriter, env) {
    const split = splitConstantOperand(node, node.op === 'onnx.Mul');
    if (!split) return false;
    const fused = convWeightsFeeding(node, split.constantIndex === 1 ? 0 : 1, CONV_OPS, 'fuse-mul-into-conv', env);
    if (!fused) return false;
    if (split.constant.dtype !== fused.weight.dtype) return declined(env, 'fuse-mul-into-conv', node, 'factor dtype differs from the weight');
    const factor = perChannelVector(split.constant, fused.weight.rank, 1, fused.channels);
    if (!factor) return declined(env, 'fuse-mul-into-conv', node, `factor of shape [${split.constant.shape.join(',')}] is not per-channel for the conv output`);
    const scale = node.op === 'onnx.Div' ? factor.map((d) => 1 / d) : factor;
    if (!scale.every((s) => Number.isFinite(s) && s !== 0)) return declined(env, 'fuse-mul-into-conv', node, 'a factor is zero, infinite or NaN');
    const bias = biasOrZeros(fused).map((b, c) => b * scale[c]!);
    return emitConv(node, fused, scaledWeight(fused.conv, fused.weight, scale), bias, rewriter);
  },
});

export const convFusionPatterns: readonly TransformPattern[] = [fuseBatchNormIntoConv, fuseAddIntoConvBias, fuseScaleIntoConv];
