/**
 * Channel groups and layouts: the vocabulary of the dependency analysis.
 *
 * A `ChannelGroup` is a set of channels that must be removed together wherever they appear (a Conv's
 * output channels, the BN after it, the next Conv's input channels, a residual partner, …). Groups are
 * merged with union-find when an op ties them (`Add` of two groups makes one group).
 *
 * A `ChannelLayout` says how one tensor dimension is made of groups: a sequence of pieces, each a
 * range of one group's channels where every channel spans `block` consecutive indices. A Conv output
 * is one piece (`block` 1); a Concat output is several; after Flatten each channel is a block of H·W
 * features; a depthwise Conv with multiplier M gives each input channel a block of M outputs.
 */

export class ChannelGroup {
  /** @internal union-find parent */ parent: ChannelGroup = this;
  /** Why this group may not be pruned (empty: prunable). Only meaningful on the root. */
  readonly reasons: string[] = [];
  /** Where the group's channels come from (the producers), for reports. */
  readonly origins: string[] = [];
  /** Pruned channels must be removed evenly from this many equal blocks (grouped convolutions). */
  granularity = 1;
  /** Channel ranges `[from, to)` that must keep at least one channel (a Split or Slice output). */
  readonly protectedRanges: [number, number][] = [];
  /** Channels kept after pruning (ascending); undefined = all. Set on the root. */
  kept: number[] | undefined;

  constructor(
    readonly id: number,
    readonly size: number,
  ) {}

  root(): ChannelGroup {
    let node: ChannelGroup = this;
    while (node.parent !== node) {
      node.parent = node.parent.parent;
      node = node.parent;
    }
    return node;
  }

  get prunable(): boolean {
    return this.root().reasons.length === 0;
  }

  /** The kept channels of the root (all when not pruned). */
  keptChannels(): number[] {
    const root = this.root();
    return root.kept ?? Array.from({ length: root.size }, (_, i) => i);
  }
}

export interface ChannelPiece {
  readonly group: ChannelGroup;
  /** First channel of the group in this piece. */
  readonly from: number;
  /** One past the last channel. */
  readonly to: number;
  /** Consecutive indices each channel spans in the dimension. */
  readonly block: number;
}

export type ChannelLayout = readonly ChannelPiece[];

export function fullPiece(group: ChannelGroup, block = 1): ChannelPiece {
  return { group, from: 0, to: group.size, block };
}

export function layoutLength(layout: ChannelLayout): number {
  return layout.reduce((sum, piece) => sum + (piece.to - piece.from) * piece.block, 0);
}

export function scaleBlocks(layout: ChannelLayout, factor: number): ChannelLayout {
  return layout.map((piece) => ({ ...piece, block: piece.block * factor }));
}

function isFull(piece: ChannelPiece): boolean {
  return piece.from === 0 && piece.to === piece.group.size;
}

/**
 * Merges the groups of two layouts that must stay equal index by index. Returns false (merging
 * nothing) when their pieces do not line up one to one (then the caller refuses both).
 */
export function unifyLayouts(a: ChannelLayout, b: ChannelLayout): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const pa = a[i]!;
    const pb = b[i]!;
    if (pa.block !== pb.block || pa.to - pa.from !== pb.to - pb.from) return false;
    const same = pa.group.root() === pb.group.root() && pa.from === pb.from && pa.to === pb.to;
    if (!same && !(isFull(pa) && isFull(pb) && pa.group.size === pb.group.size)) return false;
  }
  for (let i = 0; i < a.length; i++) mergeGroups(a[i]!.group, b[i]!.group);
  return true;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export function mergeGroups(a: ChannelGroup, b: ChannelGroup): ChannelGroup {
  const ra = a.root();
  const rb = b.root();
  if (ra === rb) return ra;
  const [keep, drop] = ra.id <= rb.id ? [ra, rb] : [rb, ra];
  drop.parent = keep;
  for (const reason of drop.reasons) if (!keep.reasons.includes(reason)) keep.reasons.push(reason);
  for (const origin of drop.origins) if (!keep.origins.includes(origin)) keep.origins.push(origin);
  keep.granularity = (keep.granularity * drop.granularity) / gcd(keep.granularity, drop.granularity);
  keep.protectedRanges.push(...drop.protectedRanges);
  return keep;
}

/** Marks every group in the layout unprunable. */
export function refuseLayout(layout: ChannelLayout, reason: string): void {
  for (const piece of layout) {
    const root = piece.group.root();
    if (!root.reasons.includes(reason)) root.reasons.push(reason);
  }
}

/** The part `[start, end)` of a layout, or undefined when a bound falls inside a channel's block. */
export function subLayout(layout: ChannelLayout, start: number, end: number): ChannelLayout | undefined {
  const out: ChannelPiece[] = [];
  let offset = 0;
  for (const piece of layout) {
    const length = (piece.to - piece.from) * piece.block;
    const lo = Math.max(start, offset) - offset;
    const hi = Math.min(end, offset + length) - offset;
    if (lo < hi) {
      if (lo % piece.block !== 0 || hi % piece.block !== 0) return undefined;
      const part = { group: piece.group, from: piece.from + lo / piece.block, to: piece.from + hi / piece.block, block: piece.block };
      if (part.from !== 0 || part.to !== piece.group.size) piece.group.root().protectedRanges.push([part.from, part.to]);
      out.push(part);
    }
    offset += length;
  }
  return out;
}

/** Indices of the dimension that survive pruning, ascending. */
export function keptIndices(layout: ChannelLayout): number[] {
  const out: number[] = [];
  let offset = 0;
  for (const piece of layout) {
    for (const channel of piece.group.keptChannels()) {
      if (channel < piece.from || channel >= piece.to) continue;
      const base = offset + (channel - piece.from) * piece.block;
      for (let j = 0; j < piece.block; j++) out.push(base + j);
    }
    offset += (piece.to - piece.from) * piece.block;
  }
  return out;
}

/** How many kept indices lie before `position` (the new position of a boundary). */
export function keptBefore(layout: ChannelLayout, position: number): number {
  let count = 0;
  for (const index of keptIndices(layout)) if (index < position) count++;
  return count;
}

/** True when pruning changed some group of the layout. */
export function layoutChanged(layout: ChannelLayout): boolean {
  return layout.some((piece) => piece.group.root().kept !== undefined);
}

/** Maps index `i` of the dimension to its group and channel. */
export function locateIndex(layout: ChannelLayout, index: number): { group: ChannelGroup; channel: number } | undefined {
  let offset = 0;
  for (const piece of layout) {
    const length = (piece.to - piece.from) * piece.block;
    if (index < offset + length) return { group: piece.group.root(), channel: piece.from + Math.floor((index - offset) / piece.block) };
    offset += length;
  }
  return undefined;
}
