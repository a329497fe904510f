import { attrs, Builder, Tensor, tensorType, type Graph, type Model, type Node, type TensorType } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';

const WEIGHTED = new Map([
  ['tflite.FULLY_CONNECTED', 0],
  ['tflite.CONV_2D', 0],
  ['tflite.DEPTHWISE_CONV_2D', 3],
]);

/** Below this many elements a float32 weight stays as it is (a DEQUANTIZE would cost more than it saves). */
const MIN_ELEMENTS = 1024;

/** float32 neighbours of `scale`, nearest first: the scale the quantizer used is within an ulp or two of max/127. */
function scaleCandidates(scale: number): number[] {
  const bits = new Float32Array([scale]);
  const view = new Int32Array(bits.buffer);
  const base = view[0]!;
  const candidates: number[] = [];
  for (const step of [0, -1, 1, -2, 2]) {
    view[0] = base + step;
    candidates.push(bits[0]!);
  }
  return candidates;
}

/** One int8 scale for the whole tensor with fround(q · scale) equal to every value (a per-tensor weight), or undefined. */
function perTensorInt8(values: readonly number[]): { integers: number[]; scale: number } | undefined {
  const peak = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  if (peak === 0) return undefined;
  const scale = scaleCandidates(Math.fround(peak / 127)).find((candidate) =>
    values.every((v) => {
      const q = Math.round(v / candidate);
      return Math.abs(q) <= 127 && Math.fround(q * candidate) === v;
    }),
  );
  return scale === undefined ? undefined : { integers: values.map((v) => Math.round(v / scale)), scale };
}

/**
 * Per channel along `axis`: int8 integers and scales with fround(q · scale) equal to every value
 * (bit-exact, as TFLite's DEQUANTIZE computes it), or undefined when the weight is not such a product.
 */
function symmetricInt8(tensor: Tensor, axis: number): { integers: number[]; scales: number[] } | undefined {
  const values = tensor.toNumbers();
  const channels = tensor.shape[axis]!;
  const inner = tensor.shape.slice(axis + 1).reduce((n, d) => n * d, 1);
  const outer = values.length / (channels * inner);
  const indicesOf = (c: number): number[] => {
    const indices: number[] = [];
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) indices.push((o * channels + c) * inner + i);
    return indices;
  };
  const integers = new Array<number>(values.length);
  const scales: number[] = [];
  for (let c = 0; c < channels; c++) {
    const indices = indicesOf(c);
    const peak = indices.reduce((m, i) => Math.max(m, Math.abs(values[i]!)), 0);
    if (peak === 0) {
      for (const i of indices) integers[i] = 0;
      scales.push(1);
      continue;
    }
    const scale = scaleCandidates(Math.fround(peak / 127)).find((candidate) =>
      indices.every((i) => {
        const q = Math.round(values[i]! / candidate);
        return Math.abs(q) <= 127 && Math.fround(q * candidate) === values[i];
      }),
    );
    if (scale === undefined) return undefined;
    for (const i of indices) integers[i] = Math.round(values[i]! / scale);
    scales.push(scale);
  }
  return { integers, scales };
}

/**
 * Weights of the float ops of an int8 model (a Gemm whose output stays float, such as a classifier)
 * came from int8 integers: when a float32 weight is exactly symmetric int8 per output channel (or with one
 * scale for the whole tensor), it is
 * stored as int8 behind a DEQUANTIZE (TFLite dequantizes constant weights once, at preparation), so
 * the file keeps the int8 size. Returns how many weights.
 */
export function int8WeightsOfFloatOps(graph: Graph): number {
  let count = 0;
  for (const node of graph.nodeList()) {
    if (node.op === 'tflite.BATCH_MATMUL') {
      if (int8BatchMatMulWeight(node)) count++;
      continue;
    }
    if (ELEMENTWISE.has(node.op)) {
      count += int8ElementwiseOperands(node);
      continue;
    }
    const axis = WEIGHTED.get(node.op);
    const weightValue = node.inputs[1];
    const weight = constantOf(weightValue);
    if (axis === undefined || !weight || weight.dtype !== 'float32' || weight.size < MIN_ELEMENTS) continue;
    if ((node.inputs[0]?.type as TensorType | undefined)?.dtype !== 'float32') continue;
    // Per channel first; quantize-static keeps one scale for a layer where per-channel gains too little (a classifier).
    const perChannel = symmetricInt8(weight, axis);
    const perTensor = perChannel ? undefined : perTensorInt8(weight.toNumbers());
    if (!perChannel && !perTensor) continue;
    const found = perChannel ?? { integers: perTensor!.integers, scales: [perTensor!.scale] };
    const quant = perChannel ? { scale: found.scales, zeroPoint: found.scales.map(() => 0), axis, bits: 8 } : { scale: found.scales, zeroPoint: [0], bits: 8 };
    const at = Builder.before(node);
    const integers = at.constant(Tensor.fromValues('int8', weight.shape, found.integers, quant), `${node.name}_weights_int8`);
    const reals = at.create('tflite.DEQUANTIZE', [integers], {}, { types: [tensorType('float32', weight.shape)], name: `${node.name}_weights` }).output(0);
    node.setInput(1, reals);
    count++;
  }
  return count;
}

/**
 * int8 integers with one scale per position of every axis but `reduced` (the axis a matrix product sums over), each
 * scale with fround(q · scale) equal to every value it covers; undefined when the weight is not such a product. The
 * scales come back shaped as the weight with `reduced` at 1 (so they broadcast over it).
 */
