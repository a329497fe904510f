/**
 * The data GPTQ needs: for each quantized layer, H = Σ xᵀx over every row x of the layer's input
 * (all leading dimensions flattened), accumulated batch by batch from ONNX Runtime runs of the
 * float model that also return those inputs. Memory is the K×K matrices plus one batch, whatever
 * the number of samples. Inputs come from a `modelpass eval` dataset spec, a folder of inputs (as
 * quantize-static's calibration), or seeded random inputs with a warning when no dataset is given.
 */
import { ModelpassError, type Model, type Tensor, type Value } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { OrtRunner } from '@modelpass/runtime';
import { openCalibrationData } from '../calibration/calibration-data.js';

export interface HessianOptions {
  /** A dataset spec (`fashion-mnist:train`, `idx:IMAGES,LABELS`, `npy:DIR`) or a folder of `.npy`/`.pb` inputs; empty: seeded random inputs. */
  readonly dataset: string;
  readonly samples: number;
  readonly batchSize: number;
  readonly seed: number;
  /** Seeded random inputs: sizes of symbolic dims other than the batch (`CalibrationOptions.dims`). */
  readonly dims?: Readonly<Record<string, number>>;
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

/**
 * Feeds for the model, batch by batch, from the same sources as quantize-static's calibration
 * (`openCalibrationData`): a dataset spec, a folder of `.npy`/`.pb` inputs, or seeded random inputs.
 */
async function* inputBatches(model: Model, options: HessianOptions): AsyncGenerator<ReadonlyMap<string, Tensor>> {
  if (!options.dataset) {
    options.warn(`no calibration dataset given: GPTQ uses ${options.samples} seeded random samples (seed ${options.seed}); give dataset=fashion-mnist:train, idx:…, npy:DIR or a folder of .npy/.pb inputs for real statistics`);
  }
  const data = openCalibrationDataFor(model, options);
  let taken = 0;
  try {
    for await (const batch of data) {
      if (taken >= options.samples) break;
      taken += batch.samples;
      yield batch.feeds;
    }
  } catch (cause) {
    if (!ModelpassError.is(cause)) throw cause;
    throw new ModelpassError(cause.diagnostics.map((d) => ({ ...d, reason: `pass '${options.pass}': ${d.reason}` })));
  }
  if (taken === 0) throw optionError(options.pass, `option 'dataset': '${options.dataset}' holds no samples`);
}

function openCalibrationDataFor(model: Model, options: HessianOptions) {
  try {
    return openCalibrationData(model, {
      method: 'minmax',
      ...(options.dataset ? { dataset: options.dataset } : {}),
      samples: options.samples,
      batchSize: options.batchSize,
      seed: options.seed,
      ...(options.dims ? { dims: options.dims } : {}),
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
  } catch (cause) {
    if (!ModelpassError.is(cause)) throw cause;
    throw new ModelpassError(cause.diagnostics.map((d) => ({ ...d, reason: `pass '${options.pass}': ${d.reason}` })));
  }
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
    for await (const feeds of inputBatches(model, options)) {
      const outputs = await runner.run(bytes, feeds, { outputs: names });
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
