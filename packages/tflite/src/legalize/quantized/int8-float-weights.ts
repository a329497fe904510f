import { Builder, Tensor, tensorType, type Graph, type TensorType } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';

const WEIGHTED = new Map([
  ['tflite.FULLY_CONNECTED', 0],
  ['tflite.CONV_2D', 0],
  ['tflite.DEPTHWISE_CONV_2D', 3],
]);

/** Below this many elements a float32 weight stays as it is (a DEQUANTIZE would cost more than it saves). */
const MIN_ELEMENTS = 1024;

/** Per channel along `axis`: the int8 integers and scales that give back `values` (within float rounding), or undefined. */
function symmetricInt8(tensor: Tensor, axis: number): { integers: number[]; scales: number[] } | undefined {
  const values = tensor.toNumbers();
  const channels = tensor.shape[axis]!;
  const inner = tensor.shape.slice(axis + 1).reduce((n, d) => n * d, 1);
  const channelOf = (i: number) => Math.floor(i / inner) % channels;
  const peaks = new Array<number>(channels).fill(0);
  values.forEach((v, i) => (peaks[channelOf(i)] = Math.max(peaks[channelOf(i)]!, Math.abs(v))));
  const scales = peaks.map((peak) => Math.fround(peak > 0 ? peak / 127 : 1));
  const integers = new Array<number>(values.length);
  for (let i = 0; i < values.length; i++) {
    const c = channelOf(i);
    const q = Math.round(values[i]! / scales[c]!);
    if (Math.abs(q * scales[c]! - values[i]!) > 1e-6 * (peaks[c]! || 1)) return undefined;
    integers[i] = q;
  }
  return { integers, scales };
}

/**
 * Weights of the float ops of an int8 model (a Gemm whose output stays float, such as a classifier)
 * came from int8 integers: when a float32 weight is exactly symmetric int8 per output channel, it is
 * stored as int8 behind a DEQUANTIZE (TFLite dequantizes constant weights once, at preparation), so
 * the file keeps the int8 size. Returns how many weights.
 */
export function int8WeightsOfFloatOps(graph: Graph): number {
  let count = 0;
  for (const node of graph.nodeList()) {
    const axis = WEIGHTED.get(node.op);
    const weightValue = node.inputs[1];
    const weight = constantOf(weightValue);
    if (axis === undefined || !weight || weight.dtype !== 'float32' || weight.size < MIN_ELEMENTS) continue;
    if ((node.inputs[0]?.type as TensorType | undefined)?.dtype !== 'float32') continue;
    const found = symmetricInt8(weight, axis);
    if (!found) continue;
    const quant = { scale: found.scales, zeroPoint: found.scales.map(() => 0), axis, bits: 8 };
    const at = Builder.before(node);
    const integers = at.constant(Tensor.fromValues('int8', weight.shape, found.integers, quant), `${node.name}_weights_int8`);
    const reals = at.create('tflite.DEQUANTIZE', [integers], {}, { types: [tensorType('float32', weight.shape)], name: `${node.name}_weights` }).output(0);
    node.setInput(1, reals);
    count++;
  }
  return count;
}
