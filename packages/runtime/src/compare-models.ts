/**
 * Runs two models on the same inputs and compares their outputs: the check behind
 * `modelpass compare a.onnx b.onnx` and behind every "the conversion kept the numbers" claim.
 */
import type { Tensor } from '@modelpass/ir';
import { compareOutputs, type CompareOptions, type ComparisonReport } from './compare.js';
import { feedsToMap, type Engine, type Feeds, type ModelSource } from './engine.js';
import { createEngine, type CreateEngineOptions, type EngineName } from './engines.js';
import { generateInputs, type GenerateInputsOptions } from './generate-inputs.js';
import { loadInputs } from './load-inputs.js';
import { loadModel } from './model-source.js';

export interface CompareModelsOptions extends GenerateInputsOptions, CompareOptions, CreateEngineOptions {
  /** Feeds, or a folder / list of `.npy`/`.pb` files to load; random inputs from `seed` when absent. */
  readonly inputs?: Feeds | string | readonly string[];
  /** Engine for both models (default 'ort'). */
  readonly engine?: EngineName | Engine;
  /** Different engines for the first and second model; wins over `engine`. */
  readonly engines?: readonly [EngineName | Engine, EngineName | Engine];
}

export interface ModelComparison extends ComparisonReport {
  /** Engine names, first model then second. */
  readonly engines: readonly [string, string];
  /** The seed used when inputs were generated; null when inputs were given. */
  readonly seed: number | null;
  /** Names and shapes of the inputs both models ran on. */
  readonly inputs: readonly { readonly name: string; readonly dtype: string; readonly shape: readonly number[] }[];
}

/** The inputs `compareModels` would use, resolved against the first model. */
export function resolveComparisonInputs(model: ModelSource, options: CompareModelsOptions): Map<string, Tensor> {
  const given = options.inputs;
  if (given === undefined) return generateInputs(loadModel(model), options);
  if (typeof given === 'string' || Array.isArray(given)) return loadInputs(given as string | readonly string[], loadModel(model));
  return feedsToMap(given as Feeds);
}

export async function compareModels(a: ModelSource, b: ModelSource, options: CompareModelsOptions = {}): Promise<ModelComparison> {
  const feeds = resolveComparisonInputs(a, options);
  const [specA, specB] = options.engines ?? [options.engine ?? 'ort', options.engine ?? 'ort'];
  const engineA = createEngine(specA, options);
  const engineB = specB === specA ? engineA : createEngine(specB, options);
  try {
    const expected = await engineA.run(a, feeds);
    const actual = await engineB.run(b, feeds);
    const report = compareOutputs(expected, actual, options);
    return {
      ...report,
      engines: [engineA.name, engineB.name],
      seed: options.inputs === undefined ? (options.seed ?? 0) : null,
      inputs: [...feeds].map(([name, tensor]) => ({ name, dtype: tensor.dtype, shape: tensor.shape })),
    };
  } finally {
    if (typeof specA === 'string') await engineA.dispose();
    if (typeof specB === 'string' && engineB !== engineA) await engineB.dispose();
  }
}
