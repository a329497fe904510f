import { attrs, Builder, takeAlongAxis, Tensor, type Dim, type Node, type Value } from '@modelpass/ir';
import { constantOf, shapeOf } from '../util/constants.js';
import { reshapeGroups } from './reshape-rule.js';
import { transposePermutation } from './transpose-node.js';

/**
 * A Reshape → Transpose → Reshape chain on an NCHW tensor that moves `block × block` pixel blocks
 * into channels (torch's `pixel_unshuffle`, einops' `b c (h p) (w q) -> b (c p q) h w`) or back
 * (`pixel_shuffle` as older exporters spell it): ONNX SpaceToDepth / DepthToSpace (DCR) plus a
 * channel order.
 */
export interface BlockRearrangement {
  readonly kind: 'SpaceToDepth' | 'DepthToSpace';
  readonly input: Value;
  readonly block: number;
  /**
   * SpaceToDepth: `order[k]` = the SpaceToDepth output channel that lands at channel `k` of the result.
   * DepthToSpace: `order[m]` = the input channel that DepthToSpace (DCR) must read as its channel `m`.
   * Undefined when no reordering is needed.
   */
  readonly order: readonly number[] | undefined;
  /** The chain, first to last: its last node's output is the rearranged tensor. */
  readonly nodes: readonly [Node, Node, Node];
}

/** One dim of the middle (split) tensor: which input axis it came from and its size. */
interface Digit {
  readonly axis: number;
  readonly size: number;
}

function soleUser(value: Value | null | undefined, op: string): Node | undefined {
  if (!value || value.isGraphOutput || value.useCount !== 1) return undefined;
  const user = value.users[0];
  return user?.op === op && user.inputs[0] === value ? user : undefined;
}

/** For dims `from` of `dims` split or merged into `to`: per dim of `to`, the dims of `from` it holds; undefined unless rank-4 ends map one to one. */
function groupsPerAxis(from: readonly Dim[], to: readonly Dim[], splitSide: 'in' | 'out'): number[][] | undefined {
  const groups = splitSide === 'in' ? reshapeGroups(from, to) : reshapeGroups(to, from);
  if (!groups) return undefined;
  const perAxis: number[][] = [];
  for (const group of groups) {
    // The rank-4 side keeps one dim per group; the other side holds that dim's digits.
    const [outerFrom, outerTo, innerFrom, innerTo] =
      splitSide === 'in' ? [group.from, group.to, group.outFrom, group.outTo] : [group.outFrom, group.outTo, group.from, group.to];
    if (outerTo - outerFrom !== 1) return undefined;
    perAxis[outerFrom] = Array.from({ length: innerTo - innerFrom }, (_, k) => innerFrom + k);
  }
  return perAxis.length === 4 ? perAxis : undefined;
}

/** Every combination of the digits' values, calling `visit` with the value of each digit (indexed like `digits`). */
function forEachDigitValue(sizes: readonly number[], visit: (values: readonly number[]) => void): void {
  const values = new Array<number>(sizes.length).fill(0);
  for (;;) {
    visit(values);
    let d = sizes.length - 1;
    while (d >= 0 && ++values[d]! === sizes[d]!) values[d--] = 0;
    if (d < 0) return;
  }
}

/** The row-major index of `digits` (indices into `values`/`sizes`), most significant first. */
function mixedRadix(digits: readonly number[], values: readonly number[], sizes: readonly number[]): number {
  let index = 0;
  for (const d of digits) index = index * sizes[d]! + values[d]!;
  return index;
}

/**
 * The input, split and output dims with the batch (dim 0) spelled the same in all three, or undefined unless
 * input and output are rank 4 and every dim past the batch is static. A symbolic batch reshaped through -1
 * infers as unknown (`?`) after the Reshapes; it is still the input's batch when the dims past it hold as
 * many values on each side (Reshape keeps the element count), so it is carried as the input's dim.
 */
function batchCarried(inDims: readonly Dim[] | undefined, splitDims: readonly Dim[] | undefined, outDims: readonly Dim[] | undefined): [Dim[], Dim[], Dim[]] | undefined {
  if (!inDims || !splitDims || !outDims || inDims.length !== 4 || outDims.length !== 4 || splitDims.length < 1) return undefined;
  const rest = (d: readonly Dim[]) => (d.slice(1).every((x) => typeof x === 'number') ? (d.slice(1) as number[]).reduce((n, x) => n * x, 1) : undefined);
  const size = rest(inDims);
  if (size === undefined || rest(splitDims) !== size || rest(outDims) !== size) return undefined;
  if (inDims[0] === outDims[0] && inDims[0] !== null && splitDims[0] === inDims[0]) return [[...inDims], [...splitDims], [...outDims]];
  // A batch nobody named gets a name no dim of ours has, so the groups below pair it with itself.
  const batch: Dim = inDims[0] ?? '\u0000batch';
  const known = [inDims[0], splitDims[0], outDims[0]].filter((d) => d !== null);
  if (known.some((d) => d !== batch)) return undefined;
  return [[batch, ...inDims.slice(1)], [batch, ...splitDims.slice(1)], [batch, ...outDims.slice(1)]];
}

