/**
 * Learning-rate schedules: the learning rate of each step as a function of the step index, so the
 * training graph (which takes the learning rate as a scalar input) never changes. Every schedule can
 * start with a linear warm-up: lr·(s + 1)/warmup for the first `warmup` steps, then the schedule runs
 * over the remaining steps (its step counter starting at 0 after the warm-up).
 *
 * - `constant`: lr.
 * - `step`: lr·γ^⌊t / stepSize⌋ (PyTorch's StepLR).
 * - `cosine`: minLr + (lr − minLr)·(1 + cos(π·t/T))/2 over the T steps after warm-up (CosineAnnealingLR's closed form).
 * - `linear`: lr·(1 − t/T), decaying to 0 at the last step.
 */
import { ModelpassError } from '@modelpass/ir';

export type ScheduleSpec =
  | { readonly kind: 'constant'; readonly warmup?: number }
  | { readonly kind: 'step'; readonly stepSize: number; readonly gamma?: number; readonly warmup?: number }
  | { readonly kind: 'cosine'; readonly minLr?: number; readonly warmup?: number }
  | { readonly kind: 'linear'; readonly warmup?: number };

export type ScheduleFunction = (spec: ScheduleSpec, lr: number, step: number, steps: number) => number;

export const scheduleRules: ReadonlyMap<ScheduleSpec['kind'], ScheduleFunction> = new Map<ScheduleSpec['kind'], ScheduleFunction>([
  ['constant', (_spec, lr) => lr],
  ['step', (spec, lr, step) => {
    const { stepSize, gamma = 0.1 } = spec as Extract<ScheduleSpec, { kind: 'step' }>;
    return lr * gamma ** Math.floor(step / stepSize);
  }],
  ['cosine', (spec, lr, step, steps) => {
    const minLr = (spec as Extract<ScheduleSpec, { kind: 'cosine' }>).minLr ?? 0;
    return minLr + ((lr - minLr) * (1 + Math.cos((Math.PI * step) / Math.max(steps, 1)))) / 2;
  }],
  ['linear', (_spec, lr, step, steps) => lr * (1 - step / Math.max(steps, 1))],
]);

function scheduleError(reason: string, expected?: string): ModelpassError {
  return new ModelpassError({ reason, ...(expected ? { expected } : {}), source: '@modelpass/train' });
}

export function checkSchedule(spec: ScheduleSpec): void {
  if (!scheduleRules.has(spec.kind)) throw scheduleError(`unknown schedule '${String(spec.kind)}'`, [...scheduleRules.keys()].join(', '));
  const warmup = spec.warmup ?? 0;
  if (!(Number.isInteger(warmup) && warmup >= 0)) throw scheduleError(`schedule option 'warmup' is ${warmup}`, 'an integer number of steps ≥ 0');
  if (spec.kind === 'step' && !(Number.isInteger(spec.stepSize) && spec.stepSize > 0)) throw scheduleError(`schedule step: option 'stepSize' is ${spec.stepSize}`, 'a positive integer number of steps');
  if (spec.kind === 'step' && spec.gamma !== undefined && !(spec.gamma > 0 && spec.gamma <= 1)) throw scheduleError(`schedule step: option 'gamma' is ${spec.gamma}`, 'a number in (0, 1]');
}

/** The learning rate of step `step` (0-based) of `totalSteps`, from base rate `lr`. */
export function learningRateAt(spec: ScheduleSpec, lr: number, step: number, totalSteps: number): number {
  const warmup = spec.warmup ?? 0;
  if (step < warmup) return (lr * (step + 1)) / warmup;
  return scheduleRules.get(spec.kind)!(spec, lr, step - warmup, totalSteps - warmup);
}
