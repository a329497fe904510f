import { Tensor, tensorType, type Value } from '@modelpass/ir';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, TfliteEmitter } from '../lowering-tools.js';
import { reshapeTarget } from './compose.js';
import { batchOf, matrixEntries, minorDeterminant, squareMatricesProblem } from './determinant.js';

/**
 * com.microsoft Inverse of [..., n, n] float32 matrices, n ≤ 4 (TFLite has no inverse): the
 * adjugate over the determinant, inverse[i][j] = (−1)^(i+j)·minor(j, i) / det, every minor written
 * out with MUL/ADD/SUB, the n² entries joined by CONCATENATION.
 */
const inverse: LoweringRule = {
  ops: ['com.microsoft.Inverse'],
  stage: 'lower',
  targets: ['RESHAPE', 'SPLIT', 'MUL', 'ADD', 'SUB', 'DIV', 'NEG', 'CONCATENATION'],
  check: (node) => squareMatricesProblem(node, 'Inverse'),
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dims = dimsOf(node.inputs[0])!;
    const n = dims.at(-1) as number;
    const batch = batchOf(node);
    const entryType = tensorType('float32', [batch, 1]);
    const none = { fused_activation_function: 'NONE' };
    const entries = matrixEntries(emit, node.input(0), n, batch);
    const all = Array.from({ length: n }, (_, i) => i);
    const determinant = minorDeterminant(emit, entries, n, all, all, batch);
    const inverseEntries: Value[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (n === 1) {
          inverseEntries.push(emit.op1('DIV', [emit.constant(Tensor.scalar('float32', 1), 'one'), determinant], none, entryType));
          continue;
        }
        const minor = minorDeterminant(emit, entries, n, all.filter((r) => r !== j), all.filter((c) => c !== i), batch);
        const cofactor = (i + j) % 2 === 0 ? minor : emit.op1('NEG', [minor], {}, entryType);
        inverseEntries.push(emit.op1('DIV', [cofactor, determinant], none, entryType));
      }
    }
    const joined = inverseEntries.length === 1 ? inverseEntries[0]! : emit.op1('CONCATENATION', inverseEntries, { axis: 1, fused_activation_function: 'NONE' }, tensorType('float32', [batch, n * n]));
    replaceNode(node, [emit.op1('RESHAPE', [joined, emit.int32(reshapeTarget(dims)!, [dims.length], 'shape')], {}, tensorType('float32', dims))]);
  },
};

export const matrixInverseRules: readonly LoweringRule[] = [inverse];
