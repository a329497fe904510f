/**
 * The option names `compareModels` takes. A misspelled one (`inputz`, `dim`) was ignored: the
 * comparison then ran on seeded random inputs and reported a plausible, unasked-for result.
 */
import { checkOptionNames } from '@modelpass/ir';
import type { CompareModelsOptions } from './compare-models.js';

/** `Record<keyof …>`: the compiler keeps this list equal to the interface (and the three it extends). */
const COMPARE_MODELS_OPTION_KEYS: Readonly<Record<keyof CompareModelsOptions, true>> = {
  // CompareModelsOptions
  inputs: true,
  engine: true,
  engines: true,
  memoryBudget: true,
  modelA: true,
  modelB: true,
  layout: true,
  fixedInputs: true,
  // GenerateInputsOptions
  seed: true,
  dims: true,
  defaultDim: true,
  shapes: true,
  ranges: true,
  includeDefaults: true,
  // CompareOptions
  relativeFloor: true,
  atol: true,
  rtol: true,
  nanEqual: true,
  // CreateEngineOptions
  ort: true,
  tflite: true,
  torch: true,
};

const KNOWN = Object.freeze(Object.keys(COMPARE_MODELS_OPTION_KEYS));

export function checkCompareModelsOptionNames(options: unknown): void {
  checkOptionNames(options, { fn: 'compareModels', known: KNOWN, source: '@modelpass/runtime', code: 'compare/unknown-option' });
}
