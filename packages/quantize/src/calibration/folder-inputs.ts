/**
 * Calibration inputs from a folder, read one file at a time:
 * - ONNX test-data layout: `test_data_set_N/` subfolders, each one run's feeds (`input_K.pb|.npy`
 *   or `<input name>.pb|.npy`, as `modelpass run --inputs` reads them); any number of inputs.
 * - Otherwise, for a model with one float32 input, or one int64/int32 input (a decoder's token ids): every
 *   `.npy`/`.pb` file (sorted, `output_N` files left out, of the input's dtype) holds one sample (the input's
 *   shape without the batch dimension) or a batch of them; samples are regrouped into batches of the batch
 *   size. When the input has symbolic
 *   dimensions after the batch (a fully convolutional net's `[N, 1, H, W]`, a point cloud's
 *   `[N, 3, points]`, a decoder's `input_ids [batch, sequence]`), samples of different sizes cannot
 *   share a batch: each file is one run.
 */
import { readdirSync, statSync } from 'node:fs';
import { basename, extname, join, resolve } from 'node:path';
import { ModelpassError, Tensor, type DType, type Model } from '@modelpass/ir';
import { feedableInputs, listTensorFiles, loadInputs, readTensorFile } from '@modelpass/runtime';
import type { CalibrationBatch, CalibrationData } from './calibration-data.js';
import { runBatchSize, samplesToRead, singleInput } from './model-input.js';
import { calibrationError, type CalibrationOptions } from './options.js';

const TEST_DATA_SET = /^test_data_set_\d+$/;
/** The input dtypes a folder of sample files feeds: images and features, or token ids. */
const SAMPLE_DTYPES: readonly DType[] = ['float32', 'int64', 'int32'];

/** A batch buffer of `elements` values of `dtype` (one of SAMPLE_DTYPES). */
function sampleBuffer(dtype: DType, elements: number): Float32Array | BigInt64Array | Int32Array {
  return dtype === 'int64' ? new BigInt64Array(elements) : dtype === 'int32' ? new Int32Array(elements) : new Float32Array(elements);
}
const OUTPUT_FILE = /^output_\d+$/;

/** Samples in a set of feeds: the first dimension of the first input (1 for a scalar). */
function feedsFirstDim(feeds: ReadonlyMap<string, Tensor>): number {
  const first = feeds.values().next().value;
  return first && first.rank > 0 ? first.shape[0]! : 1;
}

/** Re-throws a runtime error as the 'dataset' option's. */
function asOptionError(error: unknown): never {
  if (!ModelpassError.is(error)) throw error;
  throw new ModelpassError(error.diagnostics.map((d) => ({ ...d, reason: `calibration option 'dataset': ${d.reason}` })));
}

function testDataSets(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => TEST_DATA_SET.test(name) && statSync(join(dir, name)).isDirectory())
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
    .map((name) => join(dir, name));
}

function feedSets(model: Model, dir: string, sets: readonly string[], options: CalibrationOptions): CalibrationData {
  return {
    description: `${sets.length} test data sets in '${dir}'`,
    async *[Symbol.asyncIterator]() {
      let done = 0;
      for (const set of sets) {
        if (done >= options.samples) break;
        let feeds: Map<string, Tensor>;
        try {
          feeds = loadInputs(set, model);
        } catch (error) {
          asOptionError(error);
        }
        const samples = feedsFirstDim(feeds);
        done += samples;
        yield { feeds, samples };
      }
    },
  };
}

