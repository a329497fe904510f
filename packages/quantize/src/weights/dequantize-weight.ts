/**
 * Weight-only quantization as ONNX `DequantizeLinear` in front of the float MatMul/Gemm: the
 * weight is stored as int8 (symmetric) or uint8 (asymmetric) codes in its original layout, and
 * ORT dequantizes it (once, when it folds constants) before the float product.
 *
 * - per-channel (one group spans K): `axis` = the output-feature axis, scale/zero point `[N]`
 *   (opset ≥ 13);
 * - blocked along K (opset ≥ 21): `axis` = the K axis with `block_size`, scale `[groups, N]`
 *   (k-major) or `[N, groups]` (n-major).
 */
import { Builder, type Node, type Value } from '@modelpass/ir';
import type { LinearLayer } from './linear-layers.js';
import type { QuantizedWeight } from './quantized-weight.js';
import type { TensorMaker } from './spill-file.js';
import type { SharedWeightConstants } from '../shared-weights.js';

/** The opset from which DequantizeLinear takes `block_size`. */
export const BLOCKED_DEQUANTIZE_OPSET = 21;

/** `shared`: a weight several layers read is stored once; each layer keeps its own DequantizeLinear (ORT fuses one per consumer). */
export function insertDequantizeLinear(layer: LinearLayer, weight: QuantizedWeight, make: TensorMaker, shared?: SharedWeightConstants): Node {
  const b = Builder.before(layer.node);
  const { layout } = layer;
  const perChannel = weight.groups === 1;
  const kMajor = layout === 'k-major';
  const makeConstants = (): Value[] => dequantizeConstants(b, layer, weight, make);
  const inputs = shared ? shared.get(layer.weight, `dequantize:${layout}`, makeConstants).value : makeConstants();
  const axis = perChannel ? (kMajor ? 1 : 0) : kMajor ? 0 : 1;
  const attributes = perChannel ? { axis } : { axis, block_size: weight.scheme.groupSize };
  const dequantize = b.create('onnx.DequantizeLinear', [...inputs], attributes, { name: `${layer.node.name}_weight_DequantizeLinear`, types: [layer.weight.type] });
  layer.node.setInput(1, dequantize.output(0));
  return dequantize;
}

function dequantizeConstants(b: Builder, layer: LinearLayer, weight: QuantizedWeight, make: TensorMaker): Value[] {
  const { k, n, layout } = layer;
  const { groups, scheme } = weight;
  const signed = scheme.symmetric;
  const offset = signed ? 1 << (scheme.bits - 1) : 0;
  const codes = new Uint8Array(k * n);
  const kMajor = layout === 'k-major';
  for (let row = 0; row < n; row++) {
    const from = weight.codeIndex(row, 0);
    for (let i = 0; i < k; i++) {
      const value = weight.codes[from + i]! - offset;
      codes[kMajor ? i * n + row : row * k + i] = value & 0xff; // int8 two's complement or uint8
    }
  }
  const dtype = signed ? 'int8' : 'uint8';
  const perChannel = groups === 1;
  const paramShape = perChannel ? [n] : kMajor ? [groups, n] : [n, groups];
  const scales = new Float32Array(n * groups);
  const zeros = new Uint8Array(n * groups);
  for (let row = 0; row < n; row++) {
    for (let g = 0; g < groups; g++) {
      const at = perChannel || !kMajor ? row * groups + g : g * n + row;
      scales[at] = weight.scales[row * groups + g]!;
      zeros[at] = (Math.round(weight.zeroPoints[row * groups + g]!) - offset) & 0xff;
    }
  }
  const name = layer.weight.name;
  return [
    b.constant(make(dtype, layer.tensor.shape, codes), `${name}_quantized`),
    b.constant(make('float32', paramShape, new Uint8Array(scales.buffer)), `${name}_scale`),
    b.constant(make(dtype, paramShape, zeros), `${name}_zero_point`),
  ];
}
