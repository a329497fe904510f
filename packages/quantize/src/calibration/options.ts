/**
 * What `calibrate` takes and gives: the calibration methods, their options, the range chosen for a
 * tensor, and the errors this module raises.
 */
import { ModelpassError, type DiagnosticInit } from '@modelpass/ir';
import type { Normalization, SampleLayout } from '@modelpass/runtime';

/** How a tensor's range is chosen from what the calibration run saw. */
export type CalibrationMethod = 'minmax' | 'percentile' | 'entropy' | 'distribution';

/** The calibration methods, in the order the help lists them. */
export const CALIBRATION_METHODS: readonly CalibrationMethod[] = ['minmax', 'percentile', 'entropy', 'distribution'];

export interface CalibrationOptions {
  readonly method: CalibrationMethod;
  /**
   * Where inputs come from: a `modelpass eval` dataset spec (`fashion-mnist:train|test`,
   * `idx:IMAGES,LABELS`, `npy:DIR`) or a folder of inputs (`.npy`/`.pb` files, one sample or one
   * batch each, or ONNX `test_data_set_N/input_K.pb` folders). Undefined: seeded random inputs.
   */
  readonly dataset?: string | undefined;
  /** How many samples to run (the pass defaults to 256). */
  readonly samples: number;
  /** Samples per ORT run (default 64). A model with a fixed batch dimension uses its own, and `samples` is rounded up to whole batches. */
  readonly batchSize?: number | undefined;
  /**
   * A dataset spec's batches start at this sample (default 0; seeks where the file allows, see the
   * runtime's `streamDatasetSamples`). Distributed calibration shards set it; other sources ignore it.
   */
  readonly firstSample?: number | undefined;
  /** Seed of the random inputs used when no dataset is given (default 0). */
  readonly seed?: number | undefined;
  /**
   * Seeded random inputs: sizes of symbolic dimensions other than the batch (`{ len: 16 }` for an input
   * `[batch, len, 12]`); without one such an input is refused, naming the dimension. Datasets ignore it.
   */
  readonly dims?: Readonly<Record<string, number>> | undefined;
  /** `percentile`: the share of values (in %) the range keeps (default 99.999). */
  readonly percentile?: number | undefined;
  /** Histogram bins per sign (default 2048); see `HistogramStatistics`. */
  readonly bins?: number | undefined;
  /**
   * `percentile`, `entropy`, `distribution`: the histogram of a large tensor counts 1 in p of its
   * values, p the smallest prime ≥ this that divides neither its last dimension nor its size per
   * sample; parts of fewer than p × 2048 values count all (`histogram-sampling.ts`). Min, max and the
   * finiteness check stay over every value. 1: the exact histogram. Not an option of `minmax`.
   */
  readonly histogramStride?: number | undefined;
  /** `entropy`: bins of the quantized distribution the KL search compares against (default 128, int8's magnitude levels). */
  readonly quantizedBins?: number | undefined;
  /** `distribution`: the range is mean ± this many standard deviations, clipped to what was seen (default 4). */
  readonly stdDevs?: number | undefined;
  /**
   * `entropy` and `distribution`: the range always keeps at least this share (in %) of the values,
   * as `percentile` with this share would (default 99.99; 0 turns the guard off). Neither method
   * bounds what it clips: TensorRT's KL search clipped 1.05% of fashion-resnet's first Relu output
   * (8.45 → 2.75) and mean ± 4·std cut it at 2.54, each costing ~0.7 pp of accuracy alone.
   */
  readonly minCoverage?: number | undefined;
  /** `minmax`: averaging constant of a moving average of per-batch min/max (ORT's `averaging_constant`, e.g. 0.01); unset: running min/max. */
  readonly movingAverage?: number | undefined;
  /**
   * Bytes the requested activations of one ORT run may take (default 8 MiB): batches whose
   * activations would be larger run in parts (after a first one-sample run measures them). Models
   * with a fixed batch dimension, and `movingAverage`, run whole batches. Each run's outputs become
   * garbage (ORT's buffers and their copies) that V8 frees lazily; at 256 MiB fashion-resnet's
   * ~35 MB per batch of 64 piled up to a peak RSS of 256 MB at 100 samples and 355 MB at 2,000,
   * at 8 MiB it stays at ~190 MB for both (and ~25% more CPU time for the extra runs).
   */
  readonly activationBudget?: number | undefined;
  /** Dataset samples: scaling and mean/std as `modelpass eval` applies them (default: uint8 × 1/255). */
  readonly normalization?: Normalization | undefined;
  /** Dataset samples stored `[H, W, C]` for an NCHW model (default `nchw`). */
  readonly layout?: SampleLayout | undefined;
  /** Folder relative dataset paths resolve against (default the working directory). */
  readonly cwd?: string | undefined;
  /** Called once when seeded random inputs stand in for data, and for skipped non-finite values. */
  readonly warn?: ((message: string) => void) | undefined;
  /** Called after each batch with samples done and the total. */
  readonly onProgress?: ((done: number, total: number) => void) | undefined;
  /** Tensors that will be quantized symmetrically get symmetric ranges (percentile of |x|). */
  readonly symmetric?: ((tensor: string) => boolean) | undefined;
}

