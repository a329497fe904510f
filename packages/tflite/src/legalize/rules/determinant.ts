import { tensorType, type Dim, type Node, type Value } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { reshapeTarget } from './compose.js';

/**
 * Det of [..., n, n] float32 matrices, n ≤ 4 (TFLite has no determinant): the matrices flattened to
 * [batch, n²], SPLIT into their n² entries, and the cofactor expansion along the first row written
 * with MUL/ADD/SUB.
 */

export const MAX_ORDER = 4;

/** The checks Det and Inverse share: float32, static square matrices of order ≤ 4, at most one unknown batch dim. */
export function squareMatricesProblem(node: Node, what: string): string | undefined {
  const dims = dimsOf(node.inputs[0]);
  if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return `${what} is lowered for float32 only`;
  if (!dims || dims.length < 2) return `${what} needs an input of known rank ≥ 2`;
  const [rows, columns] = [dims.at(-2), dims.at(-1)];
  if (typeof rows !== 'number' || rows !== columns) return `${what} needs static square matrices (the last two dims)`;
  if (rows > MAX_ORDER) return `${what} of ${rows}×${rows} matrices is not written out (cofactor expansion up to ${MAX_ORDER}×${MAX_ORDER})`;
  return reshapeTarget(dims.slice(0, -2)) ? undefined : `${what} inputs may have at most one unknown batch dim`;
}

/** The matrices' entries, each [batch, 1] (row-major), from a SPLIT of the input flattened to [batch, n²]. */
export function matrixEntries(emit: TfliteEmitter, x: Value, n: number, batch: Dim): Value[] {
  const flat = emit.op1('RESHAPE', [x, emit.int32([-1, n * n], [2], 'matrices')], {}, tensorType('float32', [batch, n * n]));
  return n === 1 ? [flat] : emit.op('SPLIT', [emit.int32([1], [], 'axis'), flat], { num_splits: n * n }, new Array(n * n).fill(tensorType('float32', [batch, 1]))).outputs.map((v) => v!);
}

/** The determinant of the submatrix of `rows` × `columns` (cofactor expansion along its first row). */
export function minorDeterminant(emit: TfliteEmitter, entries: readonly Value[], n: number, rows: readonly number[], columns: readonly number[], batch: Dim): Value {
  const entryType = tensorType('float32', [batch, 1]);
  const none = { fused_activation_function: 'NONE' };
  if (rows.length === 1) return entries[rows[0]! * n + columns[0]!]!;
  let total: Value | undefined;
  columns.forEach((column, k) => {
    const minor = minorDeterminant(emit, entries, n, rows.slice(1), columns.filter((c) => c !== column), batch);
    const term = emit.op1('MUL', [entries[rows[0]! * n + column]!, minor], none, entryType);
    total = total === undefined ? term : emit.op1(k % 2 === 0 ? 'ADD' : 'SUB', [total, term], none, entryType);
  });
  return total!;
}

/** The batch dim of [..., n, n] matrices: the product of the leading dims, or a symbol. */
export function batchOf(node: Node): Dim {
  const batchDims = dimsOf(node.inputs[0])!.slice(0, -2);
  return batchDims.every((d) => typeof d === 'number') ? (batchDims as number[]).reduce((p, d) => p * d, 1) : `${node.name}_batch`;
}

const det: LoweringRule = {
  ops: ['onnx.Det'],
  stage: 'lower',
  targets: ['RESHAPE', 'SPLIT', 'MUL', 'ADD', 'SUB'],
  check: (node) => squareMatricesProblem(node, 'Det'),
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dims = dimsOf(node.inputs[0])!;
    const n = dims.at(-1) as number;
    const batchDims = dims.slice(0, -2);
    const batch = batchOf(node);
    const all = Array.from({ length: n }, (_, i) => i);
    const value = minorDeterminant(emit, matrixEntries(emit, node.input(0), n, batch), n, all, all, batch);
    replaceNode(node, [emit.op1('RESHAPE', [value, emit.int32(reshapeTarget(batchDims)!, [batchDims.length], 'shape')], {}, node.output(0).type)]);
  },
};

export const determinantRules: readonly LoweringRule[] = [det];
