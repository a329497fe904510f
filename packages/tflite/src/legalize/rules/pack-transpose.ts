import type { Value } from '@modelpass/ir';
import { typeWithShape, dimsOf, type TfliteEmitter } from '../lowering-tools.js';

/**
 * `Transpose(PACK(xs, axis), perm)` as `PACK(xs', axis')`: the packed axis moves to `perm.indexOf(axis)`, and the
 * rest of the permutation goes into the PACK's inputs, which must be PACKs it can enter in turn, down to an
 * identity. An unrolled recurrence packs its steps and directions in ONNX's layout 0 (`[T, dirs, B, H]`); torch's
 * batch_first transposes after it (`[B, T, dirs·H]`, `[T, B, dirs·H]` between layers) become the packing order.
 */
function packParts(value: Value, perm: readonly number[]): { axis: number; rest: number[] } | undefined {
  const pack = value.producer;
  if (pack?.op !== 'tflite.PACK' || value.useCount !== 1 || value.isGraphOutput || !dimsOf(value)) return undefined;
  const rank = perm.length;
  const raw = pack.optionalAttr('axis', 'int') ?? 0;
  const axis = raw < 0 ? raw + rank : raw;
  const rest = perm.filter((p) => p !== axis).map((p) => (p > axis ? p - 1 : p));
  return { axis, rest };
}

const isIdentity = (perm: readonly number[]): boolean => perm.every((p, i) => p === i);

/** Whether `Transpose(value, perm)` can be said as PACKs alone. */
function canRepack(value: Value, perm: readonly number[]): boolean {
  const parts = packParts(value, perm);
  if (!parts) return false;
  if (isIdentity(parts.rest)) return true;
  const inputs = value.producer!.inputs;
  return new Set(inputs).size === inputs.length && inputs.every((input) => input !== null && canRepack(input, parts.rest));
}

function repack(emit: TfliteEmitter, value: Value, perm: readonly number[]): Value {
  const { axis, rest } = packParts(value, perm)!;
  const pack = value.producer!;
  const inputs = isIdentity(rest) ? pack.inputs.map((input) => input!) : pack.inputs.map((input) => repack(emit, input!, rest));
  const dims = dimsOf(value)!;
  return emit.op1('PACK', inputs, { values_count: inputs.length, axis: perm.indexOf(axis) }, typeWithShape(value.type, perm.map((p) => dims[p]!)));
}

/** The PACKs that say `Transpose(value, perm)`, or undefined (value is not such PACKs; nothing is changed). */
export function transposeAsPack(emit: TfliteEmitter, value: Value, perm: readonly number[]): Value | undefined {
  if (isIdentity(perm) || !canRepack(value, perm)) return undefined;
  return repack(emit, value, perm);
}

/** Erases the PACKs behind `value` that nothing reads any more (after `transposeAsPack` replaced them). */
export function eraseDeadPacks(value: Value): void {
  const pack = value.producer;
  if (pack?.op !== 'tflite.PACK' || value.hasUses || value.isGraphOutput || !pack.graph) return;
  const inputs = pack.inputs.filter((input): input is Value => input !== null);
  pack.erase();
  for (const input of inputs) eraseDeadPacks(input);
}
