/**
 * The layers `quantize-dynamic` rewrites: MatMul/Gemm with a constant float32 2-D weight (see
 * `findLinearLayers`) and Conv with a constant float32 weight. Each comes with the axis its
 * per-channel parameters run along.
 */
import type { Model, Node, Tensor, Value } from '@modelpass/ir';
import { findLinearLayers, type LinearLayer, type SkippedLayer } from '../weights/linear-layers.js';

export interface ConvLayer {
  readonly kind: 'conv';
  readonly node: Node;
  readonly weight: Value;
  readonly tensor: Tensor;
  /** Output channels (axis 0 of the weight). */
  readonly channels: number;
  readonly bias: Value | null;
}

export type DynamicLayer = ({ readonly kind: 'linear' } & LinearLayer) | ConvLayer;

function convLayer(node: Node): ConvLayer | string {
  const weight = node.inputs[1];
  if (!weight?.isConstant || !weight.constant) return 'its weight is not a constant';
  const tensor = weight.constant;
  if (tensor.dtype !== 'float32') return `its weight is ${tensor.dtype}, not float32`;
  if (tensor.rank < 3) return `its weight has rank ${tensor.rank}`;
  return { kind: 'conv', node, weight, tensor, channels: tensor.shape[0]!, bias: node.inputs[2] ?? null };
}

/** Dynamic-quantization candidates among `ops` (`MatMul`, `Gemm`, `Conv`), in graph order. */
export function findDynamicLayers(model: Model, ops: readonly string[]): { layers: DynamicLayer[]; skipped: SkippedLayer[] } {
  const wanted = new Set(ops.map((op) => `onnx.${op}`));
  const linear = findLinearLayers(model);
  const byNode = new Map<Node, DynamicLayer>(linear.layers.map((layer) => [layer.node, { kind: 'linear' as const, ...layer }]));
  const skipped = linear.skipped.filter((s) => wanted.has(s.node.op));
  const layers: DynamicLayer[] = [];
  for (const node of model.graph.nodes()) {
    if (!wanted.has(node.op)) continue;
    if (node.op === 'onnx.Conv') {
      const found = convLayer(node);
      if (typeof found === 'string') skipped.push({ node, reason: found });
      else layers.push(found);
    } else {
      const layer = byNode.get(node);
      if (layer) layers.push(layer);
    }
  }
  return { layers, skipped };
}
