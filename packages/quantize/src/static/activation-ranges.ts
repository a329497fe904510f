/**
 * Activation ranges for quantize-static from one streaming calibration run. For `entropy`, the KL
 * search must compare against as many levels as the tensor will really get: a non-negative tensor
 * (a folded Relu's output, a pool of one) spends all of an asymmetric 8-bit type's 256 levels on
 * [0, T], a signed one half of them on each side of zero (the search runs on |x|), and symmetric
 * activations have 128 per side. (Those figures were first measured before the zero-bin fix of the
 * entropy search; after it, fashion-cnn keeps 89.45% with entropy, see the README.)
 */
import type { Model } from '@modelpass/ir';
import { chooseRanges } from '../calibration/calibrate.js';
import { currentStatisticsCollector } from '../calibration/statistics-collector.js';
import { HistogramStatistics } from '../calibration/histogram-statistics.js';
import { knownOutputRanges } from '../calibration/known-ranges.js';
import type { CalibrationOptions, TensorRange } from '../calibration/options.js';
import type { ActivationScheme } from './activation-params.js';

const LEVELS: Readonly<Record<ActivationScheme['dtype'], number>> = { uint8: 256, int8: 256, int16: 65536 };

export async function calibrateActivations(
  model: Model,
  tensors: readonly string[],
  calibration: CalibrationOptions,
  scheme: ActivationScheme,
): Promise<Map<string, TensorRange>> {
  // Outputs whose range the op fixes (Softmax: [0, 1], as ORT's quantizer) are not calibrated.
  const known = knownOutputRanges(model, tensors);
  const ranges = await calibratedRanges(model, tensors.filter((t) => !known.has(t)), calibration, scheme);
  for (const [name, range] of known) ranges.set(name, range);
  return ranges;
}

async function calibratedRanges(
  model: Model,
  tensors: readonly string[],
  calibration: CalibrationOptions,
  scheme: ActivationScheme,
): Promise<Map<string, TensorRange>> {
  const statistics = await currentStatisticsCollector()(model, tensors, calibration);
  if (calibration.method !== 'entropy' || calibration.quantizedBins !== undefined) return chooseRanges(statistics, calibration);
  const levels = LEVELS[scheme.dtype];
  const perSide = chooseRanges(statistics, { ...calibration, quantizedBins: levels / 2 });
  if (scheme.symmetric) return perSide;
  const whole = chooseRanges(statistics, { ...calibration, quantizedBins: levels });
  const ranges = new Map<string, TensorRange>();
  for (const [name, tensor] of statistics.tensors) {
    const nonNegative = tensor instanceof HistogramStatistics && tensor.extremes.range().min >= 0;
    ranges.set(name, (nonNegative ? whole : perSide).get(name)!);
  }
  return ranges;
}
