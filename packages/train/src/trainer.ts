/**
 * `Trainer`: one ONNX Runtime session of a training graph (`buildTrainingGraph`), kept for the whole
 * run. Each `step` feeds the batch, the learning-rate scalars, the dropout masks and the carried
 * values (weights, optimizer state, running statistics) as ORT tensors, and keeps the updated values
 * ORT returns as the next step's feeds: no per-step graph rebuild, no JS arithmetic on weights.
 */
import { encodeOnnx, decodeOnnx } from '@modelpass/onnx';
import { ModelpassError, Tensor, type Model } from '@modelpass/ir';
import { fromOrtTensor, intraOpSpinning, loadOnnxRuntime, toOrtTensor } from '@modelpass/runtime';
import { fillDropoutMask } from './dropout-training.js';
import type { TrainBatch } from './train-steps.js';
import { buildTrainingGraph, type BuildTrainingGraphOptions, type TrainingGraph } from './training-graph.js';

type OrtModule = Awaited<ReturnType<typeof loadOnnxRuntime>>;
type OrtTensor = InstanceType<OrtModule['Tensor']>;
type OrtSession = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

export interface TrainerOptions extends BuildTrainingGraphOptions {
  /** ORT intra-op threads (default: ORT's choice, one per core). */
  readonly threads?: number;
  /**
   * Let ORT's intra-op threads spin while they wait for work (default false: they block). On the 2-core
   * machines measured, spinning made 2 threads slower than 1 (85 vs 60 ms per CNN step when quiet) and
   * doubled the CPU time under load; blocking threads cost little (`tools/bench/train/RESULTS.md`).
   */
  readonly spinning?: boolean;
  /** Seed of the dropout masks (default 0). */
  readonly seed?: number;
}

export interface StepResult {
  readonly loss: number;
  /** The prediction the loss read (logits), when asked for. */
  readonly prediction?: Tensor;
}

/** Everything a run carries between steps, as plain tensors (a checkpoint's content). */
export interface TrainerState {
  /** Steps taken. */
  readonly step: number;
  /** Carried input name → value. */
  readonly tensors: ReadonlyMap<string, Tensor>;
}

export class Trainer {
  private current: Record<string, OrtTensor> = {};
  private steps = 0;

  private constructor(
    readonly graph: TrainingGraph,
    private readonly ort: OrtModule,
    private readonly session: OrtSession,
    private readonly source: Model,
    private readonly seed: number,
  ) {
    for (const value of graph.carried) this.current[value.input] = toOrtTensor(ort.Tensor, value.initial, value.input);
  }

  static async create(model: Model, options: TrainerOptions): Promise<Trainer> {
    const graph = buildTrainingGraph(model, options);
    const ort = await loadOnnxRuntime();
    const sessionOptions = {
      logSeverityLevel: 3 as const, graphOptimizationLevel: 'all' as const, executionMode: 'sequential' as const,
      ...(options.threads ? { intraOpNumThreads: options.threads, interOpNumThreads: 1 } : {}),
      ...(options.threads !== 1 ? intraOpSpinning(options.spinning === true) : {}),
    };
    let session: OrtSession;
    try {
      session = await ort.InferenceSession.create(encodeOnnx(graph.model), sessionOptions);
    } catch (cause) {
      throw new ModelpassError({ reason: `ONNX Runtime rejected the training graph: ${(cause as Error).message}`, source: '@modelpass/train', cause });
    }
    return new Trainer(graph, ort, session, model, options.seed ?? 0);
  }

  /** Steps taken so far. */
  get step(): number {
    return this.steps;
  }

