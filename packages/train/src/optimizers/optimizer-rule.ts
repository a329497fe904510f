/**
 * An optimizer written into the training graph: per trained weight it reads the weight, its gradient
 * and its state slots (graph inputs) and writes the updated weight and state (graph outputs, fed back
 * as inputs next step). Per-step numbers (learning rate, bias corrections) are scalar graph inputs the
 * loop computes, so a schedule never rebuilds the graph.
 */
import { ModelpassError, type Value } from '@modelpass/ir';
import type { GradientContext } from '../gradient-context.js';

export interface SgdSpec {
  readonly kind: 'sgd';
  /** Momentum μ (default 0). */
  readonly momentum?: number;
  /** L2 weight decay λ added to the gradient (default 0). */
  readonly weightDecay?: number;
}

export interface AdamWSpec {
  readonly kind: 'adamw';
  /** β1, β2 (default 0.9, 0.999). */
  readonly betas?: readonly [number, number];
  /** ε added to the denominator (default 1e-8). */
  readonly eps?: number;
  /** Decoupled weight decay λ (default 0.01, PyTorch's). */
  readonly weightDecay?: number;
}

export type OptimizerSpec = SgdSpec | AdamWSpec;

export interface OptimizerUpdate {
  readonly weight: Value;
  /** New values of the state slots, in `stateSlots` order. */
  readonly state: readonly Value[];
}

export interface OptimizerRule<S extends OptimizerSpec = OptimizerSpec> {
  readonly kind: S['kind'];
  /** State tensors per weight (each shaped like the weight, zero at step 0). */
  stateSlots(spec: S): readonly string[];
  /** Names of the scalar inputs the update reads. */
  readonly scalarInputs: readonly string[];
  /** Values of the scalar inputs for `step` (1-based: the step being taken) at learning rate `lr`. */
  scalars(spec: S, lr: number, step: number): Readonly<Record<string, number>>;
  /** Emits the update of one weight. */
  update(ctx: GradientContext, spec: S, weight: Value, grad: Value, state: readonly Value[], scalars: Readonly<Record<string, Value>>): OptimizerUpdate;
  /** Throws a ModelpassError naming a bad option. */
  check(spec: S): void;
}

export function optimizerOptionError(optimizer: string, option: string, value: unknown, expected: string): ModelpassError {
  return new ModelpassError({ reason: `optimizer ${optimizer}: option '${option}' is ${String(value)}`, expected, source: '@modelpass/train' });
}

export function defineOptimizer<S extends OptimizerSpec>(rule: OptimizerRule<S>): OptimizerRule<S> {
  return rule;
}
