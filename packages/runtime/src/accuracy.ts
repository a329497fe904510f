/**
 * Classification accuracy of a model on labelled data: batches through an engine, argmax of the
 * logits against the labels.
 */
import { Model, Tensor, byteLengthOf, elementCount } from '@modelpass/ir';
import type { Engine, ModelSource } from './engine.js';
import { createEngine, defaultEngineFor, refereeEngineOptions, type CreateEngineOptions, type EngineName } from './engines.js';
import { runtimeError } from './errors.js';
import { datasetBatches, type LabelledDataset, type Normalization, type SampleLayout } from './idx-dataset.js';
import { describeModelSource, loadModel, modelBytes } from './model-source.js';
import { ReferenceEngine } from './reference-engine.js';
import { OrtRunner } from './ort-runner.js';
import { perTensorQuantized, quantizeReals } from './quantized-io-bridge.js';

export interface EvaluateAccuracyOptions extends CreateEngineOptions {
  readonly engine?: EngineName | Engine;
  /** Samples per run (default 256); a model with a fixed batch dimension uses that instead. */
  readonly batchSize?: number;
  /** The input to feed (default: the model's only input). */
  readonly inputName?: string;
  /** The output holding the logits (default: the first output). */
  readonly outputName?: string;
  readonly normalization?: Normalization;
  /** Shape of one sample as the model takes it; default from the model's input type. */
  readonly sampleShape?: readonly number[];
  /** Evaluate only the first `limit` samples. */
  readonly limit?: number;
  /** Layout of the dataset's samples (default `nchw`; `nhwc` samples are transposed to channels-first). */
  readonly layout?: SampleLayout;
  /** A name for the dataset in error messages (e.g. `fashion-mnist:test`). */
  readonly datasetName?: string;
  /** Called after each batch with the samples evaluated so far and the samples in all (progress bars). */
  readonly onProgress?: (samplesDone: number, samplesTotal: number) => void;
}

export interface AccuracyResult {
  readonly accuracy: number;
  readonly correct: number;
  readonly total: number;
  readonly engine: string;
  /** Samples per run that were used. */
  readonly batchSize: number;
  /** Shape of one sample as fed to the model. */
  readonly sampleShape: readonly number[];
  /** Per label (index = label): samples with that label and how many were classified correctly. */
  readonly perClass: readonly { readonly total: number; readonly correct: number }[];
  /**
   * Samples whose logits hold a NaN: they have no prediction and are counted wrong (an argmax over NaN
   * picked class 0, so an all-NaN dataset scored the share of class-0 labels). Absent from sharded runs.
   */
  readonly nanRows?: number;
  /** Samples (after normalization) holding a NaN or ±Infinity: an int8 model quantizes them to some finite code and scores them silently. */
  readonly nonFiniteSamples?: number;
}

/** Rows of a float32 `[rows, …]` batch holding a NaN or ±Infinity. */
function nonFiniteRows(batch: Tensor, rows: number): number {
  if (batch.dtype !== 'float32' || rows === 0) return 0;
  const values = batch.data() as Float32Array;
  const width = values.length / rows;
  let count = 0;
  for (let r = 0; r < rows; r++) {
    for (let i = r * width, end = i + width; i < end; i++) {
      if (!Number.isFinite(values[i]!)) {
        count++;
        break;
      }
    }
  }
  return count;
}

interface InputDescription {
  readonly name: string;
  readonly shape: readonly (number | string | null | undefined)[] | null | undefined;
  /** The element type, when known. */
  readonly dtype?: string | undefined;
}

async function describeInputs(model: ModelSource, engine: Engine): Promise<{ inputs: InputDescription[]; outputs: string[] }> {
  if (engine instanceof OrtRunner) {
    const info = await engine.describe(model);
    return { inputs: info.inputs.map((i) => ({ name: i.name, shape: i.shape, dtype: i.dtype })), outputs: info.outputs.map((o) => o.name) };
  }
  const ir = loadModel(model);
  return {
    inputs: ir.graph.inputs.filter((i) => i.constant === undefined).map((i) => ({ name: i.name, shape: i.type.kind === 'tensor' ? i.type.shape : null, dtype: i.type.kind === 'tensor' ? i.type.dtype : undefined })),
    outputs: ir.graph.outputs.map((o) => o.name),
  };
}

