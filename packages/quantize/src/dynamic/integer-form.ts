/**
 * The integer form of dynamic quantization, as ONNX Runtime's `quantize_dynamic` writes it and
 * as its graph optimizer fuses it (MatMulIntegerToFloat / DynamicQuantizeMatMul for MatMul; the
 * same chain around ConvInteger):
 *
 *   x ─ DynamicQuantizeLinear ─(x_q, x_scale, x_zp)─ MatMulInteger|ConvInteger(x_q, W_q, x_zp, W_zp)
 *     ─ Cast(float) ─ Mul(·, Mul(x_scale, W_scale)) [─ Add(bias)]
 *
 * One DynamicQuantizeLinear serves every layer reading the same activation.
 */
import { attrs, Builder, Tensor, tensorType, type Node, type Type, type Value } from '@modelpass/ir';
import type { DynamicLayer } from './dynamic-layers.js';
import { integerOperand, type DynamicWeight } from './dynamic-weights.js';
import { sharedWeightConstants, type SharedWeightConstants } from '../shared-weights.js';

export type ActivationQuantizer = (layer: DynamicLayer) => { readonly values: Value; readonly scale: Value; readonly zeroPoint: Value };

/** DynamicQuantizeLinear per activation, created right after its producer (or at the graph start). */
export function sharedActivationQuantizer(): ActivationQuantizer {
  const made = new Map<Value, { values: Value; scale: Value; zeroPoint: Value }>();
  return (layer) => {
    const input = layer.node.input(0);
    const existing = made.get(input);
    if (existing) return existing;
    const b = input.producer ? Builder.after(input.producer) : Builder.before(layer.node.graph!.firstNode!);
    const shape = input.type.kind === 'tensor' ? input.type.shape : null;
    const node = b.create('onnx.DynamicQuantizeLinear', [input], {}, {
      outputs: [`${input.name}_quantized`, `${input.name}_scale`, `${input.name}_zero_point`],
      name: `${input.name}_DynamicQuantizeLinear`,
      types: [tensorType('uint8', shape), tensorType('float32', []), tensorType('uint8', [])],
    });
    const entry = { values: node.output(0), scale: node.output(1), zeroPoint: node.output(2) };
    made.set(input, entry);
    return entry;
  };
}

/** Per-channel Conv parameters broadcast over `[N, M, spatial...]`: shape `[M, 1, ...]`. */
function convBroadcast(tensor: Tensor, spatialRank: number): Tensor {
  return tensor.rank === 0 ? tensor : tensor.reshape([tensor.size, ...new Array<number>(spatialRank).fill(1)]);
}

/** The layout key of a layer's weight constants (a shared weight's layers with equal keys read the same constants). */
export function weightLayoutKey(layer: DynamicLayer, weight: DynamicWeight): string {
  return `${layer.kind === 'conv' ? 'conv' : layer.layout}:${weight.values.dtype}:${weight.perChannel ? 'channel' : 'tensor'}`;
}

/**
 * Rewrites `layer` as MatMulInteger/ConvInteger. `shared`: the weight's codes, zero point and scale
 * constants are made once per weight and layout, and read by every layer that shares the weight.
 */
export function rewriteAsInteger(
  layer: DynamicLayer,
  weight: DynamicWeight,
  activation: ActivationQuantizer,
  shared: SharedWeightConstants = sharedWeightConstants(),
  outputType?: Type,
): Node {
  const { node } = layer;
  const x = activation(layer);
  const b = Builder.before(node);
  const name = layer.weight.name;
  const output = node.output(0);
  // The type the new values take: the layer's declared output type, or (outputType) what the layer computes where
  // that declaration is stale — a declared [N,10,3] Gemm output made a Cast [N,10,3] times scales [10].
  const resultType = outputType ?? output.type;
  const outputShape = resultType.kind === 'tensor' ? resultType.shape : null;
  const layout = weightLayoutKey(layer, weight);
  const [weightValue, zeroPoint] = shared.get(layer.weight, `integer:${layout}`, () => [
    b.constant(integerOperand(layer, weight), `${name}_quantized`),
    b.constant(scalarIfUniform(weight.zeroPoint), `${name}_zero_point`),
  ]).value as [Value, Value];
  let integer: Node;
  let scaleTensor = weight.scale;
  let bias: Value | null = null;
  if (layer.kind === 'conv') {
    const convAttributes = Object.fromEntries([...node.attributes].filter(([key]) => ['auto_pad', 'dilations', 'group', 'kernel_shape', 'pads', 'strides'].includes(key)));
    integer = b.create('onnx.ConvInteger', [x.values, weightValue, x.zeroPoint, zeroPoint], convAttributes, { name: `${node.name}_ConvInteger`, types: [tensorType('int32', outputShape)] });
    const spatial = layer.tensor.rank - 2;
    scaleTensor = convBroadcast(weight.scale, spatial);
    if (layer.bias) {
      const biasValue = layer.bias;
      const biasConstant = biasValue.constant;
      bias = biasConstant ? shared.get(biasValue, `broadcast:${spatial}`, () => [b.constant(convBroadcast(biasConstant, spatial), `${biasValue.name}_broadcast`)]).value[0]! : layer.bias;
      if (!layer.bias.constant) bias = b.op1('onnx.Reshape', [layer.bias, b.constant(Tensor.fromValues('int64', [spatial + 1], [-1, ...new Array<number>(spatial).fill(1)]), 'bias_shape')]);
    }
  } else {
    integer = b.create('onnx.MatMulInteger', [x.values, weightValue, x.zeroPoint, zeroPoint], {}, { name: `${node.name}_MatMulInteger`, types: [tensorType('int32', outputShape)] });
    if (layer.alpha !== 1) scaleTensor = Tensor.fromValues('float32', weight.scale.shape, Array.from(weight.scale.data() as Float32Array, (s) => Math.fround(s * layer.alpha)));
    if (layer.bias && layer.beta !== 0) {
      bias = layer.bias;
      if (layer.beta !== 1) bias = b.op1('onnx.Mul', [bias, b.constant(Tensor.scalar('float32', layer.beta), `${node.name}_beta`)], {}, { name: `${node.name}_beta_Mul` });
    }
  }
  const asFloat = b.op1('onnx.Cast', [integer.output(0)], { to: attrs.int(1) }, { name: `${node.name}_output_Cast`, types: [tensorType('float32', outputShape)] });
  const finalScale = scaleTensor;
  const scaleValue = shared.get(layer.weight, `scale:${layout}:${layer.kind === 'conv' ? 1 : layer.alpha}`, () => [b.constant(finalScale, `${name}_scale`)]).value[0]!;
  const scale = b.op1('onnx.Mul', [x.scale, scaleValue], {}, { name: `${node.name}_scales_Mul` });
  let result = b.op1('onnx.Mul', [asFloat, scale], {}, { name: `${node.name}_output_Mul`, types: [resultType] });
  if (bias) result = b.op1('onnx.Add', [result, bias], {}, { name: `${node.name}_bias_Add`, types: [resultType] });
  output.replaceAllUsesWith(result);
  node.erase();
  return integer;
}

/** A per-channel zero point whose entries are all equal as a scalar (ORT's ConvInteger takes only a scalar). */
function scalarIfUniform(zeroPoint: Tensor): Tensor {
  if (zeroPoint.rank === 0) return zeroPoint;
  const values = zeroPoint.toNumbers();
  return values.every((v) => v === values[0]) ? Tensor.scalar(zeroPoint.dtype, values[0] ?? 0) : zeroPoint;
}
