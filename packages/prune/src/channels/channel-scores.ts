/**
 * Channel importance per group, and the choice of channels to keep. `l1`/`l2` sum the norms of each
 * channel's slices over every producer weight of the group (the Conv/Gemm rows that make it);
 * `bn-scale` sums |gamma| of its BatchNormalization/InstanceNormalization layers; `activation` sums
 * the mean |activation| of each channel over every value that carries the group (calibration data).
 */
import { reduceAlongAxis } from '@modelpass/ir';
import type { ChannelGroup, ChannelLayout } from './channel-layout.js';
import type { ChannelAnalysis } from './dependency-groups.js';

export const CHANNEL_CRITERIA = ['l1', 'l2', 'bn-scale', 'activation'] as const;
export type ChannelCriterion = (typeof CHANNEL_CRITERIA)[number];

export type GroupScores = Map<ChannelGroup, Float64Array>;

/** Adds per-index figures of a dimension to the channels they belong to. */
export function addAlongLayout(scores: GroupScores, layout: ChannelLayout, perIndex: ArrayLike<number>): void {
  let offset = 0;
  for (const piece of layout) {
    const root = piece.group.root();
    let target = scores.get(root);
    if (!target) scores.set(root, (target = new Float64Array(root.size)));
    for (let channel = piece.from; channel < piece.to; channel++) {
      const base = offset + (channel - piece.from) * piece.block;
      for (let j = 0; j < piece.block; j++) target[channel] = target[channel]! + Math.abs(perIndex[base + j] ?? 0);
    }
    offset += (piece.to - piece.from) * piece.block;
  }
}

/** Scores from the weights (`l1`, `l2`, `bn-scale`). Groups with no such weight get no entry. */
export function weightScores(analysis: ChannelAnalysis, criterion: 'l1' | 'l2' | 'bn-scale'): GroupScores {
  const scores: GroupScores = new Map();
  for (const param of analysis.params) {
    const tensor = param.value.constant;
    if (!tensor) continue;
    if (criterion === 'bn-scale') {
      if (param.roles.has('bn-scale')) addAlongLayout(scores, param.layout, tensor.toNumbers());
    } else if (param.roles.has('producer')) addAlongLayout(scores, param.layout, reduceAlongAxis(tensor, criterion, param.axis));
  }
  return scores;
}

export interface KeptChoice {
  readonly kept: number[] | undefined;
  /** Why nothing was removed, when nothing was. */
  readonly skipped?: string;
  /**
   * Which limit kept every channel: `ratio` (it removes less than one channel per block),
   * `granularity` (blocks of one channel: a grouped Conv keeps one per group), `round-to` (no count
   * the ratio allows is a multiple of it), `blocks`, `protected`, `no-scores`.
   */
  readonly cause?: 'ratio' | 'granularity' | 'round-to' | 'blocks' | 'protected' | 'no-scores';
}

/**
 * The channels of a group that survive removing the lowest `ratio` (ties: the higher index goes
 * first), evenly from each of `granularity` blocks, keeping at least one per block and one in every
 * protected range (a Split or Slice output never becomes empty); with `roundTo`, the number kept is
 * rounded up to a multiple of it (when the group has more channels than that).
 */
export function chooseKeptChannels(group: ChannelGroup, scores: Float64Array | undefined, ratio: number, roundTo = 1): KeptChoice {
  const root = group.root();
  const blocks = root.granularity;
  if (root.size % blocks !== 0) return { kept: undefined, skipped: `${root.size} channels do not split into ${blocks} equal blocks`, cause: 'blocks' };
  const blockSize = root.size / blocks;
  // A grouped Conv removes channels evenly from each of its groups: the group splits into blocks.
  const blockWords = blocks > 1 ? ` (${blocks} blocks of ${blockSize}: a grouped Conv removes the same number from each of its groups)` : '';
  const allowed = Math.min(Math.floor(blockSize * ratio + 1e-9), blockSize - 1);
  if (allowed <= 0) {
    if (blockSize === 1) return { kept: undefined, skipped: `group granularity: ${blocks} blocks of one channel each (a grouped Conv with ${blocks} groups keeps at least one per group)`, cause: 'granularity' };
    return { kept: undefined, skipped: `ratio: ${ratio} of ${blockSize} channels${blocks > 1 ? ' per block' : ''} is less than one channel${blockWords}`, cause: 'ratio' };
  }
  let target = allowed;
  // Keep a multiple of `roundTo` channels in all (runtimes' kernels prefer channel counts of 4, 8, 16).
  while (target > 0 && ((blockSize - target) * blocks) % roundTo !== 0) target--;
  if (target <= 0) {
    const counts = Array.from({ length: allowed }, (_, i) => (blockSize - 1 - i) * blocks);
    const options = counts.length > 4 ? `${counts[0]}, ${counts[1]}, …, ${counts[counts.length - 1]}` : counts.join(', ');
    return {
      kept: undefined,
      skipped: `round-to=${roundTo}: the ratio allows keeping ${options} of ${root.size} channels${blockWords}, none a multiple of ${roundTo}`,
      cause: 'round-to',
    };
  }
  if (!scores) return { kept: undefined, skipped: 'no weight scores the group', cause: 'no-scores' };
  const removable = (removed: Set<number>, channel: number): boolean =>
    root.protectedRanges.every(([from, to]) => channel < from || channel >= to || Array.from({ length: to - from }, (_, i) => from + i).some((c) => c !== channel && !removed.has(c)));
  const order = (b: number): number[] => Array.from({ length: blockSize }, (_, i) => b * blockSize + i).sort((x, y) => scores[x]! - scores[y]! || y - x);
  // Greedy per block; a protected range may stop a block short, and then every block removes as few.
  let remove = target;
  for (;;) {
    const removed = new Set<number>();
    let short = false;
    for (let b = 0; b < blocks && !short; b++) {
      let count = 0;
      for (const channel of order(b)) {
        if (count === remove) break;
        if (!removable(removed, channel)) continue;
        removed.add(channel);
        count++;
      }
      if (count < remove) short = true;
    }
    if (!short) {
      const kept = Array.from({ length: root.size }, (_, i) => i).filter((c) => !removed.has(c));
      return remove > 0 ? { kept } : { kept: undefined, skipped: 'protected ranges leave nothing to remove', cause: 'protected' };
    }
    remove--;
  }
}
