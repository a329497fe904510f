/**
 * `trainSteps(model, batches, { lr, momentum })`: a minimal training loop — the training graph from
 * `buildGradientGraph` runs in ONNX Runtime once per batch, and SGD with momentum (PyTorch's form:
 * v ← μ·v + g + λ·w, w ← w − lr·v) updates the weights in JS. Returns a copy of the model with the
 * trained weights and the loss of every step.
 */
import { ModelpassError, Tensor, type Model } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { OrtRunner } from '@modelpass/runtime';
import { buildGradientGraph } from './build-gradient-graph.js';
import type { LossSpec } from './losses.js';
import { weightsAsInputs } from './weights-as-inputs.js';

export interface TrainBatch {
  /** Feeds of the model's inputs (`input` → float32 batch). */
  readonly inputs: Readonly<Record<string, Tensor>>;
  /** Feeds of the loss's inputs (`labels` → int64 `[N]`, `target`, `teacher_logits`). */
  readonly lossInputs: Readonly<Record<string, Tensor>>;
}

export interface TrainStepsOptions {
  readonly lr: number;
  /** Momentum μ (default 0: plain SGD). */
  readonly momentum?: number;
  /** L2 weight decay λ added to the gradient (default 0). */
  readonly weightDecay?: number;
  /** The loss (default cross-entropy on the first output against `labels`). */
  readonly loss?: LossSpec;
  /** Values to train (default every trainable float initializer). */
  readonly wrt?: readonly string[];
  /** An ONNX Runtime runner to reuse (default a private one, disposed at the end). */
  readonly runner?: OrtRunner;
  /** BatchNormalization mode (see `buildGradientGraph`); with `batch-statistics` the running statistics are updated each step. */
  readonly batchNormalization?: 'running-statistics' | 'batch-statistics';
  /** Called after each step with its index and loss. */
  readonly onStep?: (step: number, loss: number) => void;
}

export interface TrainStepsResult {
  /** A copy of the input model with the trained weights. */
  readonly model: Model;
  readonly losses: readonly number[];
}

function checkOptions(options: TrainStepsOptions): void {
  const bad = (name: string, value: unknown, expected: string) => new ModelpassError({ reason: `trainSteps option '${name}' is ${String(value)}`, expected, source: '@modelpass/train' });
  if (!(Number.isFinite(options.lr) && options.lr > 0)) throw bad('lr', options.lr, 'a positive number');
  const momentum = options.momentum ?? 0;
  if (!(Number.isFinite(momentum) && momentum >= 0 && momentum < 1)) throw bad('momentum', options.momentum, 'a number in [0, 1)');
  const decay = options.weightDecay ?? 0;
  if (!(Number.isFinite(decay) && decay >= 0)) throw bad('weightDecay', options.weightDecay, 'a number ≥ 0');
}

export async function trainSteps(model: Model, batches: Iterable<TrainBatch> | AsyncIterable<TrainBatch>, options: TrainStepsOptions): Promise<TrainStepsResult> {
  checkOptions(options);
  const training = buildGradientGraph(model, {
    loss: options.loss ?? { kind: 'cross-entropy' }, keepOutputs: false,
    ...(options.wrt ? { wrt: options.wrt } : {}), ...(options.batchNormalization ? { batchNormalization: options.batchNormalization } : {}),
  });
  const initial = weightsAsInputs(training.model, [...training.gradients.keys(), ...training.runningStatistics.keys()]);
  const weights = new Map<string, Float64Array>();
  const dtypes = new Map<string, Tensor>();
  for (const [name, tensor] of initial) {
    if (tensor.dtype !== 'float32' && tensor.dtype !== 'float64') {
      throw new ModelpassError({ reason: `trainSteps trains float32/float64 weights; '${name}' is ${tensor.dtype}`, source: '@modelpass/train' });
    }
    weights.set(name, Float64Array.from(tensor.toNumbers()));
    dtypes.set(name, tensor);
  }
  const velocity = new Map([...weights].map(([name, w]) => [name, new Float64Array(w.length)]));
  const bytes = encodeOnnx(training.model);
  const runner = options.runner ?? new OrtRunner({ maxSessions: 1 });
  const momentum = options.momentum ?? 0;
  const decay = options.weightDecay ?? 0;
  const losses: number[] = [];
  try {
    for await (const batch of batches) {
      const feeds: Record<string, Tensor> = { ...batch.inputs, ...batch.lossInputs };
      for (const [name, w] of weights) {
        const like = dtypes.get(name)!;
        feeds[name] = Tensor.fromValues(like.dtype, like.shape, like.dtype === 'float32' ? Float32Array.from(w) : w);
      }
      const outputs = await runner.run(bytes, feeds, { outputs: [training.loss, ...training.gradients.values(), ...training.runningStatistics.values()] });
      const loss = outputs.get(training.loss)!.toNumbers()[0]!;
      if (!Number.isFinite(loss)) throw new ModelpassError({ reason: `trainSteps: the loss became ${loss} at step ${losses.length}`, hint: 'lower lr', source: '@modelpass/train' });
      for (const [name, gradName] of training.gradients) {
        const w = weights.get(name)!;
        const v = velocity.get(name)!;
        const g = outputs.get(gradName)!.data() as Float32Array | Float64Array;
        for (let i = 0; i < w.length; i++) {
          v[i] = momentum * v[i]! + g[i]! + decay * w[i]!;
          w[i]! -= options.lr * v[i]!;
        }
      }
      for (const [name, output] of training.runningStatistics) weights.set(name, Float64Array.from(outputs.get(output)!.toNumbers()));
      losses.push(loss);
      options.onStep?.(losses.length - 1, loss);
    }
  } finally {
    if (!options.runner) await runner.dispose();
  }
  const trained = decodeOnnx(encodeOnnx(model));
  for (const [name, w] of weights) {
    const like = dtypes.get(name)!;
    trained.graph.getValue(name)!.setConstant(Tensor.fromValues(like.dtype, like.shape, like.dtype === 'float32' ? Float32Array.from(w) : w));
  }
  return { model: trained, losses };
}
