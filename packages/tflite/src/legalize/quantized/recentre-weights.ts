import { dequantizeLinear, Tensor, type Graph, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';

/** Below this many elements a weight stays float32 anyway (`int8WeightsOfFloatOps`): re-centring it would only lose precision. */
const MIN_ELEMENTS = 1024;

export interface RecentreResult {
  /** Weights re-centred to symmetric int8 per output channel. */
  readonly weights: number;
  /** The largest |new real − old real| over every weight, in units of that channel's old (largest) quantization step. */
  readonly worstSteps: number;
}

/** The output-channel axis of the weight operand `user` reads `value` as, or undefined when it reads it otherwise. */
function outputAxisOfWeight(user: Node, value: Value): number | undefined {
  if (user.inputs[1] !== value || user.inputs[0] === value) return undefined;
  if (user.op === 'onnx.Conv') return 0;
  if (user.op === 'onnx.Gemm') return (user.optionalAttr('transA', 'int') ?? 0) === 0 ? ((user.optionalAttr('transB', 'int') ?? 0) === 1 ? 0 : 1) : undefined;
  if (user.op === 'onnx.MatMul') return 1;
  return undefined;
}

/** Integers, scale, zero point and axis of a DequantizeLinear of constants whose zero point is not 0 (or whose integers are uint8). */
function asymmetricConstantDequantize(node: Node): { q: Tensor; scale: Tensor; zeroPoint: Tensor | undefined; axis: number; blockSize: number } | undefined {
  if (node.op !== 'onnx.DequantizeLinear') return undefined;
  const [q, scale] = [constantOf(node.inputs[0]), constantOf(node.inputs[1])];
  const zeroPoint = node.inputs[2] ? constantOf(node.inputs[2]) : undefined;
  if (!q || !scale || (node.inputs[2] && !zeroPoint) || q.quant) return undefined;
  if (q.dtype !== 'uint8' && q.dtype !== 'int8') return undefined;
  const blockSize = node.optionalAttr('block_size', 'int') ?? 0;
  const symmetric = q.dtype === 'int8' && blockSize === 0 && (!zeroPoint || zeroPoint.toNumbers().every((z) => z === 0));
  if (symmetric) return undefined; // already int8 per channel: `int8WeightsOfFloatOps` keeps it bit-exact
  return { q, scale, zeroPoint, axis: node.optionalAttr('axis', 'int') ?? 1, blockSize };
}

/**
 * Weight-only models with asymmetric weights (`quantize-weights` defaults: uint8 codes with zero
 * points, per channel or in blocks): each DequantizeLinear of such a constant that only feeds the
 * weight operand of Conv/Gemm/MatMul becomes a float32 constant of symmetric int8 reals per output
 * channel, `q' · s'` with `s' = max|w_c| / 127` and `q' = round(w / s')`, which the lowering then
 * stores as int8 behind a DEQUANTIZE. Each weight moves by at most `s'/2 = max|w_c| / 254`; since
 * `max|w_c|` ≤ 255 old steps for uint8 codes, that is at most about one step of the original grid
 * (`worstSteps` reports the measured worst). Returns what it changed.
 */
export function recentreAsymmetricWeights(graph: Graph): RecentreResult {
  let weights = 0;
  let worstSteps = 0;
  for (const node of graph.nodeList()) {
    const source = asymmetricConstantDequantize(node);
    const output = node.outputs[0];
    if (!source || !output || output.isGraphOutput || !output.hasUses || source.q.size < MIN_ELEMENTS) continue;
    const axes = output.users.map((user) => outputAxisOfWeight(user, output));
    const axis = axes[0];
    if (axis === undefined || axes.some((a) => a !== axis) || source.q.rank <= axis) continue;
    const options = { axis: source.axis, ...(source.blockSize ? { blockSize: source.blockSize } : {}) };
    const reals = dequantizeLinear(source.q, source.scale, source.zeroPoint, options).toNumbers();
    // Each element's old step: the scale its code was multiplied by (a code of 1 at zero point 0).
    const steps = dequantizeLinear(Tensor.fromValues(source.q.dtype, source.q.shape, new Array<number>(source.q.size).fill(1)), source.scale, undefined, options).toNumbers();
    const shape = source.q.shape;
    const channels = shape[axis]!;
    const inner = shape.slice(axis + 1).reduce((n, d) => n * d, 1);
    const channelOf = (i: number): number => Math.floor(i / inner) % channels;
    const peaks = new Array<number>(channels).fill(0);
    const oldSteps = new Array<number>(channels).fill(0);
    reals.forEach((w, i) => {
      const c = channelOf(i);
      peaks[c] = Math.max(peaks[c]!, Math.abs(w));
      oldSteps[c] = Math.max(oldSteps[c]!, Math.abs(steps[i]!));
    });
    const scales = peaks.map((peak) => (peak === 0 ? 1 : Math.fround(peak / 127)));
    const recentred = new Float32Array(reals.length);
    for (let i = 0; i < reals.length; i++) {
      const s = scales[channelOf(i)]!;
      const q = Math.max(-127, Math.min(127, Math.round(reals[i]! / s)));
      recentred[i] = Math.fround(q * s);
      const oldStep = oldSteps[channelOf(i)]!;
      if (oldStep > 0) worstSteps = Math.max(worstSteps, Math.abs(recentred[i]! - reals[i]!) / oldStep);
    }
    const value = graph.addConstant(graph.uniqueName(`${output.name}_int8_recentred`), Tensor.fromValues('float32', shape, recentred));
    output.replaceAllUsesWith(value);
    node.erase();
    weights++;
  }
  return { weights, worstSteps };
}
