/**
 * Calibration inputs as a stream of batches: from a dataset spec (`modelpass eval`'s names), a
 * folder of input files, or seeded random inputs. Each source is an entry of `CALIBRATION_SOURCES`;
 * every one reads or makes one batch at a time, so memory does not grow with `samples`.
 */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { ModelpassError, type Model, type Tensor, type Value } from '@modelpass/ir';
import { DATASET_SCHEMES, feedableInputs, generateInputs, streamDatasetSamples } from '@modelpass/runtime';
import { openFolderInputs } from './folder-inputs.js';
import { runBatchSize, samplesToRead, singleFloatInput } from './model-input.js';
import { CALIBRATION_DEFAULTS, calibrationError, type CalibrationOptions } from './options.js';

/** One run's feeds. */
export interface CalibrationBatch {
  readonly feeds: ReadonlyMap<string, Tensor>;
  /** Samples in this batch (the first dimension of the inputs). */
  readonly samples: number;
}

/** A stream of batches; iterating it again starts from the beginning. */
export interface CalibrationData extends AsyncIterable<CalibrationBatch> {
  /** Where the batches come from, for messages. */
  readonly description: string;
}

/** A kind of calibration input. */
export interface CalibrationSource {
  readonly name: string;
  /** Whether this source reads `dataset` (undefined for no dataset). */
  matches(dataset: string | undefined, cwd: string): boolean;
  open(model: Model, options: CalibrationOptions): CalibrationData;
}

const randomInputs: CalibrationSource = {
  name: 'random',
  matches: (dataset) => dataset === undefined,
  open(model, options) {
    const seed = options.seed ?? CALIBRATION_DEFAULTS.seed;
    options.warn?.(
      `no calibration dataset given: using ${options.samples} seeded random samples (seed ${seed}), whose ranges rarely match real data; ` +
        'give dataset=fashion-mnist:train, idx:IMAGES,LABELS, npy:DIR or a folder of .npy/.pb inputs',
    );
    const inputs = feedableInputs(model);
    requireSymbolicDimSizes(inputs, options.dims ?? {});
    const fixed = inputs.map((input) => (input.type.kind === 'tensor' ? input.type.shape?.[0] : undefined)).find((d) => typeof d === 'number' && d > 0);
    const size = typeof fixed === 'number' ? fixed : Math.max(1, Math.min(options.batchSize ?? CALIBRATION_DEFAULTS.batchSize, options.samples));
    return {
      description: `${options.samples} seeded random samples (seed ${seed})`,
      async *[Symbol.asyncIterator]() {
        for (let done = 0, round = 0; done < options.samples; round++) {
          const count = typeof fixed === 'number' ? size : Math.min(size, options.samples - done);
          const shapes: Record<string, number[]> = {};
          // The batch's symbol sized too, so that an input with other symbolic dims ([batch,3,H,W]) is refused naming H, not batch.
          const dims: Record<string, number> = { ...options.dims };
          for (const input of inputs) {
            const shape = input.type.kind === 'tensor' ? input.type.shape : null;
            if (!shape || shape.length === 0 || typeof shape[0] === 'number') continue;
            if (typeof shape[0] === 'string') dims[shape[0]] = count;
            if (shape.slice(1).every((d) => typeof d === 'number')) shapes[input.name] = [count, ...(shape.slice(1) as number[])];
          }
          const feeds = generateInputs(model, { seed: seed + round, dims, shapes });
          yield { feeds, samples: count };
          done += count;
        }
      },
    };
  },
};

/**
 * Refuses a symbolic dimension after the batch that `dims` does not size, naming the option that does
 * (runtime's own message names code-level `dims` and CLI flags that do not reach a pass).
 */
function requireSymbolicDimSizes(inputs: readonly Value[], dims: Readonly<Record<string, number>>): void {
  for (const input of inputs) {
    const shape = input.type.kind === 'tensor' ? input.type.shape : null;
    if (!shape) continue;
    shape.forEach((dim, axis) => {
      if (axis === 0 || typeof dim !== 'string' || dims[dim] !== undefined) return;
      throw calibrationError({
        reason: `seeded random calibration inputs: input '${input.name}' has a symbolic dimension '${dim}' at axis ${axis} and no size was given for it`,
        actual: `[${shape.map((d) => (d === null || d === undefined ? '?' : String(d))).join(',')}]`,
        hint: `give it a size with the pass option dims=[${dim}:16] (e.g. quantize-static{dims=[${dim}:16]}; the model keeps '${dim}' symbolic), or calibrate on data: dataset=DIR of test_data_set_N/<input>.npy folders`,
      });
    });
  }
}

function isDatasetSpec(dataset: string): boolean {
  const colon = dataset.indexOf(':');
  return colon > 0 && DATASET_SCHEMES.has(dataset.slice(0, colon));
}

const datasetSpec: CalibrationSource = {
  name: 'dataset',
  matches: (dataset) => dataset !== undefined && isDatasetSpec(dataset),
  open(model, options) {
    const spec = options.dataset!;
    const input = singleFloatInput(model, `dataset '${spec}'`);
    const batchSize = runBatchSize(input, options);
    return {
      description: `dataset ${spec}`,
      async *[Symbol.asyncIterator]() {
        let done = 0;
        try {
          const stream = streamDatasetSamples(spec, {
            batchSize,
            limit: samplesToRead(input, options.samples),
            ...(options.firstSample ? { start: options.firstSample } : {}),
            sampleShape: input.sampleShape,
            ...(options.cwd ? { cwd: options.cwd } : {}),
            ...(options.normalization ? { normalization: options.normalization } : {}),
            ...(options.layout ? { layout: options.layout } : {}),
          });
          for await (const batch of stream) {
            const count = batch.input.shape[0]!;
            if (input.fixedBatch !== undefined && count !== input.fixedBatch) {
              options.warn?.(`dataset '${spec}': the last ${count} samples do not fit the model's fixed batch of ${input.fixedBatch} and are left out`);
              break;
            }
            done += count;
            yield { feeds: new Map([[input.value.name, batch.input]]), samples: count };
          }
        } catch (error) {
          if (!ModelpassError.is(error)) throw error;
          throw new ModelpassError(error.diagnostics.map((d) => ({ ...d, reason: `calibration option 'dataset': ${d.reason}` })));
        }
        if (done === 0) throw calibrationError({ reason: `calibration option 'dataset': '${spec}' holds no samples` });
      },
    };
  },
};

const inputFolder: CalibrationSource = {
  name: 'folder',
  matches: (dataset, cwd) => dataset !== undefined && !isDatasetSpec(dataset) && existsSync(resolve(cwd, dataset)) && statSync(resolve(cwd, dataset)).isDirectory(),
  open: (model, options) => openFolderInputs(model, options),
};

/** The kinds of calibration input, tried in order. */
export const CALIBRATION_SOURCES: readonly CalibrationSource[] = [randomInputs, datasetSpec, inputFolder];

/** The batches `options` names for `model` (nothing is read until iteration). */
export function openCalibrationData(model: Model, options: CalibrationOptions): CalibrationData {
  const cwd = options.cwd ?? process.cwd();
  const source = CALIBRATION_SOURCES.find((s) => s.matches(options.dataset, cwd));
  if (!source) {
    const known = [...DATASET_SCHEMES.values()].map((s) => `${s.name}:${s.argument}`).join(', ');
    throw calibrationError({
      reason: `calibration option 'dataset' is '${options.dataset}', which is neither a dataset spec nor a folder`,
      expected: `one of ${known}, or a folder of .npy/.pb inputs`,
      actual: `'${options.dataset}'`,
    });
  }
  return source.open(model, options);
}
