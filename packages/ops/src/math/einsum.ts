import { ModelpassError, tensorType, type Dim, type Node, type Tensor, type VerifyContext } from '@modelpass/ir';
import { defineCanonicalOp } from '../op-definition.js';
import { allocateElements, readElements, tensorFromElements } from '../util/elements.js';
import { inputTensorType, shapeOfType } from '../util/inference.js';
import { inputTensors, opError } from '../util/kernel-io.js';
import { broadcastDim, stridesOf } from '../util/shape.js';
import { elementClassOf } from './element-class.js';
import { requireSameDType } from './elementwise.js';

/** A parsed equation: per operand its labels (ellipsis dims expanded to labels '0', '1', ...). */
export interface EinsumPlan {
  readonly operands: readonly (readonly string[])[];
  readonly output: readonly string[];
}

const LETTER = /^[A-Za-z]$/;

function parseTerm(term: string, rank: number, node: Node | undefined, ellipsisRank: { value: number }): string[] {
  const parts = term.split('...');
  if (parts.length > 2) throw opError(node, `einsum term '${term}' has more than one ellipsis`);
  for (const part of parts) {
    for (const ch of part) if (!LETTER.test(ch)) throw opError(node, `einsum label '${ch}' is not a letter`, { expected: 'labels a-z, A-Z and ...' });
  }
  if (parts.length === 1) {
    if (term.length !== rank) throw opError(node, `einsum term '${term}' has ${term.length} labels for an operand of rank ${rank}`);
    return [...term];
  }
  const count = rank - parts[0]!.length - parts[1]!.length;
  if (count < 0) throw opError(node, `einsum term '${term}' has more labels than the operand's rank ${rank}`);
  ellipsisRank.value = Math.max(ellipsisRank.value, count);
  // Ellipsis dims are right-aligned across operands, so label them from the end.
  const ellipsis = Array.from({ length: count }, (_, i) => String(count - 1 - i));
  return [...parts[0]!, ...ellipsis, ...parts[1]!];
}

/**
 * Parses an einsum equation for operands of the given ranks: explicit (`ij,jk->ik`) or implicit
 * (`ij,jk`: the output is the ellipsis dims then the labels used once, in alphabetical order),
 * with ellipses and repeated labels (diagonals).
 */
export function parseEinsum(equation: string, ranks: readonly number[], node?: Node): EinsumPlan {
  const text = equation.replace(/\s+/g, '');
  const [left, right, ...rest] = text.split('->');
  if (rest.length > 0 || left === undefined) throw opError(node, `einsum equation '${equation}' has more than one '->'`);
  const terms = left.split(',');
  if (terms.length !== ranks.length) {
    throw opError(node, `einsum equation '${equation}' names ${terms.length} operands`, { expected: `${ranks.length} operands (the node's inputs)` });
  }
  const ellipsisRank = { value: 0 };
  const operands = terms.map((term, i) => parseTerm(term, ranks[i]!, node, ellipsisRank));
  const ellipsisLabels = Array.from({ length: ellipsisRank.value }, (_, i) => String(ellipsisRank.value - 1 - i));
  let output: string[];
  if (right === undefined) {
    const counts = new Map<string, number>();
    for (const labels of operands) for (const label of labels) if (LETTER.test(label)) counts.set(label, (counts.get(label) ?? 0) + 1);
    const once = [...counts].filter(([, count]) => count === 1).map(([label]) => label).sort();
    output = [...ellipsisLabels, ...once];
  } else {
    const parts = right.split('...');
    if (parts.length > 2) throw opError(node, `einsum output '${right}' has more than one ellipsis`);
    for (const part of parts) {
      for (const ch of part) {
        if (!LETTER.test(ch)) throw opError(node, `einsum label '${ch}' is not a letter`);
        if (!operands.some((labels) => labels.includes(ch))) throw opError(node, `einsum output label '${ch}' appears in no operand`);
      }
    }
    output = parts.length === 1 ? [...right] : [...parts[0]!, ...ellipsisLabels, ...parts[1]!];
    if (new Set(output).size !== output.length) throw opError(node, `einsum output '${right}' repeats a label`);
  }
  return { operands, output };
}

/** The size of every label; throws when operands disagree (size-1 ellipsis dims broadcast). */
function labelSizes<D extends Dim>(plan: EinsumPlan, shapes: readonly (readonly D[])[], node?: Node): Map<string, Dim> {
  const sizes = new Map<string, Dim>();
  plan.operands.forEach((labels, k) => {
    labels.forEach((label, axis) => {
      const dim = shapes[k]![axis]!;
      if (!sizes.has(label)) {
        sizes.set(label, dim);
        return;
      }
      const previous = sizes.get(label)!;
      const merged = LETTER.test(label) ? (previous === dim ? dim : typeof previous === 'number' && typeof dim === 'number' ? undefined : (typeof previous === 'number' ? previous : dim)) : broadcastDim(previous, dim);
      if (merged === undefined) throw opError(node, `einsum label '${label}' has sizes ${previous} and ${dim}`);
      sizes.set(label, merged);
    });
  });
  return sizes;
}

