/**
 * The QDQ form of dynamic quantization: the float op stays, reading its activation through
 * DynamicQuantizeLinear → DequantizeLinear and its weight through DequantizeLinear (int8 codes
 * stored offline). ONNX Runtime's optimizer fuses DQ→MatMul into DynamicQuantizeMatMul when the
 * activation has rank ≥ 3; 2-D MatMul+Add and Gemm stay float there (it fuses MatMul+Add to Gemm
 * first, and has no dynamic QDQ Gemm fusion): use the integer form for those.
 */
import { Builder, tensorType, type Node, type Value } from '@modelpass/ir';
import type { DynamicLayer } from './dynamic-layers.js';
import type { DynamicWeight } from './dynamic-weights.js';
import { weightLayoutKey, type ActivationQuantizer } from './integer-form.js';
import { sharedWeightConstants, type SharedWeightConstants } from '../shared-weights.js';

export function dequantizedActivation(): (layer: DynamicLayer, quantize: ActivationQuantizer) => Value {
  const made = new Map<Value, Value>();
  return (layer, quantize) => {
    const input = layer.node.input(0);
    const existing = made.get(input);
    if (existing) return existing;
    const q = quantize(layer);
    const b = Builder.after(q.values.producer!);
    const value = b.op1('onnx.DequantizeLinear', [q.values, q.scale, q.zeroPoint], {}, { name: `${input.name}_DequantizeLinear`, types: [input.type] });
    made.set(input, value);
    return value;
  };
}

/** `shared`: a weight read by several layers is stored once; each layer keeps its own DequantizeLinear (ORT fuses one per consumer). */
export function rewriteAsQdq(layer: DynamicLayer, weight: DynamicWeight, activation: Value, shared: SharedWeightConstants = sharedWeightConstants()): Node {
  const { node } = layer;
  const b = Builder.before(node);
  const name = layer.weight.name;
  const axis = weight.perChannel ? (layer.kind === 'linear' && layer.layout === 'k-major' ? 1 : 0) : undefined;
  const constants = shared.get(layer.weight, `qdq:${weightLayoutKey(layer, weight)}`, () => [
    b.constant(weight.values, `${name}_quantized`),
    b.constant(weight.scale, `${name}_scale`),
    b.constant(weight.zeroPoint, `${name}_zero_point`),
  ]).value;
  const dq = b.op1(
    'onnx.DequantizeLinear',
    [...constants],
    axis === undefined ? {} : { axis },
    { name: `${node.name}_weight_DequantizeLinear`, types: [tensorType('float32', layer.tensor.shape)] },
  );
  node.setInput(0, activation);
  node.setInput(1, dq);
  return node;
}