/**
 * Matches at the first Reshape: `Reshape(x[N,C,H,W]) → Transpose → Reshape → [N,C',H',W']` that is a
 * SpaceToDepth (H split into `[H/b, b]`, W into `[W/b, b]`, the `b` parts joining the channel) or a
 * DepthToSpace (two `b` parts of the channel joining H and W as their low digits), with the channel
 * digits in any order (that order becomes a Gather of the channels). Verified on the inferred
 * types: C, H, W static, N carried through (a symbolic N too, see batchCarried). Undefined when the chain is anything else.
 */
export function matchBlockRearrangement(first: Node): BlockRearrangement | undefined {
  if (first.op !== 'onnx.Reshape') return undefined;
  const transpose = soleUser(first.outputs[0], 'onnx.Transpose');
  const last = soleUser(transpose?.outputs[0], 'onnx.Reshape');
  const input = first.inputs[0];
  const perm = transpose ? transposePermutation(transpose) : undefined;
  const dims = batchCarried(shapeOf(input), shapeOf(first.outputs[0]), shapeOf(last?.outputs[0]));
  if (!input || !last || !dims || !perm || perm.length !== dims[1].length) return undefined;
  const [inDims, splitDims, outDims] = dims;
  const inGroups = groupsPerAxis(inDims, splitDims, 'in');
  const transposedDims = perm.map((d) => splitDims[d]!);
  const outGroups = groupsPerAxis(outDims, transposedDims, 'in');
  if (!inGroups || !outGroups || perm[0] !== 0 || inGroups[0]!.join() !== '0' || outGroups[0]!.join() !== '0') return undefined;
  const digits: Digit[] = [];
  // The batch digit (split dim 0, a symbolic size maybe) takes no part in the channel order: counted as one value.
  inGroups.forEach((group, axis) => group.forEach((d) => (digits[d] = { axis, size: axis === 0 ? 1 : (splitDims[d] as number) })));
  const sizes = digits.map((digit) => digit.size);
  // Each output axis' digits, as split dims (the transposed positions mapped back through perm).
  const [, outChannel, outHeight, outWidth] = outGroups.map((group) => group.map((t) => perm[t]!)) as [number[], number[], number[], number[]];
  const [, inChannel, inHeight, inWidth] = inGroups as [number[], number[], number[], number[]];
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

  // SpaceToDepth: H = [Hq, i], W = [Wq, j]; the output rows/columns are Hq/Wq, i and j join the channel.
  if (inHeight.length === 2 && inWidth.length === 2 && same(outHeight, [inHeight[0]!]) && same(outWidth, [inWidth[0]!])) {
    const [i, j] = [inHeight[1]!, inWidth[1]!];
    const block = sizes[i]!;
    if (block < 2 || sizes[j] !== block) return undefined;
    const channels = inChannel.reduce((n, d) => n * sizes[d]!, 1);
    const order = new Array<number>(channels * block * block);
    forEachDigitValue(sizes, (values) => {
      if (inHeight.some((d) => d !== i && values[d] !== 0) || inWidth.some((d) => d !== j && values[d] !== 0)) return;
      order[mixedRadix(outChannel, values, sizes)] = (values[i]! * block + values[j]!) * channels + mixedRadix(inChannel, values, sizes);
    });
    return { kind: 'SpaceToDepth', input, block, order: identity(order) ? undefined : order, nodes: [first, transpose!, last] };
  }
  // DepthToSpace: H' = [H, i], W' = [W, j] with i and j parts of the input channel.
  if (inHeight.length === 1 && inWidth.length === 1 && outHeight.length === 2 && outWidth.length === 2) {
    const [i, j] = [outHeight[1]!, outWidth[1]!];
    if (outHeight[0] !== inHeight[0] || outWidth[0] !== inWidth[0] || digits[i]!.axis !== 1 || digits[j]!.axis !== 1) return undefined;
    const block = sizes[i]!;
    if (block < 2 || sizes[j] !== block) return undefined;
    const outChannels = outChannel.reduce((n, d) => n * sizes[d]!, 1);
    const order = new Array<number>(outChannels * block * block);
    forEachDigitValue(sizes, (values) => {
      if (values[inHeight[0]!] !== 0 || values[inWidth[0]!] !== 0) return;
      order[(values[i]! * block + values[j]!) * outChannels + mixedRadix(outChannel, values, sizes)] = mixedRadix(inChannel, values, sizes);
    });
    return { kind: 'DepthToSpace', input, block, order: identity(order) ? undefined : order, nodes: [first, transpose!, last] };
  }
  return undefined;
}

