/** `eval --redis URL` / `eval --shards N`: the evaluation in shards, merged by counts. */
import { evaluateDistributed } from '@modelpass/distributed';
import { readOnnx } from '@modelpass/onnx';
import type { AccuracyResult, Normalization, SampleLayout } from '@modelpass/runtime';
import type { ParsedArgs } from './args.js';
import type { CliIO } from './cli-io.js';
import { distributedFromFlags } from './distributed-flags.js';
import { UsageError } from './usage-error.js';

export interface ShardedEvalOptions {
  readonly normalization: Normalization;
  readonly layout: SampleLayout;
  readonly limit?: number | undefined;
  readonly batchSize?: number | undefined;
  readonly sampleShape?: readonly number[] | undefined;
  readonly inputName?: string | undefined;
  readonly outputName?: string | undefined;
  readonly engine?: string | undefined;
  readonly onProgress?: (done: number, total: number) => void;
}

/** The sharded evaluation when --redis or --shards is given, else undefined. */
export async function shardedAccuracy(args: ParsedArgs, io: CliIO, model: unknown, dataset: string, options: ShardedEvalOptions): Promise<AccuracyResult | undefined> {
  const settings = await distributedFromFlags(args, io);
  if (!settings) return undefined;
  try {
    if (typeof model !== 'string' || !model.toLowerCase().endsWith('.onnx')) throw new UsageError('--redis/--shards evaluate .onnx models');
    if (options.engine !== undefined && options.engine !== 'ort' && options.engine !== 'reference') throw new UsageError(`--redis/--shards evaluate with --engine ort or reference, not '${options.engine}'`);
    const result = await evaluateDistributed(settings.backend, model, dataset, {
      cwd: io.cwd,
      shards: settings.shards,
      normalization: options.normalization,
      layout: options.layout,
      ...(options.limit !== undefined ? { limit: options.limit } : {}),
      ...(options.batchSize !== undefined ? { batchSize: options.batchSize } : {}),
      ...(options.sampleShape ? { sampleShape: options.sampleShape } : {}),
      ...(options.inputName ? { inputName: options.inputName } : {}),
      ...(options.outputName ? { outputName: options.outputName } : {}),
      ...(options.engine ? { engine: options.engine as 'ort' | 'reference' } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    const input = readOnnx(model).graph.inputs.find((i) => i.constant === undefined);
    const shape = input?.type.kind === 'tensor' ? input.type.shape?.slice(1) : undefined;
    io.stderr(`modelpass eval: ${result.shards.length} shards on ${settings.backend.description}`);
    return {
      accuracy: result.accuracy,
      correct: result.correct,
      total: result.total,
      engine: result.engine,
      batchSize: options.batchSize ?? 256,
      sampleShape: options.sampleShape ?? (shape?.every((d) => typeof d === 'number') ? (shape as number[]) : []),
      perClass: result.perClass,
    };
  } finally {
    await settings.backend.close();
  }
}
