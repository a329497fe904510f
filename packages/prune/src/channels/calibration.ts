/**
 * Calibration data for `prune-channels{criterion=activation}` and `reconstruct`: batches of the
 * model's input from a dataset named as `modelpass eval` names it (`fashion-mnist:train`,
 * `idx:IMAGES,LABELS`, `npy:DIR`), or seeded random inputs (with a warning) when none is given;
 * and runs in ONNX Runtime that also return chosen intermediate values.
 */
import { ModelpassError, type Model, type Tensor, type Value } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { datasetBatches, generateInputs, loadDataset, OrtRunner } from '@modelpass/runtime';

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
  if (inputs.length !== 1) throw calibrationError(`calibration feeds models with one input; this model has ${inputs.length} (${inputs.map((i) => `'${i.name}'`).join(', ')})`);
  const input = inputs[0]!;
  const shape = input.type.kind === 'tensor' ? input.type.shape : null;
  const sampleShape = shape?.slice(1);
  if (!shape || !sampleShape || sampleShape.some((dim) => typeof dim !== 'number')) {
    throw calibrationError(`input '${input.name}' needs a static shape after its batch dimension for calibration`, 'give the model static sample dims');
  }
  const batchSize = Math.max(1, Math.min(options.batchSize ?? 64, options.samples));
  const fixedBatch = typeof shape[0] === 'number' ? shape[0] : undefined;
  const size = fixedBatch ?? batchSize;
  const batches: Tensor[] = [];
  if (!options.dataset) {
    options.warn?.(`no calibration dataset given: using ${options.samples} seeded random samples (seed ${options.seed ?? 0}); give dataset=fashion-mnist:train, idx:…, or npy:DIR for real statistics`);
    for (let start = 0, round = 0; start < options.samples; start += size, round++) {
      const generated = generateInputs(model, { seed: (options.seed ?? 0) + round, dims: {}, shapes: { [input.name]: [size, ...(sampleShape as number[])] } });
      batches.push(generated.get(input.name)!);
    }
    return { inputName: input.name, batches };
  }
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
