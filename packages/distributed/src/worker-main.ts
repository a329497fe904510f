/**
 * A worker process with the default handlers (ONNX in and out; transforms' and quantize's passes):
 * `node worker-main.js --redis URL [--queue NAME] [--concurrency N] [--lock-duration MS]
 * [--stalled-interval MS]`. The CLI's `modelpass worker` is the same with every built-in pass.
 * Prints `worker ready` once listening, one line per job; SIGTERM/SIGINT finish running jobs first.
 */
import { parseArgs } from 'node:util';
import { startWorker } from './worker.js';
import { messageOf } from './errors.js';
import { untilStopSignal } from './stop-signals.js';

function integer(text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1) throw new Error(`--${name} takes a positive integer, got '${text}'`);
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      redis: { type: 'string' },
      queue: { type: 'string' },
      concurrency: { type: 'string' },
      'lock-duration': { type: 'string' },
      'stalled-interval': { type: 'string' },
    },
  });
  if (!values.redis) throw new Error('worker-main needs --redis redis://host:port');
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const worker = await startWorker({
    redis: values.redis,
    ...(values.queue ? { queue: values.queue } : {}),
    ...(values.concurrency ? { concurrency: integer(values.concurrency, 'concurrency')! } : {}),
    ...(values['lock-duration'] ? { lockDurationMs: integer(values['lock-duration'], 'lock-duration')! } : {}),
    ...(values['stalled-interval'] ? { stalledIntervalMs: integer(values['stalled-interval'], 'stalled-interval')! } : {}),
    log,
  });
  log('worker ready');
  await untilStopSignal(log);
  await worker.close();
  process.exit(0);
}

main().catch((error) => {
  process.stderr.write(`modelpass worker: ${messageOf(error)}\n`);
  process.exit(1);
});
