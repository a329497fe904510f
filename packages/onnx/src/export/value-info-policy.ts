/**
 * Which intermediate values get a `value_info` entry in a written ONNX file.
 *
 * - `'declared'` (default): for a model read from ONNX, the values whose `value_info` the source
 *   file declared (their current types), nothing that a pass or shape inference added. A model
 *   that did not come from ONNX (built in code, read from `.mpir`) declared every type it carries,
 *   so there `'declared'` writes them all: the writer never drops a type its author wrote. ONNX Runtime does not need
 *   value_info, and extra entries cost it time: on the fashion-transformer fixture after
 *   `fold-shapes`, the file with every inferred value_info ran ~10% slower (tools/bench/value-info).
 * - `'all'`: every typed intermediate value (what modelpass wrote before).
 * - `'none'`: no value_info at all.
 *
 * Graph inputs and outputs always carry their types; only `value_info` is affected.
 */
import type { Model, Value } from '@modelpass/ir';

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

/** The policy the writer applies to `model`: `'declared'` means `'all'` for a model not read from ONNX. */
export function effectiveValueInfoPolicy(model: Model, policy: ValueInfoPolicy): ValueInfoPolicy {
  return policy === 'declared' && model.sourceFormat !== 'onnx' ? 'all' : policy;
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
