import type { Engine } from './engine.js';
import { runtimeError } from './errors.js';
import { OrtRunner, type OrtRunnerOptions } from './ort-runner.js';
import { ReferenceEngine } from './reference-engine.js';
import { TfliteEngine, type TfliteEngineOptions } from './tflite-engine.js';

export type EngineName = 'ort' | 'reference' | 'tflite';

export interface CreateEngineOptions {
  readonly ort?: OrtRunnerOptions;
  readonly tflite?: TfliteEngineOptions;
}

const engineFactories = new Map<string, (options: CreateEngineOptions) => Engine>([
  ['ort', (options) => new OrtRunner(options.ort)],
  ['reference', () => new ReferenceEngine()],
  ['tflite', (options) => new TfliteEngine(options.tflite)],
]);

/** Names `createEngine` knows. */
export const ENGINE_NAMES: readonly EngineName[] = ['ort', 'reference', 'tflite'];

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
