/**
 * In-place aten ops in an SSA import. After `y.mul_(2)` (a statement whose result TorchScript
 * discards) the names bound to `y` are rebound to the result. Writes into a *slice* of another
 * tensor (`y[:, 0] = 0` prints as `copy_(select(slice(y), 1, 0), …)`) would have to reach `y`,
 * which is not tracked: such in-place ops on results of slicing ops are refused at their location.
 */
import type { Env } from './control-flow.js';
import type { ScriptValue } from './script-value.js';

/** `relu_`, `masked_fill_`, `add_`: aten ops that mutate their first argument (not `__and__`-style dunders). */
export function isInPlace(name: string): boolean {
  return name.endsWith('_') && !name.endsWith('__') && !name.startsWith('_');
}

/**
 * After an in-place op, the names bound to the mutated tensor see the result (the imported graph is
 * SSA: `y.mul_(2)` as a statement otherwise leaves `y` unchanged).
 */
export function rebindMutated(env: Env, mutated: ScriptValue | undefined, result: ScriptValue): void {
  if (mutated?.kind !== 'tensor' || result.kind !== 'tensor' || result.value === mutated.value) return;
  for (const [name, bound] of env) if (bound.kind === 'tensor' && bound.value === mutated.value) env.set(name, result);
}

/** Ops whose result shares part of its input's storage in torch: writing into it writes the input. */
export const PARTIAL_VIEW_OPS = new Set(['slice', 'select', 'narrow', '__getitem__', 'split', 'split_with_sizes', 'chunk', 'unbind', 'expand', 'expand_as', 'diagonal', 'as_strided', 'unfold']);
export const PARTIAL_VIEWS = new WeakSet<object>();

export function markPartialViews(value: ScriptValue): void {
  if (value.kind === 'tensor') PARTIAL_VIEWS.add(value.value);
  else if (value.kind === 'list' || value.kind === 'tuple') value.items.forEach(markPartialViews);
}
