/**
 * The `activation` criterion: the mean |activation| of each channel on calibration data, summed over
 * every value that carries the channel's group (a Conv output, its BN, its ReLU, its pool, …), run in
 * ONNX Runtime with those values as extra outputs.
 */
import type { Model } from '@modelpass/ir';
import { OrtRunner } from '@modelpass/runtime';
import { addAlongLayout, type GroupScores } from './channel-scores.js';
import type { ChannelAnalysis } from './dependency-groups.js';
import { encodeWithOutputs, forEachBatch, loadCalibrationData, type CalibrationOptions } from './calibration.js';

export async function activationScores(model: Model, analysis: ChannelAnalysis, calibration: CalibrationOptions): Promise<GroupScores> {
  const data = loadCalibrationData(model, calibration);
  const values = [...analysis.tracked.keys()].filter((value) => analysis.tracked.get(value)!.layout.some((piece) => piece.group.prunable));
  const sums = new Map<string, { sum: Float64Array; count: number }>();
  const runner = new OrtRunner({ maxSessions: 1 });
  try {
    await forEachBatch(runner, encodeWithOutputs(model, values), data, values.map((value) => value.name), (outputs) => {
      for (const value of values) {
        const tensor = outputs.get(value.name)!;
        const axis = analysis.tracked.get(value)!.axis;
        const size = tensor.shape[axis]!;
        const inner = tensor.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
        const elements = tensor.dtype === 'float32' ? (tensor.data() as Float32Array) : tensor.toNumbers();
        const entry = sums.get(value.name) ?? { sum: new Float64Array(size), count: 0 };
        for (let i = 0; i < elements.length; i++) entry.sum[Math.floor(i / inner) % size] += Math.abs(elements[i]!);
        entry.count += size > 0 ? elements.length / size : 0;
        sums.set(value.name, entry);
      }
    });
  } finally {
    await runner.dispose();
  }
  const scores: GroupScores = new Map();
  for (const value of values) {
    const entry = sums.get(value.name);
    if (!entry || entry.count === 0) continue;
    addAlongLayout(scores, analysis.tracked.get(value)!.layout, Array.from(entry.sum, (s) => s / entry.count));
  }
  return scores;
}
