import { Builder, isTensorType, Tensor, tensorType, type Graph, type Node, type QuantParams, type TensorType, type Value } from '@modelpass/ir';
import { quantOf } from './quant-values.js';

/**
 * TFLite 2.9 has no HARD_SIGMOID. On int8 values, `HardSigmoid(x, α, β) = min(max(αx + β, 0), 1)` is
 * written as `relu6(6α·x + 6β) / 6`: [MUL by 6α] → ADD 6β into a tensor quantized over [0, 6] (int8
 * saturation is the RELU6, finish-int8 also fuses it from that range) → MUL by 1/6 into the model's output
 * parameters. Every step is an int8 kernel with its own requantization; torch's α = 1/6 needs no first MUL.
 */

/** Why this HardSigmoid cannot take the int8 form, or undefined. */
export function hardSigmoidInt8Problem(node: Node): string | undefined {
  const alpha = node.optionalAttr('alpha', 'float') ?? 0.2;
  const beta = node.optionalAttr('beta', 'float') ?? 0.5;
  if (!(alpha > 0) || !(beta > 0) || beta >= 1) return `an int8 HardSigmoid needs alpha > 0 and 0 < beta < 1 (here alpha ${alpha}, beta ${beta})`;
  return undefined;
}

/** A per-tensor int8 scalar constant holding `real` exactly at ±127. */
function int8Scalar(graph: Graph, name: string, real: number): Value {
  const scale = Math.fround(Math.abs(real) / 127);
  return graph.addConstant(graph.uniqueName(name), Tensor.fromValues('int8', [], [real < 0 ? -127 : 127], { scale: [scale], zeroPoint: [0], bits: 8 }));
}

/** int8 parameters covering [low, high] (and 0). */
function int8Covering(low: number, high: number): QuantParams {
  const lo = Math.min(low, 0);
  const hi = Math.max(high, 0);
  const scale = Math.fround((hi - lo) / 255 || 1);
  const zeroPoint = Math.max(-128, Math.min(127, Math.round(-128 - lo / scale)));
  return { scale: [scale], zeroPoint: [zeroPoint], bits: 8 };
}

function isInt8Quant(value: Value | null | undefined): value is Value {
  return !!value && isTensorType(value.type) && value.type.dtype === 'int8' && quantOf(value)?.axis === undefined && quantOf(value) !== undefined;
}

/** Rewrites every HardSigmoid on int8 values (after the uint8 shift); returns how many. */
export function hardSigmoidsAsInt8Ops(graph: Graph): number {
  let count = 0;
  for (const node of graph.nodesOf('onnx.HardSigmoid')) {
    const x = node.inputs[0];
    const y = node.outputs[0];
    if (!isInt8Quant(x) || !isInt8Quant(y) || hardSigmoidInt8Problem(node)) continue;
    const alpha = node.optionalAttr('alpha', 'float') ?? 0.2;
    const beta = node.optionalAttr('beta', 'float') ?? 0.5;
    const shape = (y.type as TensorType).shape;
    const at = Builder.before(node);
    let scaled = x;
    if (Math.abs(6 * alpha - 1) > 1e-6) {
      const quant = quantOf(x)!;
      const ends = [(-128 - quant.zeroPoint[0]!) * quant.scale[0]! * 6 * alpha, (127 - quant.zeroPoint[0]!) * quant.scale[0]! * 6 * alpha];
      scaled = at.op1('onnx.Mul', [x, int8Scalar(graph, `${node.name}_six_alpha`, 6 * alpha)], {}, { types: [tensorType('int8', shape, int8Covering(Math.min(...ends), Math.max(...ends)))], name: `${node.name}_scale` });
    }
    const zeroToSix: QuantParams = { scale: [Math.fround(6 / 255)], zeroPoint: [-128], bits: 8 };
    const shifted = at.op1('onnx.Add', [scaled, int8Scalar(graph, `${node.name}_six_beta`, 6 * beta)], {}, { types: [tensorType('int8', shape, zeroToSix)], name: `${node.name}_relu6` });
    const result = at.op1('onnx.Mul', [shifted, int8Scalar(graph, `${node.name}_sixth`, 1 / 6)], {}, { types: [y.type], name: `${node.name}_sixth` });
    y.replaceAllUsesWith(result);
    node.erase();
    count++;
  }
  return count;
}