/** The float range chosen for one tensor (not widened to include 0: the quantizer does that). */
export interface TensorRange {
  readonly min: number;
  readonly max: number;
  /** `distribution` only: the mean and standard deviation the range came from (as ORT's DistributionCalibrater gives them). */
  readonly mean?: number;
  readonly std?: number;
}

export const CALIBRATION_DEFAULTS = {
  batchSize: 64,
  seed: 0,
  percentile: 99.999,
  bins: 2048,
  quantizedBins: 128,
  stdDevs: 4,
  minCoverage: 99.99,
  activationBudget: 8 * 2 ** 20,
  histogramStride: 1,
} as const;

/** A `ModelpassError` from calibration. */
export function calibrationError(init: Omit<DiagnosticInit, 'source'>): ModelpassError {
  return new ModelpassError({ code: 'quantize/calibration', ...init, source: '@modelpass/quantize' });
}

function requireNumber(name: string, value: number | undefined, valid: (v: number) => boolean, expected: string): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !valid(value)) {
    throw calibrationError({ reason: `calibration option '${name}' is ${String(value)}`, expected, actual: String(value) });
  }
}

/** Checks every option, naming the first bad one. */
export function checkCalibrationOptions(options: CalibrationOptions): void {
  if (!CALIBRATION_METHODS.includes(options.method)) {
    throw calibrationError({
      reason: `unknown calibration method '${String(options.method)}'`,
      expected: `one of ${CALIBRATION_METHODS.join(', ')}`,
      actual: String(options.method),
    });
  }
  const integer = (min: number) => (v: number) => Number.isInteger(v) && v >= min;
  if (options.samples === undefined) throw calibrationError({ reason: "calibration option 'samples' is missing", expected: 'an integer ≥ 1 (quantize-static uses 256)' });
  requireNumber('samples', options.samples, integer(1), 'an integer ≥ 1');
  requireNumber('batchSize', options.batchSize, integer(1), 'an integer ≥ 1');
  requireNumber('seed', options.seed, (v) => Number.isInteger(v), 'an integer');
  requireNumber('percentile', options.percentile, (v) => v > 50 && v <= 100, 'a percentage in (50, 100]');
  requireNumber('bins', options.bins, (v) => integer(2)(v) && v <= 1 << 24, 'an integer in [2, 16777216]');
  requireNumber('histogramStride', options.histogramStride, (v) => integer(1)(v) && v <= 1 << 16, 'an integer in [1, 65536] (1: count every value)');
  if (options.method === 'minmax' && options.histogramStride !== undefined) {
    throw calibrationError({
      reason: "calibration option 'histogramStride' applies to the histogram methods, not to minmax",
      expected: 'method percentile, entropy or distribution, or no histogramStride',
      actual: `method minmax, histogramStride ${String(options.histogramStride)}`,
    });
  }
  requireNumber('quantizedBins', options.quantizedBins, integer(2), 'an integer ≥ 2');
  requireNumber('minCoverage', options.minCoverage, (v) => v === 0 || (v > 50 && v <= 100), '0 (off) or a percentage in (50, 100]');
  requireNumber('stdDevs', options.stdDevs, (v) => Number.isFinite(v) && v > 0, 'a number > 0');
  requireNumber('activationBudget', options.activationBudget, (v) => Number.isFinite(v) && v > 0, 'a number of bytes > 0');
  requireNumber('movingAverage', options.movingAverage, (v) => v > 0 && v <= 1, 'an averaging constant in (0, 1]');
  for (const [name, size] of Object.entries(options.dims ?? {})) {
    if (!Number.isInteger(size) || size < 1) throw calibrationError({ reason: `calibration option 'dims': dimension '${name}' is ${String(size)}`, expected: 'an integer ≥ 1', actual: String(size) });
  }
  if (options.dataset !== undefined && (typeof options.dataset !== 'string' || options.dataset.trim() === '')) {
    throw calibrationError({ reason: 'calibration option \'dataset\' is empty', expected: 'a dataset spec (fashion-mnist:train, idx:IMAGES,LABELS, npy:DIR) or a folder of inputs' });
  }
}