/** The argmax of each row; -1 for a row holding a NaN (no class is predicted: it matches no label). */
function argmaxPerRow(logits: Tensor, rows: number): number[] {
  const values = logits.toNumbers();
  const columns = values.length / rows;
  const result: number[] = [];
  for (let r = 0; r < rows; r++) {
    let best = 0;
    let nan = Number.isNaN(values[r * columns]!);
    for (let c = 1; c < columns; c++) {
      const value = values[r * columns + c]!;
      if (Number.isNaN(value)) nan = true;
      else if (value > values[r * columns + best]! || Number.isNaN(values[r * columns + best]!)) best = c;
    }
    result.push(nan ? -1 : best);
  }
  return result;
}

export async function evaluateAccuracy(source: ModelSource, dataset: LabelledDataset, options: EvaluateAccuracyOptions = {}): Promise<AccuracyResult> {
  const engine = createEngine(options.engine ?? defaultEngineFor(source), refereeEngineOptions(options));
  try {
    // Convert once, not once per batch: ORT takes bytes, the interpreter an IR model.
    const model = engine instanceof OrtRunner && source instanceof Model ? modelBytes(source) : engine instanceof ReferenceEngine ? loadModel(source) : source;
    const { inputs, outputs } = await describeInputs(model, engine);
    const input = options.inputName !== undefined ? inputs.find((i) => i.name === options.inputName) : inputs.length === 1 ? inputs[0] : undefined;
    const names = inputs.map((i) => `'${i.name}'`).join(', ');
    if (!input && options.inputName !== undefined) {
      throw runtimeError({ reason: `model has no input '${options.inputName}'`, expected: `the input that takes the samples (option inputName; modelpass eval: --input NAME), one of ${names}` });
    }
    if (!input) {
      // Only one input gets the samples: a model that needs two (a Siamese pair, ids and a mask) cannot be fed.
      throw runtimeError({
        reason: `model has ${inputs.length} inputs (${names}); accuracy feeds the dataset's samples to one input, and the others would get nothing`,
        expected: 'a model with one input, or the input that takes the samples (option inputName; modelpass eval: --input NAME) when the others have defaults',
        hint: 'compare such a model with its original instead: modelpass compare a.onnx b.onnx --inputs DIR',
      });
    }
    // A float16/float64 input (a model converted with keep-io=false) takes the float32 samples rounded to its type.
    const feedDType = input.dtype === 'float16' || input.dtype === 'float64' ? input.dtype : 'float32';
    // An integer input with one scale and zero point (a full-integer .tflite, legalize-tflite{io-type=int8}) takes
    // the integers they make of the float samples, as its own QUANTIZE would have.
    const quantized = input.dtype !== undefined && input.dtype !== feedDType ? declaredInputQuantization(model, input.name) : undefined;
    if (input.dtype !== undefined && input.dtype !== feedDType && !quantized) {
      throw runtimeError({
        reason: `input '${input.name}' takes ${input.dtype}, but accuracy feeds the dataset's samples as float images`,
        expected: 'a classifier whose input takes float32, float16 or float64 samples',
        actual: `${input.dtype}${input.shape ? `[${input.shape.map((d) => d ?? '?').join(',')}]` : ''}`,
        ...(input.dtype.startsWith('int') ? { hint: 'a model of token ids is measured with its own data: modelpass compare a.onnx b.onnx --inputs DIR checks a conversion' } : {}),
      });
    }
    const outputName = options.outputName ?? outputs[0];
    if (outputName === undefined || !outputs.includes(outputName)) {
      throw runtimeError({ reason: `model has no output '${outputName}'`, expected: `one of ${outputs.map((o) => `'${o}'`).join(', ')}` });
    }
    let batchSize = options.batchSize ?? 256;
    let sampleShape = options.sampleShape;
    const shape = input.shape;
    if (shape && shape.length >= 1) {
      const batchDim = shape[0];
      if (typeof batchDim === 'number' && batchDim > 0) batchSize = batchDim;
      if (!sampleShape) {
        const rest = shape.slice(1);
        if (rest.every((d): d is number => typeof d === 'number' && d >= 0)) sampleShape = rest;
        else {
          throw runtimeError({
            reason: `input '${input.name}' has non-static sample dimensions [${rest.map((d) => d ?? '?').join(',')}]`,
            hint: `give the shape of one sample (option sampleShape; modelpass eval: --sample-shape D,D,… or --input-shape ${input.name}=batch,D,…)`,
          });
        }
      }
    }
    const data = options.limit !== undefined && options.limit < dataset.size ? truncate(dataset, options.limit) : dataset;
    const fed = sampleShape ?? data.sampleShape;
    if (elementCount(fed) !== elementCount(data.sampleShape)) {
      throw runtimeError({
        reason:
          `the samples of ${options.datasetName ? `dataset '${options.datasetName}'` : 'the dataset'} do not fit input '${input.name}' of model ${describeModelSource(source)}: ` +
          `a sample is [${data.sampleShape.join(',')}] (${elementCount(data.sampleShape)} values), the input takes [${fed.join(',')}] (${elementCount(fed)} values) per sample`,
        expected: `samples of ${elementCount(fed)} values`,
        actual: `[${data.sampleShape.join(',')}]`,
      });
    }
    let correct = 0;
    let total = 0;
    let nanRows = 0;
    let nonFiniteSamples = 0;
    const perClass: { total: number; correct: number }[] = [];
    const batches = datasetBatches(data, {
      batchSize,
      ...(options.normalization ? { normalization: options.normalization } : {}),
      ...(sampleShape ? { sampleShape } : {}),
      ...(options.layout ? { layout: options.layout } : {}),
    });
    for (const batch of batches) {
      let feed = batch.input;
      const rows = batch.labels.length;
      nonFiniteSamples += nonFiniteRows(feed, rows);
      if (rows < batchSize && typeof shape?.[0] === 'number' && shape[0] > 0) {
        // A fixed batch dimension: pad the last batch with zeros and ignore the padding.
        const padded = new Uint8Array((feed.byteLength / rows) * batchSize);
        padded.set(feed.bytes());
        feed = Tensor.fromBytes('float32', [batchSize, ...feed.shape.slice(1)], padded);
      }
      if (quantized) feed = quantizeReals(feed, quantized);
      else if (feedDType !== 'float32') feed = Tensor.fromValues(feedDType, feed.shape, feed.toNumbers());
      const result = await engine.run(model, new Map([[input.name, feed]]), { outputs: [outputName] });
      const logits = result.get(outputName)!;
      if (elementCount(logits.shape) % feed.shape[0]! !== 0) {
        throw runtimeError({ reason: `output '${outputName}' of shape [${logits.shape.join(',')}] is not one row of logits per sample` });
      }
      const predicted = argmaxPerRow(logits, feed.shape[0]!);
      const classes = elementCount(logits.shape) / feed.shape[0]!;
      for (let i = 0; i < rows; i++) {
        const label = batch.labels[i]!;
        if (!(label >= 0 && label < classes)) {
          throw runtimeError({
            reason: `label ${label} of sample ${total + i} is outside the ${classes} outputs of '${outputName}' (classes 0–${classes - 1})`,
            hint: 'labels are 0-based class indices (a 1-based label file scores every class wrong): give the matching labels, or the model whose output has one logit per class',
          });
        }
        const tally = (perClass[label] ??= { total: 0, correct: 0 });
        tally.total++;
        if (predicted[i] === -1) nanRows++;
        if (predicted[i] === label) {
          correct++;
          tally.correct++;
        }
      }
      total += rows;
      options.onProgress?.(total, data.size);
    }
    for (let label = 0; label < perClass.length; label++) perClass[label] ??= { total: 0, correct: 0 };
    return { accuracy: total ? correct / total : 0, correct, total, engine: engine.name, batchSize, sampleShape: fed, perClass, nanRows, nonFiniteSamples };
  } finally {
    if (typeof options.engine !== 'object') await engine.dispose();
  }
}

/** The per-tensor quantization the model declares on input `name`, when its IR can be read (else undefined). */
function declaredInputQuantization(source: ModelSource | Uint8Array, name: string): ReturnType<typeof perTensorQuantized> {
  if (source instanceof Uint8Array) return undefined;
  let model: Model;
  try {
    model = source instanceof Model ? source : loadModel(source);
  } catch {
    return undefined;
  }
  const type = model.graph.inputs.find((value) => value.name === name)?.type;
  return type?.kind === 'tensor' ? perTensorQuantized(type) : undefined;
}

function truncate(dataset: LabelledDataset, limit: number): LabelledDataset {
  const byteLength = byteLengthOf(dataset.samples.dtype, limit * elementCount(dataset.sampleShape));
  const samples = Tensor.fromBytes(dataset.samples.dtype, [limit, ...dataset.sampleShape], new Uint8Array(dataset.samples.bytes().subarray(0, byteLength)));
  return { samples, labels: dataset.labels.subarray(0, limit), size: limit, sampleShape: dataset.sampleShape };
}
