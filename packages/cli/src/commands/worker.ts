import { startWorker, defaultJobHandlers, untilStopSignal } from '@modelpass/distributed';
import { flagList, flagString } from '../args.js';
import type { Command } from '../command.js';
import { cliConvertHooks, positiveIntegerFlag, redisUrlFlag } from '../distributed-flags.js';
import { UsageError } from '../usage-error.js';

export const workerCommand: Command = {
  name: 'worker',
  usage: 'modelpass worker --redis URL [--concurrency N] [--queue NAME] [--plugin P]...',
  summary:
    'Run modelpass jobs from a BullMQ queue on Redis: calibration and evaluation shards and model conversions sent by ' +
    'convert/eval/batch --redis. Runs until SIGTERM or Ctrl-C (running jobs finish first). A worker that dies mid-job ' +
    'leaves its job to another worker once the job lock expires.',
  flags: {
    redis: { type: 'string', help: 'the Redis server, e.g. redis://127.0.0.1:6379', valueName: 'URL' },
    queue: { type: 'string', help: 'queue to take jobs from (default modelpass)', valueName: 'NAME' },
    concurrency: { type: 'string', help: 'jobs run at once in this process (default 1; ONNX Runtime already uses every core)', valueName: 'N' },
    plugin: { type: 'list', help: 'load a plugin for convert jobs (npm package name or path)', valueName: 'P' },
    'lock-duration': { type: 'string', help: "a running job's lock in ms, renewed at half of it (default 30000); a dead worker's job returns after it expires", valueName: 'MS' },
    'stalled-interval': { type: 'string', help: 'how often to look for jobs of dead workers, in ms (default 30000)', valueName: 'MS' },
  },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError(`worker takes no positional arguments, got '${args.positionals[0]}'`);
    const redis = await redisUrlFlag(args);
    if (redis === undefined) throw new UsageError('worker needs the Redis server: --redis redis://host:port');
    const concurrency = positiveIntegerFlag(args, 'concurrency');
    const lock = positiveIntegerFlag(args, 'lock-duration');
    const stalled = positiveIntegerFlag(args, 'stalled-interval');
    const queue = flagString(args, 'queue');
    const worker = await startWorker({
      redis,
      handlers: defaultJobHandlers(cliConvertHooks(flagList(args, 'plugin'), io)),
      ...(queue !== undefined ? { queue } : {}),
      ...(concurrency !== undefined ? { concurrency } : {}),
      ...(lock !== undefined ? { lockDurationMs: lock } : {}),
      ...(stalled !== undefined ? { stalledIntervalMs: stalled } : {}),
      log: (line) => io.stderr(`modelpass worker: ${line}`),
    });
    io.stderr(`modelpass worker: ready, queue '${queue ?? 'modelpass'}' at ${redis} (pid ${process.pid})`);
    await untilStopSignal((line) => io.stderr(`modelpass worker: ${line}`));
    await worker.close();
    return 0;
  },
};