  /** One optimizer step on `batch` at learning rate `lr`. */
  async run(batch: TrainBatch, lr: number, options: { prediction?: boolean } = {}): Promise<StepResult> {
    const feeds: Record<string, OrtTensor> = { ...this.current };
    let batchSize = 0;
    for (const [name, tensor] of Object.entries({ ...batch.inputs, ...batch.lossInputs })) {
      feeds[name] = toOrtTensor(this.ort.Tensor, tensor, name);
      batchSize ||= tensor.shape[0] ?? 0;
    }
    const scalars = this.graph.optimizerRule.scalars(this.graph.optimizer, lr, this.steps + 1);
    for (const [name, input] of this.graph.scalarInputs) {
      const data = this.graph.floatType === 'float32' ? Float32Array.of(scalars[name]!) : Float64Array.of(scalars[name]!);
      feeds[input] = new this.ort.Tensor(this.graph.floatType, data, []);
    }
    this.graph.dropoutMasks.forEach((mask, index) => {
      const size = batchSize * mask.sampleShape.reduce((a, b) => a * b, 1);
      const data = this.graph.floatType === 'float32' ? new Float32Array(size) : new Float64Array(size);
      fillDropoutMask(data, mask.ratio, this.seed, this.steps, index);
      feeds[mask.input] = new this.ort.Tensor(this.graph.floatType, data, [batchSize, ...mask.sampleShape]);
    });
    const fetches = [this.graph.loss, ...(options.prediction ? [this.graph.prediction] : []), ...this.graph.carried.map((c) => c.output)];
    let results: Record<string, OrtTensor>;
    try {
      results = (await this.session.run(feeds, fetches)) as Record<string, OrtTensor>;
    } catch (cause) {
      throw new ModelpassError({ reason: `ONNX Runtime failed on training step ${this.steps}: ${(cause as Error).message}`, source: '@modelpass/train', cause });
    }
    const loss = Number((results[this.graph.loss]!.data as Float32Array)[0]);
    if (!Number.isFinite(loss)) throw new ModelpassError({ reason: `the loss became ${loss} at step ${this.steps}`, hint: 'lower lr', source: '@modelpass/train' });
    for (const value of this.graph.carried) this.current[value.input] = results[value.output]!;
    this.steps++;
    return { loss, ...(options.prediction ? { prediction: fromOrtTensor(results[this.graph.prediction]!, this.graph.prediction) } : {}) };
  }

  /** The carried values (weights, optimizer state, running statistics) and the step count. */
  state(): TrainerState {
    return { step: this.steps, tensors: new Map(this.graph.carried.map((c) => [c.input, fromOrtTensor(this.current[c.input]!, c.input)])) };
  }

  /** Continues from a saved state (same model and options). */
  restore(state: TrainerState): void {
    for (const value of this.graph.carried) {
      const tensor = state.tensors.get(value.input);
      if (!tensor || tensor.dtype !== value.initial.dtype || tensor.shape.join(',') !== value.initial.shape.join(',')) {
        throw new ModelpassError({ reason: `the saved training state has no ${value.initial.dtype}[${value.initial.shape.join(',')}] '${value.input}'`, hint: 'resume with the same model and optimizer', source: '@modelpass/train' });
      }
      this.current[value.input] = toOrtTensor(this.ort.Tensor, tensor, value.input);
    }
    this.steps = state.step;
  }

  /** Current trained weights and running statistics (ORT tensors, for an evaluation session). */
  modelTensors(): Record<string, OrtTensor> {
    const out: Record<string, OrtTensor> = {};
    for (const value of this.graph.carried) if (value.role.kind !== 'state') out[value.input] = this.current[value.input]!;
    return out;
  }

  /** The current weights and running statistics (not the optimizer state) as plain tensors: a snapshot `trainedModel` can write. */
  weights(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const value of this.graph.carried) if (value.role.kind !== 'state') out.set(value.input, fromOrtTensor(this.current[value.input]!, value.input));
    return out;
  }

  /** A copy of the source model with the current weights and running statistics, or those of a `weights()` snapshot. */
  trainedModel(snapshot?: ReadonlyMap<string, Tensor>): Model {
    const trained = decodeOnnx(encodeOnnx(this.source));
    for (const value of this.graph.carried) {
      if (value.role.kind === 'state') continue;
      const tensor = snapshot ? snapshot.get(value.input) : fromOrtTensor(this.current[value.input]!, value.input);
      if (!tensor) throw new ModelpassError({ reason: `the weight snapshot has no '${value.input}'`, source: '@modelpass/train' });
      trained.graph.getValue(value.input)!.setConstant(tensor);
    }
    return trained;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
