/**
 * Runs ONNX models on ONNX Runtime (the CPU build of `onnxruntime-node`). Sessions are cached in a
 * small LRU keyed by file (path, mtime, size) or by the SHA-256 of the model bytes, so running the
 * same model again costs no session creation.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-node';
import { Model, formatType, type DType, type Tensor } from '@modelpass/ir';
import { feedsToMap, type Engine, type Feeds, type ModelSource, type RunOptions } from './engine.js';
import { messageOf, runtimeError } from './errors.js';
import { LruCache } from './lru-cache.js';
import { describeModelSource, fileKey, hashBytes, modelBytes, modelSourceFile } from './model-source.js';
import { adoptOrtOutput, dtypeFromOrtType, toOrtTensor } from './ort-tensor.js';
import { withRunTimeLimit } from './run-time-limit.js';

type OrtModule = typeof import('onnxruntime-node');

let ortModule: Promise<OrtModule> | undefined;

/**
 * ONNX Runtime 1.30's Linux build starts a telemetry client (Microsoft's 1DS SDK) in every process
 * that creates a session; it leaves an empty `mat-debug-<pid>.log` and a `.ses` file in the temp
 * folder. Its own switch, the environment variable `ORT_DISABLE_TELEMETRY`, turns that off; modelpass
 * sets it to 1 before loading ONNX Runtime unless the user has set it (to anything) already.
 */
function disableOrtTelemetryUnlessChosen(): void {
  if (process.env.ORT_DISABLE_TELEMETRY === undefined) process.env.ORT_DISABLE_TELEMETRY = '1';
}

/** Loads onnxruntime-node on first use (its native binding is not free to load); exported as `loadOnnxRuntime` for callers that hold their own sessions (the training loop). */
export function loadOrt(): Promise<OrtModule> {
  if (!ortModule) disableOrtTelemetryUnlessChosen();
  ortModule ??= import('onnxruntime-node').catch((cause: unknown) => {
    ortModule = undefined;
    throw runtimeError({
      reason: `cannot load onnxruntime-node: ${messageOf(cause)}`,
      hint: 'install it with ONNXRUNTIME_NODE_INSTALL=skip (tools/setup.sh does)',
      cause,
    });
  });
  return ortModule;
}

/**
 * Session options that turn ONNX Runtime's intra-op spin-waiting on or off (config entry
 * `session.intra_op.allow_spinning`; onnxruntime-node joins nested keys with dots). Off, idle
 * threads block instead of burning a core between single-threaded kernels and between runs.
 */
export function intraOpSpinning(allow: boolean): Pick<InferenceSession.SessionOptions, 'extra'> {
  return { extra: { session: { intra_op: { allow_spinning: allow ? '1' : '0' } } } };
}

export interface OrtRunnerOptions {
  /** How many sessions to keep (default 4); the least recently used one is released past it. */
  readonly maxSessions?: number;
  /** Extra ONNX Runtime session options; `logSeverityLevel` defaults to 4 (fatal only: ORT's errors reach the caller as thrown errors, so its red log lines would only repeat them on stderr). */
  readonly sessionOptions?: InferenceSession.SessionOptions;
}

/** What ONNX Runtime says about one input or output of a loaded model. */
export interface OrtValueInfo {
  readonly name: string;
  /** Our dtype, when the value is a tensor of a dtype we hold. */
  readonly dtype: DType | undefined;
  /** Dimensions: numbers, symbolic names, or -1 / undefined when unknown. */
  readonly shape: readonly (number | string | undefined)[] | undefined;
}

export interface OrtSessionInfo {
  readonly inputs: readonly OrtValueInfo[];
  readonly outputs: readonly OrtValueInfo[];
}

interface CachedSession {
  readonly session: InferenceSession;
  readonly info: OrtSessionInfo;
  readonly file: string | undefined;
}

function valueInfo(metadata: InferenceSession.ValueMetadata): OrtValueInfo {
  if (!metadata.isTensor) return { name: metadata.name, dtype: undefined, shape: undefined };
  return {
    name: metadata.name,
    dtype: dtypeFromOrtType(metadata.type),
    shape: metadata.shape.map((d) => (typeof d === 'number' || typeof d === 'string' ? d : undefined)),
  };
}

/** An `Engine` over ONNX Runtime with a bounded session cache. Call `dispose()` when done. */
export class OrtRunner implements Engine {
  readonly name = 'ort';
  private readonly sessions: LruCache<string, Promise<CachedSession>>;
  private readonly sessionOptions: InferenceSession.SessionOptions;

  constructor(options: OrtRunnerOptions = {}) {
    this.sessions = new LruCache(options.maxSessions ?? 4, (entry) => {
      void entry.then((cached) => cached.session.release()).catch(() => {});
    });
    this.sessionOptions = { logSeverityLevel: 4, ...options.sessionOptions };
  }

  /** Sessions currently cached. */
  get cachedSessions(): number {
    return this.sessions.size;
  }

  /** Input and output names, dtypes and shapes as ONNX Runtime sees them. */
  async describe(model: ModelSource): Promise<OrtSessionInfo> {
    return (await this.session(model)).info;
  }

