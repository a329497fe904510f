import { Builder, Tensor, type Graph, type Node } from '@modelpass/ir';
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
 * `Q(x, s, z) → DQ(s, z) → Mul(s'/s) [→ Add((z − z') · s')] → Q(s', z') → DQ(s', z')`, two matched
 * pairs. The requantization gives back the same integers (|(q − z)·s·(s'/s)/s' − (q − z)| is a few
 * float32 ulps, far from a rounding boundary), so the reals are ORT's exactly. Returns how many.
 */
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
    let rescaled = at.op1('onnx.Mul', [reals, at.constant(Tensor.scalar('float32', Math.fround(to.scale / from.scale)), `${name}_rescale`)], {}, { types: [dequantize.output(0).type], name: `${name}_rescale` });
    if (from.zeroPoint !== to.zeroPoint) {
      const shift = Math.fround((from.zeroPoint - to.zeroPoint) * to.scale);
      rescaled = at.op1('onnx.Add', [rescaled, at.constant(Tensor.scalar('float32', shift), `${name}_shift`)], {}, { types: [dequantize.output(0).type], name: `${name}_shift` });
    }
    const requantized = at.op1('onnx.QuantizeLinear', [rescaled, dequantize.input(1), dequantize.inputs[2] ?? null], {}, { types: [integers.type], name: `${name}_requantize` });
    dequantize.setInput(0, requantized);
    count++;
  }
  return count;
}
