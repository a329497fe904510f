/**
 * The data GPTQ needs: for each quantized layer, H = Σ xᵀx over every row x of the layer's input
 * (all leading dimensions flattened), accumulated batch by batch from ONNX Runtime runs of the
 * float model that also return those inputs. Memory is the K×K matrices plus one batch, whatever
 * the number of samples. Inputs come from a `modelpass eval` dataset spec, or seeded random
 * inputs with a warning when no dataset is given.
 */
import { ModelpassError, type Model, type Tensor, type Value } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { datasetBatches, generateInputs, loadDataset, OrtRunner } from '@modelpass/runtime';

export interface HessianOptions {
  /** A dataset spec (`fashion-mnist:train`, `idx:IMAGES,LABELS`, `npy:DIR`); empty: seeded random inputs. */
  readonly dataset: string;
  readonly samples: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly cwd?: string;
  readonly warn: (message: string) => void;
  readonly pass: string;
}

export interface LayerHessian {
  readonly k: number;
  /** Σ xᵀx, `[k][k]` (symmetric). */
  readonly matrix: Float64Array;
  /** Rows accumulated. */
  rows: number;
}

function optionError(pass: string, reason: string, hint?: string): ModelpassError {
  return new ModelpassError({ reason: `pass '${pass}': ${reason}`, source: '@modelpass/quantize', ...(hint ? { hint } : {}) });
}

/** Feeds for the model, batch by batch. */
function* inputBatches(model: Model, options: HessianOptions): Generator<Record<string, Tensor>> {
  const inputs = model.graph.inputs.filter((input) => !input.constant);
  const batchSize = Math.max(1, Math.min(options.batchSize, options.samples));
  if (!options.dataset) {
    options.warn(`no calibration dataset given: GPTQ uses ${options.samples} seeded random samples (seed ${options.seed}); give dataset=fashion-mnist:train, idx:…, or npy:DIR for real statistics`);
    for (let start = 0, round = 0; start < options.samples; start += batchSize, round++) {
      yield Object.fromEntries(generateInputs(model, { seed: options.seed + round, defaultDim: batchSize }));
    }
    return;
  }
  if (inputs.length !== 1) {
    throw optionError(options.pass, `option 'dataset' feeds models with one input; this model has ${inputs.length}`, 'leave dataset empty for seeded random inputs, or use method=rtn or method=hqq, which need no data');
  }
  const input = inputs[0]!;
  const shape = input.type.kind === 'tensor' ? input.type.shape : null;
  const sampleShape = shape?.slice(1);
  if (!shape || !sampleShape || sampleShape.some((dim) => typeof dim !== 'number')) {
    throw optionError(options.pass, `input '${input.name}' needs a static shape after its batch dimension to be fed from option 'dataset'`);
  }
  const size = typeof shape[0] === 'number' ? shape[0] : batchSize;
  let dataset;
  try {
    dataset = loadDataset(options.dataset, { limit: options.samples, ...(options.cwd ? { cwd: options.cwd } : {}) });
  } catch (cause) {
    throw optionError(options.pass, `option 'dataset': ${(cause as Error).message}`);
  }
  let taken = 0;
  for (const batch of datasetBatches(dataset, { batchSize: size, sampleShape: sampleShape as number[] })) {
    if (taken >= options.samples) break;
    taken += batch.input.shape[0]!;
    yield { [input.name]: batch.input };
  }
  if (taken === 0) throw optionError(options.pass, `option 'dataset': '${options.dataset}' holds no samples`);
}

function accumulate(hessian: LayerHessian, activation: Tensor): void {
  const k = hessian.k;
  const data = activation.data() as Float32Array;
  const rows = data.length / k;
  const h = hessian.matrix;
  for (let r = 0; r < rows; r++) {
    const base = r * k;
    for (let i = 0; i < k; i++) {
      const xi = data[base + i]!;
      if (xi === 0) continue;
      const row = i * k;
      for (let j = 0; j <= i; j++) h[row + j]! += xi * data[base + j]!;
    }
  }
  hessian.rows += rows;
}

/** H per layer input (keyed by the input value), from the float model. */
export async function collectHessians(model: Model, layerInputs: ReadonlyMap<Value, number>, options: HessianOptions): Promise<Map<Value, LayerHessian>> {
  const hessians = new Map<Value, LayerHessian>();
  for (const [value, k] of layerInputs) hessians.set(value, { k, matrix: new Float64Array(k * k), rows: 0 });
  const original = [...model.graph.outputs];
  let bytes: Uint8Array;
  try {
    for (const value of layerInputs.keys()) if (!original.includes(value)) model.graph.addOutput(value);
    bytes = encodeOnnx(model);
  } finally {
    model.graph.setOutputs(original);
  }
  const runner = new OrtRunner({ maxSessions: 1 });
  const names = [...layerInputs.keys()].map((value) => value.name);
  try {
    for (const batch of inputBatches(model, options)) {
      const outputs = await runner.run(bytes, batch, { outputs: names });
      for (const [value, hessian] of hessians) {
        const activation = outputs.get(value.name)!;
        if (activation.dtype !== 'float32' || activation.shape[activation.rank - 1] !== hessian.k) {
          throw optionError(options.pass, `input '${value.name}' of a quantized layer came out as ${activation.dtype}[${activation.shape.join(',')}]`, `expected float32 with last dimension ${hessian.k}`);
        }
        accumulate(hessian, activation);
      }
    }
  } finally {
    await runner.dispose();
  }
  for (const hessian of hessians.values()) {
    const { k, matrix } = hessian;
    const scale = 2 / Math.max(1, hessian.rows);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j <= i; j++) {
        const v = matrix[i * k + j]! * scale;
        matrix[i * k + j] = v;
        matrix[j * k + i] = v;
      }
    }
  }
  return hessians;
}
