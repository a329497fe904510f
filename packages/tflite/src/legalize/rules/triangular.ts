import { dtypeFromOnnxCode, Tensor, tensorType, type DType, type Node, type Value } from '@modelpass/ir';
import { constantOf, numbersOf } from '../constant-values.js';
import type { LoweringRule } from '../lowering-rule.js';
import { dimsOf, replaceNode, tensorTypeName, tensorTypeOf, TfliteEmitter } from '../lowering-tools.js';
import { reshapeTarget } from './compose.js';

/**
 * Trilu and EyeLike: masks and identity matrices that depend only on static dims, so they are
 * constants in the file (a bool mask for SELECT_V2, the identity itself).
 */

const SELECTABLE: readonly DType[] = ['float32', 'int32', 'int64', 'bool'];

function zeroOf(dtype: DType): Tensor {
  if (dtype === 'int64') return Tensor.fromValues('int64', [], [0n]);
  if (dtype === 'bool') return Tensor.fromValues('bool', [], [false]);
  return Tensor.fromValues(dtype, [], [0]);
}

/** `keep(row, column)` over an [rows, columns] grid. */
function mask(rows: number, columns: number, keep: (row: number, column: number) => boolean): Tensor {
  const values: boolean[] = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < columns; j++) values.push(keep(i, j));
  return Tensor.fromValues('bool', [rows, columns], values);
}

function constantMask(emit: TfliteEmitter, node: Node, rows: number, columns: number, upper: boolean): Value {
  const k = node.inputs[1] ? numbersOf(node.inputs[1])![0]! : 0;
  return emit.constant(mask(rows, columns, (i, j) => (upper ? j - i >= k : j - i <= k)), 'mask');
}

/** A run-time k: the constant diagonal offsets j − i compared with k (GREATER_EQUAL upper, LESS_EQUAL lower). */
function runTimeMask(emit: TfliteEmitter, k: Value, rows: number, columns: number, upper: boolean): Value {
  const offsets: number[] = [];
  for (let i = 0; i < rows; i++) for (let j = 0; j < columns; j++) offsets.push(j - i);
  const diagonal = emit.constant(Tensor.fromValues('int32', [rows, columns], offsets), 'offsets');
  const from = tensorTypeOf(k)!.dtype;
  const k32 = from === 'int32' ? k : emit.op1('CAST', [k], { in_data_type: 'INT64', out_data_type: 'INT32' }, tensorType('int32', dimsOf(k) ?? []));
  return emit.op1(upper ? 'GREATER_EQUAL' : 'LESS_EQUAL', [diagonal, k32], {}, tensorType('bool', [rows, columns]));
}

/** Trilu(x, k): SELECT_V2 of a [H, W] mask (constant, or built from a run-time k) (j − i ≥ k upper, ≤ k lower); rank > 4 runs as [-1, H, W]. */
const trilu: LoweringRule = {
  ops: ['onnx.Trilu'],
  stage: 'lower',
  targets: ['SELECT_V2', 'RESHAPE', 'CAST', 'GREATER_EQUAL', 'LESS_EQUAL'],
  check(node) {
    const dims = dimsOf(node.inputs[0]);
    const dtype = tensorTypeOf(node.inputs[0])?.dtype;
    if (!dims || dims.length < 2) return 'Trilu needs an input of known rank ≥ 2';
    if (!dtype || !SELECTABLE.includes(dtype)) return `Trilu on ${dtype ?? 'untyped'} tensors has no TFLite lowering (takes ${SELECTABLE.join(', ')})`;
    if (typeof dims.at(-1) !== 'number' || typeof dims.at(-2) !== 'number') return 'Trilu needs static matrix dims (the last two) to build its mask';
    if (node.inputs[1] && !constantOf(node.inputs[1]) && !['int64', 'int32'].includes(tensorTypeOf(node.inputs[1])?.dtype ?? '')) return 'Trilu k must be an int64 scalar';
    if (node.inputs[1] && constantOf(node.inputs[1]) && numbersOf(node.inputs[1])?.length !== 1) return 'Trilu k must be a scalar';
    if (dims.length > 4 && !reshapeTarget(dims.slice(0, -2))) return 'a rank > 4 Trilu input with more than one unknown batch dim cannot be flattened';
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const dims = dimsOf(node.inputs[0])!;
    const dtype = tensorTypeOf(node.inputs[0])!.dtype;
    const [rows, columns] = [dims.at(-2) as number, dims.at(-1) as number];
    const upper = (node.optionalAttr('upper', 'int') ?? 1) === 1;
    const keep = node.inputs[1] && !constantOf(node.inputs[1]) ? runTimeMask(emit, node.input(1), rows, columns, upper) : constantMask(emit, node, rows, columns, upper);
    const zero = emit.constant(zeroOf(dtype), 'zero');
    let x = node.input(0);
    if (dims.length > 4) {
      const batch = dims.slice(0, -2).every((d) => typeof d === 'number') ? (dims.slice(0, -2) as number[]).reduce((n, d) => n * d, 1) : `${node.name}_batch`;
      x = emit.op1('RESHAPE', [x, emit.int32([-1, rows, columns], [3], 'matrices')], {}, tensorType(dtype, [batch, rows, columns]));
    }
    let y = emit.op1('SELECT_V2', [keep, x, zero], {}, tensorType(dtype, dimsOf(x)!));
    if (dims.length > 4) y = emit.op1('RESHAPE', [y, emit.int32(reshapeTarget(dims)!, [dims.length], 'shape')], {}, node.output(0).type);
    replaceNode(node, [y]);
  },
};

function eyeDType(node: Parameters<LoweringRule['check']>[0]): DType | undefined {
  const code = node.optionalAttr('dtype', 'int');
  return code === undefined ? tensorTypeOf(node.inputs[0])?.dtype : dtypeFromOnnxCode(code);
}

/** EyeLike: the identity (shifted by k) of the input's static 2-D shape, a constant (RESHAPE copy, as a graph output may be). */
const eyeLike: LoweringRule = {
  ops: ['onnx.EyeLike'],
  stage: 'lower',
  targets: ['RESHAPE'],
  check(node) {
    const dims = dimsOf(node.inputs[0]);
    if (!dims || dims.length !== 2 || dims.some((d) => typeof d !== 'number')) return 'EyeLike needs a static 2-D input shape';
    const dtype = eyeDType(node);
    if (!dtype || !tensorTypeName(dtype) || dtype === 'string') return `EyeLike of dtype ${dtype ?? 'unknown'} has no TFLite tensor type`;
    return undefined;
  },
  lower(node, context) {
    const emit = new TfliteEmitter(node, context);
    const [rows, columns] = dimsOf(node.inputs[0]) as [number, number];
    const dtype = eyeDType(node)!;
    const k = node.optionalAttr('k', 'int') ?? 0;
    const values: (number | bigint | boolean)[] = [];
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < columns; j++) {
        const one = j - i === k;
        values.push(dtype === 'int64' || dtype === 'uint64' ? BigInt(one ? 1 : 0) : dtype === 'bool' ? one : one ? 1 : 0);
      }
    }
    const eye = emit.constant(Tensor.fromValues(dtype, [rows, columns], values as never), 'eye');
    const y: Value = emit.op1('RESHAPE', [eye, emit.int32([rows, columns], [2], 'shape')], {}, tensorType(dtype, [rows, columns]));
    replaceNode(node, [y]);
  },
};

export const triangularRules: readonly LoweringRule[] = [trilu, eyeLike];
