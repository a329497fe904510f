/** The one input a dataset (float32) or a folder of samples (float32 or integer token ids) feeds, and the batch size a run uses. */
import type { DType, Model, Value } from '@modelpass/ir';
import { feedableInputs } from '@modelpass/runtime';
import { CALIBRATION_DEFAULTS, calibrationError, type CalibrationOptions } from './options.js';

/** The one input a dataset feeds, with its static sample shape and batch dimension. */
export interface SingleInput {
  readonly value: Value;
  readonly dtype: DType;
  readonly sampleShape: readonly number[];
  /** The batch size the model fixes, when its first dimension is a number. */
  readonly fixedBatch: number | undefined;
}

/** The model's only input that takes a feed; it must be float32 with static dims after the first. */
export function singleFloatInput(model: Model, what: string): SingleInput {
  return singleInput(model, what, ['float32']);
}

/** The model's only input that takes a feed; it must be of one of `dtypes` with static dims after the first. */
export function singleInput(model: Model, what: string, dtypes: readonly DType[]): SingleInput {
  const inputs = feedableInputs(model);
  if (inputs.length !== 1) {
    throw calibrationError({
      reason: `calibration option 'dataset': ${what} feeds models with one input; this model has ${inputs.length} (${inputs.map((i) => `'${i.name}'`).join(', ')})`,
      hint: 'give a folder of test_data_set_N/input_K.pb sets instead, or no dataset for random inputs',
    });
  }
  const value = inputs[0]!;
  const type = value.type;
  const shape = type.kind === 'tensor' ? type.shape : null;
  const sampleShape = shape?.slice(1);
  if (type.kind !== 'tensor' || !dtypes.includes(type.dtype) || !shape || shape.length < 1 || !sampleShape!.every((d): d is number => typeof d === 'number' && d >= 0)) {
    throw calibrationError({
      reason: `calibration option 'dataset': input '${value.name}' must be ${dtypes.join(' or ')} with static dimensions after the batch dimension to take ${what}`,
      actual: type.kind === 'tensor' ? `${type.dtype}[${shape?.join(',') ?? '?'}]` : type.kind,
    });
  }
  const first = shape[0];
  return { value, dtype: type.dtype, sampleShape: sampleShape as number[], fixedBatch: typeof first === 'number' && first > 0 ? first : undefined };
}

/** Batch size for a run: the model's fixed batch, or the option, never more than `samples`. */
export function runBatchSize(input: SingleInput | undefined, options: CalibrationOptions): number {
  return input?.fixedBatch ?? Math.max(1, Math.min(options.batchSize ?? CALIBRATION_DEFAULTS.batchSize, options.samples));
}

/** Samples to read: `samples`, rounded up to whole batches when the model fixes its batch size. */
export function samplesToRead(input: SingleInput, samples: number): number {
  return input.fixedBatch === undefined ? samples : Math.ceil(samples / input.fixedBatch) * input.fixedBatch;
}