function sampleFiles(model: Model, dir: string, options: CalibrationOptions): CalibrationData {
  const files = listTensorFiles(dir).filter((file) => !OUTPUT_FILE.test(basename(file, extname(file))));
  if (files.length === 0) {
    throw calibrationError({ reason: `calibration option 'dataset': folder '${dir}' holds no .npy or .pb files and no test_data_set_N folders`, location: { file: dir } });
  }
  const variable = variableSizeInput(model);
  if (variable) return fileRuns(dir, files, variable, options);
  const input = singleInput(model, `folder '${dir}'`, SAMPLE_DTYPES);
  const dtype = input.dtype;
  const sampleSize = input.sampleShape.reduce((n, d) => n * d, 1);
  const batchSize = runBatchSize(input, options);
  const wanted = samplesToRead(input, options.samples);
  const expected = `${dtype}[${input.sampleShape.join(',')}] (one sample) or ${dtype}[N,${input.sampleShape.join(',')}] (a batch)`;
  return {
    description: `${files.length} input files in '${dir}'`,
    async *[Symbol.asyncIterator]() {
      let buffer = sampleBuffer(dtype, batchSize * sampleSize);
      let filled = 0;
      let done = 0;
      const flush = (): CalibrationBatch => {
        const batch = Tensor.fromBytes(dtype, [filled, ...input.sampleShape], new Uint8Array(buffer.buffer, 0, filled * sampleSize * buffer.BYTES_PER_ELEMENT));
        buffer = sampleBuffer(dtype, batchSize * sampleSize);
        const samples = filled;
        filled = 0;
        return { feeds: new Map([[input.value.name, batch]]), samples };
      };
      for (const file of files) {
        if (done >= wanted) break;
        let tensor: Tensor;
        try {
          tensor = readTensorFile(file);
        } catch (error) {
          asOptionError(error);
        }
        const isSample = tensor.rank === input.sampleShape.length && tensor.shape.every((d, i) => d === input.sampleShape[i]);
        const isBatch = tensor.rank === input.sampleShape.length + 1 && tensor.shape.slice(1).every((d, i) => d === input.sampleShape[i]);
        if (tensor.dtype !== dtype || (!isSample && !isBatch)) {
          throw calibrationError({
            reason: `calibration option 'dataset': file '${file}' does not fit input '${input.value.name}'`,
            location: { file },
            expected,
            actual: `${tensor.dtype}[${tensor.shape.join(',')}]`,
          });
        }
        const values = tensor.data() as typeof buffer;
        const count = isSample ? 1 : tensor.shape[0]!;
        for (let sample = 0; sample < count && done < wanted; sample++) {
          (buffer as Float32Array).set((values as Float32Array).subarray(sample * sampleSize, (sample + 1) * sampleSize), filled * sampleSize);
          filled++;
          done++;
          if (filled === batchSize) yield flush();
        }
      }
      if (filled > 0) {
        if (input.fixedBatch !== undefined) options.warn?.(`folder '${dir}': the last ${filled} samples do not fit the model's fixed batch of ${input.fixedBatch} and are left out`);
        else yield flush();
      }
    },
  };
}

/** The model's one float32 (or token id) input when it has a symbolic dimension after the batch (else undefined). */
function variableSizeInput(model: Model): { name: string; dtype: DType; shape: readonly (number | string)[] } | undefined {
  const inputs = feedableInputs(model);
  const type = inputs.length === 1 ? inputs[0]!.type : undefined;
  if (type?.kind !== 'tensor' || !SAMPLE_DTYPES.includes(type.dtype) || !type.shape || type.shape.length < 2) return undefined;
  const shape = type.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : String(d)));
  return shape.slice(1).some((d) => typeof d === 'string') ? { name: inputs[0]!.name, dtype: type.dtype, shape } : undefined;
}

/** Each file one run: one sample (no batch dimension) or a batch, its symbolic dimensions any size. */
function fileRuns(dir: string, files: readonly string[], input: { name: string; dtype: DType; shape: readonly (number | string)[] }, options: CalibrationOptions): CalibrationData {
  const spelled = (dims: readonly (number | string)[]) => dims.map(String).join(',');
  const expected = `${input.dtype}[${spelled(input.shape.slice(1))}] (one sample) or ${input.dtype}[${spelled(input.shape)}] (a batch), symbolic dimensions any size`;
  const fits = (dims: readonly number[], declared: readonly (number | string)[]) => dims.length === declared.length && dims.every((d, i) => typeof declared[i] === 'string' || d === declared[i]);
  return {
    description: `${files.length} input files in '${dir}' (one run each: input '${input.name}' has symbolic dimensions)`,
    async *[Symbol.asyncIterator]() {
      let done = 0;
      for (const file of files) {
        if (done >= options.samples) break;
        let tensor: Tensor;
        try {
          tensor = readTensorFile(file);
        } catch (error) {
          asOptionError(error);
        }
        const isSample = fits(tensor.shape, input.shape.slice(1));
        if (tensor.dtype !== input.dtype || (!isSample && !fits(tensor.shape, input.shape))) {
          throw calibrationError({
            reason: `calibration option 'dataset': file '${file}' does not fit input '${input.name}'`,
            location: { file },
            expected,
            actual: `${tensor.dtype}[${tensor.shape.join(',')}]`,
          });
        }
        const batch = isSample ? tensor.reshape([1, ...tensor.shape]) : tensor;
        const samples = batch.shape[0]!;
        done += samples;
        yield { feeds: new Map([[input.name, batch]]), samples };
      }
    },
  };
}

/** The calibration batches of a folder (see the module comment for the layouts). */
export function openFolderInputs(model: Model, options: CalibrationOptions): CalibrationData {
  const dir = resolve(options.cwd ?? process.cwd(), options.dataset!);
  const sets = testDataSets(dir);
  return sets.length > 0 ? feedSets(model, dir, sets, options) : sampleFiles(model, dir, options);
}
