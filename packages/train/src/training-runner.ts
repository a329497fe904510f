/**
 * Who runs the `train` pass's training: `fit` in this process by default, or a runner installed for
 * one call scope with `withTrainingRunner` (the distributed package installs one that trains
 * data-parallel on workers; the CLI does so for `convert --redis`); the `distill` pass asks it too
 * (a `DistillationRequest`, with the student prepared for training). The scope is async-local, so
 * concurrent pipelines do not see each other's. A runner trains a copy and returns the trained
 * model; the pass copies its initializers back and reports the same statistics as with `fit`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Model } from '@modelpass/ir';

/** The options `train{…}` and `distill{…}` share: data, optimizer, schedule, batching, seed, checkpoints. */
export interface TrainingLoopOptions {
  readonly dataset: string;
  readonly epochs: number;
  readonly optimizer: 'sgd' | 'adamw';
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay?: number | undefined;
  readonly schedule: string;
  readonly warmup: number;
  readonly batch: number;
  readonly samples: number;
  readonly seed: number;
  readonly batchNorm: string;
  readonly checkpoint: string;
  readonly resume: boolean;
}

/** The `train` pass's parsed options (`train{…}`), as the pass received them. */
export interface TrainingRequest {
  readonly pass: 'train';
  readonly options: TrainingLoopOptions & {
    readonly validation: number;
    readonly patience: number;
    readonly dropout: string;
  };
}

/**
 * The `distill` pass's request: its parsed options and what it prepared on the training copy it hands
 * the runner (fake-quantized weights, feature projections): the loss inputs the teacher's outputs
 * are fed through. The runner computes the teacher's targets itself (from `options.teacher`, a path).
 */
export interface DistillationRequest {
  readonly pass: 'distill';
  readonly options: TrainingLoopOptions & {
    readonly teacher: string;
    readonly temperature: number;
    readonly alpha: number;
    readonly featureWeight: number;
  };
  /** The loss input the teacher's first output (its logits) is fed through. */
  readonly logitsInput: string;
  /** Matched features: the teacher's tensor, the loss input it is fed through, the student value (or projection) compared with it. */
  readonly features: readonly { readonly teacherTensor: string; readonly target: string; readonly student: string }[];
}

export interface TrainingRunResult {
  /** The trained model (its float initializers are copied into the pass's model). */
  readonly model: Model;
  readonly steps: number;
  readonly epochsRun: number;
}

/** Trains `model` (a copy: the `train` pass's model, or the `distill` pass's prepared student) as `request` asks. */
export type TrainingRunner = (model: Model, request: TrainingRequest | DistillationRequest) => Promise<TrainingRunResult>;

const installed = new AsyncLocalStorage<TrainingRunner>();

/** Runs `body` with `runner` running every `train` pass inside it. */
export function withTrainingRunner<T>(runner: TrainingRunner, body: () => Promise<T>): Promise<T> {
  return installed.run(runner, body);
}

/** The runner of the current scope, or undefined (the pass then runs `fit` itself). */
export function currentTrainingRunner(): TrainingRunner | undefined {
  return installed.getStore();
}

/** Copies the trained initializers into `model`; the number that changed. */
export function adoptTrainedWeights(model: Model, trained: Model): number {
  let changed = 0;
  for (const value of model.graph.constants) {
    const updated = trained.graph.getValue(value.name)?.constant;
    if (updated && value.constant && !updated.equals(value.constant)) {
      value.setConstant(updated);
      changed++;
    }
  }
  return changed;
}
