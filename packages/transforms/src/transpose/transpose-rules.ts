import { attrs, Tensor, type Builder, type Node } from '@modelpass/ir';
import { constantOf, intsOf, rankOf } from '../util/constants.js';
import { invertPermutation, type Permutation } from './permutation.js';
import { reshapeRule } from './reshape-rule.js';
import { transposeOf } from './transpose-node.js';

/**
 * How a transpose on a node's inputs moves to its outputs. Given `perm` (each layout input is
 * `Transpose(a, perm)`), a rule says which inputs carry the layout and, when the node can compute
 * on the untransposed `a` instead, how to change its attributes and operands (`apply`) and which
 * transpose turns each new output back into the old one.
 */
export interface TransposeSinkPlan {
  /** Inputs that are in the transposed layout (data operands; not shapes, axes, scalars). */
  readonly layoutInputs: readonly number[];
  /** Per output: the permutation that turns the new output into the old one (identity: none needed). */
  readonly outputPermutations: readonly Permutation[];
  /** Rewrites attributes and non-layout operands for the untransposed inputs (after the layout inputs are rewired). */
  apply(at: Builder): void;
}

/** What a rule says the op does with a layout, for the layout analysis and the docs. */
export type TransposeRuleRole =
  /** Each output element depends on the same element of each input (the layout passes unchanged). */
  | 'elementwise'
  /** Elementwise with numpy broadcasting: constants are transposed offline, other inputs get the inverse transpose. */
  | 'broadcast'
  /** The layout passes, but an axis attribute or operand is renumbered. */
  | 'axis'
  /** Axes are renumbered and, without keepdims, the rank drops (the output permutation shrinks). */
  | 'reduce'
  /** Each row along the last axis is mapped on its own (MatMul by a constant matrix): the other axes pass as they are. */
  | 'rows';

export interface TransposeSinkRule {
  readonly ops: readonly string[];
  readonly role: TransposeRuleRole;
  /** A plan for `node` whose layout inputs are transposed by `perm`, or undefined when it cannot move the transpose. */
  plan(node: Node, perm: Permutation, opset: number): TransposeSinkPlan | undefined;
}

/** Rules indexed by op: a table, so a plugin or a target can add its own ops. */
export class TransposeRuleRegistry {
  private readonly rules = new Map<string, TransposeSinkRule>();

  constructor(rules: Iterable<TransposeSinkRule> = []) {
    for (const rule of rules) this.add(rule);
  }

  add(rule: TransposeSinkRule): this {
    for (const op of rule.ops) this.rules.set(op, rule);
    return this;
  }

  get(op: string): TransposeSinkRule | undefined {
    return this.rules.get(op);
  }

  ops(): string[] {
    return [...this.rules.keys()].sort();
  }
}

const same = (perm: Permutation, count: number): Permutation[] => Array.from({ length: count }, () => perm);
const NOTHING = (): void => {};

function normalized(axis: number, rank: number): number | undefined {
  const value = axis < 0 ? axis + rank : axis;
  return value >= 0 && value < rank ? value : undefined;
}

/** Ops whose outputs are elementwise functions of input 0 (other inputs are scalars or per-tensor parameters). */
export const ELEMENTWISE_OPS = [
  'Relu', 'Sigmoid', 'Tanh', 'Exp', 'Log', 'Abs', 'Neg', 'Sqrt', 'Reciprocal', 'Erf', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos',
  'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh', 'Sign', 'Not', 'IsNaN', 'IsInf',
  'HardSigmoid', 'HardSwish', 'LeakyRelu', 'Elu', 'Selu', 'Celu', 'Softplus', 'Softsign', 'ThresholdedRelu', 'Gelu', 'Mish',
  'Shrink', 'Clip', 'Cast', 'Identity', 'Dropout',
].map((op) => `onnx.${op}`);

