import { ModelpassError, Node, Tensor } from '@modelpass/ir';
import type { KernelContext, RuntimeValue } from '../op-definition.js';

/** Where a kernel runs: its context, or just the node (for helpers that only need a location). */
export type KernelSite = KernelContext | Node;

function nodeOf(site: KernelSite): Node {
  return site instanceof Node ? site : site.node;
}

/** A ModelpassError located at `node` (file, node name, op, graph path), raised by a kernel or an inference function. */
export function opError(node: Node | undefined, reason: string, extra: { expected?: string; actual?: string; hint?: string } = {}): ModelpassError {
  return new ModelpassError({
    reason,
    source: '@modelpass/ops',
    ...(node ? { location: node.location } : {}),
    ...extra,
  });
}

/** Input `index` as a tensor; a located error when it is absent or a sequence. */
export function inputTensor(inputs: readonly RuntimeValue[], index: number, site: KernelSite): Tensor {
  const value = inputs[index];
  if (value instanceof Tensor) return value;
  if (value === null || value === undefined) throw opError(nodeOf(site), `input #${index} is required but absent`);
  throw opError(nodeOf(site), `input #${index} must be a tensor`, { actual: 'a sequence' });
}

/** Optional input `index`: undefined when absent (or given as an empty-named input). */
export function optionalInputTensor(inputs: readonly RuntimeValue[], index: number, site: KernelSite): Tensor | undefined {
  const value = inputs[index];
  if (value === null || value === undefined) return undefined;
  return inputTensor(inputs, index, site);
}

/** Every input as a tensor (for variadic ops), absent ones rejected. */
export function inputTensors(inputs: readonly RuntimeValue[], site: KernelSite): Tensor[] {
  return inputs.map((_, index) => inputTensor(inputs, index, site));
}

/** Input `index` as a sequence of tensors; a located error otherwise. */
export function inputSequence(inputs: readonly RuntimeValue[], index: number, site: KernelSite): readonly Tensor[] {
  const value = inputs[index];
  if (!Array.isArray(value)) throw opError(nodeOf(site), `input #${index} must be a sequence of tensors`);
  return value as readonly Tensor[];
}
