/**
 * What a library function was given instead of what it takes, for the ModelpassErrors the readers and
 * writers throw on a wrong argument (`writeOnnx takes a Model …, not a string`): one wording for
 * every package, and one test of "a Model, possibly from another copy of this package".
 */
import { Model } from './model.js';

/** `a string`, `a number`, `an object (Map)`, `a Uint8Array of 3 bytes`, `undefined`, `null`. */
export function describeArgument(value: unknown): string {
  if (value instanceof Uint8Array) return `a ${value.constructor.name} of ${value.byteLength} bytes`;
  if (value === null || value === undefined) return String(value);
  if (typeof value === 'object') return `an object (${value.constructor?.name ?? 'Object'})`;
  return `a ${typeof value}`;
}

/**
 * A Model of this copy of `@modelpass/ir`, or one that has a Model's graph and opset imports (made by
 * another copy: a writer that only reads fields takes it; the pass manager tells it apart).
 */
export function isModelLike(value: unknown): value is Model {
  if (value instanceof Model) return true;
  const candidate = value as { graph?: unknown; opsetImports?: unknown } | null | undefined;
  return typeof candidate === 'object' && candidate !== null && typeof candidate.graph === 'object' && candidate.graph !== null && candidate.opsetImports instanceof Map;
}
