/**
 * Exporters share parameters that merely hold equal values: torch.onnx deduplicates identical
 * initializers (e.g. the zero biases of every Squeeze-Excitation conv of one width in
 * EfficientNet / MobileNetV3) and spells the repeats as `Identity(initializer)`. Such a constant
 * read by layers of different channel groups cannot be sliced for one of them, so before the
 * analysis:
 * - `Identity` of a constant is looked through (its readers read the constant itself);
 * - a constant parameter that the analysis finds shared with layers that do not shrink with it,
 *   and a per-channel vector (rank 1: bias, BatchNorm scale/shift/mean/var) read by several layers,
 *   gets one copy per reading node (same tensor object, no data copied), so that the layers' groups
 *   are not tied together by a coincidence of values. A shared weight of rank > 1 (real weight
 *   sharing) still ties its layers' groups.
 * After pruning, `retieUnchangedCopies` points every copy that was not sliced back at its origin
 * and drops it, so a model whose shared groups stayed whole keeps its deduplicated constants.
 */
import type { Model, Value } from '@modelpass/ir';
import { forwardConstantIdentities } from '@modelpass/transforms';
import { analyzeChannelDependencies, type ChannelAnalysis } from './dependency-groups.js';

/** Replaces every `Identity(constant)` whose output is no graph output by the constant (transforms' `forwardConstantIdentities`). Returns how many. */
export function lookThroughConstantIdentities(model: Model): number {
  return forwardConstantIdentities(model);
}

/** Gives each node reading one of `shared` beyond the first its own copy. Returns copy → origin. */
export function untieConstants(model: Model, shared: Iterable<Value>): Map<Value, Value> {
  const copies = new Map<Value, Value>();
  for (const value of shared) {
    if (!value.isConstant || !value.constant) continue;
    const readers = value.users;
    for (const reader of readers.slice(1)) {
      const copy = model.graph.addConstant(model.graph.uniqueName(`${value.name}__untied`), value.constant);
      reader.inputs.forEach((input, index) => {
        if (input === value) reader.setInput(index, copy);
      });
      copies.set(copy, value);
    }
  }
  return copies;
}

/** Points each copy whose data is still its origin's (neither was sliced) back at the origin. Returns how many copies stay. */
export function retieUnchangedCopies(model: Model, copies: Map<Value, Value>): number {
  let kept = 0;
  for (const [copy, origin] of copies) {
    if (copy.constant !== undefined && copy.constant === origin.constant) {
      copy.replaceAllUsesWith(origin);
      model.graph.removeConstant(copy);
    } else kept++;
  }
  return kept;
}

export interface PreparedChannelAnalysis {
  readonly analysis: ChannelAnalysis;
  /** Copies made of shared constants → the constant they copy (see `retieUnchangedCopies`). */
  readonly copies: Map<Value, Value>;
  readonly identitiesRemoved: number;
}

/**
 * What `prune-channels` analyzes (the model's types inferred first): `Identity` of constants looked
 * through, shared per-channel vectors and constants shared with layers that do not shrink with them
 * untied, then `analyzeChannelDependencies`. Changes the model (semantics kept).
 */
export function prepareChannelAnalysis(model: Model): PreparedChannelAnalysis {
  const identitiesRemoved = lookThroughConstantIdentities(model);
  let analysis = analyzeChannelDependencies(model);
  // Refused for sharing, or a per-channel vector (bias, BatchNorm) of several layers: exporters
  // deduplicate equal ones (zeros, ones), which would tie unrelated groups together.
  const shared = new Set(
    analysis.params
      .filter((param) => param.value.useCount > param.readers.length || (param.value.constant?.shape.length === 1 && param.value.users.length > 1))
      .map((param) => param.value),
  );
  const copies = untieConstants(model, shared);
  if (copies.size > 0) analysis = analyzeChannelDependencies(model);
  return { analysis, copies, identitiesRemoved };
}
