/**
 * Quantized (QDQ) students train with fake quantization: every integer weight behind a
 * DequantizeLinear becomes a float initializer (its dequantized values) followed by a QuantizeLinear
 * with the same scale, zero point and axis, so the forward pass computes exactly what the quantized
 * model does while the float weights take the updates (straight-through estimator, `rules/fake-quant.ts`).
 * int32 biases (which QuantizeLinear cannot write) train as plain float. At the end each weight is
 * quantized again with its original scale and zero point into the original integer initializer.
 */
import { Builder, ModelpassError, Tensor, type DType, type Model, type Node } from '@modelpass/ir';

/** One integer initializer trained through its float stand-in. */
export interface FakeQuantizedWeight {
  /** The integer initializer of the quantized model. */
  readonly integer: string;
  /** The float initializer trained in its place. */
  readonly float: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  /** Scale and zero point per index along `axis` (one value: per tensor). */
  readonly scales: readonly number[];
  readonly zeroPoints: readonly number[];
  readonly axis: number;
  /** `fake-quantized` (QuantizeLinear → DequantizeLinear in training) or `float` (int32 biases). */
  readonly training: 'fake-quantized' | 'float';
}

const INTEGER_RANGES: Readonly<Partial<Record<DType, readonly [number, number]>>> = {
  uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767], int32: [-2147483648, 2147483647],
};

/** Types QuantizeLinear writes at an opset (int16/uint16 from 21). */
function quantizeLinearWrites(dtype: DType, opset: number): boolean {
  return dtype === 'int8' || dtype === 'uint8' || (opset >= 21 && (dtype === 'int16' || dtype === 'uint16'));
}

/** Index along `axis` of each element of a row-major tensor. */
function channelOf(shape: readonly number[], axis: number, count: number): (index: number) => number {
  if (count === 1) return () => 0;
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  return (index) => Math.floor(index / inner) % count;
}

/** Round half to even, as QuantizeLinear does. */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction > 0.5) return floor + 1;
  if (fraction < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

function dequantizeParameters(node: Node): { scales: number[]; zeroPoints: number[]; axis: number } | null {
  const scale = node.inputs[1];
  const zeroPoint = node.inputs[2];
  if (!scale?.constant || (zeroPoint && !zeroPoint.constant)) return null;
  const scales = scale.constant.toNumbers().map(Number);
  const zeroPoints = zeroPoint?.constant ? zeroPoint.constant.toNumbers().map(Number) : scales.map(() => 0);
  if (scale.constant.shape.length > 1) return null;
  const rank = node.input(0).constant!.shape.length;
  const axisAttribute = node.optionalAttr('axis', 'int') ?? 1;
  return { scales, zeroPoints, axis: axisAttribute < 0 ? axisAttribute + rank : axisAttribute };
}

/** Every QuantizeLinear's output must go only to DequantizeLinear nodes (or out of the graph): other readers would stop the gradient silently. */
function checkQuantizePairs(model: Model): void {
  for (const node of model.graph.nodeList()) {
    if (node.op !== 'onnx.QuantizeLinear') continue;
    const other = node.output(0).users.find((user) => user.op !== 'onnx.DequantizeLinear');
    if (other) {
      throw new ModelpassError({
        reason: `fake-quantized training needs QuantizeLinear → DequantizeLinear pairs; QuantizeLinear '${node.name}' feeds ${other.op} '${other.name}'`,
        hint: "distill a QDQ model (quantize-static's default format=qdq), not a QOperator one",
        source: '@modelpass/train',
      });
    }
  }
}

/**
 * Rewrites `model` (a training copy) in place: integer weights behind DequantizeLinear become trainable
 * float initializers, fake-quantized where QuantizeLinear can write their type. Returns what
 * `requantizeWeights` needs to write the trained values back.
 */
export function prepareFakeQuantStudent(model: Model): FakeQuantizedWeight[] {
  checkQuantizePairs(model);
  const graph = model.graph;
  const opset = model.opset('onnx') ?? 0;
  const weights: FakeQuantizedWeight[] = [];
  for (const node of graph.nodeList()) {
    if (node.op !== 'onnx.DequantizeLinear') continue;
    const integer = node.inputs[0];
    const tensor = integer?.constant;
    if (!integer || !tensor || !INTEGER_RANGES[tensor.dtype] || integer.useCount !== 1) continue;
    const parameters = dequantizeParameters(node);
    if (!parameters) continue;
    const { scales, zeroPoints, axis } = parameters;
    const channel = channelOf(tensor.shape, axis, scales.length);
    const values = tensor.toNumbers().map((q, i) => (Number(q) - zeroPoints[channel(i)]!) * scales[channel(i)]!);
    const float = graph.addConstant(graph.uniqueName(`${integer.name}.float`), Tensor.fromValues('float32', tensor.shape, Float32Array.from(values)));
    const fakeQuantized = quantizeLinearWrites(tensor.dtype, opset);
    if (fakeQuantized) {
      const axisAttribute = node.getAttribute('axis');
      // Without a zero point QuantizeLinear writes uint8: an int8 weight whose DequantizeLinear omits its
      // (zero) zero point, as quantize-static writes Conv/MatMul weights, gets an explicit one of its dtype.
      const zeroPoint = node.inputs[2] ?? (tensor.dtype === 'uint8' ? null : graph.addConstant(graph.uniqueName(`${integer.name}.zero_point`), Tensor.fromValues(tensor.dtype, node.input(1).constant!.shape, new Array<number>(scales.length).fill(0))));
      const quantize = Builder.before(node).create('onnx.QuantizeLinear', [float, node.input(1), zeroPoint], axisAttribute ? { axis: axisAttribute } : {}, { name: `${node.name}/fake_quant` });
      node.setInput(0, quantize.output(0));
    } else {
      node.output(0).replaceAllUsesWith(float);
      node.erase();
    }
    weights.push({ integer: integer.name, float: float.name, dtype: tensor.dtype, shape: tensor.shape, scales, zeroPoints, axis, training: fakeQuantized ? 'fake-quantized' : 'float' });
  }
  return weights;
}

/** Quantizes each trained float weight of `trained` with its original scale and zero point into `target`'s integer initializer. */
export function requantizeWeights(trained: Model, target: Model, weights: readonly FakeQuantizedWeight[]): number {
  let changed = 0;
  for (const weight of weights) {
    const values = trained.graph.getValue(weight.float)?.constant?.toNumbers();
    const destination = target.graph.getValue(weight.integer);
    if (!values || !destination?.constant) {
      throw new ModelpassError({ reason: `cannot write back the fake-quantized weight '${weight.integer}': it is missing from the trained or the target model`, source: '@modelpass/train' });
    }
    const [low, high] = INTEGER_RANGES[weight.dtype]!;
    const channel = channelOf(weight.shape, weight.axis, weight.scales.length);
    const quantized = values.map((w, i) => {
      const c = channel(i);
      return Math.min(high, Math.max(low, roundHalfEven(Number(w) / weight.scales[c]!) + weight.zeroPoints[c]!));
    });
    const tensor = Tensor.fromValues(weight.dtype, weight.shape, quantized);
    if (!tensor.equals(destination.constant)) {
      destination.setConstant(tensor);
      changed++;
    }
  }
  return changed;
}

