/**
 * Runs TFLite models on the TFLite runtime (TFLite 2.9's C library, through `tflite-native.ts`).
 * A model is a .tflite path, .tflite bytes, or an IR model of the tflite dialect (encoded with
 * `@modelpass/tflite`). Interpreters are cached (by file identity or bytes hash), like ORT sessions.
 */
import { Model, Tensor, byteLengthOf, type DType } from '@modelpass/ir';
import { encodeTflite } from '@modelpass/tflite';
import { feedsToMap, type Engine, type Feeds, type ModelSource, type RunOptions } from './engine.js';
import { runtimeError } from './errors.js';
import { LruCache } from './lru-cache.js';
import { fileKey, hashBytes } from './model-source.js';
import { readRegularFile } from './regular-file.js';
import { TfliteInterpreter, type TfliteTensorSlot } from './tflite-native.js';
import { withRunTimeLimit } from './run-time-limit.js';

export interface TfliteEngineOptions {
  /** Interpreters kept (default 4). */
  readonly maxInterpreters?: number;
  /** Threads per interpreter (default 1: results do not depend on the machine). */
  readonly threads?: number;
}

/** What the TFLite runtime says about one input or output of a loaded model. */
export interface TfliteValueInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/**
 * An output's shape after a run: the run-time shape, which differs from the loaded one for outputs
 * of data-dependent length. The binding copies each output into a buffer sized when the model was
 * loaded, so one that grew past it is an error (the converted model must declare a bound).
 */
function runShapeOf(slot: TfliteTensorSlot, what: string): number[] {
  const shape = slot.currentShape();
  const bytes = byteLengthOf(slot.dtype, shape.reduce((a, b) => a * b, 1));
  if (bytes > slot.bytes.byteLength) {
    throw runtimeError({
      reason: `output '${slot.name}' of ${what} grew to [${shape}] at run time, past the [${slot.shape}] it was loaded with`,
      hint: 'a tensor of data-dependent length must be declared with its largest shape in the .tflite file (legalize-tflite does so)',
      location: { file: what },
    });
  }
  return shape;
}

export class TfliteEngine implements Engine {
  readonly name = 'tflite';
  private readonly interpreters: LruCache<string, TfliteInterpreter>;
  private readonly threads: number;

  constructor(options: TfliteEngineOptions = {}) {
    this.interpreters = new LruCache(options.maxInterpreters ?? 4);
    this.threads = options.threads ?? 1;
  }

  private interpreter(model: ModelSource): { interpreter: TfliteInterpreter; what: string } {
    let key: string;
    let bytes: () => Uint8Array;
    let what: string;
    if (typeof model === 'string') {
      key = fileKey(model);
      what = model;
      bytes = () => readRegularFile(model, 'TFLite model');
    } else if (model instanceof Model) {
      const encoded = encodeTflite(model, model.sourcePath ?? '<in-memory model>');
      key = `bytes:${hashBytes(encoded)}`;
      what = model.sourcePath ?? '<in-memory model>';
      bytes = () => encoded;
    } else {
      key = `bytes:${hashBytes(model)}`;
      what = `<${model.byteLength} bytes of TFLite>`;
      bytes = () => model;
    }
    let interpreter = this.interpreters.get(key);
    if (!interpreter) {
      interpreter = new TfliteInterpreter(bytes(), what, this.threads);
      this.interpreters.set(key, interpreter);
    }
    return { interpreter, what };
  }

  /** The model's inputs and outputs as the runtime sees them. */
  describe(model: ModelSource): { inputs: TfliteValueInfo[]; outputs: TfliteValueInfo[] } {
    const { interpreter } = this.interpreter(model);
    const info = ({ name, dtype, shape }: TfliteValueInfo) => ({ name, dtype, shape });
    return { inputs: interpreter.inputs.map(info), outputs: interpreter.outputs.map(info) };
  }

