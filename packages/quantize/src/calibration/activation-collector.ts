/**
 * Intermediate tensors of a model, batch by batch, from ONNX Runtime: the model is written once,
 * with the requested tensors added as graph outputs, to a temporary folder (weights external when
 * large; removed afterwards, and on signals), one session is created for it, and each batch is one
 * run that fetches only those tensors. Graph inputs are taken from the feeds, initializers from
 * the model.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { claimTemporaryPath, isFloatDType, releaseTemporaryPath, type Model, type Tensor, type Value } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { OrtRunner } from '@modelpass/runtime';
import { calibrationError } from './options.js';
import { CALIBRATION_SESSION_OPTIONS } from './session-options.js';

/** Where each requested tensor's values come from. */
type TensorOrigin = { kind: 'output'; value: Value } | { kind: 'input'; value: Value } | { kind: 'constant'; value: Value; tensor: Tensor };

/** Where each tensor to calibrate comes from; a name that is not a float value of the main graph is a located error. */
export function resolveTensors(model: Model, tensors: readonly string[]): Map<string, TensorOrigin> {
  const origins = new Map<string, TensorOrigin>();
  for (const name of tensors) {
    const value = model.graph.getValue(name);
    if (!value) {
      throw calibrationError({
        reason: `tensor '${name}' to calibrate is not a value of the model's main graph`,
        location: model.sourcePath ? { file: model.sourcePath } : undefined,
        hint: 'name node outputs, graph inputs or initializers of the top-level graph',
      });
    }
    const type = value.type;
    if (type.kind === 'tensor' && !isFloatDType(type.dtype)) {
      throw calibrationError({ reason: `tensor '${name}' to calibrate is ${type.dtype}, not a float tensor`, location: value.producer ? { node: value.producer.name, op: value.producer.op } : undefined });
    }
    if (value.constant) origins.set(name, { kind: 'constant', value, tensor: value.constant });
    else if (model.graph.inputs.includes(value)) origins.set(name, { kind: 'input', value });
    else origins.set(name, { kind: 'output', value });
  }
  return origins;
}

export class ActivationCollector {
  private constructor(
    private readonly runner: OrtRunner,
    private readonly file: string,
    private readonly folder: string,
    private readonly origins: Map<string, TensorOrigin>,
    private readonly fetches: readonly string[],
  ) {}

  /** Writes `model` with `tensors` as extra outputs and opens one ORT session for it (the model itself is left as it was). */
  static async open(model: Model, tensors: readonly string[]): Promise<ActivationCollector> {
    const origins = resolveTensors(model, tensors);
    const extra = [...origins.values()].filter((o) => o.kind === 'output').map((o) => o.value);
    // Registered with ir's temporary-path registry: removed on SIGINT/SIGTERM/exit too (and, if a
    // process was killed, by the next calibration's stale-temporary sweep).
    const folder = claimTemporaryPath(join(tmpdir(), 'modelpass-calibration'));
    mkdirSync(folder);
    const file = join(folder, 'model.onnx');
    const runner = new OrtRunner({ maxSessions: 1, sessionOptions: CALIBRATION_SESSION_OPTIONS });
    const original = [...model.graph.outputs];
    try {
      for (const value of extra) if (!original.includes(value)) model.graph.addOutput(value);
      writeOnnx(model, file);
    } catch (error) {
      rmSync(folder, { recursive: true, force: true });
      releaseTemporaryPath(folder);
      throw error;
    } finally {
      model.graph.setOutputs(original);
    }
    const collector = new ActivationCollector(runner, file, folder, origins, extra.map((v) => v.name));
    try {
      await runner.describe(file);
    } catch (error) {
      await collector.dispose();
      throw error;
    }
    return collector;
  }

  /** The requested tensors' values for one batch of feeds (`only`: just these of them). */
  async run(feeds: ReadonlyMap<string, Tensor>, only?: ReadonlySet<string>): Promise<Map<string, Tensor>> {
    const fetches = only ? this.fetches.filter((name) => only.has(name)) : this.fetches;
    const outputs = fetches.length > 0 ? await this.runner.run(this.file, feeds, { outputs: fetches }) : new Map<string, Tensor>();
    const values = new Map<string, Tensor>();
    for (const [name, origin] of this.origins) {
      if (only && !only.has(name)) continue;
      const tensor = origin.kind === 'output' ? outputs.get(name) : origin.kind === 'input' ? feeds.get(name) : origin.tensor;
      if (!tensor) throw calibrationError({ reason: `no value for tensor '${name}' in this calibration batch` });
      if (!isFloatDType(tensor.dtype)) throw calibrationError({ reason: `tensor '${name}' to calibrate is ${tensor.dtype}, not a float tensor` });
      values.set(name, tensor);
    }
    return values;
  }

  /** Releases the session and removes the temporary model. */
  async dispose(): Promise<void> {
    try {
      await this.runner.dispose();
    } finally {
      rmSync(this.folder, { recursive: true, force: true });
      releaseTemporaryPath(this.folder);
    }
  }
}
