import { ModelpassError, Tensor, type Node } from '@modelpass/ir';
import type { KernelContext, RuntimeValue } from '../op-definition.js';

/** A ModelpassError located at `node`, raised by a kernel or an inference function. */
export function opError(node: Node | undefined, reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}): ModelpassError {
  return new ModelpassError({
    reason,
    source: '@modelpass/ops',
    ...(node ? { location: { ...node.loc, node: node.name, op: node.op } } : {}),
    ...extra,
  });
}

/** Input `index` as a tensor; a located error when it is absent or a sequence. */
export function inputTensor(inputs: readonly RuntimeValue[], index: number, context: KernelContext): Tensor {
  const value = inputs[index];
  if (value instanceof Tensor) return value;
  throw opError(context.node, `input #${index} must be a tensor`, { actual: value === null || value === undefined ? 'no value' : 'a sequence' });
}

/** Optional input `index`: undefined when absent (or given as an empty-named input). */
export function optionalInputTensor(inputs: readonly RuntimeValue[], index: number, context: KernelContext): Tensor | undefined {
  const value = inputs[index];
  if (value === null || value === undefined) return undefined;
  return inputTensor(inputs, index, context);
}

/** Every input as a tensor (for variadic ops), absent ones rejected. */
export function inputTensors(inputs: readonly RuntimeValue[], context: KernelContext): Tensor[] {
  return inputs.map((_, index) => inputTensor(inputs, index, context));
}
