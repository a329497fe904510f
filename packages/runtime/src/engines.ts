import { Model } from '@modelpass/ir';
import type { Engine, ModelSource } from './engine.js';
import { runtimeError } from './errors.js';
import { OrtRunner, type OrtRunnerOptions } from './ort-runner.js';
import { isTflitePath } from './model-source.js';
import { ReferenceEngine } from './reference-engine.js';
import { TfliteEngine, type TfliteEngineOptions } from './tflite-engine.js';
import { TorchEngine, isTorchScriptPath, type TorchEngineOptions } from './torch-engine.js';
import { withRunTimeLimit } from './run-time-limit.js';

export type EngineName = 'ort' | 'reference' | 'tflite' | 'torch';

export interface CreateEngineOptions {
  readonly ort?: OrtRunnerOptions;
  readonly tflite?: TfliteEngineOptions;
  readonly torch?: TorchEngineOptions;
}

const engineFactories = new Map<string, (options: CreateEngineOptions) => Engine>([
  ['ort', (options) => new OrtRunner(options.ort)],
  ['reference', () => new ReferenceEngine({ guard: withRunTimeLimit })],
  ['tflite', (options) => new TfliteEngine(options.tflite)],
  ['torch', (options) => new TorchEngine(options.torch)],
]);

/**
 * Engine options for a referee run (`compare`, `eval`): ONNX Runtime at graph optimization level
 * 'basic' unless the caller chose one. ORT 1.30's extended-level LayerNormalization fusion treats
 * `Sub(mean, x)` as `Sub(x, mean)`, so at its default level two models that differ in that Sub
 * run identically and a comparison would call them equal; 'basic' folds constants and removes
 * redundant nodes but fuses nothing.
 */
export function refereeEngineOptions<T extends CreateEngineOptions>(options: T): T {
  const sessionOptions = options.ort?.sessionOptions;
  if (sessionOptions?.graphOptimizationLevel !== undefined) return options;
  return { ...options, ort: { ...options.ort, sessionOptions: { ...sessionOptions, graphOptimizationLevel: 'basic' } } };
}

/** Names `createEngine` knows. */
export const ENGINE_NAMES: readonly EngineName[] = ['ort', 'reference', 'tflite', 'torch'];

/** An engine by name; an `Engine` passed in is returned as it is. */
export function createEngine(engine: EngineName | Engine = 'ort', options: CreateEngineOptions = {}): Engine {
  if (typeof engine !== 'string') return engine;
  const factory = engineFactories.get(engine);
  if (!factory) {
    throw runtimeError({
      reason: `unknown engine '${engine}'`,
      expected: `one of ${[...engineFactories.keys()].map((n) => `'${n}'`).join(', ')}`,
      actual: `'${engine}'`,
    });
  }
  return factory(options);
}

/**
 * The engine a model runs on when none is chosen: the TFLite runtime for a `.tflite` file or an IR
 * model of the tflite dialect (read from .tflite, or legalized), ONNX Runtime for everything else.
 */
export function defaultEngineFor(source: ModelSource): EngineName {
  if (typeof source === 'string') return isTflitePath(source) ? 'tflite' : isTorchScriptPath(source) ? 'torch' : 'ort';
  if (source instanceof Model) {
    for (const node of source.graph.nodes()) return node.dialect === 'tflite' ? 'tflite' : 'ort';
    return source.sourceFormat === 'tflite' ? 'tflite' : 'ort';
  }
  return 'ort';
}
