import { attrs, Builder, Tensor, type Dim, type Graph, type Node, type Value } from '@modelpass/ir';
import { shapeOf } from '../util/constants.js';
import { reshapeGroups } from './reshape-rule.js';
import { transposePermutation } from './transpose-node.js';

/** A Reshape → Transpose → Reshape chain that only reorders the entries of one axis of `input`. */
export interface AxisShuffle {
  readonly input: Value;
  readonly axis: number;
  /** `order[j]` = the index along `axis` of `input` that lands at index `j` of the result. */
  readonly order: readonly number[];
  /** The chain, first to last: its last node's output is the shuffled tensor. */
  readonly nodes: readonly [Node, Node, Node];
}

function sameDims(a: readonly Dim[], b: readonly Dim[]): boolean {
  return a.length === b.length && a.every((d, i) => d !== null && d === b[i]);
}

/** The single reader of `value`, when it has exactly one and is not a graph output. */
function soleUser(value: Value | null | undefined, op: string): Node | undefined {
  if (!value || value.isGraphOutput || value.useCount !== 1) return undefined;
  const user = value.users[0];
  return user?.op === op && user.inputs[0] === value ? user : undefined;
}

/**
 * Matches at the first Reshape of ShuffleNet's channel shuffle and its kin:
 * `Reshape(x, [..., g, C/g, ...]) → Transpose(swaps the split dims) → Reshape(back to x's dims)`,
 * for any rank, axis and number of split dims, verified on the inferred types (x's split axis
 * static, every other dim carried through unchanged, the last Reshape giving x's dims exactly; a
 * symbolic dim may only pass through). Undefined when the chain is anything else.
 */
export function matchAxisShuffle(first: Node): AxisShuffle | undefined {
  if (first.op !== 'onnx.Reshape') return undefined;
  const transpose = soleUser(first.outputs[0], 'onnx.Transpose');
  const last = soleUser(transpose?.outputs[0], 'onnx.Reshape');
  const input = first.inputs[0];
  const inDims = shapeOf(input);
  const splitDims = shapeOf(first.outputs[0]);
  const outDims = shapeOf(last?.outputs[0]);
  const perm = transpose ? transposePermutation(transpose) : undefined;
  if (!input || !transpose || !last || !inDims || !splitDims || !outDims || !perm || perm.length !== splitDims.length) return undefined;
  if (!sameDims(inDims, outDims)) return undefined;
  const groups = reshapeGroups(inDims, splitDims);
  if (!groups) return undefined;
  const splits = groups.filter((group) => group.to - group.from !== 1 || group.outTo - group.outFrom !== 1);
  // Exactly one input axis split in two or more output dims; every other dim kept as it is.
  if (splits.length !== 1) return undefined;
  const split = splits[0]!;
  if (split.to - split.from !== 1 || split.outTo - split.outFrom < 2) return undefined;
  for (let d = 0; d < perm.length; d++) {
    const inside = d >= split.outFrom && d < split.outTo;
    if (inside ? perm[d]! < split.outFrom || perm[d]! >= split.outTo : perm[d] !== d) return undefined;
  }
  const parts = splitDims.slice(split.outFrom, split.outTo) as number[];
  const local = perm.slice(split.outFrom, split.outTo).map((d) => d - split.outFrom);
  if (local.every((d, i) => d === i)) return undefined;
  return { input, axis: split.from, order: shuffleOrder(parts, local), nodes: [first, transpose, last] };
}

/**
 * For an axis viewed as `parts` (row-major) and transposed by `local`: the source index of each
 * index of the result. Result index j, written in the radix of the transposed parts, has digit t
 * for part `local[t]`; the source index is those digits read in the radix of `parts`.
 */
export function shuffleOrder(parts: readonly number[], local: readonly number[]): number[] {
  const size = parts.reduce((n, d) => n * d, 1);
  const transposed = local.map((d) => parts[d]!);
  const sourceStrides = parts.map((_, d) => parts.slice(d + 1).reduce((n, p) => n * p, 1));
  const order = new Array<number>(size);
  for (let j = 0; j < size; j++) {
    let rest = j;
    let source = 0;
    for (let t = transposed.length - 1; t >= 0; t--) {
      const digit = rest % transposed[t]!;
      rest = (rest - digit) / transposed[t]!;
      source += digit * sourceStrides[local[t]!]!;
    }
    order[j] = source;
  }
  return order;
}

/** Erases `node` and then every producer of its operands that nothing else reads (shape arithmetic), constants included. */
function eraseWithDeadOperands(graph: Graph, node: Node): void {
  const pending: Node[] = [node];
  while (pending.length > 0) {
    const dead = pending.pop()!;
    if (!dead.graph || dead.outputs.some((v) => v && (v.hasUses || v.isGraphOutput))) continue;
    const operands = dead.inputs.slice();
    dead.erase();
    // Indexed: ShuffleNet erases hundreds of shape-arithmetic nodes here, in code not yet optimized (a for-of allocates per step).
    for (let i = 0; i < operands.length; i++) {
      const operand = operands[i];
      if (!operand || operand.hasUses || operand.isGraphOutput || operand.isGraphInput) continue;
      if (operand.producer) pending.push(operand.producer);
      else if (operand.isConstant && operand.graph === graph) graph.removeConstant(operand);
    }
  }
}

/**
 * Every axis shuffle of `graph` (see `matchAxisShuffle`) → one `onnx.Gather` of the input along the
 * axis with the constant order, and the shape arithmetic that fed only the removed Reshapes is
 * erased. A Gather is a plain axis op for the transpose sinking, so a channel shuffle in NHWC needs
 * no transpose. Needs inferred types; returns how many chains were rewritten.
 */
export function axisShufflesAsGather(graph: Graph): number {
  let count = 0;
  const nodes = graph.nodeList();
  for (let i = 0; i < nodes.length; i++) {
    const node = nodes[i]!;
    if (!node.graph || node.op !== 'onnx.Reshape') continue;
    const shuffle = matchAxisShuffle(node);
    if (!shuffle) continue;
    const [first, , last] = shuffle.nodes;
    const output = last.outputs[0]!;
    const at = Builder.before(last);
    const indices = at.constant(Tensor.fromValues('int64', [shuffle.order.length], shuffle.order), `${first.name}_order`);
    const gathered = at.op1('onnx.Gather', [shuffle.input, indices], { axis: attrs.int(shuffle.axis) }, { types: [output.type], name: `${last.name}_shuffle` });
    output.replaceAllUsesWith(gathered);
    eraseWithDeadOperands(graph, last);
    count++;
  }
  return count;
}
