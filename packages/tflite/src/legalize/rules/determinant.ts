import { tensorType, type Dim, type Value } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { reshapeTarget } from './compose.js';

/**
 * Det of [..., n, n] float32 matrices, n ≤ 4 (TFLite has no determinant): the matrices flattened to
 * [batch, n²], SPLIT into their n² entries, and the cofactor expansion along the first row written
 * with MUL/ADD/SUB.
 */

const MAX_ORDER = 4;

const det: LoweringRule = {
  ops: ['onnx.Det'],
  stage: 'lower',
  targets: ['RESHAPE', 'SPLIT', 'MUL', 'ADD', 'SUB'],
  check(node) {
    const dims = dimsOf(node.inputs[0]);
    if (tensorTypeOf(node.inputs[0])?.dtype !== 'float32') return 'Det is lowered for float32 only';
    if (!dims || dims.length < 2) return 'Det needs an input of known rank ≥ 2';
    const [rows, columns] = [dims.at(-2), dims.at(-1)];
    if (typeof rows !== 'number' || rows !== columns) return 'Det needs static square matrices (the last two dims)';
    if (rows > MAX_ORDER) return `Det of ${rows}×${rows} matrices is not written out (cofactor expansion up to ${MAX_ORDER}×${MAX_ORDER})`;
    return reshapeTarget(dims.slice(0, -2)) ? undefined : 'Det inputs may have at most one unknown batch dim';
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dims = dimsOf(node.inputs[0])!;
    const n = dims.at(-1) as number;
    const batchDims = dims.slice(0, -2);
    const batch: Dim = batchDims.every((d) => typeof d === 'number') ? (batchDims as number[]).reduce((p, d) => p * d, 1) : `${node.name}_batch`;
    const entryType = tensorType('float32', [batch, 1]);
    const flat = emit.op1('RESHAPE', [node.input(0), emit.int32([-1, n * n], [2], 'matrices')], {}, tensorType('float32', [batch, n * n]));
    const entries = n === 1 ? [flat] : emit.op('SPLIT', [emit.int32([1], [], 'axis'), flat], { num_splits: n * n }, new Array(n * n).fill(entryType)).outputs.map((v) => v!);
    const none = { fused_activation_function: 'NONE' };
    const expand = (rows: readonly number[], columns: readonly number[]): Value => {
      if (rows.length === 1) return entries[rows[0]! * n + columns[0]!]!;
      let total: Value | undefined;
      columns.forEach((column, k) => {
        const minor = expand(rows.slice(1), columns.filter((c) => c !== column));
        const term = emit.op1('MUL', [entries[rows[0]! * n + column]!, minor], none, entryType);
        total = total === undefined ? term : emit.op1(k % 2 === 0 ? 'ADD' : 'SUB', [total, term], none, entryType);
      });
      return total!;
    };
    const all = Array.from({ length: n }, (_, i) => i);
    const value = expand(all, all);
    replaceNode(node, [emit.op1('RESHAPE', [value, emit.int32(reshapeTarget(batchDims)!, [batchDims.length], 'shape')], {}, node.output(0).type)]);
  },
};

export const determinantRules: readonly LoweringRule[] = [det];
