/**
 * `--redis URL`, `--shards N`, `--queue NAME`, `--shared DIR`: where `convert`, `eval` and `batch`
 * send their sharded work. `--redis` sends it to `modelpass worker` processes through BullMQ;
 * `--shards` alone runs the same shards in this process (the embedded backend).
 */
import { resolve } from 'node:path';
import { ModelpassError, type DType, type Model } from '@modelpass/ir';
import { passSteps, type PassStep, type Pipeline } from '@modelpass/pass-manager';
// @modelpass/distributed (BullMQ, ioredis's client, the job handlers) is imported only when --redis or --shards asks for it:
// a plain `convert` or `eval` never loads it.
import type { ConvertHooks, JobBackend } from '@modelpass/distributed';
import { flagList, flagString, type FlagSpec, type ParsedArgs } from './args.js';
import type { CliIO } from './cli-io.js';
import { environmentWithPlugins } from './environment.js';
import { formatFor } from './formats.js';
import { checkInputDtypes } from './input-dtypes.js';
import { applyInputShapes } from './input-shapes.js';
import { writeModelOutput } from './model-files.js';
import { blameModelShapeComputation } from './model-shape-computation.js';
import { UsageError } from './usage-error.js';

export const distributedFlags: Readonly<Record<string, FlagSpec>> = {
  redis: { type: 'string', help: 'send the sharded work to `modelpass worker` processes through this Redis server (BullMQ), e.g. redis://127.0.0.1:6379', valueName: 'URL' },
  shards: { type: 'string', help: 'split the work into N shards (default 4 with --redis; without --redis the shards run in this process)', valueName: 'N' },
  queue: { type: 'string', help: 'with --redis: the BullMQ queue the workers listen on (default modelpass)', valueName: 'NAME' },
  shared: { type: 'string', help: 'with --redis: a folder the workers see at the same path, for model copies and results (default: the temp folder, fine on one machine)', valueName: 'DIR' },
};

export function positiveIntegerFlag(args: ParsedArgs, name: string): number | undefined {
  const text = flagString(args, name);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) throw new UsageError(`--${name} takes a positive integer, got '${text}'`);
  return Number(text);
}

/** `--redis URL`, checked for its syntax up front: a malformed URL is a usage error (exit 2), before any work or connection. */
export async function redisUrlFlag(args: ParsedArgs): Promise<string | undefined> {
  const url = flagString(args, 'redis');
  if (url === undefined) return undefined;
  const { parseRedisUrl } = await import('@modelpass/distributed');
  try {
    parseRedisUrl(url);
  } catch (error) {
    if (ModelpassError.is(error)) throw new UsageError(`--redis: ${error.message}`);
    throw error;
  }
  return url;
}

export interface DistributedSettings {
  readonly backend: JobBackend;
  readonly shards: number;
  readonly sharedFolder: string;
}

/** Converts with the CLI's formats (by extension) and its passes plus `--plugin`s. */
export function cliConvertHooks(plugins: readonly string[], io: CliIO): ConvertHooks {
  // As convert reads: TorchScript gets shapes and dtypes while importing, every format has them checked and set after.
  const read: ConvertHooks['read'] = async (path, options) => {
    const format = formatFor(path, undefined, 'input');
    const shapes = new Map(Object.entries(options?.inputShapes ?? {}));
    const dtypes = new Map(Object.entries(options?.inputDtypes ?? {}) as [string, DType][]);
    const model = await format.read(path, { ...(shapes.size > 0 ? { inputShapes: shapes } : {}), ...(dtypes.size > 0 ? { inputDtypes: dtypes } : {}) });
    if (dtypes.size > 0 && format.name !== 'torchscript') checkInputDtypes(model, dtypes, path);
    if (shapes.size > 0) applyInputShapes(model, shapes, path);
    return model;
  };
  return {
    environment: () => environmentWithPlugins(plugins, io),
    read,
    write: (model: Model, path) => writeModelOutput(formatFor(path, undefined, 'output'), model, path),
    // As convert verifies (its registry's knownValuesOf: the input check sees computed shapes) and reports: a failure the
    // model's own shape computation causes names its node rather than the pass that folded the computation.
    explainFailure: (error, job) => blameModelShapeComputation(error, async () => await read(job.input, job.read)),
  };
}

