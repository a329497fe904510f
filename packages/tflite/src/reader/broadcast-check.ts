/**
 * The reader refuses a binary elementwise operator whose operands' shapes are fixed by the file (a
 * subgraph input or a constant, both static) and cannot broadcast: TFLite refuses such a file when
 * it prepares the operator ("not broadcastable"), and converting it would write a model ONNX
 * Runtime refuses too. Intermediate operands are not judged here: TFLite recomputes their shapes
 * at prepare, so their declared shapes are not authoritative.
 */
import { broadcastShapes } from '@modelpass/ops';
import type { Location, Value } from '@modelpass/ir';
import { tfliteError } from '../io/errors.js';

const BROADCASTING = new Set(['ADD', 'SUB', 'MUL', 'DIV', 'POW', 'MAXIMUM', 'MINIMUM', 'SQUARED_DIFFERENCE', 'FLOOR_DIV', 'FLOOR_MOD', 'LOGICAL_AND', 'LOGICAL_OR', 'EQUAL', 'NOT_EQUAL', 'LESS', 'LESS_EQUAL', 'GREATER', 'GREATER_EQUAL']);

function fixedShape(value: Value | null | undefined): readonly number[] | undefined {
  if (!value || !(value.isGraphInput || value.constant)) return undefined;
  const type = value.type;
  if (type.kind !== 'tensor' || !type.shape || !type.shape.every((d) => typeof d === 'number' && d >= 0)) return undefined;
  return type.shape as readonly number[];
}

/** The two fixed operand shapes of a broadcasting builtin when they cannot broadcast (what TFLite refuses), else undefined. */
export function unbroadcastableOperands(builtin: string, inputs: readonly (Value | null | undefined)[]): { reason: string; a: readonly number[]; b: readonly number[] } | undefined {
  if (!BROADCASTING.has(builtin) || inputs.length !== 2) return undefined;
  const a = fixedShape(inputs[0]);
  const b = fixedShape(inputs[1]);
  if (!a || !b || broadcastShapes([a, b]) !== undefined) return undefined;
  const describe = (value: Value, shape: readonly number[]): string => `'${value.name}' [${shape.join(',')}] (${value.isGraphInput ? 'an input' : 'a constant'})`;
  return { reason: `${builtin}'s operand shapes cannot broadcast: ${describe(inputs[0]!, a)} and ${describe(inputs[1]!, b)}`, a, b };
}

export function checkOperandsBroadcast(builtin: string, inputs: readonly (Value | null)[], location: Location): void {
  const clash = unbroadcastableOperands(builtin, inputs);
  if (!clash) return;
  const { a, b } = clash;
  throw tfliteError({
    reason: clash.reason,
    expected: 'equal dims or 1 on each axis (numpy broadcasting)',
    actual: `[${a.join(',')}] and [${b.join(',')}]`,
    location,
    code: 'tflite/malformed',
    hint: 'TFLite refuses this file too when it prepares the operator (not broadcastable); fix the declared shapes of the file',
  });
}
