/**
 * Placement by cost, not only by what ORT can fuse: a Conv that ORT would fuse into QLinearConv but
 * that runs slower there than as its float NCHWc kernel stays float when leaving it float adds no
 * Q/DQ pair (its input is already float: a graph input or a float op such as the input
 * normalization).
 *
 * The rule: a non-grouped Conv whose reduction (input channels × kernel elements = multiply-adds
 * per output) is under MIN_INT8_CONV_REDUCTION. ORT's int8 path runs it as im2col + a U8S8 GEMM in
 * NHWC, whose packing costs more than the few multiply-adds it saves; the float kernel has no such
 * overhead. Measured (ORT 1.30, 1 thread, min of interleaved runs): fashion-cnn's conv1 (1×3×3 = 9)
 * 2.7 ms as QLinearConv against 0.4 ms float at batch 64; the 3×3×3 = 27 RGB stems of
 * mobilenet_v3_small (int8/fp32 1.08× → 0.94×), mobilenet_v2 (0.50× → 0.48×) and efficientnet_b0
 * (0.74× → 0.72×) at batch 1. resnet18's 3×7×7 = 147 stem is a real GEMM and stays int8. Depthwise
 * and grouped convs are not affected (ORT has a separate depthwise kernel).
 */
import type { Node, Value } from '@modelpass/ir';
import { OP_RULES } from './op-rules.js';

/** The default of `min-conv-reduction`: a non-grouped Conv with fewer multiply-adds per output stays float when its input is float anyway. */
export const MIN_INT8_CONV_REDUCTION = 32;

/** Whether the value reaches the Conv as float whatever the plan: a graph input, or the output of an op quantize-static never quantizes. */
function floatWhateverThePlan(value: Value | null | undefined): boolean {
  if (!value) return false;
  if (value.isGraphInput) return true;
  const producer = value.producer;
  return !!producer && !OP_RULES.has(producer.op);
}

/** Why leaving this (otherwise eligible) node float is cheaper in ORT, or undefined. */
export function cheaperFloat(node: Node, minReduction: number): string | undefined {
  if (node.op !== 'onnx.Conv') return undefined;
  const weight = node.inputs[1]?.constant;
  if (!weight || weight.rank < 3) return undefined;
  const group = node.optionalAttr('group', 'int') ?? 1;
  if (group !== 1) return undefined;
  const reduction = weight.shape.slice(1).reduce((a, b) => a * b, 1);
  if (reduction >= minReduction || !floatWhateverThePlan(node.inputs[0])) return undefined;
  return (
    `its reduction is ${reduction} multiply-adds per output (${weight.shape[1]} input channel(s) × ${weight.shape.slice(2).join('×')} kernel), under ${minReduction} (min-conv-reduction): ` +
    `ORT's int8 im2col + GEMM costs more than the float NCHWc Conv, and its input is float anyway`
  );
}
