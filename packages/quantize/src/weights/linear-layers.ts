/**
 * The layers weight-only and dynamic quantization rewrite: MatMul with a constant 2-D right-hand
 * side, and Gemm (transA=0) with a constant 2-D B, seen as `Y = X · W (+ bias)` with W of `[K, N]`
 * stored either as `[K, N]` (MatMul, Gemm transB=0: "k-major") or `[N, K]` (Gemm transB=1:
 * "n-major"). Every other MatMul/Gemm is returned with the reason it is left alone.
 */
import type { Model, Node, Tensor, Value } from '@modelpass/ir';

export type WeightLayout = 'k-major' | 'n-major';

export interface LinearLayer {
  readonly node: Node;
  /** The constant holding the weight. */
  readonly weight: Value;
  readonly tensor: Tensor;
  /** Reduction size (input features). */
  readonly k: number;
  /** Output features. */
  readonly n: number;
  readonly layout: WeightLayout;
  /** Gemm's `alpha` (1 for MatMul). */
  readonly alpha: number;
  /** Gemm's `beta` (1 for MatMul). */
  readonly beta: number;
  /** Gemm's C, when present. */
  readonly bias: Value | null;
}

export interface SkippedLayer {
  readonly node: Node;
  readonly reason: string;
}

export interface LinearLayers {
  readonly layers: LinearLayer[];
  readonly skipped: SkippedLayer[];
}

function numberAttribute(node: Node, name: string, fallback: number): number {
  const attribute = node.getAttribute(name);
  if (!attribute) return fallback;
  return attribute.kind === 'int' || attribute.kind === 'float' ? attribute.value : Number.NaN;
}

/** A constant weight usable offline, or why not. */
function constantWeight(node: Node): { weight: Value; tensor: Tensor } | string {
  const weight = node.inputs[1];
  if (!weight) return 'it has no weight input';
  if (!weight.isConstant || !weight.constant) return `its weight '${weight.name}' is not a constant (an activation, or an overridable graph input)`;
  const tensor = weight.constant;
  if (tensor.dtype !== 'float32') return `its weight '${weight.name}' is ${tensor.dtype}, not float32`;
  if (tensor.rank !== 2) return `its weight '${weight.name}' has rank ${tensor.rank}, not 2`;
  return { weight, tensor };
}

function matMulLayer(node: Node): LinearLayer | string {
  const found = constantWeight(node);
  if (typeof found === 'string') return found;
  const [k, n] = found.tensor.shape as [number, number];
  const a = node.inputs[0]?.type;
  if (a?.kind === 'tensor' && a.shape && a.shape.length < 2) return 'its input has rank 1';
  return { node, ...found, k, n, layout: 'k-major', alpha: 1, beta: 1, bias: null };
}

function gemmLayer(node: Node): LinearLayer | string {
  if (numberAttribute(node, 'transA', 0) !== 0) return 'it transposes A (transA=1)';
  const found = constantWeight(node);
  if (typeof found === 'string') return found;
  const alpha = numberAttribute(node, 'alpha', 1);
  const beta = numberAttribute(node, 'beta', 1);
  if (!Number.isFinite(alpha) || !Number.isFinite(beta)) return 'its alpha or beta is not a number';
  const transB = numberAttribute(node, 'transB', 0) !== 0;
  const [rows, cols] = found.tensor.shape as [number, number];
  const bias = node.inputs[2] ?? null;
  return transB
    ? { node, ...found, k: cols, n: rows, layout: 'n-major', alpha, beta, bias }
    : { node, ...found, k: rows, n: cols, layout: 'k-major', alpha, beta, bias };
}

const LAYER_READERS: Readonly<Record<string, (node: Node) => LinearLayer | string>> = {
  'onnx.MatMul': matMulLayer,
  'onnx.Gemm': gemmLayer,
};

/** MatMul/Gemm nodes of the main graph with a constant float32 2-D weight. */
export function findLinearLayers(model: Model): LinearLayers {
  const layers: LinearLayer[] = [];
  const skipped: SkippedLayer[] = [];
  for (const node of model.graph.nodesOf(...Object.keys(LAYER_READERS))) {
    const found = LAYER_READERS[node.op]!(node);
    if (typeof found === 'string') skipped.push({ node, reason: found });
    else layers.push(found);
  }
  return { layers, skipped };
}