function identity(order: readonly number[]): boolean {
  return order.every((v, k) => v === k);
}

/** The inverse of a permutation: `inverse[order[k]] = k`. */
function inverseOf(order: readonly number[]): number[] {
  const inverse = new Array<number>(order.length);
  order.forEach((v, k) => (inverse[v] = k));
  return inverse;
}

/** A Conv (group 1, rank-4 constant weights not quantized) reading `value` as its data input only. */
function plainConvReading(node: Node, value: Value): boolean {
  if (node.op !== 'onnx.Conv' || node.inputs[0] !== value || node.inputs.slice(1).includes(value)) return false;
  const weights = constantOf(node.inputs[1]);
  return (node.optionalAttr('group', 'int') ?? 1) === 1 && weights?.shape.length === 4 && !weights.quant;
}

/**
 * `Gather(y, order, axis 1)` read only by plain Convs: each Conv reads `y` with its weights' input
 * channels permuted instead (`W'[:, order[k]] = W[:, k]`), so no Gather is left. True when done.
 */
function permuteReadersInputChannels(y: Value, order: readonly number[], at: Builder): boolean {
  if (y.isGraphOutput || y.useCount === 0) return false;
  const readers = [...y.users];
  if (!readers.every((reader) => plainConvReading(reader, y))) return false;
  const inverse = inverseOf(order);
  for (const conv of readers) {
    const weights = constantOf(conv.inputs[1])!;
    conv.setInput(1, at.constant(takeAlongAxis(weights, 1, inverse), `${conv.name}_W_channels`));
  }
  return true;
}

/**
 * A channel order that DepthToSpace reads from `x`: when `x` comes from a plain Conv read by nothing
 * else, that Conv's output channels (weights and bias) are permuted instead. True when done.
 */
function permuteProducerOutputChannels(x: Value, order: readonly number[], at: Builder): boolean {
  const conv = x.producer;
  if (!conv || x.isGraphOutput || x.useCount !== 1 || conv.op !== 'onnx.Conv' || (conv.optionalAttr('group', 'int') ?? 1) !== 1) return false;
  const weights = constantOf(conv.inputs[1]);
  const bias = conv.inputs[2] ? constantOf(conv.inputs[2]) : undefined;
  if (!weights || weights.quant || weights.shape.length !== 4 || (conv.inputs[2] && (!bias || bias.quant))) return false;
  conv.setInput(1, at.constant(takeAlongAxis(weights, 0, order), `${conv.name}_W_channels`));
  if (bias) conv.setInput(2, at.constant(takeAlongAxis(bias, 0, order), `${conv.name}_B_channels`));
  return true;
}

/**
 * Rewrites the chain starting at `first` (see `matchBlockRearrangement`) as `onnx.SpaceToDepth` or
 * `onnx.DepthToSpace` (DCR). The channel order is folded into the Conv weights next to it where it
 * can be (the Convs that read a SpaceToDepth, the Conv that feeds a DepthToSpace), else it is one
 * `onnx.Gather` along the channel axis. The removed Reshapes' shape operands are left to dead-code
 * elimination. Needs inferred types; true when rewritten.
 */
export function blockRearrangementAsDepthSpace(first: Node): boolean {
  const match = matchBlockRearrangement(first);
  if (!match) return false;
  const last = match.nodes[2];
  const output = last.outputs[0]!;
  const at = Builder.before(last);
  const blocksize = { blocksize: attrs.int(match.block) };
  let result: Value;
  if (match.kind === 'SpaceToDepth') {
    const s2d = at.op1('onnx.SpaceToDepth', [match.input], blocksize, { types: [output.type], name: `${last.name}_space_to_depth` });
    const order = match.order;
    result = order && !permuteReadersInputChannels(output, order, at)
      ? at.op1('onnx.Gather', [s2d, at.constant(Tensor.fromValues('int64', [order.length], order), `${first.name}_order`)], { axis: attrs.int(1) }, { types: [output.type], name: `${last.name}_channels` })
      : s2d;
  } else {
    let x = match.input;
    const order = match.order;
    if (order && !permuteProducerOutputChannels(x, order, at)) {
      const indices = at.constant(Tensor.fromValues('int64', [order.length], order), `${first.name}_order`);
      x = at.op1('onnx.Gather', [x, indices], { axis: attrs.int(1) }, { types: [x.type], name: `${last.name}_channels` });
    }
    result = at.op1('onnx.DepthToSpace', [x], { ...blocksize, mode: attrs.string('DCR') }, { types: [output.type], name: `${last.name}_depth_to_space` });
  }
  output.replaceAllUsesWith(result);
  for (const node of [last, match.nodes[1], first]) node.erase();
  return true;
}
