import type { Node, Value } from '@modelpass/ir';
import { shapeOf } from '../util/constants.js';
import { replaceValueKeepingOutputNames } from '../util/graph-walk.js';
import { matchBlockRearrangement } from './block-rearrange.js';

/**
 * A pixel-block move into channels and its inverse back to back — `pixel_unshuffle(pixel_shuffle(x, b), b)`,
 * a DepthToSpace then a SpaceToDepth of the same block, in either order, as ONNX nodes or as the Reshape →
 * Transpose → Reshape chains exporters spell them — is `x` when the two channel orders compose to the identity.
 *
 * Each side is put in one normal form: a SpaceToDepth-kind move is `Gather(SpaceToDepth(x), order, axis 1)` and a
 * DepthToSpace-kind move `DepthToSpace_DCR(Gather(x, order, axis 1))` (ONNX's SpaceToDepth and DCR DepthToSpace are
 * exact inverses; CRD, torch's pixel_shuffle, is DCR after the channel order `c·b² + i·b + j`). Then
 * DepthToSpace-kind `d` followed by SpaceToDepth-kind `s` is `x[d[s[k]]]` along the channels, and `s` followed by `d`
 * is `x[s[d[k]]]`: the pair cancels when that is `x[k]` for every channel k.
 */
interface BlockMove {
  readonly kind: 'SpaceToDepth' | 'DepthToSpace';
  readonly input: Value;
  readonly output: Value;
  readonly block: number;
  /** The normal form's channel order; undefined for the identity (plain SpaceToDepth, DCR DepthToSpace). */
  readonly order: readonly number[] | undefined;
}

/** For DepthToSpace CRD with `channels` input channels: the input channel DCR must read as its channel m. */
function crdOrder(channels: number, block: number): number[] {
  const outChannels = channels / (block * block);
  return Array.from({ length: channels }, (_, m) => (m % outChannels) * block * block + Math.floor(m / outChannels));
}

/** The block move `node` starts (an ONNX SpaceToDepth/DepthToSpace, or the first Reshape of a chain), if any. */
function blockMoveStartingAt(node: Node): BlockMove | undefined {
  if (node.op === 'onnx.SpaceToDepth' || node.op === 'onnx.DepthToSpace') {
    const input = node.inputs[0];
    const output = node.outputs[0];
    const block = node.optionalAttr('blocksize', 'int');
    if (!input || !output || block === undefined || block < 1) return undefined;
    if (node.op === 'onnx.SpaceToDepth') return { kind: 'SpaceToDepth', input, output, block, order: undefined };
    const mode = node.optionalAttr('mode', 'string') ?? 'DCR';
    if (mode === 'DCR') return { kind: 'DepthToSpace', input, output, block, order: undefined };
    const channels = shapeOf(input)?.[1];
    if (mode !== 'CRD' || typeof channels !== 'number' || channels % (block * block) !== 0) return undefined;
    return { kind: 'DepthToSpace', input, output, block, order: crdOrder(channels, block) };
  }
  if (node.op !== 'onnx.Reshape') return undefined;
  const match = matchBlockRearrangement(node);
  const output = match?.nodes[2].outputs[0];
  return match && output ? { kind: match.kind, input: match.input, output, block: match.block, order: match.order } : undefined;
}

/** The block move whose result is `value`, if any. */
function blockMoveEndingAt(value: Value): BlockMove | undefined {
  const producer = value.producer;
  if (!producer) return undefined;
  if (producer.op === 'onnx.SpaceToDepth' || producer.op === 'onnx.DepthToSpace') return blockMoveStartingAt(producer);
  if (producer.op !== 'onnx.Reshape') return undefined;
  const first = producer.inputs[0]?.producer?.op === 'onnx.Transpose' ? producer.inputs[0].producer.inputs[0]?.producer : undefined;
  if (first?.op !== 'onnx.Reshape') return undefined;
  const move = blockMoveStartingAt(first);
  return move?.output === value ? move : undefined;
}

/** A result something still reads (a move already bypassed is left alone, so a rewrite driver reaches a fixed point). */
function read(value: Value): boolean {
  return value.hasUses || value.isGraphOutput;
}

/** Whether `second` after `first` gives back `first`'s input (see the file's comment). */
function cancels(first: BlockMove, second: BlockMove): boolean {
  if (first.kind === second.kind || first.block !== second.block || second.input !== first.output) return false;
  // d then s: x[d[s[k]]]; s then d: x[s[d[k]]] — in both, the first move's order indexed by the second's.
  const outer = first.order;
  const inner = second.order;
  if (!outer && !inner) return true;
  if (!outer || !inner || outer.length !== inner.length) return false;
  return inner.every((v, k) => outer[v] === k);
}

/**
 * Cancels the block moves that `node` starts with the one before it or the ones after it (see the file's comment):
 * the later move's result is replaced by the earlier move's input. Nothing is erased — the moves left without
 * readers are dead code for the caller's clean-up. True when a use was rewired.
 */
export function cancelDepthSpacePairs(node: Node): boolean {
  const move = blockMoveStartingAt(node);
  if (!move) return false;
  const before = blockMoveEndingAt(move.input);
  if (before && read(move.output) && cancels(before, move)) return replaceValueKeepingOutputNames(move.output, before.input);
  let changed = false;
  for (const user of [...move.output.users]) {
    const after = user.inputs[0] === move.output ? blockMoveStartingAt(user) : undefined;
    if (after && read(after.output) && cancels(move, after) && replaceValueKeepingOutputNames(after.output, move.input)) changed = true;
  }
  return changed;
}
