/**
 * Offline weight and bias quantization of a weighted node (Conv, MatMul with a constant B, Gemm):
 * the weight becomes int8 (per channel along the output axis, symmetric, zero point 0), the bias
 * int32 with `scale = x_scale * w_scale` and zero point 0, as QLinearConv/QGemm read them.
 * Shared constants are copied first, so no other reader sees integers it did not ask for.
 */
import { perChannelPaysOff } from './weight-granularity.js';
import { attrs, quantizeLinear, quantizeSymmetric, roundHalfToEven, Tensor, weightOutputAxis, type Node, type QuantizedTensor, type QuantParams, type Value } from '@modelpass/ir';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export interface WeightOptions {
  readonly perChannel: boolean;
  /** Per channel only where it gains at least this SQNR (dB) over per tensor (weight-granularity.ts); 0 or absent: always per channel. */
  readonly perChannelMinGainDb?: number;
  /** Nodes whose weights are quantized per tensor whatever `perChannel` says (full-integer: attention head-split projections, composites.ts). */
  readonly perTensorNodes?: ReadonlySet<Node>;
  /** `restricted` (default): [-127, 127], scale = absmax/127; `full`: [-128, 127], scale = absmax/127.5 (see `WeightRange`). */
  readonly weightRange?: WeightRange;
}

/**
 * The int8 grid of symmetric weights. `restricted`: codes −127…127, scale = absmax/127 (ONNX
 * Runtime's quantizer; TFLite's int8 weight spec). `full`: the whole int8 range, scale = absmax/127.5,
 * so −absmax is code −128 and +absmax saturates to 127 (PyTorch's `per_channel_symmetric` qint8
 * observer, whose numbers it reproduces). A different rounding of the same weights, 0.4% finer.
 */
export type WeightRange = 'restricted' | 'full';

/** Symmetric int8 of `float` along `axis` on the grid `range` chooses. */
function symmetricInt8(float: Tensor, axis: number | undefined, range: WeightRange): QuantizedTensor {
  const restricted = quantizeSymmetric(float, { dtype: 'int8', axis });
  if (range === 'restricted') return restricted;
  const scales = Array.from(restricted.scale.toNumbers(), (s) => Math.fround((s * 127) / 127.5));
  const scale = Tensor.fromValues('float32', [...restricted.scale.shape], scales);
  return { ...restricted, scale, values: quantizeLinear(float, scale, restricted.zeroPoint, axis === undefined ? {} : { axis }) };
}

export interface QuantizedWeights {
  readonly weight: Value;
  readonly bias: Value | undefined;
  /** Bytes of float weights and biases before, of integers after. */
  readonly bytesBefore: number;
  readonly bytesAfter: number;
}

/** The constant input `index` of `node`, copied when another node (or input slot) also reads it. */
function ownConstant(node: Node, index: number, suffix: string): Value {
  const value = node.input(index);
  if (value.uses.size === 1 && !value.isGraphOutput) return value;
  const graph = node.graph!;
  const copy = graph.addConstant(graph.uniqueName(`${value.name}_${suffix}`), value.constant!);
  node.setInput(index, copy);
  return copy;
}

function quantParams(scale: readonly number[], zeroPoint: readonly number[], axis: number | undefined, bits: number): QuantParams {
  return axis === undefined ? { scale, zeroPoint, bits } : { scale, zeroPoint, axis, bits };
}

/** The per-channel axis for `node`'s weight; per-tensor for batched (rank > 2) MatMul weights. */
function weightAxis(node: Node, options: WeightOptions): number | undefined {
  if (!options.perChannel || options.perTensorNodes?.has(node)) return undefined;
  if (node.op === 'onnx.MatMul' && node.input(1).constant!.rank > 2) return undefined;
  const axis = weightOutputAxis(node);
  return axis === undefined || perChannelPaysOff(node.input(1).constant!, axis, options.perChannelMinGainDb ?? 0) ? axis : undefined;
}

/** Folds Gemm's beta into C and a `[1, N]` C into `[N]`, so C can become QGemm's int32 bias. */
function normalizeGemmBias(node: Node): void {
  const c = node.inputs[2];
  if (!c?.constant) return;
  const beta = node.optionalAttr('beta', 'float') ?? 1;
  if (beta === 1 && c.constant.rank === 1) return;
  const values = c.constant.toNumbers().map((v) => Math.fround(v * beta));
  const own = ownConstant(node, 2, 'bias');
  own.setConstant(Tensor.fromValues('float32', [values.length], values));
  if (node.hasAttribute('beta')) node.setAttribute('beta', attrs.float(1));
}

/**
 * The quantized weights made so far, by float weight and axis: a weight several layers share (a
 * Siamese branch, a layer applied twice) is quantized once and its int8 constant read by all of them
 * (bias correction changes biases, which stay one per layer).
 */
export type SharedQuantizedWeights = Map<Value, Map<string, { readonly weight: Value; readonly scales: readonly number[] }>>;

/** Quantizes `node`'s weight (input 1) and bias (Conv input 2, Gemm C); `inputScale` is the scale of its activation input. */
export function quantizeNodeWeights(node: Node, inputScale: number, options: WeightOptions, shared: SharedQuantizedWeights = new Map()): QuantizedWeights {
  const original = node.input(1);
  const axis = weightAxis(node, options);
  const key = `${axis ?? 'tensor'}:${options.weightRange ?? 'restricted'}`;
  const made = shared.get(original)?.get(key);
  let weight: Value;
  let scales: readonly number[];
  let bytesBefore = 0;
  let bytesAfter = 0;
  if (made) {
    node.setInput(1, made.weight);
    const graph = node.graph!;
    if (!original.hasUses && !original.isGraphOutput && !original.isGraphInput) {
      // the int8 copy takes the model's own name back
      const name = original.name;
      graph.removeConstant(original);
      made.weight.rename(name);
    }
    weight = made.weight;
    scales = made.scales;
  } else {
    weight = ownConstant(node, 1, 'weight');
    const float = weight.constant!;
    const q = symmetricInt8(float, axis, options.weightRange ?? 'restricted');
    scales = Array.from(q.scale.toNumbers());
    weight.setConstant(q.values.withQuant(quantParams([...scales], scales.map(() => 0), axis, 8)));
    bytesBefore = float.size * 4;
    bytesAfter = q.values.size;
    if (!shared.has(original)) shared.set(original, new Map());
    shared.get(original)!.set(key, { weight, scales });
  }

  const biasIndex = node.op === 'onnx.Conv' || node.op === 'onnx.ConvTranspose' || node.op === 'onnx.Gemm' ? 2 : -1;
  if (node.op === 'onnx.Gemm') normalizeGemmBias(node);
  let bias: Value | undefined;
  if (biasIndex > 0 && node.inputs[biasIndex]) {
    bias = ownConstant(node, biasIndex, 'bias');
    const values = bias.constant!.toNumbers();
    const biasScales = axis === undefined ? [Math.fround(inputScale * scales[0]!)] : scales.map((s) => Math.fround(inputScale * s));
    const ints = values.map((v, c) => {
      const scale = biasScales[axis === undefined ? 0 : c]!;
      const q = roundHalfToEven(v / scale);
      return Math.min(INT32_MAX, Math.max(INT32_MIN, q));
    });
    bytesBefore += values.length * 4;
    bytesAfter += values.length * 4;
    bias.setConstant(
      Tensor.fromValues('int32', [values.length], ints).withQuant(quantParams(biasScales, biasScales.map(() => 0), axis === undefined ? undefined : 0, 32)),
    );
  }
  return { weight, bias, bytesBefore, bytesAfter };
}
