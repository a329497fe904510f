/**
 * The layers unstructured and N:M pruning work on: Conv, ConvTranspose, Gemm and MatMul nodes whose
 * weight (input 1) is a constant float initializer, and the skip rules shared by those passes.
 */
import { ModelpassError, type Model, type Node, type Tensor, type Value } from '@modelpass/ir';

export const PRUNABLE_OPS = ['onnx.Conv', 'onnx.ConvTranspose', 'onnx.Gemm', 'onnx.MatMul'] as const;
export const PRUNABLE_DTYPES = ['float32', 'float16', 'bfloat16', 'float64'] as const;

export interface PrunableLayer {
  readonly node: Node;
  /** The weight initializer (input 1). */
  readonly weight: Value;
  readonly tensor: Tensor;
  /**
   * The weight is a graph input whose default is this initializer (IR < 4 files and exports with
   * `keep_initializers_as_inputs`): its default is pruned; a caller feeding it overrides that.
   */
  readonly isInputDefault: boolean;
}

/** A weight whose data is known: an initializer, or a graph input's default value. */
export function isWeightWithData(weight: Value | null | undefined): weight is Value {
  return !!weight && weight.producer === null && (weight.isConstant || (weight.isGraphInput && weight.constant !== undefined));
}

/** Prunable layers of the main graph, in graph order; a weight shared by several nodes appears once (its first reader). */
export function findPrunableLayers(model: Model): PrunableLayer[] {
  const layers: PrunableLayer[] = [];
  const seen = new Set<Value>();
  for (const node of model.graph.nodesOf(...PRUNABLE_OPS)) {
    const weight = node.inputs[1];
    const tensor = weight?.constant;
    if (!isWeightWithData(weight) || !tensor || seen.has(weight)) continue;
    if (!(PRUNABLE_DTYPES as readonly string[]).includes(tensor.dtype) || tensor.quant) continue;
    seen.add(weight);
    layers.push({ node, weight, tensor, isInputDefault: weight.isGraphInput });
  }
  return layers;
}

export interface SkipOptions {
  /** Node names to leave alone. */
  readonly skip: readonly string[];
  /** Leave the first and the last prunable layer alone (they usually cost the most accuracy). */
  readonly skipFirstLast: boolean;
}

/** Names nobody can find are an error listing what exists: a typo must not prune the wrong layers silently. */
export function checkLayerNames(layers: readonly PrunableLayer[], names: readonly string[], option: string, pass: string): void {
  const known = new Set(layers.map((layer) => layer.node.name));
  const missing = names.filter((name) => !known.has(name));
  if (missing.length === 0) return;
  throw new ModelpassError({
    reason: `option '${option}' of pass '${pass}' names ${missing.map((n) => `'${n}'`).join(', ')}, which ${missing.length === 1 ? 'is not a prunable layer' : 'are not prunable layers'}`,
    expected: `names of Conv/ConvTranspose/Gemm/MatMul nodes with a constant float weight: ${[...known].map((n) => `'${n}'`).join(', ') || '(none in this model)'}`,
    source: '@modelpass/prune',
  });
}

/** Why a layer is skipped, or undefined when it is pruned. */
export function skipReason(layer: PrunableLayer, layers: readonly PrunableLayer[], options: SkipOptions): string | undefined {
  if (options.skip.includes(layer.node.name)) return 'named in skip';
  if (options.skipFirstLast && layers.length > 0) {
    if (layer === layers[0]) return 'first prunable layer (skip-first-last)';
    if (layer === layers[layers.length - 1]) return 'last prunable layer (skip-first-last)';
  }
  return undefined;
}

/** Parses `name:fraction` entries; a malformed entry, a fraction outside [0, 1] or a repeated name is an error. */
export function parseOverrides(entries: readonly string[], pass: string): Map<string, number> {
  const overrides = new Map<string, number>();
  for (const entry of entries) {
    const colon = entry.lastIndexOf(':');
    const name = entry.slice(0, colon);
    const fraction = Number(entry.slice(colon + 1));
    if (colon <= 0 || entry.slice(colon + 1).trim() === '' || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
      throw new ModelpassError({
        reason: `option 'overrides' of pass '${pass}' has the entry '${entry}'`,
        expected: "'<node name>:<sparsity in [0, 1]>', e.g. overrides=[conv1:0.3,fc:0.8]",
        source: '@modelpass/prune',
      });
    }
    if (overrides.has(name)) {
      throw new ModelpassError({ reason: `option 'overrides' of pass '${pass}' names layer '${name}' twice`, source: '@modelpass/prune' });
    }
    overrides.set(name, fraction);
  }
  return overrides;
}

/**
 * The hint for a pass that found no weights in a model that holds values in `Constant` nodes (tf2onnx and
 * paddle2onnx exports do), which the pruning passes do not read as weights; undefined when it has none.
 */
export function constantNodeWeightsHint(model: Model): string | undefined {
  let count = 0;
  for (const _ of model.graph.nodesOf('onnx.Constant')) count++;
  return count === 0 ? undefined : `the model holds ${count} value(s) in Constant nodes, which are not read as weights: run simplify first (e.g. -p 'simplify,…') to make them initializers`;
}

/** The warning for a run that pruned nothing, or undefined when some layer was pruned. */
export function nothingPrunedWarning(pass: string, layers: readonly PrunableLayer[], pruned: number, model?: Model): { reason: string; hint?: string } | undefined {
  if (pruned > 0) return undefined;
  if (layers.length === 0) {
    const hint = model ? constantNodeWeightsHint(model) : undefined;
    return { reason: `${pass}: nothing to prune: no Conv/ConvTranspose/Gemm/MatMul reads a constant float weight (quantized or computed weights are left alone)`, ...(hint ? { hint } : {}) };
  }
  return {
    reason: `${pass}: nothing pruned: all ${layers.length} prunable layer(s) were skipped`,
    hint: layers.length <= 2 ? 'the first and the last layer are skipped by default: set skip-first-last=false' : 'check skip, skip-first-last and indivisible',
  };
}
