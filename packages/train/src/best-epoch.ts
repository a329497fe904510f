/**
 * The best epoch of a run with a validation split: which epoch scored best on the monitored validation
 * metric (loss, lower is better, or accuracy, higher is better), and — when the run keeps the best
 * weights — a snapshot of that epoch's weights and running statistics. `fit` returns the snapshot instead
 * of the last epoch's weights, and checkpoints carry it (as `best-epoch/<name>` tensors) so a resumed run
 * ends with the same weights as an uninterrupted one.
 */
import { ModelpassError, type Tensor } from '@modelpass/ir';

export type ValidationMonitor = 'loss' | 'accuracy';
/** Which weights `fit` returns: the best epoch's (by validation) or the last epoch's. */
export type KeptWeights = 'best' | 'last';

const PREFIX = 'best-epoch/';

export interface BestEpochRecord {
  /** 1-based epoch with the best score so far (0: none yet). */
  readonly bestEpoch: number;
  /** Its validation metric (the loss, or the accuracy), or null before the first epoch. */
  readonly bestValue: number | null;
}

export class BestEpoch {
  private epoch = 0;
  private value: number | null = null;
  private snapshot: ReadonlyMap<string, Tensor> | undefined;

  constructor(readonly monitor: ValidationMonitor, readonly keep: KeptWeights) {}

  get bestEpoch(): number { return this.epoch; }
  get bestValue(): number | null { return this.value; }
  record(): BestEpochRecord { return { bestEpoch: this.epoch, bestValue: this.value }; }

  /** Notes epoch `epoch`'s validation result; returns whether it is the best so far (ties keep the earlier epoch). */
  update(epoch: number, validation: { readonly loss: number; readonly accuracy: number }, weights: () => ReadonlyMap<string, Tensor>): boolean {
    const value = this.monitor === 'loss' ? validation.loss : validation.accuracy;
    const better = this.value === null || (this.monitor === 'loss' ? value < this.value : value > this.value);
    if (!better) return false;
    this.epoch = epoch;
    this.value = value;
    if (this.keep === 'best') this.snapshot = weights();
    return true;
  }

  /** The weights to return after `lastEpoch`: the best epoch's snapshot, or undefined for the current (last) weights. */
  keptWeights(lastEpoch: number): ReadonlyMap<string, Tensor> | undefined {
    return this.keep === 'best' && this.snapshot && this.epoch !== lastEpoch ? this.snapshot : undefined;
  }

  /** Extra checkpoint tensors after `epoch`: the best epoch's weights when they are not the current ones. */
  checkpointTensors(epoch: number): [string, Tensor][] {
    const kept = this.keptWeights(epoch);
    return kept ? [...kept].map(([name, tensor]) => [PREFIX + name, tensor]) : [];
  }

  /** Restores the record and snapshot from a checkpoint written after `epoch` (its tensors hold the current weights under their own names). */
  restore(record: Partial<BestEpochRecord>, epoch: number, tensors: ReadonlyMap<string, Tensor>, weightNames: readonly string[], file: string): void {
    this.epoch = typeof record.bestEpoch === 'number' ? record.bestEpoch : 0;
    this.value = typeof record.bestValue === 'number' ? record.bestValue : null;
    if (this.keep !== 'best' || this.epoch === 0) return;
    const source = this.epoch === epoch ? '' : PREFIX;
    const snapshot = new Map<string, Tensor>();
    for (const name of weightNames) {
      const tensor = tensors.get(source + name);
      if (!tensor) throw new ModelpassError({ reason: `checkpoint '${file}' records epoch ${this.epoch} as the best but lacks its weight '${source + name}'`, location: { file }, hint: 'delete it to start over', source: '@modelpass/train' });
      snapshot.set(name, tensor);
    }
    this.snapshot = snapshot;
  }
}
