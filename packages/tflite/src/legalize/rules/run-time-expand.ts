import { formatType, Tensor, tensorType, type Node, type Value } from '@modelpass/ir';
import { constantOf } from '../constant-values.js';
import { dimsOf, tensorTypeOf, type TfliteEmitter } from '../lowering-tools.js';
import { quantOf } from '../quantized/quant-values.js';
import { MAX_BROADCAST_RANK } from './broadcast-collapse.js';

/**
 * Expand whose input or result shape is known only at run time (ViT's class token expanded to the
 * batch: `Expand(token, Concat(Shape(x)[0], 1, 1))`). TILE needs the multiples, and BROADCAST_TO (which a static
 * Expand becomes) refuses a target dim of 1 where x is larger, so: `x · FILL(shape, 1)` for numbers (x·1 = x, −0, NaN and ±Inf kept), or
 * `x AND FILL(shape, true)` for bool, where `shape` is the broadcast of x's shape and the target
 * (MAXIMUM of the two, aligned to the result's rank: Expand allows target dims of 1 where x is larger).
 *
 * Quantized values (a full-integer ViT's int8 class token, quantize-static{full-integer=true}) cannot be multiplied by
 * ones without a requantization: they are BROADCAST_TO that same run-time shape (version 2, which TFLite 2.9 runs; its
 * kernel copies bytes, so the integers and their scale and zero point are kept exactly, ranks up to 8).
 */

/** Expand's value dtypes this route takes, and the builtin that multiplies by ones for each. */
const BY_ONES: Readonly<Record<string, { builtin: string; one: () => Tensor }>> = {
  float32: { builtin: 'MUL', one: () => Tensor.scalar('float32', 1) },
  int32: { builtin: 'MUL', one: () => Tensor.scalar('int32', 1) },
  int64: { builtin: 'MUL', one: () => Tensor.scalar('int64', 1n) },
  bool: { builtin: 'LOGICAL_AND', one: () => Tensor.scalar('bool', true) },
};

/** Quantized dtypes the BROADCAST_TO route takes, and the most dims TFLite 2.9's BROADCAST_TO takes (its kernel's kMaxDims). */
const COPIED_QUANTIZED: ReadonlySet<string> = new Set(['int8', 'uint8']);
const BROADCAST_TO_MAX_RANK = 8;

/** True when the run-time Expand of `x` copies quantized integers with BROADCAST_TO instead of multiplying by ones. */
function broadcastsIntegers(x: Value | null | undefined): boolean {
  return !!quantOf(x) && COPIED_QUANTIZED.has(tensorTypeOf(x)?.dtype ?? '');
}

/** Why a run-time Expand cannot be written, or undefined. */
export function runTimeExpandProblem(node: Node): string | undefined {
  const x = node.inputs[0];
  const dtype = tensorTypeOf(x)?.dtype;
  const copies = broadcastsIntegers(x);
  if (!dtype || (!BY_ONES[dtype] && !copies)) return `Expand of ${x ? formatType(x.type) : 'an unknown input'} with a shape known only at run time takes ${Object.keys(BY_ONES).join(', ')} values (x times a FILL of ones) or quantized ${[...COPIED_QUANTIZED].join('/')} ones (BROADCAST_TO)`;
  const inputRank = dimsOf(x)?.length;
  const targetLength = dimsOf(node.inputs[1])?.[0];
  if (inputRank === undefined || typeof targetLength !== 'number') return 'Expand with a shape known only at run time needs the input rank and the length of the shape operand';
  const rank = Math.max(inputRank, targetLength);
  if (copies && rank > BROADCAST_TO_MAX_RANK) return `Expand to rank ${rank} with a shape known only at run time: TFLite 2.9's BROADCAST_TO stops at ${BROADCAST_TO_MAX_RANK}-D`;
  if (!copies && rank > MAX_BROADCAST_RANK) return `Expand to rank ${rank} with a shape known only at run time: TFLite 2.9's broadcasting ${BY_ONES[dtype]!.builtin} stops at 4-D`;
  const shapeType = tensorTypeOf(node.inputs[1])?.dtype;
  if (!constantOf(node.inputs[1]) && shapeType !== 'int64' && shapeType !== 'int32') return `Expand's shape operand must be int64 (is ${shapeType ?? 'unknown'})`;
  return undefined;
}

function asInt32(emit: TfliteEmitter, value: Value, length: number, name: string): Value {
  const constant = constantOf(value);
  if (constant) return emit.int32(constant.toNumbers(), [length], name);
  if (tensorTypeOf(value)?.dtype === 'int32') return value;
  return emit.op1('CAST', [value], { in_data_type: 'INT64', out_data_type: 'INT32' }, tensorType('int32', [length]));
}

/** `shape` (int32, `length` entries) with 1s in front up to `rank` entries. */
function leadingOnes(emit: TfliteEmitter, shape: Value, length: number, rank: number, name: string): Value {
  if (length === rank) return shape;
  const ones = emit.int32(new Array<number>(rank - length).fill(1), [rank - length], `${name}_ones`);
  return emit.op1('CONCATENATION', [ones, shape], { axis: 0, fused_activation_function: 'NONE' }, tensorType('int32', [rank]));
}

/** The lowered Expand (`runTimeExpandProblem` must be undefined). */
export function lowerRunTimeExpand(emit: TfliteEmitter, node: Node): Value {
  let x = node.input(0);
  const dtype = tensorTypeOf(x)!.dtype;
  const inputDims = dimsOf(x)!;
  const targetLength = dimsOf(node.inputs[1])![0] as number;
  const rank = Math.max(inputDims.length, targetLength);
  const target = leadingOnes(emit, asInt32(emit, node.input(1), targetLength, 'target'), targetLength, rank, 'target');
  const copies = broadcastsIntegers(x);
  let inputShape = emit.op1('SHAPE', [x], { out_type: 'INT32' }, tensorType('int32', [inputDims.length]));
  if (inputDims.length < rank) {
    inputShape = leadingOnes(emit, inputShape, inputDims.length, rank, 'input_shape');
    // BROADCAST_TO aligns a lower-rank input at the right by itself; MUL / LOGICAL_AND get x at the result's rank.
    if (!copies) {
      const padded = [...new Array<number>(rank - inputDims.length).fill(1), ...inputDims];
      x = emit.op1('RESHAPE', [x, inputShape], {}, tensorType(dtype, padded));
    }
  }
  const resultShape = emit.op1('MAXIMUM', [inputShape, target], {}, tensorType('int32', [rank]));
  if (copies) return emit.op1('BROADCAST_TO', [x, resultShape], {}, node.output(0).type);
  const { builtin, one } = BY_ONES[dtype]!;
  const ones = emit.op1('FILL', [resultShape, emit.constant(one(), 'one')], {}, tensorType(dtype, dimsOf(node.outputs[0]) ?? new Array(rank).fill(null)));
  return emit.op1(builtin, [x, ones], builtin === 'MUL' ? { fused_activation_function: 'NONE' } : {}, node.output(0).type);
}
