import { Tensor, type Node } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
import { channelsLastType, toChannelsFirst, toChannelsLast } from './channels-last.js';

/**
 * GroupNormalization (rank 4) in channels-last: [N,H,W,C] → RESHAPE [N, H·W, G, C/G], mean and
 * variance over axes 1 and 3 (MEAN), normalized (SUB/MUL/ADD/RSQRT; every operand at most 4-D, as
 * TFLite 2.9 broadcasts), RESHAPE back, then per-channel scale and bias. Scale/bias per group
 * (opset 18, shape [G]) are repeated to per channel; opset 21's are per channel already.
 */
function perChannel(tensor: Tensor, groups: number, channels: number): Tensor {
  if (tensor.size === channels) return tensor.reshape([channels]);
  const values = tensor.toNumbers();
  return Tensor.fromValues('float32', [channels], Array.from({ length: channels }, (_, c) => values[Math.floor(c / (channels / groups))]!));
}

const groupNorm: LoweringRule = {
  ops: ['onnx.GroupNormalization'],
  stage: 'layout',
  targets: ['RESHAPE', 'MEAN', 'SUB', 'MUL', 'ADD', 'RSQRT'],
  check(node: Node) {
    const dims = dimsOf(node.inputs[0]);
    if (!dims || dims.length !== 4) return 'GroupNormalization is lowered for rank-4 (NCHW) inputs';
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'GroupNormalization is lowered for float32 only';
    if (!dims.slice(1).every((d) => typeof d === 'number')) return 'GroupNormalization needs static C, H and W';
    const groups = node.attr('num_groups', 'int');
    const channels = dims[1] as number;
    if (groups <= 0 || channels % groups !== 0) return `num_groups ${groups} does not divide the ${channels} channels`;
    for (const index of [1, 2]) {
      const tensor = constantOf(node.inputs[index]);
      if (!tensor || (tensor.size !== groups && tensor.size !== channels)) return 'scale and bias must be constants with one value per group or per channel';
    }
    if ((node.optionalAttr('stash_type', 'int') ?? 1) !== 1) return 'stash_type other than float32 is not supported';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const [, channels, height, width] = dimsOf(node.inputs[0]) as [number | string | null, number, number, number];
    const groups = node.attr('num_groups', 'int');
    const epsilon = node.optionalAttr('epsilon', 'float') ?? 1e-5;
    const fusible = { fused_activation_function: 'NONE' };
    const x = toChannelsLast(emit, node.input(0));
    const full = channelsLastType(node);
    const batch = dimsOf(x)![0]!;
    const groupedDims = [batch, height * width, groups, channels / groups];
    const grouped = typeWithShape(full, groupedDims);
    const stats = typeWithShape(full, [batch, 1, groups, 1]);
    const xg = emit.op1('RESHAPE', [x, emit.int32(groupedDims.map((d) => (typeof d === 'number' ? d : -1)), [4], 'grouped_shape')], {}, grouped);
    const axes = emit.int32([1, 3], [2], 'axes');
    const mean = emit.op1('MEAN', [xg, axes], { keep_dims: 1 }, stats);
    const centered = emit.op1('SUB', [xg, mean], fusible, grouped);
    const variance = emit.op1('MEAN', [emit.op1('MUL', [centered, centered], fusible, grouped), axes], { keep_dims: 1 }, stats);
    const inverse = emit.op1('RSQRT', [emit.op1('ADD', [variance, emit.constant(Tensor.fromValues('float32', [], [epsilon]), 'epsilon')], fusible, stats)], {}, stats);
    const normalized = emit.op1('MUL', [centered, inverse], fusible, grouped);
    const outDims = dimsOf(x)!.map((d) => (typeof d === 'number' ? d : -1));
    const back = emit.op1('RESHAPE', [normalized, emit.int32(outDims, [4], 'shape')], {}, full);
    const scale = emit.constant(perChannel(constantOf(node.inputs[1])!, groups, channels), 'scale');
    const bias = emit.constant(perChannel(constantOf(node.inputs[2])!, groups, channels), 'bias');
    const y = emit.op1('ADD', [emit.op1('MUL', [back, scale], fusible, full), bias], fusible, full);
    replaceNode(node, [toChannelsFirst(emit, y)]);
  },
};

export const groupNormRules: readonly LoweringRule[] = [groupNorm];
