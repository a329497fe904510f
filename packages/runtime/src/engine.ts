import type { Model, Tensor } from '@modelpass/ir';

/** A model to run: an IR model, the path of an ONNX file, or ONNX bytes. */
export type ModelSource = Model | string | Uint8Array;

/** Input tensors by graph input name. */
export type Feeds = ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>;

export interface RunOptions {
  /** Output names to compute (default: every graph output, in graph order). */
  readonly outputs?: readonly string[];
}

/**
 * Something that runs a model: ONNX Runtime, the reference interpreter, later a TFLite runtime.
 * `run` resolves to the outputs by name, in the model's output order.
 */
export interface Engine {
  readonly name: string;
  run(model: ModelSource, feeds: Feeds, options?: RunOptions): Promise<Map<string, Tensor>>;
  /** Releases whatever the engine holds (sessions, caches). */
  dispose(): Promise<void>;
}

/** Feeds as a Map, whatever form the caller passed. */
export function feedsToMap(feeds: Feeds): Map<string, Tensor> {
  if (feeds instanceof Map) return new Map(feeds);
  return new Map(Object.entries(feeds as Readonly<Record<string, Tensor>>));
}