function int8AcrossAxis(tensor: Tensor, reduced: number): { integers: number[]; scales: number[]; scaleShape: number[] } | undefined {
  const values = tensor.toNumbers();
  const size = tensor.shape[reduced]!;
  const inner = tensor.shape.slice(reduced + 1).reduce((n, d) => n * d, 1);
  const outer = values.length / (size * inner);
  const integers = new Array<number>(values.length);
  const scales: number[] = [];
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const at = (k: number) => (o * size + k) * inner + i;
      let peak = 0;
      for (let k = 0; k < size; k++) peak = Math.max(peak, Math.abs(values[at(k)]!));
      if (peak === 0) {
        for (let k = 0; k < size; k++) integers[at(k)] = 0;
        scales.push(1);
        continue;
      }
      const scale = scaleCandidates(Math.fround(peak / 127)).find((candidate) => {
        for (let k = 0; k < size; k++) {
          const v = values[at(k)]!;
          const q = Math.round(v / candidate);
          if (Math.abs(q) > 127 || Math.fround(q * candidate) !== v) return false;
        }
        return true;
      });
      if (scale === undefined) return undefined;
      for (let k = 0; k < size; k++) integers[at(k)] = Math.round(values[at(k)]! / scale);
      scales.push(scale);
    }
  }
  return { integers, scales, scaleShape: tensor.shape.map((d, axis) => (axis === reduced ? 1 : d)) };
}

/**
 * The constant operand of a float BATCH_MATMUL (the attention head split's head-major projection `[H, Ein, hd]`,
 * attention-heads.ts) from int8 integers quantized per output column: each column (h, j) has its own scale, over two
 * axes, which TFLite's per-axis quantization (one quantized dimension) cannot say. Stored as int8 with scale 1 behind
 * a DEQUANTIZE (computed once, at preparation) times the column scales `[H, 1, hd]` (a MUL): q · s rounded once to
 * float32, the same reals as ONNX's DequantizeLinear (bit-exact); one scale for all becomes the DEQUANTIZE's own.
 */
function int8BatchMatMulWeight(node: Node): boolean {
  const weight = constantOf(node.inputs[1]);
  if (!weight || weight.dtype !== 'float32' || weight.size < MIN_ELEMENTS || weight.rank < 3) return false;
  if ((node.inputs[0]?.type as TensorType | undefined)?.dtype !== 'float32') return false;
  const reduced = node.optionalAttr('adj_y', 'int') === 1 ? weight.rank - 1 : weight.rank - 2;
  const found = int8AcrossAxis(weight, reduced);
  if (!found) return false;
  const single = found.scales.every((scale) => scale === found.scales[0]);
  const at = Builder.before(node);
  const integerQuant = { scale: [single ? found.scales[0]! : 1], zeroPoint: [0], bits: 8 };
  const integers = at.constant(Tensor.fromValues('int8', weight.shape, found.integers, integerQuant), `${node.name}_weights_int8`);
  const floatType = tensorType('float32', weight.shape);
  let reals = at.create('tflite.DEQUANTIZE', [integers], {}, { types: [floatType], name: single ? `${node.name}_weights` : `${node.name}_weights_integers` }).output(0);
  if (!single) {
    const scales = at.constant(Tensor.fromValues('float32', found.scaleShape, found.scales), `${node.name}_weights_scales`);
    reals = at.create('tflite.MUL', [reals, scales], { fused_activation_function: attrs.string('NONE') }, { types: [floatType], name: `${node.name}_weights` }).output(0);
  }
  node.setInput(1, reals);
  return true;
}

/** Float element-wise ops whose constant operand (a ViT's or the Fashion transformer's position table) may be int8. */
const ELEMENTWISE = new Set(['tflite.ADD', 'tflite.SUB', 'tflite.MUL']);

/**
 * A float element-wise op's constant operands that are int8 integers times one scale (quantize-static's per-tensor
 * tables, dequantized for the float op): int8 behind a DEQUANTIZE, bit-exact. Returns how many.
 */
function int8ElementwiseOperands(node: Node): number {
  if ((node.outputs[0]?.type as TensorType | undefined)?.dtype !== 'float32') return 0;
  let count = 0;
  node.inputs.forEach((input, index) => {
    const tensor = constantOf(input);
    if (!input || !tensor || tensor.dtype !== 'float32' || tensor.size < MIN_ELEMENTS) return;
    const found = perTensorInt8(tensor.toNumbers());
    if (!found) return;
    const at = Builder.before(node);
    const integers = at.constant(Tensor.fromValues('int8', tensor.shape, found.integers, { scale: [found.scale], zeroPoint: [0], bits: 8 }), `${node.name}_operand${index}_int8`);
    node.setInput(index, at.create('tflite.DEQUANTIZE', [integers], {}, { types: [tensorType('float32', tensor.shape)], name: `${node.name}_operand${index}` }).output(0));
    count++;
  });
  return count;
}

/**
 * True when the model stores integer weights (a DequantizeLinear of a constant, or a quant<> constant): a weight-only
 * quantized model. `dequantizes: false` says the graph has no DequantizeLinear (the caller knows): only constants are looked at.
 */
export function hasInt8Weights(model: Model, dequantizes = true): boolean {
  if (model.graph.constants.some((constant) => constant.constant?.quant !== undefined)) return true;
  if (!dequantizes) return false;
  for (let node = model.graph.firstNode; node; node = node.next) {
    if (node.op === 'onnx.DequantizeLinear' && node.inputs[0]?.isConstant && node.inputs[0].constant?.dtype === 'int8') return true;
  }
  return false;
}
