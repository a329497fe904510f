/**
 * Calibration data for `prune-channels{criterion=activation}` and `reconstruct`: batches of the
 * model's input from a dataset named as `modelpass eval` names it (`fashion-mnist:train`,
 * `idx:IMAGES,LABELS`, `npy:DIR`), a folder of unlabelled `.npy`/`.pb` inputs (one sample or one batch
 * per file, as quantize-static reads them), or seeded random inputs (with a warning) when none is given;
 * and runs in ONNX Runtime that also return chosen intermediate values.
 */
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { ModelpassError, Tensor, type Model, type Value } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { DATASET_SCHEMES, datasetBatches, generateInputs, listTensorFiles, loadDataset, OrtRunner, readTensorFile } from '@modelpass/runtime';

export interface CalibrationOptions {
  /** A dataset spec; empty or undefined: seeded random inputs. */
  readonly dataset?: string | undefined;
  /** How many samples to use. */
  readonly samples: number;
  readonly batchSize?: number;
  readonly seed?: number;
  /** Folder relative dataset paths resolve against (default the working directory). */
  readonly cwd?: string;
  /** Called once when random inputs stand in for data. */
  readonly warn?: (message: string) => void;
}

export interface CalibrationData {
  readonly inputName: string;
  readonly batches: readonly Tensor[];
}

function calibrationError(reason: string, hint?: string): ModelpassError {
  return new ModelpassError({ reason, source: '@modelpass/prune', code: 'prune/calibration', ...(hint ? { hint } : {}) });
}

/** Loads the calibration batches for a model with one (non-initializer) float input `[N, ...]`. */
export function loadCalibrationData(model: Model, options: CalibrationOptions): CalibrationData {
  const inputs = model.graph.inputs.filter((input) => !input.constant);
  if (inputs.length !== 1) {
    throw calibrationError(
      `calibration feeds models with one input; this model has ${inputs.length} (${inputs.map((i) => `'${i.name}'`).join(', ')})`,
      'prune-channels{criterion=activation} and reconstruct run only one-input models; the weight criteria (l1, l2, bn-scale) need no data',
    );
  }
  const input = inputs[0]!;
  const shape = input.type.kind === 'tensor' ? input.type.shape : null;
  const sampleShape = shape?.slice(1);
  if (!shape || !sampleShape || sampleShape.some((dim) => typeof dim !== 'number')) {
    // A fully convolutional net ([N, 1, H, W]) or a point cloud ([N, 3, points]): a folder of its own
    // inputs runs one file at a time, whatever their sizes; random inputs and datasets need sizes.
    const folder = options.dataset ? inputFolder(options.dataset, options.cwd) : undefined;
    if (folder !== undefined && shape && shape.length >= 2) return { inputName: input.name, batches: variableSizeFiles(folder, input.name, shape, options.samples) };
    const spelled = shape ? shape.map((d) => d ?? '?').join(',') : '?';
    const example = shape ? shape.map((d, i) => (i === 0 || typeof d === 'number' ? d : 32)).join(',') : 'batch,…';
    throw calibrationError(
      `input '${input.name}' has symbolic dimensions after its batch dimension ([${spelled}]): ${options.dataset ? `dataset '${options.dataset}'` : 'seeded random inputs'} cannot fill them`,
      `give a folder of the model's own inputs (dataset=DIR, one .npy/.pb per run), or fix the sizes while converting: modelpass convert … --input-shape ${input.name}=${example}`,
    );
  }
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 64, options.samples));
  const fixedBatch = typeof shape[0] === 'number' ? shape[0] : undefined;
  const size = fixedBatch ?? batchSize;
  const batches: Tensor[] = [];
  if (!options.dataset) {
    options.warn?.(`no calibration dataset given: using ${options.samples} seeded random samples (seed ${options.seed ?? 0}); give dataset=fashion-mnist:train, idx:…, npy:DIR or a folder of .npy/.pb inputs for real statistics`);
    for (let start = 0, round = 0; start < options.samples; start += size, round++) {
      const generated = generateInputs(model, { seed: (options.seed ?? 0) + round, dims: {}, shapes: { [input.name]: [size, ...(sampleShape as number[])] } });
      batches.push(generated.get(input.name)!);
    }
    return { inputName: input.name, batches };
  }
  const folder = inputFolder(options.dataset, options.cwd);
  if (folder !== undefined) return { inputName: input.name, batches: folderBatches(folder, input.name, sampleShape as number[], size, options.samples, fixedBatch !== undefined) };
  const dataset = loadDataset(options.dataset, { limit: options.samples, ...(options.cwd ? { cwd: options.cwd } : {}) });
  let taken = 0;
  for (const batch of datasetBatches(dataset, { batchSize: size, sampleShape: sampleShape as number[] })) {
    if (taken >= options.samples) break;
    batches.push(batch.input);
    taken += batch.input.shape[0]!;
  }
  if (batches.length === 0) throw calibrationError(`dataset '${options.dataset}' holds no samples`);
  return { inputName: input.name, batches };
}

/** The folder a dataset option names when it is not a dataset spec (`scheme:…`) but a directory. */
function inputFolder(dataset: string, cwd: string | undefined): string | undefined {
  const colon = dataset.indexOf(':');
  if (colon > 0 && DATASET_SCHEMES.has(dataset.slice(0, colon))) return undefined;
  const path = resolve(cwd ?? process.cwd(), dataset);
  try {
    return statSync(path).isDirectory() ? path : undefined;
  } catch {
    return undefined;
  }
}

