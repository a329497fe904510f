/** The handlers a worker runs unless told otherwise. */
import { calibrateShard } from './handlers/calibrate-shard.js';
import { convertModel, DEFAULT_CONVERT_HOOKS, type ConvertHooks } from './handlers/convert-model.js';
import { evalShard } from './handlers/eval-shard.js';
import { trainRound } from './handlers/train-round.js';
import type { JobHandlers } from './job-handlers.js';

export function defaultJobHandlers(convert: ConvertHooks = DEFAULT_CONVERT_HOOKS): JobHandlers {
  return {
    'calibrate-shard': calibrateShard,
    'eval-shard': evalShard,
    convert: (job) => convertModel(job, convert),
    'train-round': trainRound,
  };
}
