/**
 * Memory a comparison would need, worked out before anything is allocated: `--dim N=1000000` on
 * the Fashion-MNIST CNN asks for 3 GB of input and far more of activations, and without this check
 * the process dies of heap exhaustion instead of saying so.
 */
import { getHeapStatistics } from 'node:v8';
import type { Dim, Model } from '@modelpass/ir';
import { runtimeError } from './errors.js';
import { formatBytes, formatShapeBrief, generationBytes, tensorBytes } from './byte-sizes.js';

export interface MemoryEstimate {
  /** Bytes of the input tensors. */
  readonly inputBytes: number;
  /** Bytes of every value of the main graph whose shape is known once the dims are bound (inputs and constants excluded). */
  readonly intermediateBytes: number;
  /** The largest of those values. */
  readonly largest: { readonly name: string; readonly dtype: string; readonly shape: readonly number[]; readonly bytes: number } | undefined;
}

/**
 * What the reference interpreter keeps alive for a run (it holds every value of the graph until
 * the end), from the model's value types with symbolic dimensions bound to the input sizes.
 * Values whose shape stays unknown are not counted.
 */
export function estimateRunMemory(model: Model, feeds: ReadonlyMap<string, { readonly dtype: string; readonly shape: readonly number[] }>): MemoryEstimate {
  const bound = new Map<string, number>();
  let inputBytes = 0;
  for (const input of model.graph.inputs) {
    const feed = feeds.get(input.name);
    if (!feed) continue;
    inputBytes += tensorBytes(feed.dtype, feed.shape);
    if (input.type.kind === 'tensor' && input.type.shape) {
      input.type.shape.forEach((dim, axis) => {
        if (typeof dim === 'string' && feed.shape[axis] !== undefined) bound.set(dim, feed.shape[axis]!);
      });
    }
  }
  let intermediateBytes = 0;
  let largest: MemoryEstimate['largest'];
  const inputs = new Set(model.graph.inputs);
  for (const node of model.graph.nodes()) {
    for (const value of node.outputs) {
      if (!value || inputs.has(value) || value.type.kind !== 'tensor' || value.type.shape === null) continue;
      const shape = concreteShape(value.type.shape, bound);
      if (!shape) continue;
      const bytes = tensorBytes(value.type.dtype, shape);
      intermediateBytes += bytes;
      if (!largest || bytes > largest.bytes) largest = { name: value.name, dtype: value.type.dtype, shape, bytes };
    }
  }
  return { inputBytes, intermediateBytes, largest };
}

function concreteShape(shape: readonly Dim[], bound: ReadonlyMap<string, number>): number[] | undefined {
  const result: number[] = [];
  for (const dim of shape) {
    if (typeof dim === 'number' && dim >= 0) result.push(dim);
    else if (typeof dim === 'string' && bound.has(dim)) result.push(bound.get(dim)!);
    else return undefined;
  }
  return result;
}

/** How many bytes a run may plan for by default: what the V8 heap of this process may grow to. */
export function defaultMemoryBudget(): number {
  return getHeapStatistics().heap_size_limit;
}

export { formatBytes } from './byte-sizes.js';

/** Input sizes as a caller would describe them: the shapes of the generated inputs. */
export interface PlannedInput {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
}

/**
 * Throws a `ModelpassError` when generating the inputs (JavaScript numbers first, 8 bytes an
 * element, then the tensor) or, on the reference interpreter, keeping the graph's values would
 * exceed `budget` bytes. The message names the input shapes, the largest value and the budget.
 */
export function checkMemoryBudget(
  model: Model,
  inputs: readonly PlannedInput[],
  options: { readonly engine: string; readonly budget: number; readonly file?: string },
): MemoryEstimate {
  const estimate = estimateRunMemory(model, new Map(inputs.map((i) => [i.name, i])));
  const symbolic = [...new Set(model.graph.inputs.flatMap((i) => (i.type.kind === 'tensor' && i.type.shape ? i.type.shape.filter((d): d is string => typeof d === 'string') : [])))];
  const generation = generationBytes(inputs);
  const needed = options.engine === 'reference' ? Math.max(generation, estimate.inputBytes + estimate.intermediateBytes) : generation;
  if (needed > options.budget) {
    const shapes = inputs.map((i) => `'${i.name}' ${i.dtype}${formatShapeBrief(i.shape)}`).join(', ');
    const notes = [`inputs ${shapes}: ${formatBytes(estimate.inputBytes)}`];
    if (options.engine === 'reference') {
      notes.push(`values the reference interpreter keeps: ${formatBytes(estimate.intermediateBytes)}`);
      if (estimate.largest) notes.push(`largest: '${estimate.largest.name}' ${estimate.largest.dtype}${formatShapeBrief(estimate.largest.shape)} (${formatBytes(estimate.largest.bytes)})`);
    }
    throw runtimeError({
      reason: `this run would need about ${formatBytes(needed)}, more than the ${formatBytes(options.budget)} this process may use`,
      ...(options.file ? { location: { file: options.file } } : {}),
      notes,
      hint: symbolic.length
        ? `give ${symbolic.map((d) => `'${d}'`).join(', ')} a smaller size (dims: { ${symbolic[0]}: … }, or --dim ${symbolic[0]}=… on the command line)`
        : 'use smaller inputs',
    });
  }
  return estimate;
}
