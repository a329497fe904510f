/**
 * `calibrate-shard`: samples [start, end) of a calibration run, folded into quantize's mergeable
 * statistics. The batches are the ones a single-process run reads (the same source, batch size and
 * random seeds per batch index); the batches before `start` are read and skipped, never run.
 */
import { performance } from 'node:perf_hooks';
import type { Tensor } from '@modelpass/ir';
import { readOnnx } from '@modelpass/onnx';
import { ActivationCollector, createStatistics, openCalibrationData, statisticsToJSON, type TensorStatistics } from '@modelpass/quantize';
import { distributedError } from '../errors.js';
import type { CalibrateShardJob, CalibrateShardResult } from '../job-types.js';

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
  const model = readOnnx(job.model);
  const names = [...new Set(job.tensors)];
  const statistics = new Map<string, TensorStatistics>(names.map((name) => [name, createStatistics(job.calibration)]));
  const data = openCalibrationData(model, { ...job.calibration, samples: job.end, warn: () => {} });
  read += lap();
  const collector = await ActivationCollector.open(model, names);
  compute += lap();
  let seen = 0;
  let counted = 0;
  try {
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
  } finally {
    await collector.dispose();
  }
  if (counted === 0) throw distributedError({ reason: `calibration data '${data.description}' holds no samples in [${job.start}, ${job.end})` });
  return { statistics: statisticsToJSON({ method: job.calibration.method, samples: counted, tensors: statistics }), samples: counted, phases: { read, compute, write: 0 } };
}
