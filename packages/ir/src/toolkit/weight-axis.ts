import type { Node } from '../node.js';
import type { Value } from '../value.js';

/** Rank of a value: from its constant, else its static type; undefined when unknown. */
function rankOf(value: Value | null | undefined): number | undefined {
  if (!value) return undefined;
  if (value.constant) return value.constant.rank;
  return value.type.kind === 'tensor' && value.type.shape !== null ? value.type.shape.length : undefined;
}

type AxisRule = (node: Node, weightRank: number) => number | undefined;

/** Per op: which axis of the weight (input 1) indexes the output channels/features. */
const OUTPUT_AXIS_RULES: Readonly<Record<string, AxisRule>> = {
  // W: [M, C/group, k...]
  'onnx.Conv': () => 0,
  // W: [C, M/group, k...] (with group > 1 each index along axis 1 serves one output channel per group)
  'onnx.ConvTranspose': () => 1,
  // B: [K, N], or [N, K] with transB
  'onnx.Gemm': (node) => (node.optionalAttr('transB', 'int') ? 0 : 1),
  // B: [..., K, N]; a 1-D B has no output axis
  'onnx.MatMul': (_node, rank) => (rank >= 2 ? rank - 1 : undefined),
};

/**
 * The axis of `node`'s weight (input 1) along which per-channel quantization parameters go: the
 * one that indexes the node's output channels or features. Handles Conv (0), ConvTranspose (1),
 * Gemm (1, or 0 with `transB`) and MatMul (the last axis); undefined for other ops, a 1-D MatMul
 * weight, or a weight whose rank is unknown.
 */
export function weightOutputAxis(node: Node): number | undefined {
  const rule = OUTPUT_AXIS_RULES[node.op];
  if (!rule) return undefined;
  const rank = rankOf(node.inputs[1]);
  if (rank === undefined) return undefined;
  return rule(node, rank);
}

/** The ops `weightOutputAxis` knows. */
export const WEIGHT_AXIS_OPS: readonly string[] = Object.freeze(Object.keys(OUTPUT_AXIS_RULES));
