/**
 * `--run-time-limit SECONDS` for the commands that run models on ONNX Runtime or the TFLite runtime (compare,
 * diff, eval): one run that outlives it stops the process with a message naming the engine and the model (QA
 * s16: compare hung for good in ONNX Runtime on a Loop of 1e12 iterations). See `setRunTimeLimit` in
 * @modelpass/runtime for why the process is stopped rather than the run.
 */
import { setRunTimeLimit } from '@modelpass/runtime';
import { flagString, type FlagSpec, type ParsedArgs } from './args.js';
import { UsageError } from './usage-error.js';

/** Seconds one engine run may take by default. */
export const DEFAULT_RUN_TIME_LIMIT_S = 300;

export const runTimeLimitFlag: FlagSpec = {
  type: 'string',
  help: `seconds one model run (ONNX Runtime, TFLite, the reference interpreter) may take before the process is stopped with a message, exit status 137 (default ${DEFAULT_RUN_TIME_LIMIT_S}; 0: no limit)`,
  valueName: 'SECONDS',
};

/** Reads --run-time-limit (a number of seconds >= 0) and holds every engine run of this process to it. */
export function applyRunTimeLimit(args: ParsedArgs): void {
  const text = flagString(args, 'run-time-limit');
  const seconds = text === undefined ? DEFAULT_RUN_TIME_LIMIT_S : Number(text);
  if (text !== undefined && (text.trim() === '' || !Number.isFinite(seconds) || seconds < 0)) {
    throw new UsageError(`--run-time-limit takes a number of seconds >= 0 (0: no limit), got '${text}'`);
  }
  setRunTimeLimit({ seconds, hint: `raise the limit with --run-time-limit <seconds> (now ${seconds}), or 0 for none, if the model only runs long` });
}