  async run(model: ModelSource, feeds: Feeds, options: RunOptions = {}): Promise<Map<string, Tensor>> {
    const { interpreter, what } = this.interpreter(model);
    const given = feedsToMap(feeds);
    for (const name of given.keys()) {
      if (!interpreter.inputs.some((slot) => slot.name === name)) {
        throw runtimeError({ reason: `${what} has no input '${name}'`, expected: `one of ${interpreter.inputs.map((slot) => `'${slot.name}'`).join(', ')}`, location: { file: what } });
      }
    }
    const wanted = options.outputs;
    for (const name of wanted ?? []) {
      if (!interpreter.outputs.some((slot) => slot.name === name)) throw runtimeError({ reason: `${what} has no output '${name}'`, location: { file: what } });
    }
    const batch = this.checkFeeds(interpreter, given, what);
    // The binding cannot resize inputs: a batch of k on a model built for 1 runs sample by sample.
    const parts: Map<string, { shape: number[]; bytes: Uint8Array[] }> = new Map();
    for (let sample = 0; sample < batch; sample++) {
      for (const slot of interpreter.inputs) {
        const bytes = given.get(slot.name)!.bytes();
        slot.bytes.set(batch === 1 ? bytes : bytes.subarray(sample * slot.bytes.byteLength, (sample + 1) * slot.bytes.byteLength));
      }
      await withRunTimeLimit(`the TFLite runtime, running ${what},`, () => interpreter.invoke(what));
      // A model may list one tensor as two outputs: its bytes are collected once per sample.
      const collected = new Set<string>();
      for (const slot of interpreter.outputs) {
        if ((wanted && !wanted.includes(slot.name)) || collected.has(slot.name)) continue;
        collected.add(slot.name);
        const shape = runShapeOf(slot, what);
        const part = parts.get(slot.name) ?? { shape, bytes: [] };
        if (part.shape.join() !== shape.join()) {
          throw runtimeError({ reason: `${what} cannot run a batch of ${batch} sample by sample: output '${slot.name}' has a data-dependent shape ([${part.shape}] for sample 0, [${shape}] for sample ${sample})`, hint: 'feed one sample at a time', location: { file: what } });
        }
        part.bytes.push(slot.bytes.slice(0, byteLengthOf(slot.dtype, shape.reduce((a, b) => a * b, 1))));
        parts.set(slot.name, part);
      }
    }
    const results = new Map<string, Tensor>();
    for (const slot of interpreter.outputs) {
      const part = parts.get(slot.name);
      if (!part) continue;
      const shape = batch === 1 ? part.shape : [batch, ...part.shape.slice(1)];
      results.set(slot.name, Tensor.fromBytes(slot.dtype, shape, part.bytes.length === 1 ? part.bytes[0]! : Buffer.concat(part.bytes)));
    }
    return results;
  }

  /**
   * Feeds must match the model's inputs, except for a batch dimension: when every input is built
   * for a batch of 1 and every feed has the same k samples (the rest of the shape equal), the model
   * runs k times. Returns k (1 for feeds of the built shape).
   */
  private checkFeeds(interpreter: TfliteInterpreter, given: Map<string, Tensor>, what: string): number {
    let runs: number | undefined;
    for (const slot of interpreter.inputs) {
      const tensor = given.get(slot.name);
      if (!tensor) throw runtimeError({ reason: `input '${slot.name}' of ${what} is not fed`, location: { file: what } });
      const sameRest = tensor.dtype === slot.dtype && tensor.shape.length === slot.shape.length && tensor.shape.every((dim, i) => i === 0 || dim === slot.shape[i]);
      const samples = !sameRest ? undefined : tensor.shape[0] === slot.shape[0] ? 1 : slot.shape[0] === 1 ? tensor.shape[0] : undefined;
      if (samples === undefined || (runs !== undefined && samples !== runs)) {
        throw runtimeError({
          reason: `input '${slot.name}' of ${what} does not match the model${samples !== undefined ? ` (a batch of ${samples}, another input has ${runs})` : ''}`,
          expected: `${slot.dtype}[${slot.shape.join(',')}]${slot.shape[0] === 1 ? ' (or k samples along dim 0)' : ''}`,
          actual: `${tensor.dtype}[${tensor.shape.join(',')}]`,
          hint: 'the TFLite engine runs the shapes the model was built with; an input built for a batch of 1 may be fed k samples',
          location: { file: what },
        });
      }
      runs = samples;
    }
    if (runs !== undefined && runs !== 1 && interpreter.outputs.some((slot) => slot.shape[0] !== 1)) {
      throw runtimeError({ reason: `${what} cannot run a batch of ${runs}: an output has no batch dimension of 1`, location: { file: what } });
    }
    return runs ?? 1;
  }

  async dispose(): Promise<void> {
    this.interpreters.clear();
  }
}
