/**
 * What `prune-channels` leaves for `reconstruct`: the model as it was before pruning (ONNX bytes)
 * and the layers whose input channels it removed. Kept beside the model object for the rest of the
 * process (a WeakMap: nothing is written into the model or its file), so `reconstruct` must run in
 * the same pipeline as `prune-channels`, after it.
 */
import type { Model } from '@modelpass/ir';
import type { ChannelGroupReport } from '../channels/dependency-groups.js';

export interface PrunedLayer {
  /** Name of the Conv/Gemm/MatMul node (the same in the original and the pruned model). */
  readonly node: string;
  /** Name of its output value (the same in both models). */
  readonly output: string;
  /** Which of the original output channels it still computes (undefined: all). */
  readonly keptOutputs: readonly number[] | undefined;
  /** Axis of those channels in its output. */
  readonly outputAxis: number;
}

export interface ChannelPruningRecord {
  /** The model before pruning, ONNX-encoded (empty when `layers` is: a prune-channels that removed no channel keeps no copy). */
  readonly original: Uint8Array;
  /** The layers that read pruned channels, in graph order. */
  readonly layers: readonly PrunedLayer[];
  /** The per-group report of the analysis. */
  readonly groups: readonly ChannelGroupReport[];
}

const RECORDS = new WeakMap<Model, ChannelPruningRecord>();

export function recordChannelPruning(model: Model, record: ChannelPruningRecord): void {
  const previous = RECORDS.get(model);
  // A second prune-channels keeps the first original: reconstruction aims at the unpruned model. A record without
  // layers (a prune-channels that removed nothing, whose original is not kept) gives way to the next one.
  RECORDS.set(model, previous && previous.layers.length > 0 ? { ...record, original: previous.original, layers: mergeLayers(previous.layers, record.layers) } : record);
}

function mergeLayers(before: readonly PrunedLayer[], after: readonly PrunedLayer[]): PrunedLayer[] {
  const merged = new Map(before.map((layer) => [layer.node, layer]));
  for (const layer of after) {
    const earlier = merged.get(layer.node);
    const keptOutputs = earlier?.keptOutputs && layer.keptOutputs ? layer.keptOutputs.map((i) => earlier.keptOutputs![i]!) : (layer.keptOutputs ?? earlier?.keptOutputs);
    merged.set(layer.node, { ...layer, keptOutputs });
  }
  return [...merged.values()];
}

/** The record `prune-channels` left for this model object, if any. */
export function channelPruningRecord(model: Model): ChannelPruningRecord | undefined {
  return RECORDS.get(model);
}
