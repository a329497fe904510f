/**
 * The jobs workers run. A job carries paths and keys only (models, datasets and results live on
 * storage every worker sees), never tensors: the biggest job is a list of tensor names.
 */
import type { CalibrationMethod, TensorRange } from '@modelpass/quantize';
import type { DatasetReads, Normalization, SampleLayout } from '@modelpass/runtime';
import type { DistillationRequest } from '@modelpass/train';

/** Calibration options a shard needs to collect statistics (JSON; no callbacks). */
export interface ShardCalibrationOptions {
  readonly method: CalibrationMethod;
  readonly dataset?: string;
  readonly batchSize?: number;
  readonly seed?: number;
  readonly bins?: number;
  readonly activationBudget?: number;
  readonly normalization?: Normalization;
  readonly layout?: SampleLayout;
  /** Folder relative dataset paths resolve against (the coordinator's working folder). */
  readonly cwd: string;
}

/** Samples [start, end) of a calibration run → mergeable statistics (quantize's JSON form). */
export interface CalibrateShardJob {
  readonly model: string;
  readonly tensors: readonly string[];
  readonly calibration: ShardCalibrationOptions;
  readonly start: number;
  readonly end: number;
}

/** Samples [start, end) of a labelled dataset → correct/total counts, overall and per class. */
export interface EvalShardJob {
  readonly model: string;
  readonly dataset: string;
  readonly cwd: string;
  readonly start: number;
  readonly end: number;
  readonly batchSize?: number;
  readonly normalization?: Normalization;
  readonly layout?: SampleLayout;
  readonly sampleShape?: readonly number[];
  readonly inputName?: string;
  readonly outputName?: string;
  readonly engine?: 'ort' | 'reference';
}

/** One model through a pipeline to an output file. */
export interface ConvertJob {
  readonly input: string;
  readonly output: string;
  readonly pipeline: string;
  /** How the model is read (`batch --input-shape/--input-dtype`): passed to the read hook. */
  readonly read?: ConvertReadOptions;
}

/**
 * Input facts a file may not record (TorchScript archives record no input shapes or dtypes), by
 * input name; plain JSON so a job carries them to a worker. Dims: a size, a symbolic name, or null.
 */
export interface ConvertReadOptions {
  readonly inputShapes?: Readonly<Record<string, readonly (number | string | null)[]>>;
  readonly inputDtypes?: Readonly<Record<string, string>>;
}

/** One shard's part of a data-parallel training round: SGD from the round's checkpoint on samples [start, end). */
export interface TrainRoundJob {
  /** The round's checkpoint (ONNX). */
  readonly model: string;
  readonly dataset: string;
  readonly cwd: string;
  readonly start: number;
  readonly end: number;
  readonly round: number;
  readonly shard: number;
  readonly seed: number;
  readonly epochs: number;
  readonly batchSize: number;
  readonly lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  /** Where the trained model goes (the run folder). */
  readonly output: string;
  /** BatchNormalization while training (default `running-statistics`, trainSteps' default). */
  readonly batchNormalization?: 'running-statistics' | 'batch-statistics';
  /** Dropout while training (default `train`: seeded masks). */
  readonly dropout?: 'inference' | 'train';
  /** A distillation round: the loss reads the teacher's outputs, computed on the worker from the teacher's path. */
  readonly distillation?: DistillationTargets;
}

/**
 * What a distillation round needs of its teacher: a path (never its outputs), the loss weights and the
 * matched features — the `distill` pass's own request fields (`teacher` absolute, on shared storage).
 */
export type DistillationTargets = Pick<DistillationRequest['options'], 'teacher' | 'temperature' | 'alpha' | 'featureWeight'> &
  Pick<DistillationRequest, 'logitsInput' | 'features'>;

/** Seconds a job spent per phase (the bench's scaling model adds them up). */
export interface PhaseSeconds {
  /** Reading the model and the data (decompression, normalization included). */
  readonly read: number;
  /** Running the model (ORT) and folding values into statistics / counting. */
  readonly compute: number;
  /** Writing the result file. */
  readonly write: number;
}

export interface CalibrateShardResult {
  readonly statistics: import('@modelpass/quantize').CalibrationStatisticsJSON;
  readonly samples: number;
  readonly phases: PhaseSeconds;
  /** What the shard read from the dataset files (bytes per file, samples read and passed over): its own range only. */
  readonly reads?: DatasetReads;
}

export interface EvalShardResult {
  readonly correct: number;
  readonly total: number;
  readonly perClass: readonly { readonly total: number; readonly correct: number }[];
  readonly engine: string;
  readonly phases: PhaseSeconds;
  /** What the shard read from the dataset files (bytes per file, samples read and passed over): its own range only. */
  readonly reads?: DatasetReads;
}

export interface TrainRoundResult {
  readonly output: string;
  readonly steps: number;
  readonly meanLoss: number;
  readonly phases: PhaseSeconds;
  /** What the shard read from the dataset files (bytes per file, samples read and passed over): its own range only. */
  readonly reads?: DatasetReads;
}

export type ConvertResult =
  | { readonly ok: true; readonly output: string; readonly bytes: number; readonly nodesBefore: number; readonly nodesAfter: number; readonly warnings: readonly string[]; readonly seconds: number }
  | { readonly ok: false; readonly error: string; readonly seconds: number };

/** Every job kind with its input and result. */
export interface JobKinds {
  'calibrate-shard': { readonly data: CalibrateShardJob; readonly result: CalibrateShardResult };
  'eval-shard': { readonly data: EvalShardJob; readonly result: EvalShardResult };
  convert: { readonly data: ConvertJob; readonly result: ConvertResult };
  'train-round': { readonly data: TrainRoundJob; readonly result: TrainRoundResult };
}

export type JobKind = keyof JobKinds;

export const JOB_KINDS: readonly JobKind[] = ['calibrate-shard', 'eval-shard', 'convert', 'train-round'];

/** A job to run: its kind and data. */
export interface JobRequest<K extends JobKind = JobKind> {
  readonly kind: K;
  readonly data: JobKinds[K]['data'];
}

/** What travels through the queue: the request plus where the result file goes. */
export interface JobEnvelope<K extends JobKind = JobKind> extends JobRequest<K> {
  readonly resultPath: string;
}

/** What a finished job hands back through the queue: a reference to its result, not the result. */
export interface JobReceipt {
  readonly resultPath: string;
  readonly worker: string;
  readonly seconds: number;
}

export type { TensorRange };
