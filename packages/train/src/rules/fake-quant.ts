/**
 * Fake quantization: QuantizeLinear → DequantizeLinear pairs (QDQ models from `quantize-static`) train
 * with the straight-through estimator. Rounding has derivative 0 almost everywhere, so the pair is
 * treated as the identity inside its clip range and 0 outside (Bengio et al. 2013; Jacob et al. 2018):
 *
 * - DequantizeLinear `y = (q − zp)·s`: the gradient of its integer input is `dy·s` (a float tensor standing
 *   for the integer one, per axis for per-channel scales).
 * - QuantizeLinear `q = saturate(round(x/s) + zp)`: `dx = dq / s` where `round(x/s) + zp` lies inside the
 *   integer range of q's type, 0 where it saturates.
 *
 * With the same scale on both sides the pair's gradient is `dy` inside the range, 0 outside.
 */
import type { Node, Value } from '@modelpass/ir';
import type { GradientContext } from '../gradient-context.js';
import { dtypeCode, ruleError } from '../gradient-context.js';
import { defineGradientRule, type GradientRule } from '../rule-registry.js';

/** Integer range of each type QuantizeLinear writes. */
const INTEGER_RANGES: Readonly<Record<string, readonly [number, number]>> = {
  uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767], int4: [-8, 7], uint4: [0, 15],
};

/** The scale (or zero point, cast to float) shaped to broadcast against a tensor of the given rank along `axis`. */
function alongAxis(ctx: GradientContext, node: Node, parameter: Value, rank: number): Value {
  const dtype = ctx.floatType;
  const asFloat = ctx.typeOf(parameter, node).dtype === dtype ? parameter : ctx.op('Cast', [parameter], { to: dtypeCode(dtype) });
  const parameterRank = ctx.rankOf(parameter, node);
  if (parameterRank === 0) return asFloat;
  if (parameterRank !== 1) throw ruleError(node, `blocked quantization (a ${parameterRank}-D scale) has no gradient rule yet`);
  const axisAttribute = node.optionalAttr('axis', 'int') ?? 1;
  const axis = axisAttribute < 0 ? axisAttribute + rank : axisAttribute;
  const trailing = Array.from({ length: rank - axis - 1 }, (_, i) => i + 1);
  return ctx.unsqueeze(asFloat, trailing);
}

export const fakeQuantRules: readonly GradientRule[] = [
  defineGradientRule({
    op: 'onnx.DequantizeLinear',
    nonDifferentiable: [1, 2],
    integerGradients: true,
    gradient: ({ ctx, node, outputGrads }) => {
      const rank = ctx.rankOf(node.input(0), node);
      const scale = alongAxis(ctx, node, node.input(1), rank);
      return [ctx.op('Mul', [outputGrads[0]!, scale]), null, null];
    },
  }),
  defineGradientRule({
    op: 'onnx.QuantizeLinear',
    nonDifferentiable: [1, 2],
    integerGradients: true,
    gradient: ({ ctx, node, outputGrads }) => {
      const [x, q] = [node.input(0), node.output(0)];
      const outputType = ctx.typeOf(q, node).dtype;
      const range = INTEGER_RANGES[outputType];
      if (!range) throw ruleError(node, `fake quantization to ${outputType} has no gradient rule (expected one of ${Object.keys(INTEGER_RANGES).join(', ')})`);
      if (node.optionalAttr('saturate', 'int') === 0) throw ruleError(node, 'saturate=0 (float8 without saturation) has no gradient rule');
      const rank = ctx.rankOf(x, node);
      const scale = alongAxis(ctx, node, node.input(1), rank);
      const zeroPoint = node.inputs[2] ? alongAxis(ctx, node, node.input(2), rank) : ctx.scalar(0);
      const level = ctx.op('Add', [ctx.op('Round', [ctx.op('Div', [x, scale])]), zeroPoint]);
      const inside = ctx.op('And', [ctx.op('GreaterOrEqual', [level, ctx.scalar(range[0])]), ctx.op('LessOrEqual', [level, ctx.scalar(range[1])])]);
      const passed = ctx.op('Div', [outputGrads[0]!, scale]);
      return [ctx.op('Where', [inside, passed, ctx.scalar(0)]), null, null];
    },
  }),
];