function einsumKernel(plan: EinsumPlan, tensors: readonly Tensor[], node: Node): Tensor {
  const sizes = labelSizes(plan, tensors.map((t) => t.shape), node) as Map<string, number>;
  const outShape = plan.output.map((label) => sizes.get(label)!);
  const contracted = [...sizes.keys()].filter((label) => !plan.output.includes(label));
  const loopLabels = [...plan.output, ...contracted];
  const loopSizes = loopLabels.map((label) => sizes.get(label)!);
  // Per operand, the stride each loop label adds to its flat offset (0 for broadcast dims).
  const loopStrides = tensors.map((tensor, k) => {
    const strides = stridesOf(tensor.shape);
    return loopLabels.map((label) => plan.operands[k]!.reduce((sum, l, axis) => (l === label && tensor.shape[axis] !== 1 ? sum + strides[axis]! : sum), 0));
  });
  const dtype = tensors[0]!.dtype;
  const big = elementClassOf(dtype) === 'bigint';
  const data = tensors.map((t) => readElements(t) as ArrayLike<number | bigint>);
  const outCount = outShape.reduce((a, b) => a * b, 1);
  const innerCount = contracted.reduce((product, label) => product * sizes.get(label)!, 1);
  const out = allocateElements(dtype, outCount) as unknown as (number | bigint)[];
  const counter = new Array<number>(loopLabels.length).fill(0);
  const offsets = new Array<number>(tensors.length).fill(0);
  for (let o = 0; o < outCount; o++) {
    let sum: number | bigint = big ? 0n : 0;
    for (let c = 0; c < innerCount; c++) {
      let product: number | bigint = big ? 1n : 1;
      for (let k = 0; k < tensors.length; k++) product = (product as number) * (data[k]![offsets[k]!] as number);
      sum = (sum as number) + (product as number);
      // Advance the loop counter (output labels outermost, contracted innermost).
      for (let axis = loopLabels.length - 1; axis >= 0; axis--) {
        counter[axis]!++;
        for (let k = 0; k < tensors.length; k++) offsets[k]! += loopStrides[k]![axis]!;
        if (counter[axis]! < loopSizes[axis]!) break;
        for (let k = 0; k < tensors.length; k++) offsets[k]! -= loopStrides[k]![axis]! * counter[axis]!;
        counter[axis] = 0;
      }
    }
    out[o] = sum;
  }
  return tensorFromElements(dtype, outShape, out as unknown as ArrayLike<number>);
}

export const einsum = defineCanonicalOp({
  op: 'onnx.Einsum',
  summary: 'Einstein summation over any number of operands (explicit or implicit output, ellipsis, diagonals)',
  inputs: [{ name: 'Inputs', variadic: true, minCount: 1 }],
  outputs: [{ name: 'Output' }],
  attributes: { equation: { kind: 'string', required: true } },
  verify: verifyEinsumEquation,
  inferTypes: (context) => {
    const types = context.node.inputs.map((_, i) => inputTensorType(context, i));
    const first = types[0];
    if (!first) return [undefined];
    if (types.some((type) => !type || type.shape === null)) return [tensorType(first.dtype, null)];
    const shapes = types.map((type) => type!.shape!);
    const plan = parseEinsum(context.node.attr('equation', 'string'), shapes.map((shape) => shape.length), context.node);
    const sizes = labelSizes(plan, shapes, context.node);
    return [tensorType(first.dtype, plan.output.map((label) => sizes.get(label) ?? null))];
  },
  kernel: (inputs, context) => {
    const tensors = inputTensors(inputs, context);
    requireSameDType(tensors, context);
    const cls = elementClassOf(tensors[0]!.dtype);
    if (cls === 'string' || cls === 'bool') throw opError(context.node, `has no reference kernel for element type ${tensors[0]!.dtype}`);
    const plan = parseEinsum(context.node.attr('equation', 'string'), tensors.map((t) => t.rank), context.node);
    return [einsumKernel(plan, tensors, context.node)];
  },
});

/** Verify hook: the equation parses for the node's operands and their ranks (QA s16: 'ij,jk-<ik' converted with exit 0). */
function verifyEinsumEquation(context: VerifyContext): void {
  const { node } = context;
  const attribute = node.getAttribute('equation');
  if (attribute?.kind !== 'string') return;
  const shapes = node.inputs.map((input) => shapeOfType(input?.type));
  // With a rank unknown, each term is parsed for the rank its letters spell: its labels are still checked.
  const terms = attribute.value.replace(/\s+/g, '').split('->')[0]!.split(',');
  const ranks = shapes.map((shape, i) => shape?.length ?? (terms[i] ?? '').replace('...', '').length);
  try {
    parseEinsum(attribute.value, ranks);
  } catch (error) {
    if (!ModelpassError.is(error)) throw error;
    const diagnostic = error.diagnostics[0];
    context.report({
      severity: 'error',
      source: '@modelpass/ops',
      code: 'ops/einsum-equation',
      reason: `equation '${attribute.value}': ${diagnostic?.reason ?? error.message}`,
      expected: diagnostic?.expected ?? "one comma-separated term of letters (at most one '...') per input, then optionally '->' and the output's letters",
    });
  }
}
