// Distributed calibration, evaluation and batch conversion: jobs in-process or on BullMQ/Redis workers.
export type {
  CalibrateShardJob,
  CalibrateShardResult,
  DistillationTargets,
  ConvertJob,
  ConvertReadOptions,
  ConvertResult,
  EvalShardJob,
  EvalShardResult,
  JobEnvelope,
  JobKind,
  JobKinds,
  JobReceipt,
  JobRequest,
  PhaseSeconds,
  ShardCalibrationOptions,
  TrainRoundJob,
  TrainRoundResult,
} from './job-types.js';
export { JOB_KINDS } from './job-types.js';
export { createRunFolder, defaultSharedFolder, type JobBackend, type JobOutcome, type RunJobsOptions } from './backend.js';
export { EmbeddedBackend, type EmbeddedBackendOptions } from './embedded-backend.js';
export { BullmqBackend, DEFAULT_QUEUE, type BullmqBackendOptions } from './bullmq-backend.js';
export { startWorker, type RunningWorker, type WorkerOptions } from './worker.js';
export { runJob, checkEnvelope, type JobHandler, type JobHandlers } from './job-handlers.js';
export { defaultJobHandlers } from './default-handlers.js';
export { calibrateShard } from './handlers/calibrate-shard.js';
export { evalShard, sliceDataset } from './handlers/eval-shard.js';
export { convertModel, defaultConvertEnvironment, DEFAULT_CONVERT_HOOKS, type ConvertHooks } from './handlers/convert-model.js';
export { planShards, type SampleRange, type ShardPlanOptions } from './shards.js';
export { distributedStatisticsCollector, type DistributedCalibrationOptions, type CalibrationRunTiming, type ShardTiming } from './distributed-calibration.js';
export { evaluateDistributed, type DistributedEvalOptions, type DistributedEvalResult } from './distributed-eval.js';
export { trainDataParallel, averageWeights, type DataParallelTrainingOptions, type DataParallelTrainingResult, type RoundRecord } from './data-parallel-training.js';
export { trainRound, roundSeed } from './handlers/train-round.js';
export { batchOutputs, convertBatch, type BatchItem, type BatchOutcome } from './batch-convert.js';
export { parseRedisUrl, probeRedis, type RedisConnection } from './redis-connection.js';
export { distributedError } from './errors.js';
export { withStatisticsCollector } from '@modelpass/quantize';
export { SessionCache, type SessionCacheStats } from './session-cache.js';
export { releaseWorkerSessions, workerSessionStats, CACHED_CALIBRATION_MODELS, CACHED_EVALUATION_MODELS, type WorkerSessionStats } from './worker-sessions.js';
export { distributedTrainingRunner, unsupportedTrainingOptions, type DistributedTrainingOptions } from './distributed-training-runner.js';
export { withTrainingRunner } from '@modelpass/train';
export { lockOutputFolder, BATCH_LOCK_FILE, type FolderLock } from './output-folder-lock.js';
export { untilStopSignal } from './stop-signals.js';
