import { attrs, Builder, Tensor, type Node, type Value } from '@modelpass/ir';
import { constantOf, numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, staticDims, tensorTypeOf, TfliteEmitter, typeWithShape } from '../lowering-tools.js';
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

/** The dims a Reshape's shape operand names: a constant, or `Shape(x)` of a value with static dims. */
function reshapeTarget(shape: Value | null | undefined): number[] | undefined {
  const constant = numbersOf(shape);
  if (constant) return constant;
  const producer = shape?.producer;
  if (producer?.op !== 'onnx.Shape' || producer.getAttribute('start') || producer.getAttribute('end')) return undefined;
  return staticDims(producer.inputs[0]);
}

/**
 * torch's GroupNorm export, `Reshape(x, [N, G, -1]) → InstanceNormalization(scale [G], bias [G]) →
 * Reshape(back to x's shape)` (then Mul γ, Add β), as one GroupNormalization: its rule lowers it in
 * channels-last, while the 3-D InstanceNormalization over [N, G, C/G·H·W] needs the feature map in
 * NCHW (two TRANSPOSEs per norm, and the ones around every Conv next to it). Matches at the
 * InstanceNormalization; x must be 4-D with static C, H, W and G dividing C. Returns whether it rewrote.
 */
export function torchGroupNormAsGroupNormalization(norm: Node): boolean {
  const grouping = norm.inputs[0]?.producer;
  if (grouping?.op !== 'onnx.Reshape' || norm.output(0).useCount !== 1) return false;
  const back = norm.output(0).users[0]!;
  if (back.op !== 'onnx.Reshape' || back.inputs[0] !== norm.output(0)) return false;
  const x = grouping.input(0);
  const dims = dimsOf(x);
  if (!dims || dims.length !== 4 || tensorTypeOf(x)?.dtype !== 'float32') return false;
  const [batch, channels, height, width] = dims;
  if (typeof channels !== 'number' || typeof height !== 'number' || typeof width !== 'number') return false;
  const scale = constantOf(norm.inputs[1]);
  const bias = constantOf(norm.inputs[2]);
  const groups = scale?.size;
  if (!scale || !bias || !groups || bias.size !== groups || channels % groups !== 0) return false;
  const inner = (channels / groups) * height * width;
  const grouped = reshapeTarget(grouping.inputs[1]);
  const batchMatches = (d: number | undefined) => d === 0 || (typeof batch === 'number' && d === batch) || (d === -1 && grouped?.[2] === inner);
  if (!grouped || grouped.length !== 3 || !batchMatches(grouped[0]) || grouped[1] !== groups || (grouped[2] !== -1 && grouped[2] !== inner)) return false;
  // Back to x's shape: Shape(x) itself, or a constant of x's dims (0 or -1 for the batch).
  const shapeBack = back.inputs[1];
  const backDims = reshapeTarget(shapeBack);
  const backIsShapeOfX = shapeBack?.producer?.op === 'onnx.Shape' && shapeBack.producer.inputs[0] === x;
  const backIsDimsOfX = backDims?.length === 4 && backDims[1] === channels && backDims[2] === height && backDims[3] === width && (backDims[0] === 0 || backDims[0] === -1 || backDims[0] === batch);
  if (!backIsShapeOfX && !backIsDimsOfX) return false;
  const at = Builder.before(back);
  const attributes = { num_groups: attrs.int(groups), epsilon: attrs.float(norm.optionalAttr('epsilon', 'float') ?? 1e-5) };
  const y = at.op1('onnx.GroupNormalization', [x, norm.input(1), norm.input(2)], attributes, { types: [x.type], name: `${norm.name}_group_norm`, loc: norm.loc });
  back.output(0).replaceAllUsesWith(y);
  back.erase();
  norm.erase();
  if (!grouping.output(0).hasUses && !grouping.output(0).isGraphOutput) grouping.erase();
  return true;
}