/** Elementwise ops with numpy broadcasting over all their inputs. */
export const BROADCAST_OPS = [
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Equal', 'Greater', 'GreaterOrEqual', 'Less', 'LessOrEqual',
  'And', 'Or', 'Xor', 'Where', 'PRelu', 'Mod', 'BitShift',
].map((op) => `onnx.${op}`);

const elementwise: TransposeSinkRule = {
  ops: ELEMENTWISE_OPS,
  role: 'elementwise',
  plan: (node, perm) => ({ layoutInputs: [0], outputPermutations: same(perm, node.outputs.length), apply: NOTHING }),
};

const broadcast: TransposeSinkRule = {
  ops: BROADCAST_OPS,
  role: 'broadcast',
  plan: (node, perm) => ({ layoutInputs: node.inputs.map((_, i) => i), outputPermutations: same(perm, node.outputs.length), apply: NOTHING }),
};

/** Quantize/DequantizeLinear: per-tensor passes as is; per-axis renumbers `axis`. */
const quantizeLinear: TransposeSinkRule = {
  ops: ['onnx.QuantizeLinear', 'onnx.DequantizeLinear'],
  role: 'axis',
  plan(node, perm) {
    if ((node.optionalAttr('block_size', 'int') ?? 0) !== 0) return undefined;
    const scaleRank = rankOf(node.inputs[1]);
    if (scaleRank === undefined) return undefined;
    if (scaleRank === 0) return { layoutInputs: [0], outputPermutations: [perm], apply: NOTHING };
    const axis = normalized(node.optionalAttr('axis', 'int') ?? 1, perm.length);
    if (axis === undefined) return undefined;
    return { layoutInputs: [0], outputPermutations: [perm], apply: () => node.setAttribute('axis', attrs.int(perm[axis]!)) };
  },
};

/** One `axis` attribute, every output in the layout: Concat (all inputs), Split, Softmax & co (input 0). */
function axisAttributeRule(ops: string[], allInputs: boolean, defaultAxis: number, minOpset = 1): TransposeSinkRule {
  return {
    ops,
    role: 'axis',
    plan(node, perm, opset) {
      if (opset < minOpset) return undefined;
      const axis = normalized(node.optionalAttr('axis', 'int') ?? defaultAxis, perm.length);
      if (axis === undefined) return undefined;
      return {
        layoutInputs: allInputs ? node.inputs.map((_, i) => i) : [0],
        outputPermutations: same(perm, node.outputs.length),
        apply: () => node.setAttribute('axis', attrs.int(perm[axis]!)),
      };
    },
  };
}

/** After removing `removed` (axes of `a`), the permutation that maps the reduced `a` to the reduced `Transpose(a, perm)`. */
function reducedPermutation(perm: Permutation, removedOriginalAxes: ReadonlySet<number>): number[] {
  const removedSource = new Set([...removedOriginalAxes].map((axis) => perm[axis]!));
  const keptSource = perm.map((_, axis) => axis).filter((axis) => !removedSource.has(axis));
  return perm.filter((_, axis) => !removedOriginalAxes.has(axis)).map((source) => keptSource.indexOf(source));
}

/** Axes from an attribute (older opsets) or a constant operand (newer): `undefined` when neither can be read. */
function axesOf(node: Node, inputIndex: number): { axes: number[] | null; fromInput: boolean } | undefined {
  const attribute = node.optionalAttr('axes', 'ints');
  if (attribute) return { axes: [...attribute], fromInput: false };
  const input = node.inputs[inputIndex];
  if (!input) return { axes: null, fromInput: false };
  const axes = intsOf(input);
  return axes ? { axes, fromInput: true } : undefined;
}

function setAxes(node: Node, inputIndex: number, fromInput: boolean, axes: readonly number[], at: Builder): void {
  if (!fromInput) node.setAttribute('axes', attrs.ints(axes));
  else node.setInput(inputIndex, at.constant(Tensor.fromValues('int64', [axes.length], axes), `${node.name}_axes`));
}

const REDUCE_OPS = ['ReduceMean', 'ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'ReduceL1', 'ReduceL2', 'ReduceLogSum', 'ReduceLogSumExp', 'ReduceSumSquare'].map(
  (op) => `onnx.${op}`,
);

