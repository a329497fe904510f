import { Tensor, tensorType, type Node, type TensorType, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { replaceNode, TfliteEmitter } from '../lowering-tools.js';
import { dequantizeTensor, quantOf } from './quant-values.js';

/**
 * Clip on int8 values. Bounds TFLite names have an activation with its own output parameters
 * (RELU [0, ∞), RELU6 [0, 6], RELU_N1_TO_1 [−1, 1]: TFLite 2.9's int8 kernels requantize from the
 * input's scale to the output's and clamp there). Any other range is MAXIMUM / MINIMUM on raw integers
 * (TFLite's int8 MAXIMUM/MINIMUM: every operand and the result share one scale and zero point), done the
 * way the RELU kernels do it: first a requantizing QUANTIZE into the output's parameters (when they differ
 * from the input's), then the clamp by the bounds quantized with the *output's* parameters. Quantizing is
 * non-decreasing, so `Q(clip(x, lo, hi)) = clip(Q(x), Q(lo), Q(hi))`: at the bounds the integers are
 * exactly ONNX Runtime's `DQ → Clip → Q`. (Clamping first by bounds on the input's grid and requantizing
 * after moved a bound by up to half an input step, then rounded it again: one output step off at every
 * clamped element when the scales differ, two after an upstream op's one-step difference.)
 */

/** The real bound of input `index` (1: min, 2: max) or of the opset-6 attribute; undefined when absent. */
function bound(node: Node, index: 1 | 2): number | undefined {
  const input = node.inputs[index];
  if (input) {
    const tensor = constantOf(input);
    if (!tensor || tensor.size !== 1) return undefined;
    return (tensor.quant ? dequantizeTensor(tensor) : tensor).toNumbers()[0];
  }
  return node.optionalAttr(index === 1 ? 'min' : 'max', 'float');
}

/** Why an int8 Clip cannot be lowered, or undefined. */
export function clipInt8Problem(node: Node): string | undefined {
  for (const index of [1, 2] as const) {
    const input = node.inputs[index];
    if (input && constantOf(input)?.size !== 1) return `an int8 Clip needs constant scalar bounds (its ${index === 1 ? 'min' : 'max'} '${input.name}' is not one)`;
  }
  const [low, high] = [bound(node, 1), bound(node, 2)];
  if (low !== undefined && high !== undefined && low > high) return `an int8 Clip with min ${low} above max ${high}`;
  return undefined;
}

/** The RELU-family builtin whose range is exactly [low, high], or undefined (RELU_N1_TO_1 has no int16 kernel in TFLite 2.9). */
export function reluFamily(low: number | undefined, high: number | undefined, dtype: string = 'int8'): string | undefined {
  if (low === 0 && high === 6) return 'RELU6';
  if (low === -1 && high === 1) return dtype === 'int16' ? undefined : 'RELU_N1_TO_1';
  if (low === 0 && (high === undefined || high >= 3.4e38)) return 'RELU';
  return undefined;
}

/** Both per-tensor with the same scale and zero point (or both absent). */
function sameParameters(a: ReturnType<typeof quantOf>, b: ReturnType<typeof quantOf>): boolean {
  if (!a || !b) return a === b;
  return a.scale.length === 1 && b.scale.length === 1 && a.scale[0] === b.scale[0] && a.zeroPoint[0] === b.zeroPoint[0];
}

/** `real` as a scalar of `like`'s dtype (int8, or int16 in the 16x8 mode) and per-tensor parameters, saturated to its range. */
function boundConstant(emit: TfliteEmitter, like: Value, real: number, name: string): Value {
  const quant = quantOf(like)!;
  const wide = (like.type as TensorType).dtype === 'int16';
  const [low, high] = wide ? [-32768, 32767] : [-128, 127];
  const integer = Math.max(low, Math.min(high, Math.round(real / quant.scale[0]!) + quant.zeroPoint[0]!));
  return emit.constant(Tensor.fromValues(wide ? 'int16' : 'int8', [], [integer], { scale: [quant.scale[0]!], zeroPoint: [quant.zeroPoint[0]!], bits: wide ? 16 : 8 }), name);
}

/** The float Clip rule for float inputs; RELU-family or MAXIMUM/MINIMUM in the input's parameters for int8 ones. */
export function int8AwareClip(base: LoweringRule): LoweringRule {
  return {
    ops: base.ops,
    stage: base.stage,
    targets: base.targets,
    check(node, context) {
      if (!quantOf(node.inputs[0])) return base.check(node, context);
      return clipInt8Problem(node);
    },
    lower(node, context) {
      if (!quantOf(node.inputs[0])) return base.lower(node, context);
      const emit = new TfliteEmitter(node, context);
      const x = node.input(0);
      const [low, high] = [bound(node, 1), bound(node, 2)];
      const type = node.output(0).type as TensorType;
      const relu = reluFamily(low, high, (x.type as TensorType).dtype);
      if (relu) {
        replaceNode(node, [emit.op1(relu, [x], {}, type)]);
        return;
      }
      const inputType = x.type as TensorType;
      let y = x;
      if (low === undefined && high === undefined) {
        // No bounds: the identity, as a requantizing copy (finish-int8 removes it when the parameters agree).
        replaceNode(node, [emit.op1('QUANTIZE', [y], {}, type)]);
        return;
      }
      // Requantize first (per-tensor output parameters unlike the input's), then clamp on the output's grid.
      if (type.quant && type.dtype === inputType.dtype && !sameParameters(quantOf(x), quantOf(node.output(0)))) {
        y = emit.op1('QUANTIZE', [y], {}, tensorType(type.dtype, inputType.shape, type.quant));
      }
      if (low !== undefined && high !== undefined) {
        const between = tensorType((y.type as TensorType).dtype, type.shape, (y.type as TensorType).quant);
        y = emit.op1('MAXIMUM', [y, boundConstant(emit, y, low, 'clip_min')], {}, between);
        y = emit.op1('MINIMUM', [y, boundConstant(emit, y, high, 'clip_max')], {}, type);
      } else if (low !== undefined) {
        y = emit.op1('MAXIMUM', [y, boundConstant(emit, y, low, 'clip_min')], {}, type);
      } else if (high !== undefined) {
        y = emit.op1('MINIMUM', [y, boundConstant(emit, y, high, 'clip_max')], {}, type);
      }
      replaceNode(node, [y]);
    },
  };
}
