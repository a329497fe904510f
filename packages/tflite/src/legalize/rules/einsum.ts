import { tensorType, type Node, type Type, type Value } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { rankOfValue, replaceNode, staticDims, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';

/**
 * Einsum of one or two operands without repeated letters in an operand (an ellipsis is spelled out in letters first; matrix
 * products, batched attention products, outer products, transposes, sums): letters only one operand
 * has and the output lacks are summed first (SUM); then each operand is transposed to
 * [batch, free, contracted] / [batch, contracted, free], reshaped to 3-D, multiplied (BATCH_MATMUL),
 * reshaped back and transposed to the output's letter order. Static shapes only.
 */
interface Equation {
  readonly inputs: string[];
  readonly output: string;
}

/**
 * An ellipsis stands for the operand's dims its letters leave, aligned from the right across operands (numpy's
 * broadcasting, here of equal sizes only): each becomes fresh letters, the output's too (in front, when the
 * output is implicit).
 */
function expandEllipsis(equation: string, ranks: readonly (number | undefined)[]): string {
  if (!equation.includes('...')) return equation;
  const [left, right] = equation.split('->') as [string, string | undefined];
  const terms = left.split(',');
  const used = new Set(equation.replace(/[^a-zA-Z]/g, ''));
  const fresh = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'].filter((letter) => !used.has(letter));
  const widths = terms.map((term, index) => (term.includes('...') && ranks[index] !== undefined ? ranks[index]! - term.replace('...', '').length : 0));
  const width = Math.max(0, ...widths);
  if (widths.some((w) => w < 0) || width > fresh.length) return equation; // parseEquation reports the mismatch
  const letters = fresh.slice(0, width).join('');
  const expanded = terms.map((term, index) => term.replace('...', letters.slice(width - widths[index]!)));
  if (right !== undefined) return `${expanded.join(',')}->${right.replace('...', letters)}`;
  const counts = new Map<string, number>();
  for (const letter of expanded.join('').replace(new RegExp(`[${letters || ' '}]`, 'g'), '')) counts.set(letter, (counts.get(letter) ?? 0) + 1);
  const once = [...counts].filter(([, n]) => n === 1).map(([letter]) => letter).sort().join('');
  return `${expanded.join(',')}->${letters}${once}`;
}

function parseEquation(text: string, ranks: readonly (number | undefined)[] = []): Equation | string {
  const equation = expandEllipsis(text.replace(/\s+/g, ''), ranks);
  if (equation.includes('.')) return `cannot read Einsum equation '${text}' for operands of ranks ${ranks.map((r) => r ?? '?').join(', ')} (an ellipsis needs each operand's rank)`;
  const [left, right] = equation.split('->') as [string, string | undefined];
  const inputs = left.split(',');
  if (inputs.some((term) => !/^[a-zA-Z]*$/.test(term))) return `cannot read Einsum equation '${text}'`;
  if (inputs.some((term) => new Set(term).size !== term.length)) return 'Einsum with a letter repeated in one operand (a diagonal) is not supported';
  const counts = new Map<string, number>();
  for (const letter of inputs.join('')) counts.set(letter, (counts.get(letter) ?? 0) + 1);
  const output = right ?? [...counts].filter(([, n]) => n === 1).map(([letter]) => letter).sort().join('');
  if (!/^[a-zA-Z]*$/.test(output) || new Set(output).size !== output.length || [...output].some((letter) => !counts.has(letter))) return `cannot read Einsum output '${output}'`;
  return { inputs, output };
}

function letterSizes(node: Node, equation: Equation): Map<string, number> | string {
  const sizes = new Map<string, number>();
  for (const [index, term] of equation.inputs.entries()) {
    const dims = staticDims(node.inputs[index]);
    if (!dims) return 'Einsum needs static operand shapes';
    if (dims.length !== term.length) return `operand ${index} has rank ${dims.length} but '${term}' names ${term.length} axes`;
    for (const [axis, letter] of [...term].entries()) {
      const known = sizes.get(letter);
      if (known !== undefined && known !== dims[axis]) return `letter '${letter}' has sizes ${known} and ${dims[axis]} (broadcasting is not supported)`;
      sizes.set(letter, dims[axis]!);
    }
  }
  return sizes;
}

/** Emits TRANSPOSE/RESHAPE/SUM on values that carry their letters. */
class LetteredEmitter {
  constructor(
    readonly emit: TfliteEmitter,
    readonly sizes: Map<string, number>,
    readonly dtype: 'float32',
  ) {}

  type(letters: string): Type {
    return tensorType(this.dtype, [...letters].map((letter) => this.sizes.get(letter)!));
  }

  sum(value: Value, letters: string, keep: string): { value: Value; letters: string } {
    const axes = [...letters].flatMap((letter, axis) => (keep.includes(letter) ? [] : [axis]));
    if (axes.length === 0) return { value, letters };
    const kept = [...letters].filter((letter) => keep.includes(letter)).join('');
    return { value: this.emit.op1('SUM', [value, this.emit.int32(axes, [axes.length], 'axes')], { keep_dims: 0 }, this.type(kept)), letters: kept };
  }

  transpose(value: Value, from: string, to: string): Value {
    if (from === to) return value;
    const perm = [...to].map((letter) => from.indexOf(letter));
    return this.emit.op1('TRANSPOSE', [value, this.emit.int32(perm, [perm.length], 'perm')], {}, this.type(to));
  }

  reshape(value: Value, dims: number[]): Value {
    return this.emit.op1('RESHAPE', [value, this.emit.int32(dims, [dims.length], 'shape')], {}, tensorType(this.dtype, dims));
  }

  product(letters: string): number {
    return [...letters].reduce((n, letter) => n * this.sizes.get(letter)!, 1);
  }
}

const einsum: LoweringRule = {
  ops: ['onnx.Einsum'],
  stage: 'lower',
  targets: ['SUM', 'TRANSPOSE', 'RESHAPE', 'BATCH_MATMUL'],
  check(node) {
    const equation = parseEquation(node.attr('equation', 'string'), node.inputs.map((input) => rankOfValue(input)));
    if (typeof equation === 'string') return equation;
    if (equation.inputs.length < 1 || equation.inputs.length > 2 || node.inputs.length !== equation.inputs.length) return 'Einsum of one or two operands only';
    if (node.inputs.some((input) => tensorTypeOf(input)?.dtype !== 'float32')) return 'Einsum is lowered for float32 only';
    const sizes = letterSizes(node, equation);
    return typeof sizes === 'string' ? sizes : undefined;
  },
  lower(node, context) {
    const equation = parseEquation(node.attr('equation', 'string'), node.inputs.map((input) => rankOfValue(input))) as Equation;
    const e = new LetteredEmitter(new TfliteEmitter(node, context), letterSizes(node, equation) as Map<string, number>, 'float32');
    const { output } = equation;
    const [termA, termB] = equation.inputs as [string, string | undefined];
    if (termB === undefined) {
      const summed = e.sum(node.input(0), termA, output);
      replaceNode(node, [e.transpose(summed.value, summed.letters, output)]);
      return;
    }
    // Letters one operand alone has and the output lacks: summed away first.
    const a = e.sum(node.input(0), termA, output + termB);
    const b = e.sum(node.input(1), termB, output + a.letters);
    const shared = [...a.letters].filter((letter) => b.letters.includes(letter));
    const batch = shared.filter((letter) => output.includes(letter)).join('');
    const contracted = shared.filter((letter) => !output.includes(letter)).join('');
    const freeA = [...a.letters].filter((letter) => !b.letters.includes(letter)).join('');
    const freeB = [...b.letters].filter((letter) => !a.letters.includes(letter)).join('');
    const batchSize = e.product(batch);
    const left = e.reshape(e.transpose(a.value, a.letters, batch + freeA + contracted), [batchSize, e.product(freeA), e.product(contracted)]);
    const right = e.reshape(e.transpose(b.value, b.letters, batch + contracted + freeB), [batchSize, e.product(contracted), e.product(freeB)]);
    const product = e.emit.op1('BATCH_MATMUL', [left, right], { adj_x: 0, adj_y: 0 }, tensorType('float32', [batchSize, e.product(freeA), e.product(freeB)]));
    const letters = batch + freeA + freeB;
    const unflat = e.reshape(product, [...letters].map((letter) => e.sizes.get(letter)!));
    replaceNode(node, [e.transpose(unflat, letters, output)]);
  },
};

export const einsumRules: readonly LoweringRule[] = [einsum];