const reduce: TransposeSinkRule = {
  ops: REDUCE_OPS,
  role: 'reduce',
  plan(node, perm) {
    const rank = perm.length;
    const read = axesOf(node, 1);
    if (!read) return undefined;
    const keepdims = (node.optionalAttr('keepdims', 'int') ?? 1) !== 0;
    const noopWhenEmpty = (node.optionalAttr('noop_with_empty_axes', 'int') ?? 0) !== 0;
    const all = read.axes === null || read.axes.length === 0;
    if (all && noopWhenEmpty) return { layoutInputs: [0], outputPermutations: [perm], apply: NOTHING };
    const axes = all ? perm.map((_, i) => i) : read.axes!.map((a) => normalized(a, rank));
    if (axes.some((a) => a === undefined)) return undefined;
    const removed = new Set(axes as number[]);
    const outputPermutation = keepdims ? perm : reducedPermutation(perm, removed);
    return {
      layoutInputs: [0],
      outputPermutations: [outputPermutation],
      apply: (at) => {
        if (!all) setAxes(node, 1, read.fromInput, (axes as number[]).map((a) => perm[a]!), at);
      },
    };
  },
};

const argReduce: TransposeSinkRule = {
  ops: ['onnx.ArgMax', 'onnx.ArgMin'],
  role: 'reduce',
  plan(node, perm) {
    const axis = normalized(node.optionalAttr('axis', 'int') ?? 0, perm.length);
    if (axis === undefined) return undefined;
    const keepdims = (node.optionalAttr('keepdims', 'int') ?? 1) !== 0;
    return {
      layoutInputs: [0],
      outputPermutations: [keepdims ? perm : reducedPermutation(perm, new Set([axis]))],
      apply: () => node.setAttribute('axis', attrs.int(perm[axis]!)),
    };
  },
};

const squeeze: TransposeSinkRule = {
  ops: ['onnx.Squeeze'],
  role: 'reduce',
  plan(node, perm) {
    const read = axesOf(node, 1);
    if (!read || read.axes === null) return undefined;
    const axes = read.axes.map((a) => normalized(a, perm.length));
    if (axes.some((a) => a === undefined)) return undefined;
    return {
      layoutInputs: [0],
      outputPermutations: [reducedPermutation(perm, new Set(axes as number[]))],
      apply: (at) => setAxes(node, 1, read.fromInput, (axes as number[]).map((a) => perm[a]!), at),
    };
  },
};

const unsqueeze: TransposeSinkRule = {
  ops: ['onnx.Unsqueeze'],
  role: 'axis',
  plan(node, perm) {
    const read = axesOf(node, 1);
    if (!read || read.axes === null) return undefined;
    const outRank = perm.length + read.axes.length;
    const inserted = read.axes.map((a) => normalized(a, outRank));
    if (inserted.some((a) => a === undefined)) return undefined;
    const insertedSet = new Set(inserted as number[]);
    const kept = Array.from({ length: outRank }, (_, j) => j).filter((j) => !insertedSet.has(j));
    // y = Unsqueeze(Transpose(a, perm)) = Transpose(Unsqueeze(a, same axes), q)
    const q = Array.from({ length: outRank }, (_, j) => (insertedSet.has(j) ? j : kept[perm[kept.indexOf(j)]!]!));
    return { layoutInputs: [0], outputPermutations: [q], apply: NOTHING };
  },
};

/** Renumbers a constant per-axis vector operand `[v_0..v_{r-1}]` (scales, repeats, shape) or `[begins, ends]` pairs. */
function permutedVector(values: readonly number[], perm: Permutation, pairs: boolean): number[] {
  const rank = perm.length;
  const out = [...values];
  const groups = pairs ? 2 : 1;
  for (let g = 0; g < groups; g++) for (let i = 0; i < rank; i++) out[g * rank + perm[i]!] = values[g * rank + i]!;
  return out;
}