  async run(model: ModelSource, feeds: Feeds, options: RunOptions = {}): Promise<Map<string, Tensor>> {
    const ort = await loadOrt();
    const cached = await this.session(model);
    const where = cached.file ? { file: cached.file } : undefined;
    const inputs = feedsToMap(feeds);
    const ortFeeds: Record<string, OrtTensor> = {};
    const known = new Map(cached.info.inputs.map((input) => [input.name, input]));
    for (const [name, tensor] of inputs) {
      const input = known.get(name);
      if (!input) {
        throw runtimeError({
          reason: `feed '${name}' is not an input of model ${describeModelSource(model)}`,
          location: where,
          expected: `one of ${[...known.keys()].map((n) => `'${n}'`).join(', ') || '(no inputs)'}`,
          actual: `'${name}'`,
          hint: 'onnxruntime-node ignores feeds for initializers (inputs with a default value), so modelpass rejects them',
        });
      }
      if (input.dtype && input.dtype !== tensor.dtype) {
        throw runtimeError({
          reason: `input '${name}' of model ${describeModelSource(model)} has the wrong dtype`,
          location: where,
          expected: `${input.dtype}[${(input.shape ?? []).map((d) => d ?? '?').join(',')}]`,
          actual: formatType({ kind: 'tensor', dtype: tensor.dtype, shape: tensor.shape }),
        });
      }
      ortFeeds[name] = toOrtTensor(ort.Tensor, tensor, name);
    }
    for (const input of cached.info.inputs) {
      if (!inputs.has(input.name)) {
        throw runtimeError({
          reason: `input '${input.name}' of model ${describeModelSource(model)} is missing from the feeds`,
          location: where,
          expected: `a ${input.dtype ?? 'non-tensor'}[${(input.shape ?? []).map((d) => d ?? '?').join(',')}] tensor named '${input.name}'`,
          actual: `feeds ${[...inputs.keys()].map((n) => `'${n}'`).join(', ') || '(none)'}`,
        });
      }
    }
    const fetches = options.outputs ? [...options.outputs] : undefined;
    if (fetches) {
      const outputNames = new Set(cached.info.outputs.map((o) => o.name));
      const unknown = fetches.find((name) => !outputNames.has(name));
      if (unknown !== undefined) {
        throw runtimeError({
          reason: `'${unknown}' is not an output of model ${describeModelSource(model)}`,
          location: where,
          expected: `one of ${[...outputNames].map((n) => `'${n}'`).join(', ')}`,
        });
      }
    }
    let results: InferenceSession.ReturnType;
    try {
      results = await withRunTimeLimit(`ONNX Runtime, running model ${describeModelSource(model)},`, () => (fetches ? cached.session.run(ortFeeds, fetches) : cached.session.run(ortFeeds)));
    } catch (error) {
      throw runtimeError({
        reason: `ONNX Runtime failed to run ${where ? 'the model' : `model ${describeModelSource(model)}`}: ${messageOf(error)}`,
        location: where,
        cause: error,
      });
    }
    const outputs = new Map<string, Tensor>();
    // A graph may list one value as two outputs: each name is taken (and its tensor disposed) once.
    for (const name of new Set(fetches ?? cached.info.outputs.map((o) => o.name))) {
      const value = results[name];
      if (!value) throw runtimeError({ reason: `ONNX Runtime returned no value for output '${name}'`, location: where });
      if (!('dims' in value) || !('type' in value)) {
        throw runtimeError({ reason: `output '${name}' is not a tensor; only tensor outputs are supported`, location: where });
      }
      outputs.set(name, adoptOrtOutput(value as OrtTensor, name));
      value.dispose?.();
    }
    return outputs;
  }

  /** Releases every cached session. The runner stays usable (sessions are created again). */
  async dispose(): Promise<void> {
    const entries = this.sessions.keys().map((key) => this.sessions.get(key)!);
    for (const key of this.sessions.keys()) this.sessions.delete(key);
    await Promise.all(entries.map((entry) => entry.then((cached) => cached.session.release(), () => {})));
  }

  private async session(model: ModelSource): Promise<CachedSession> {
    let key: string;
    let payload: string | Uint8Array;
    if (typeof model === 'string') {
      key = fileKey(model);
      payload = model;
    } else {
      payload = model instanceof Model ? modelBytes(model) : model;
      key = `bytes:${hashBytes(payload)}`;
    }
    let entry = this.sessions.get(key);
    if (!entry) {
      entry = this.createSession(payload, modelSourceFile(model), describeModelSource(model));
      this.sessions.set(key, entry);
      entry.catch(() => {
        if (this.sessions.get(key) === entry) this.sessions.delete(key);
      });
    }
    return entry;
  }

  private async createSession(payload: string | Uint8Array, file: string | undefined, description: string): Promise<CachedSession> {
    const ort = await loadOrt();
    let session: InferenceSession;
    try {
      session =
        typeof payload === 'string'
          ? await ort.InferenceSession.create(payload, this.sessionOptions)
          : await ort.InferenceSession.create(payload, this.sessionOptions);
    } catch (error) {
      throw runtimeError({
        reason: `ONNX Runtime rejected ${file ? 'the model' : `model ${description}`}: ${messageOf(error)}`,
        location: file ? { file } : undefined,
        cause: error,
      });
    }
    return {
      session,
      file,
      info: { inputs: session.inputMetadata.map(valueInfo), outputs: session.outputMetadata.map(valueInfo) },
    };
  }
}

let sharedRunner: OrtRunner | undefined;

/** Runs a model once on ONNX Runtime, through a shared runner (its sessions are cached). */
export function runOrt(model: ModelSource, feeds: Feeds, options?: RunOptions): Promise<Map<string, Tensor>> {
  sharedRunner ??= new OrtRunner();
  return sharedRunner.run(model, feeds, options);
}

/** Releases the sessions `runOrt` has cached. */
export async function disposeSharedOrtRunner(): Promise<void> {
  await sharedRunner?.dispose();
}