/**
 * `--redis`/`--shards` on convert shard what a pipeline's passes hand to the backends: quantize-static's calibration,
 * and with --redis the training of train and distill. Given to a pipeline that runs none of them (or to no pipeline)
 * they have no effect, and, as for --io-layout, --latency or --queue without what they act on, that is a usage error
 * (exit 2) before the model is read — s17: `--shards 4 -p simplify` was accepted silently. A plugin's pass may
 * calibrate through quantize's `currentStatisticsCollector`, so a pipeline with one is let through.
 */
export function checkDistributedFlagsApply(args: ParsedArgs, pipeline: Pipeline | undefined): void {
  const given = (['redis', 'shards'] as const).filter((name) => flagString(args, name) !== undefined);
  if (given.length === 0) return;
  const redis = given.includes('redis');
  const sharded = (step: PassStep): boolean =>
    step.pass.name === 'quantize-static' || (redis && (step.pass.name === 'train' || step.pass.name === 'distill')) || step.owner.plugin !== undefined;
  if (pipeline && [...passSteps(pipeline.steps)].some(sharded)) return;
  const flags = given.map((name) => `--${name}`).join(' and ');
  throw new UsageError(
    `${flags} ${given.length > 1 ? 'have' : 'has'} no effect here: convert shards the calibration of quantize-static` +
      `${redis ? ' and the training of train and distill' : ' (with --redis also the training of train and distill)'}, and ` +
      `${pipeline ? `the pipeline runs none of them` : 'there is no pipeline'}; drop ${flags} or add such a pass to --pipeline`,
  );
}

/** The backend the flags ask for, or undefined when neither --redis nor --shards is given. */
export async function distributedFromFlags(args: ParsedArgs, io: CliIO): Promise<DistributedSettings | undefined> {
  const redis = await redisUrlFlag(args);
  const shards = positiveIntegerFlag(args, 'shards');
  const sharedArg = flagString(args, 'shared');
  if (redis === undefined) {
    if (flagString(args, 'queue') !== undefined || sharedArg !== undefined) throw new UsageError('--queue and --shared go with --redis URL');
    if (shards === undefined) return undefined;
  }
  const { BullmqBackend, EmbeddedBackend, defaultJobHandlers, defaultSharedFolder } = await import('@modelpass/distributed');
  const sharedFolder = sharedArg === undefined ? defaultSharedFolder() : resolve(io.cwd, sharedArg);
  const backend =
    redis === undefined
      ? new EmbeddedBackend({ handlers: defaultJobHandlers(cliConvertHooks(flagList(args, 'plugin'), io)), sharedFolder })
      : await BullmqBackend.connect({ redis, sharedFolder, ...(flagString(args, 'queue') !== undefined ? { queue: flagString(args, 'queue')! } : {}) });
  return { backend, shards: shards ?? 4, sharedFolder };
}

/**
 * Runs `body` (a pipeline) with quantize-static's calibration sharded as the flags ask, and with
 * --redis the `train` and `distill` passes trained data-parallel on the workers (`--shards` data shards, default 2
 * for training: weights averaged each epoch); without --redis/--shards it just runs it.
 */
export async function withDistributedCalibration<T>(args: ParsedArgs, io: CliIO, body: () => Promise<T>): Promise<T> {
  const settings = await distributedFromFlags(args, io);
  if (!settings) return body();
  const { distributedStatisticsCollector, distributedTrainingRunner, withStatisticsCollector, withTrainingRunner } = await import('@modelpass/distributed');
  try {
    const collector = distributedStatisticsCollector({ backend: settings.backend, shards: settings.shards, sharedFolder: settings.sharedFolder });
    if (flagString(args, 'redis') !== undefined) {
      const runner = distributedTrainingRunner({
        backend: settings.backend,
        shards: positiveIntegerFlag(args, 'shards') ?? 2,
        sharedFolder: settings.sharedFolder,
        cwd: io.cwd,
        onRound: (round, pass) => io.stderr(`${pass}: round ${round.round} on ${settings.backend.description}: mean loss ${round.meanLosses.map((l) => l.toFixed(4)).join(', ')} (${round.seconds.toFixed(1)} s) -> ${round.checkpoint}`),
      });
      return await withTrainingRunner(runner, () => withStatisticsCollector(collector, body));
    }
    return await withStatisticsCollector(collector, body);
  } finally {
    await settings.backend.close();
  }
}
