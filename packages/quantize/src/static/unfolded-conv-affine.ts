/**
 * A Conv whose only reader scales or shifts it by a constant per-channel vector or scalar (Conv → Mul(s) → Add(t):
 * PP-LCNetV3's learnable affine blocks in PP-OCRv4, or a BatchNormalization an exporter wrote out) quantizes badly:
 * the Conv's output is quantized before the affine step, so its range and the weights' per-channel scales are
 * those of the unscaled channels. `fuse-mul-into-weights` and `fuse-add-into-conv-bias` (in `optimize` and `fuse`)
 * fold such steps into the Conv's weights and bias; quantize-static names the chains it finds and says so.
 */
import { isTensorType, type Model, type Node, type Value } from '@modelpass/ir';

/** One Conv → Mul/Add-by-a-constant step that was not folded. */
export interface UnfoldedConvAffine {
  readonly conv: Node;
  readonly reader: Node;
}

const AFFINE_OPS: ReadonlySet<string> = new Set(['onnx.Mul', 'onnx.Add']);

/** Whether `value` is a constant: an initializer or a Constant node's output. */
function isConstant(value: Value): boolean {
  return value.constant !== undefined || value.producer?.op === 'onnx.Constant';
}

/**
 * Whether a constant of this shape holds one value for all channels (a scalar, [1], [1,1,1,1]: PP-LCNetV3's
 * learnable affine blocks) or one per channel of a rank-`rank` NCHW output with `channels` channels.
 */
function isPerChannel(value: Value, rank: number, channels: number): boolean {
  const type = value.type;
  if (!isTensorType(type) || !type.shape) return false;
  const shape = type.shape;
  if (shape.length <= rank && shape.every((dim) => dim === 1)) return true;
  if (shape.length > rank || shape.length < rank - 1) return false;
  // Aligned from the right, the channel axis (1 of `rank`) holds `channels`; every other axis 1.
  const channelAxis = shape.length - (rank - 1);
  return shape.every((dim, axis) => (axis === channelAxis ? dim === channels : dim === 1));
}

/** The Conv → constant per-channel Mul/Add steps of the main graph, in graph order. */
export function findUnfoldedConvAffines(model: Model): UnfoldedConvAffine[] {
  const found: UnfoldedConvAffine[] = [];
  for (const conv of model.graph.nodesOf('onnx.Conv')) {
    const output = conv.outputs[0];
    const weight = conv.inputs[1];
    if (!output || !weight || output.uses.size !== 1) continue;
    const reader = [...output.uses][0]!.node;
    if (!reader || !AFFINE_OPS.has(reader.op)) continue;
    const other = reader.inputs[0] === output ? reader.inputs[1] : reader.inputs[0];
    const weightShape = isTensorType(weight.type) ? weight.type.shape : null;
    const outShape = isTensorType(output.type) ? output.type.shape : null;
    const channels = weightShape?.[0];
    if (!other || !isConstant(other) || typeof channels !== 'number' || !outShape) continue;
    if (isPerChannel(other, outShape.length, channels)) found.push({ conv, reader });
  }
  return found;
}
