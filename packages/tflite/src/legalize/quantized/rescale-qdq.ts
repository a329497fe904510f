import { Builder, Tensor, tensorType, type Graph, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';

/** Per-tensor scale and zero point of a QuantizeLinear/DequantizeLinear with constant parameters, or undefined. */
function perTensorParams(node: Node): { scale: number; zeroPoint: number; zeroPointTensor: Tensor | undefined } | undefined {
  const scale = constantOf(node.inputs[1]);
  const zeroPoint = node.inputs[2] ? constantOf(node.inputs[2]) : undefined;
  if (!scale || scale.size !== 1 || (node.inputs[2] && (!zeroPoint || zeroPoint.size !== 1))) return undefined;
  if ((node.optionalAttr('block_size', 'int') ?? 0) !== 0) return undefined;
  return { scale: Math.fround(scale.toNumbers()[0]!), zeroPoint: zeroPoint?.toNumbers()[0] ?? 0, zeroPointTensor: zeroPoint };
}

/**
 * A QuantizeLinear whose integers a DequantizeLinear reads with other parameters (quantize-static
 * folds HardSigmoid's `/6` into the dequantizing scale this way: `Q(x, s) → DQ(·, s/6)`) reinterprets
 * the integers: `y = (q − z') · s'`. TFLite has no such reinterpretation, and the int8 folding only
 * pairs equal parameters, so each such DequantizeLinear gets an explicit rescale in between:
 * `Q(x, s, z) → DQ(s, z) → Mul(s'/s) → Q(s', z) → DQ(s', z) [→ Add((z − z') · s') → Q(s', z') → DQ(s', z')]`,
 * matched pairs only. The requantization gives back the same integers (|(q − z)·s·(s'/s)/s' − (q − z)| is a
 * few float32 ulps, far from a rounding boundary), so the reals are ORT's exactly. The constants are int8
 * scalars behind a DequantizeLinear (±127 at scale |c|/127), so the Mul and the Add are int8 ops (TFLite's
 * int8 MUL/ADD) rather than float ones between DEQUANTIZE and QUANTIZE. Returns how many.
 */

/** `real` as `DequantizeLinear(int8 ±127, |real|/127)`: an int8 constant fold-qdq turns into a quant<> one. */
function int8Scalar(at: Builder, real: number, name: string): Value {
  const scale = at.constant(Tensor.scalar('float32', Math.fround(Math.abs(real) / 127 || 1)), `${name}_scale`);
  const integer = at.constant(Tensor.scalar('int8', real === 0 ? 0 : real < 0 ? -127 : 127), `${name}_int8`);
  return at.op1('onnx.DequantizeLinear', [integer, scale, at.constant(Tensor.scalar('int8', 0), `${name}_zero`)], {}, { types: [tensorType('float32', [])], name });
}
export function rescaleMismatchedQdq(graph: Graph): number {
  let count = 0;
  for (const dequantize of graph.nodeList()) {
    if (!dequantize.graph || dequantize.op !== 'onnx.DequantizeLinear') continue;
    const quantize = dequantize.inputs[0]?.producer;
    if (!quantize || quantize.op !== 'onnx.QuantizeLinear') continue;
    const from = perTensorParams(quantize);
    const to = perTensorParams(dequantize);
    if (!from || !to || (from.scale === to.scale && from.zeroPoint === to.zeroPoint)) continue;
    if (!!from.zeroPointTensor !== !!to.zeroPointTensor || (from.zeroPointTensor && from.zeroPointTensor.dtype !== to.zeroPointTensor!.dtype)) continue;
    const integers = quantize.output(0);
    const at = Builder.before(dequantize);
    const name = dequantize.name;
    const reals = at.op1('onnx.DequantizeLinear', [integers, quantize.input(1), quantize.inputs[2] ?? null], {}, { types: [dequantize.output(0).type], name: `${name}_as_quantized` });
    const realType = dequantize.output(0).type;
    const rescaled = at.op1('onnx.Mul', [reals, int8Scalar(at, Math.fround(to.scale / from.scale), `${name}_rescale`)], {}, { types: [realType], name: `${name}_rescale` });
    // The rescaled integers keep the zero point z (same integers as q), then shift to z' when it differs.
    let requantized = at.op1('onnx.QuantizeLinear', [rescaled, dequantize.input(1), quantize.inputs[2] ?? null], {}, { types: [integers.type], name: `${name}_requantize` });
    if (from.zeroPoint !== to.zeroPoint) {
      const shift = Math.fround((from.zeroPoint - to.zeroPoint) * to.scale);
      const before = at.op1('onnx.DequantizeLinear', [requantized, dequantize.input(1), quantize.inputs[2] ?? null], {}, { types: [realType], name: `${name}_rescaled` });
      const shifted = at.op1('onnx.Add', [before, int8Scalar(at, shift, `${name}_shift`)], {}, { types: [realType], name: `${name}_shift` });
      requantized = at.op1('onnx.QuantizeLinear', [shifted, dequantize.input(1), dequantize.inputs[2] ?? null], {}, { types: [integers.type], name: `${name}_requantize_shifted` });
    }
    dequantize.setInput(0, requantized);
    count++;
  }
  return count;
}
