/**
 * `calibrate-shard`: samples [start, end) of a calibration run, folded into quantize's mergeable
 * statistics. The batches are the ones a single-process run reads (the same source, batch size and
 * random seeds per batch index). A dataset spec starts at `start` (plain IDX and NumPy files seek,
 * gzipped IDX decompresses through); random inputs and folders make or read the batches before
 * `start` and skip them, never run. The model and its ORT session stay open for the next shard of
 * the same model file (`calibrationSessions`).
 */
import { performance } from 'node:perf_hooks';
import type { Tensor } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { ActivationCollector, createStatistics, openCalibrationData, statisticsToJSON, type TensorStatistics } from '@modelpass/quantize';
import { DATASET_SCHEMES, countDatasetReads } from '@modelpass/runtime';
import { distributedError } from '../errors.js';
import type { CalibrateShardJob, CalibrateShardResult } from '../job-types.js';
import { SessionCache } from '../session-cache.js';
import { calibrationSessions, type CalibrationSession } from '../worker-sessions.js';

function isDatasetSpec(dataset: string | undefined): boolean {
  const colon = dataset?.indexOf(':') ?? -1;
  return colon > 0 && DATASET_SCHEMES.has(dataset!.slice(0, colon));
}

/** A tensor's elements as numbers (a view for aligned float32, decoded otherwise). */
function floatValues(tensor: Tensor): ArrayLike<number> {
  if (tensor.dtype === 'float32') {
    const bytes = tensor.bytes();
    if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, tensor.size);
  }
  return tensor.data() as ArrayLike<number>;
}

export async function calibrateShard(job: CalibrateShardJob): Promise<CalibrateShardResult> {
  if (!(Number.isInteger(job.start) && Number.isInteger(job.end) && job.start >= 0 && job.end > job.start)) {
    throw distributedError({ reason: `calibrate-shard job has samples [${job.start}, ${job.end})`, expected: 'integers 0 ≤ start < end' });
  }
  let read = 0;
  let compute = 0;
  let clock = performance.now();
  const lap = () => {
    const now = performance.now();
    const seconds = (now - clock) / 1000;
    clock = now;
    return seconds;
  };
  const names = [...new Set(job.tensors)];
  const open = async (): Promise<CalibrationSession> => {
    const model = readOnnx(job.model);
    return { model, collector: await ActivationCollector.open(model, names) };
  };
  const seeks = isDatasetSpec(job.calibration.dataset);
  const statistics = new Map<string, TensorStatistics>(names.map((name) => [name, createStatistics(job.calibration)]));
  let counted = 0;
  let description = '';
  const { reads } = await countDatasetReads(() => calibrationSessions.use(SessionCache.fileKey(job.model, names.join('\0')), open, async ({ model, collector }) => {
    const data = openCalibrationData(model, { ...job.calibration, samples: job.end, ...(seeks ? { firstSample: job.start } : {}), warn: () => {} });
    description = data.description;
    compute += lap();
    let seen = seeks ? job.start : 0;
    for await (const batch of data) {
      read += lap();
      const first = seen;
      seen += batch.samples;
      if (seen <= job.start) continue;
      if (first < job.start) {
        throw distributedError({
          reason: `calibration data '${data.description}' has a batch of samples [${first}, ${seen}) across the shard start ${job.start}`,
          hint: 'shards must start on a batch boundary: make the shard size a multiple of the batch size',
        });
      }
      const values = await collector.run(batch.feeds);
      for (const [name, tensor] of values) statistics.get(name)!.add(floatValues(tensor));
      counted += batch.samples;
      compute += lap();
      if (seen >= job.end) break;
    }
  }));
  if (counted === 0) throw distributedError({ reason: `calibration data '${description}' holds no samples in [${job.start}, ${job.end})` });
  return { statistics: statisticsToJSON({ method: job.calibration.method, samples: counted, tensors: statistics }), samples: counted, phases: { read, compute, write: 0 }, reads };
}