function replaceVectorInput(node: Node, index: number, values: number[], at: Builder): void {
  const old = constantOf(node.inputs[index])!;
  node.setInput(index, at.constant(Tensor.fromValues(old.dtype, [values.length], values), `${node.name}_${index}`));
}

/** A constant operand that holds one entry per axis (or begin/end pairs): Tile repeats, Expand shape, Resize scales/sizes, Pad pads. */
function perAxisOperandRule(ops: string[], operandIndices: (node: Node, opset: number) => readonly { index: number; pairs: boolean }[]): TransposeSinkRule {
  return {
    ops,
    role: 'axis',
    plan(node, perm, opset) {
      if (node.optionalAttr('axes', 'ints') !== undefined) return undefined;
      const edits: { index: number; values: number[] }[] = [];
      for (const { index, pairs } of operandIndices(node, opset)) {
        const input = node.inputs[index];
        if (!input) continue;
        const tensor = constantOf(input);
        if (!tensor) return undefined;
        if (tensor.size === 0) continue;
        if (tensor.size !== perm.length * (pairs ? 2 : 1)) return undefined;
        edits.push({ index, values: permutedVector(tensor.toNumbers(), perm, pairs) });
      }
      return {
        layoutInputs: [0],
        outputPermutations: [perm],
        apply: (at) => {
          for (const edit of edits) replaceVectorInput(node, edit.index, edit.values, at);
        },
      };
    },
  };
}

const tile = perAxisOperandRule(['onnx.Tile'], () => [{ index: 1, pairs: false }]);
const expand = perAxisOperandRule(['onnx.Expand'], () => [{ index: 1, pairs: false }]);
const resize = perAxisOperandRule(['onnx.Resize'], (node, opset) =>
  opset < 11 ? [{ index: 1, pairs: false }] : [{ index: 1, pairs: true }, { index: 2, pairs: false }, { index: 3, pairs: false }],
);

const pad: TransposeSinkRule = {
  ops: ['onnx.Pad'],
  role: 'axis',
  plan(node, perm) {
    const attribute = node.optionalAttr('pads', 'ints');
    if (attribute) {
      if (attribute.length !== perm.length * 2) return undefined;
      const pads = permutedVector(attribute, perm, true);
      return { layoutInputs: [0], outputPermutations: [perm], apply: () => node.setAttribute('pads', attrs.ints(pads)) };
    }
    const axesInput = node.inputs[3];
    if (axesInput) {
      const axes = intsOf(axesInput)?.map((a) => normalized(a, perm.length));
      if (!axes || axes.some((a) => a === undefined)) return undefined;
      return { layoutInputs: [0], outputPermutations: [perm], apply: (at) => replaceVectorInput(node, 3, (axes as number[]).map((a) => perm[a]!), at) };
    }
    const pads = intsOf(node.inputs[1]);
    if (!pads || pads.length !== perm.length * 2) return undefined;
    return { layoutInputs: [0], outputPermutations: [perm], apply: (at) => replaceVectorInput(node, 1, permutedVector(pads, perm, true), at) };
  },
};

const slice: TransposeSinkRule = {
  ops: ['onnx.Slice'],
  role: 'axis',
  plan(node, perm) {
    if (node.optionalAttr('starts', 'ints')) {
      const axes = node.optionalAttr('axes', 'ints') ?? node.attr('starts', 'ints').map((_, i) => i);
      const mapped = axes.map((a) => normalized(a, perm.length));
      if (mapped.some((a) => a === undefined)) return undefined;
      return { layoutInputs: [0], outputPermutations: [perm], apply: () => node.setAttribute('axes', attrs.ints((mapped as number[]).map((a) => perm[a]!))) };
    }
    const starts = intsOf(node.inputs[1]);
    if (!starts) return undefined;
    const axes = node.inputs[3] ? intsOf(node.inputs[3]) : starts.map((_, i) => i);
    if (!axes) return undefined;
    const mapped = axes.map((a) => normalized(a, perm.length));
    if (mapped.some((a) => a === undefined)) return undefined;
    return {
      layoutInputs: [0],
      outputPermutations: [perm],
      apply: (at) => {
        const tensor = Tensor.fromValues('int64', [mapped.length], (mapped as number[]).map((a) => perm[a]!));
        node.setInput(3, at.constant(tensor, `${node.name}_axes`));
      },
    };
  },
};

