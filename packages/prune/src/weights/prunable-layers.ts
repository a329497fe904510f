/**
 * The layers unstructured and N:M pruning work on: Conv, ConvTranspose, Gemm and MatMul nodes whose
 * weight (input 1) is a constant float initializer, and the skip rules shared by those passes.
 */
import { ModelpassError, type Model, type Node, type Tensor, type Value } from '@modelpass/ir';
import { forwardConstantIdentities } from '@modelpass/transforms';

export const PRUNABLE_OPS = ['onnx.Conv', 'onnx.ConvTranspose', 'onnx.Gemm', 'onnx.MatMul'] as const;
export const PRUNABLE_DTYPES = ['float32', 'float16', 'bfloat16', 'float64'] as const;

export interface PrunableLayer {
  /** The first node reading the weight. */
  readonly node: Node;
  /** Every Conv/ConvTranspose/Gemm/MatMul reading the weight as input 1, in graph order (more than one: a shared weight). */
  readonly readers: readonly Node[];
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

/**
 * Prunable layers of the main graph, in graph order; a weight shared by several nodes appears once
 * (`node`: its first reader; `readers`: all of them). A weight behind `Identity(constant)` (PyTorch
 * spells a parameter equal to another so) is not seen here: the passes forward those first
 * (`prepareLayers`).
 */
export function findPrunableLayers(model: Model): PrunableLayer[] {
  const byWeight = new Map<Value, { node: Node; readers: Node[]; weight: Value; tensor: Tensor; isInputDefault: boolean }>();
  for (const node of model.graph.nodesOf(...PRUNABLE_OPS)) {
    const weight = node.inputs[1];
    const tensor = weight?.constant;
    if (!isWeightWithData(weight) || !tensor) continue;
    const known = byWeight.get(weight);
    if (known) {
      known.readers.push(node);
      continue;
    }
    if (!(PRUNABLE_DTYPES as readonly string[]).includes(tensor.dtype) || tensor.quant) continue;
    byWeight.set(weight, { node, readers: [node], weight, tensor, isInputDefault: weight.isGraphInput });
  }
  return [...byWeight.values()];
}

/** The first and the last prunable node in graph order (what skip-first-last leaves alone). */
export function firstAndLastLayers(layers: readonly PrunableLayer[]): { first: Node | undefined; last: Node | undefined } {
  const readers = new Set(layers.flatMap((layer) => layer.readers));
  const first = layers[0]?.node;
  let last: Node | undefined;
  if (first) for (const node of first.graph!.nodes()) if (readers.has(node)) last = node;
  return { first, last };
}

/**
 * Gives the readers of one weight that `plan` treats differently (one skipped, one pruned; two
 * sparsities) their own copy of it (the same tensor, no data copied), so pruning the weight for one
 * layer never prunes another silently. A graph input's default is left shared. Returns the copies made.
 */
export function untieDivergentReaders(model: Model, layers: readonly PrunableLayer[], plan: (node: Node) => string): number {
  let copies = 0;
  for (const layer of layers) {
    if (layer.readers.length < 2 || layer.isInputDefault) continue;
    const byPlan = new Map<string, Node[]>();
    for (const reader of layer.readers) {
      const key = plan(reader);
      byPlan.set(key, [...(byPlan.get(key) ?? []), reader]);
    }
    for (const nodes of [...byPlan.values()].slice(1)) {
      const copy = model.graph.addConstant(model.graph.uniqueName(`${layer.weight.name}_untied`), layer.tensor);
      for (const node of nodes) node.setInput(1, copy);
      copies++;
    }
  }
  return copies;
}

export interface PreparedLayers {
  readonly layers: PrunableLayer[];
  /** `Identity(constant)`s forwarded to their constant. */
  readonly identitiesForwarded: number;
  /** Copies made of weights whose readers are pruned differently. */
  readonly untied: number;
}

/**
 * What the unstructured and N:M passes prune: `Identity(constant)` forwarded first (transforms'
 * `forwardConstantIdentities`), so a layer whose weight PyTorch spelled as an Identity of an equal
 * parameter is a layer like the others (it was invisible: not counted, not nameable in skip, and
 * pruned anyway through the Identity when the other was); then readers of one weight that the plan
 * (made from the layers found) treats differently get their own copies.
 */
export function prepareLayers(model: Model, plan?: (layers: readonly PrunableLayer[]) => (node: Node) => string): PreparedLayers {
  const identitiesForwarded = forwardConstantIdentities(model);
  let layers = findPrunableLayers(model);
  const untied = plan ? untieDivergentReaders(model, layers, plan(layers)) : 0;
  if (untied > 0) layers = findPrunableLayers(model);
  return { layers, identitiesForwarded, untied };
}

export interface SkipOptions {
  /** Node names to leave alone. */
  readonly skip: readonly string[];
  /** Leave the first and the last prunable layer alone (they usually cost the most accuracy). */
  readonly skipFirstLast: boolean;
}

/** Names nobody can find are an error listing what exists: a typo must not prune the wrong layers silently. */
export function checkLayerNames(layers: readonly PrunableLayer[], names: readonly string[], option: string, pass: string): void {
  const known = new Set(layers.flatMap((layer) => layer.readers.map((node) => node.name)));
  const missing = names.filter((name) => !known.has(name));
  if (missing.length === 0) return;
  throw new ModelpassError({
    reason: `option '${option}' of pass '${pass}' names ${missing.map((n) => `'${n}'`).join(', ')}, which ${missing.length === 1 ? 'is not a prunable layer' : 'are not prunable layers'}`,
    expected: `names of Conv/ConvTranspose/Gemm/MatMul nodes with a constant float weight: ${[...known].map((n) => `'${n}'`).join(', ') || '(none in this model)'}`,
    source: '@modelpass/prune',
  });
}

/** Why the layer `node` is skipped, or undefined when it is pruned; `edges`: `firstAndLastLayers(layers)`. */
export function skipReason(node: Node, edges: { first: Node | undefined; last: Node | undefined }, options: SkipOptions): string | undefined {
  if (options.skip.includes(node.name)) return 'named in skip';
  if (options.skipFirstLast) {
    if (node === edges.first) return 'first prunable layer (skip-first-last)';
    if (node === edges.last) return 'last prunable layer (skip-first-last)';
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
