import Long from 'long';
import { onnxError } from './errors.js';
import type { Location } from '@modelpass/ir';

/** A protobufjs int64 field value: a Long, or a plain number for small values. */
export type Int64Like = number | Long;

export function toLong(value: Int64Like): Long {
  return typeof value === 'number' ? Long.fromNumber(value) : Long.fromValue(value);
}

/**
 * An int64 as a JavaScript number; throws when it is not exactly representable (so a dimension or
 * an offset beyond 2^53 is never silently rounded).
 */
export function toSafeNumber(value: Int64Like | null | undefined, what: string, location?: Location): number {
  if (value === null || value === undefined) return 0;
  if (typeof value === 'number') return value;
  const long = Long.fromValue(value);
  const number = long.toNumber();
  if (!Number.isSafeInteger(number)) {
    throw onnxError({
      reason: `${what} ${long.toString()} is too large to represent exactly`,
      location,
      expected: 'an integer of magnitude at most 2^53',
      actual: long.toString(),
    });
  }
  return number;
}

/**
 * An int64 attribute value as a number, and its exact decimal form when the number does not
 * round-trip to the same int64 (INT64_MAX and INT64_MIN do: they saturate back exactly).
 */
export function int64AttributeValue(value: Int64Like): { number: number; exact?: string } {
  if (typeof value === 'number') return { number: value };
  const long = Long.fromValue(value);
  const number = long.toNumber();
  return Long.fromNumber(number).equals(long) ? { number } : { number, exact: long.toString() };
}

/** An attribute number back to int64: `exact` (a decimal string) wins when it still names the same number. */
export function int64FromAttribute(number: number, exact: string | undefined): Long {
  if (exact !== undefined) {
    const long = Long.fromString(exact);
    if (long.toNumber() === number) return long;
  }
  return Long.fromNumber(Math.trunc(number));
}