const cumSum: TransposeSinkRule = {
  ops: ['onnx.CumSum'],
  role: 'axis',
  plan(node, perm) {
    const axisTensor = constantOf(node.inputs[1]);
    if (!axisTensor || axisTensor.size !== 1) return undefined;
    const axis = normalized(axisTensor.toNumbers()[0]!, perm.length);
    if (axis === undefined) return undefined;
    return {
      layoutInputs: [0],
      outputPermutations: [perm],
      apply: (at) => {
        const moved = axisTensor.dtype === 'int64' ? Tensor.fromValues('int64', axisTensor.shape, [BigInt(perm[axis]!)]) : Tensor.fromValues(axisTensor.dtype, axisTensor.shape, [perm[axis]!]);
        node.setInput(1, at.constant(moved, `${node.name}_axis`));
      },
    };
  },
};

/**
 * Gather along an axis with 0-d or 1-d indices (the indices' dims take the axis's place); and a lookup in a rank-1
 * table (output = table[indices], one element per index: a transpose of the indices passes as through an elementwise op).
 */
const gather: TransposeSinkRule = {
  ops: ['onnx.Gather'],
  role: 'axis',
  plan(node, perm) {
    if (rankOf(node.inputs[0]) === 1 && rankOf(node.inputs[1]) === perm.length && transposeOf(node.inputs[1]) && !transposeOf(node.inputs[0])) {
      return { layoutInputs: [1], outputPermutations: [perm], apply: NOTHING };
    }
    const axis = normalized(node.optionalAttr('axis', 'int') ?? 0, perm.length);
    const indicesRank = rankOf(node.inputs[1]);
    if (axis === undefined || (indicesRank !== 0 && indicesRank !== 1)) return undefined;
    const outputPermutation = indicesRank === 1 ? perm : reducedPermutation(perm, new Set([axis]));
    return { layoutInputs: [0], outputPermutations: [outputPermutation], apply: () => node.setAttribute('axis', attrs.int(perm[axis]!)) };
  },
};

/**
 * MatMul of `Transpose(a, perm)` by a constant matrix (rank ≤ 2): each row of the last axis is multiplied on its own,
 * so a permutation that leaves the last axis in place passes (a sequence-first block's feed-forward layers).
 */
const matMulByConstant: TransposeSinkRule = {
  ops: ['onnx.MatMul'],
  role: 'rows',
  plan(node, perm) {
    const rank = perm.length;
    const weightRank = rankOf(node.inputs[1]);
    if (rank < 3 || perm[rank - 1] !== rank - 1 || weightRank === undefined || weightRank > 2 || !constantOf(node.inputs[1])) return undefined;
    return { layoutInputs: [0], outputPermutations: [perm], apply: NOTHING };
  },
};

/** The rules this package ships: elementwise and broadcasting ops, axis renumbering, reductions. */
export function defaultTransposeRules(): TransposeRuleRegistry {
  return new TransposeRuleRegistry([
    elementwise,
    broadcast,
    quantizeLinear,
    axisAttributeRule(['onnx.Concat'], true, 1),
    axisAttributeRule(['onnx.Split'], false, 0),
    axisAttributeRule(['onnx.Softmax', 'onnx.LogSoftmax', 'onnx.Hardmax'], false, -1, 13),
    axisAttributeRule(['onnx.LpNormalization'], false, -1),
    reduce,
    argReduce,
    squeeze,
    unsqueeze,
    tile,
    expand,
    resize,
    pad,
    slice,
    cumSum,
    gather,
    matMulByConstant,
    reshapeRule,
  ]);
}

export { invertPermutation };