/** Each file of `dir` one run: one sample (no batch dimension) or a batch, its symbolic dimensions any size. */
function variableSizeFiles(dir: string, inputName: string, shape: readonly (number | string | null | undefined)[], samples: number): Tensor[] {
  const files = listTensorFiles(dir).filter((file) => !/^output_\d+\./.test(basename(file)));
  if (files.length === 0) throw calibrationError(`dataset folder '${dir}' holds no .npy or .pb files`, 'give one file per run of the model input');
  const fits = (dims: readonly number[], declared: readonly (number | string | null | undefined)[]) => dims.length === declared.length && dims.every((d, i) => typeof declared[i] !== 'number' || d === declared[i]);
  const spelled = (dims: readonly (number | string | null | undefined)[]) => dims.map((d) => d ?? '?').join(',');
  const batches: Tensor[] = [];
  let taken = 0;
  for (const file of files) {
    if (taken >= samples) break;
    const tensor = readTensorFile(file);
    const single = fits(tensor.shape, shape.slice(1));
    if (tensor.dtype !== 'float32' || (!single && !fits(tensor.shape, shape))) {
      throw calibrationError(`file '${file}' does not fit input '${inputName}' (expected float32[${spelled(shape.slice(1))}] (one sample) or float32[${spelled(shape)}] (a batch), symbolic dimensions any size, got ${tensor.dtype}[${tensor.shape.join(',')}])`);
    }
    const batch = single ? tensor.reshape([1, ...tensor.shape]) : tensor;
    batches.push(batch);
    taken += batch.shape[0]!;
  }
  return batches;
}

/**
 * Batches of `size` samples from a folder of `.npy`/`.pb` files, each one sample (`sampleShape`) or a batch
 * of them (`[N, ...sampleShape]`), read in name order until `samples` are taken (QA s12: reconstruct refused
 * the folders quantize-static takes, and its hint pointed at `npy:DIR`, which needs labels).
 */
function folderBatches(dir: string, inputName: string, sampleShape: readonly number[], size: number, samples: number, fixedBatch: boolean): Tensor[] {
  const files = listTensorFiles(dir).filter((file) => !/^output_\d+\./.test(basename(file)));
  if (files.length === 0) throw calibrationError(`dataset folder '${dir}' holds no .npy or .pb files`, 'give one file per sample or per batch of the model input, or a dataset spec (fashion-mnist:train, idx:IMAGES,LABELS, npy:DIR)');
  const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  const expected = `float32[${sampleShape.join(',')}] (one sample) or float32[N,${sampleShape.join(',')}] (a batch)`;
  const pending: Float32Array[] = [];
  let taken = 0;
  for (const file of files) {
    if (taken >= samples) break;
    const tensor = readTensorFile(file);
    const single = tensor.rank === sampleShape.length;
    const fits = tensor.dtype === 'float32' && (single ? tensor.shape : tensor.shape.slice(1)).every((d, i) => d === sampleShape[i]) && (single || tensor.rank === sampleShape.length + 1);
    if (!fits) throw calibrationError(`file '${file}' does not fit input '${inputName}' (expected ${expected}, got ${tensor.dtype}[${tensor.shape.join(',')}])`);
    const values = tensor.data() as Float32Array;
    const count = Math.min(single ? 1 : tensor.shape[0]!, samples - taken);
    for (let i = 0; i < count; i++) pending.push(values.subarray(i * sampleSize, (i + 1) * sampleSize));
    taken += count;
  }
  const batches: Tensor[] = [];
  for (let start = 0; start < pending.length; start += size) {
    const rows = pending.slice(start, start + size);
    if (fixedBatch && rows.length < size) {
      // A model with a fixed batch dimension takes whole batches only: a short last batch is left out.
      if (batches.length > 0) break;
      throw calibrationError(`dataset folder '${dir}' holds ${rows.length} sample(s); input '${inputName}' has a fixed batch of ${size}`, `give at least ${size} samples`);
    }
    const data = new Float32Array(rows.length * sampleSize);
    rows.forEach((row, i) => data.set(row, i * sampleSize));
    batches.push(Tensor.fromValues('float32', [rows.length, ...sampleShape], data));
  }
  return batches;
}

/** ONNX bytes of `model` that also output `values` (the model itself is left as it was). */
export function encodeWithOutputs(model: Model, values: readonly Value[]): Uint8Array {
  const original = [...model.graph.outputs];
  const extra = values.filter((value, i) => !original.includes(value) && values.indexOf(value) === i);
  try {
    for (const value of extra) model.graph.addOutput(value);
    return encodeOnnx(model);
  } finally {
    model.graph.setOutputs(original);
  }
}

/** Runs `bytes` on every batch and hands each batch's named outputs to `visit`. */
export async function forEachBatch(
  runner: OrtRunner,
  bytes: Uint8Array,
  data: CalibrationData,
  outputs: readonly string[],
  visit: (values: Map<string, Tensor>, batch: number) => void,
): Promise<void> {
  for (let i = 0; i < data.batches.length; i++) {
    const result = await runner.run(bytes, { [data.inputName]: data.batches[i]! }, { outputs });
    visit(result, i);
  }
}
