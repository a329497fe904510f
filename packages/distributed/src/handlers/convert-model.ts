/**
 * `convert`: one model through a pipeline to its output file. Failures are results, not job
 * failures: the batch summary needs every model's outcome with the error's message. Reading,
 * the environment (which passes exist) and writing are hooks, so the CLI's worker converts with
 * its own formats and plugins; the defaults read and write ONNX with transforms' and quantize's passes.
 */
import { performance } from 'node:perf_hooks';
import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { formatDiagnostic, type Model } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, type VerifyEachOptions } from '@modelpass/pass-manager';
import { quantizePasses } from '@modelpass/quantize';
import { transformPasses } from '@modelpass/transforms';
import { messageOf } from '../errors.js';
import type { ConvertJob, ConvertReadOptions, ConvertResult } from '../job-types.js';

export interface ConvertHooks {
  /** The passes a pipeline may name (called once per job: a pipeline must not see another's state). */
  readonly environment: () => PassEnvironment | Promise<PassEnvironment>;
  /** Reads the input; `options` are the job's (input shapes and dtypes), absent when none were given. */
  readonly read: (path: string, options?: ConvertReadOptions) => Model | Promise<Model>;
  /** Writes whole or nothing (temporary file, then rename). */
  readonly write: (model: Model, path: string) => void | Promise<void>;
  /** verify-each's options (default: verify-each with its defaults), e.g. the CLI's `knownValues` for the input check. */
  readonly verifyEach?: VerifyEachOptions;
  /**
   * The error to report for a failed conversion (default: `error` itself): the CLI names the node a model's own shape
   * computation makes impossible instead of the pass that made it visible, as `modelpass convert` does.
   */
  readonly explainFailure?: (error: unknown, job: ConvertJob) => unknown | Promise<unknown>;
}

/** transforms' and quantize's passes on the canonical op set. */
export function defaultConvertEnvironment(): PassEnvironment {
  const environment = new PassEnvironment({ ops: createOpRegistry() });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(quantizePasses, '@modelpass/quantize');
  return environment;
}

export const DEFAULT_CONVERT_HOOKS: ConvertHooks = {
  environment: defaultConvertEnvironment,
  read: (path, options) => {
    // ONNX records its inputs; setting them is the CLI's read hook's work (it checks them against the file).
    if (options && Object.keys({ ...options.inputShapes, ...options.inputDtypes }).length > 0) {
      throw new Error(`input shapes or dtypes for '${path}' need a read hook that applies them (modelpass batch and modelpass worker have one); the default hooks read ONNX as it is`);
    }
    return readOnnx(path);
  },
  write: (model, path) => writeOnnx(model, path),
};

export async function convertModel(job: ConvertJob, hooks: ConvertHooks = DEFAULT_CONVERT_HOOKS): Promise<ConvertResult> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    const warnings: string[] = [];
    const manager = new PassManager({
      environment: await hooks.environment(),
      ...(hooks.verifyEach ? { verifyEach: hooks.verifyEach } : {}),
      onDiagnostic: (d) => {
        if (d.severity === 'warning' || d.severity === 'error') warnings.push(formatDiagnostic(d));
      },
    });
    const pipeline = job.pipeline.trim() === '' ? undefined : manager.parse(job.pipeline);
    // Workers on other machines see the coordinator's paths only through shared storage: say so.
    if (!existsSync(job.input)) return { ok: false, error: `input '${job.input}' does not exist on worker ${hostname()} (pid ${process.pid}): models must be at the same path on every worker's machine (shared storage)`, seconds: seconds() };
    if (!existsSync(dirname(job.output))) return { ok: false, error: `output folder '${dirname(job.output)}' does not exist on worker ${hostname()} (pid ${process.pid}): the -o folder must be at the same path on every worker's machine (shared storage)`, seconds: seconds() };
    const model = await (job.read ? hooks.read(job.input, job.read) : hooks.read(job.input));
    const nodesBefore = model.graph.nodeList().length;
    if (pipeline) await manager.run(model, pipeline);
    await hooks.write(model, job.output);
    return { ok: true, output: job.output, bytes: statSync(job.output).size, nodesBefore, nodesAfter: model.graph.nodeList().length, warnings, seconds: seconds() };
  } catch (error) {
    let reported = error;
    try {
      if (hooks.explainFailure) reported = await hooks.explainFailure(error, job);
    } catch {
      // An explanation that fails leaves the error as it was.
    }
    return { ok: false, error: messageOf(reported), seconds: seconds() };
  }
}
