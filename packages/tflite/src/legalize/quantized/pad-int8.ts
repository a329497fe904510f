import { Tensor, type Node } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { replaceNode, TfliteEmitter } from '../lowering-tools.js';
import { edgeWrapPad, edgeWrapPadProblem } from './pad-edge-wrap.js';
import { dequantizeTensor, quantOf } from './quant-values.js';

/** The real padding value of a constant-mode Pad: its `value` input (float, or a quant<> constant's real), the opset-2 attribute, or 0. */
export function padRealValue(node: Node): number | undefined {
  const input = node.inputs[2];
  if (!input) return node.optionalAttr('value', 'float') ?? 0;
  const tensor = constantOf(input);
  if (!tensor || tensor.size !== 1) return undefined;
  return (tensor.quant ? dequantizeTensor(tensor) : tensor).toNumbers()[0];
}

/** Why an int8 Pad cannot be lowered (the int8 check of `int8-ops`), or undefined. */
export function padInt8Problem(node: Node): string | undefined {
  const mode = node.optionalAttr('mode', 'string') ?? 'constant';
  if (mode === 'edge' || mode === 'wrap') return edgeWrapPadProblem(node);
  if (mode !== 'constant' && mode !== 'reflect') return `an int8 Pad in mode '${mode}' has no TFLite builtin`;
  if (mode === 'constant' && padRealValue(node) === undefined) return 'an int8 Pad needs a constant scalar padding value';
  return undefined;
}

function isEdgeOrWrap(node: Node): boolean {
  const mode = node.optionalAttr('mode', 'string');
  return mode === 'edge' || mode === 'wrap';
}

/**
 * Pad on a quant<> value: constant mode with real 0 → PAD (TFLite's int8 PAD pads with the zero
 * point, which is real 0), another constant value → PADV2 with that real as a float32 scalar, which
 * `finishInt8` quantizes with the input's scale and zero point (what TFLite's int8 PADV2 requires of
 * it, and what ORT's QuantizeLinear after a float Pad computes: round(v/s) + z, clamped);
 * reflect → MIRROR_PAD (REFLECT), which copies int8 values; edge and wrap (any dtype, float too: TFLite
 * has neither) → one GATHER per padded axis (`pad-edge-wrap.ts`). The output keeps the input's parameters
 * (`finishInt8` requantizes where the model's differ). Any other Pad goes to `base`.
 */

export function int8AwarePad(base: LoweringRule): LoweringRule {
  return {
    ops: base.ops,
    stage: base.stage,
    targets: [...base.targets, 'GATHER'],
    check(node, context) {
      if (isEdgeOrWrap(node)) return edgeWrapPadProblem(node);
      return base.check(node, context) ?? (quantOf(node.inputs[0]) ? padInt8Problem(node) : undefined);
    },
    lower(node, context) {
      if (isEdgeOrWrap(node)) return replaceNode(node, [edgeWrapPad(new TfliteEmitter(node, context), node)]);
      if (!quantOf(node.inputs[0])) return base.lower(node, context);
      const emit = new TfliteEmitter(node, context);
      const pads = node.optionalAttr('pads', 'ints') ?? constantOf(node.inputs[1])!.toNumbers();
      const rank = pads.length / 2;
      const paddings = emit.int32(Array.from({ length: rank }, (_, i) => [pads[i]!, pads[i + rank]!]).flat(), [rank, 2], 'paddings');
      const type = node.output(0).type;
      const mode = node.optionalAttr('mode', 'string') ?? 'constant';
      const real = mode === 'constant' ? padRealValue(node)! : 0;
      const y =
        mode === 'reflect'
          ? emit.op1('MIRROR_PAD', [node.input(0), paddings], { mode: 'REFLECT' }, type)
          : real === 0
            ? emit.op1('PAD', [node.input(0), paddings], {}, type)
            : emit.op1('PADV2', [node.input(0), paddings, emit.constant(Tensor.fromValues('float32', [], [real]), 'pad_value')], {}, type);
      replaceNode(node, [y]);
    },
  };
}
