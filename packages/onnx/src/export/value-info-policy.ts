/**
 * Which intermediate values get a `value_info` entry in a written ONNX file.
 *
 * - `'declared'` (default): the values whose `value_info` the source ONNX file declared (their
 *   current types), nothing that a pass or shape inference added. ONNX Runtime does not need
 *   value_info, and extra entries cost it time: on the fashion-transformer fixture after
 *   `fold-shapes`, the file with every inferred value_info ran ~10% slower (tools/bench/value-info).
 * - `'all'`: every typed intermediate value (what modelpass wrote before).
 * - `'none'`: no value_info at all.
 *
 * Graph inputs and outputs always carry their types; only `value_info` is affected.
 */
import type { Value } from '@modelpass/ir';

export type ValueInfoPolicy = 'declared' | 'all' | 'none';

export const VALUE_INFO_POLICIES: readonly ValueInfoPolicy[] = ['declared', 'all', 'none'];
export const DEFAULT_VALUE_INFO_POLICY: ValueInfoPolicy = 'declared';

/** Values the ONNX importer read a value_info entry for (kept off the IR's printed metadata). */
const declared = new WeakSet<Value>();

/** Records that the source file declared a value_info entry for `value` (called by the importer). */
export function markDeclaredValueInfo(value: Value): void {
  declared.add(value);
}

export function hasDeclaredValueInfo(value: Value): boolean {
  return declared.has(value);
}

/** Whether the writer emits a value_info entry for this intermediate value under `policy`. */
export function writesValueInfo(value: Value, policy: ValueInfoPolicy): boolean {
  if (policy === 'none') return false;
  if (value.type.kind === 'unknown' && !value.docString) return false;
  return policy === 'all' || declared.has(value);
}

/** Checks an option value (e.g. from the CLI or JSON) and returns it typed. */
export function parseValueInfoPolicy(text: string): ValueInfoPolicy | undefined {
  return (VALUE_INFO_POLICIES as readonly string[]).includes(text) ? (text as ValueInfoPolicy) : undefined;
}
