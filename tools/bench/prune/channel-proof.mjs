// The group proof of packages/prune/src/__tests__/channels-equivalence.test.ts, on a real model
// file: choose the channels every prunable group will lose (seeded, through the pass's own
// chooseKeptChannels), make them provably irrelevant (zero every weight that reads them: consumer
// input slices and grouped-conv input blocks; shrink the producer rows that make them by 1e-6 so
// that prune-channels' L1 criterion picks exactly them), and write that model. The caller prunes it
// with the real CLI: ONNX Runtime must then give the same outputs before and after. A missed
// dependency (residual partner, SE gate, depthwise/grouped conv, Concat offset) changes them.
import { Tensor } from '@modelpass/ir';
import { inferShapes } from '@modelpass/ops';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { chooseKeptChannels, keptIndices, prepareChannelAnalysis } from '@modelpass/prune';

function seeded(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function scaled(tensor, axis, keep, factor) {
  const values = tensor.toNumbers();
  const dim = tensor.shape[axis];
  const inner = tensor.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < values.length; i++) if (!keep.has(Math.floor(i / inner) % dim)) values[i] *= factor;
  return Tensor.fromValues(tensor.dtype, tensor.shape, values);
}

/** Writes the prepared model to `outPath`; returns how many channels prune-channels{ratio} must remove. */
export function prepareProof(inPath, outPath, ratio, seed = 1) {
  const random = seeded(seed);
  const model = readOnnx(inPath);
  inferShapes(model, { mode: 'refresh' });
  const { analysis } = prepareChannelAnalysis(model);
  let removed = 0;
  for (const group of analysis.groups()) {
    if (group.reasons.length > 0) continue;
    const choice = chooseKeptChannels(group, Float64Array.from({ length: group.size }, () => random()), ratio);
    if (!choice.kept) continue;
    group.kept = choice.kept;
    removed += group.size - choice.kept.length;
  }
  for (const param of analysis.params) {
    const keep = new Set(keptIndices(param.layout));
    if (param.roles.has('consumer')) param.value.setConstant(scaled(param.value.constant, param.axis, keep, 0));
    else if (param.roles.has('producer')) param.value.setConstant(scaled(param.value.constant, param.axis, keep, 1e-6));
  }
  for (const grouped of analysis.groupedWeights) {
    const weight = grouped.node.inputs[1].constant;
    const keep = new Set(keptIndices(grouped.input));
    const [out, perGroup] = weight.shape;
    const inner = weight.shape.slice(2).reduce((a, b) => a * b, 1);
    const values = weight.toNumbers();
    for (let o = 0; o < out; o++) {
      const block = Math.floor(o / (out / grouped.groups));
      for (let j = 0; j < perGroup; j++) if (!keep.has(block * perGroup + j)) for (let k = 0; k < inner; k++) values[(o * perGroup + j) * inner + k] = 0;
    }
    grouped.node.inputs[1].setConstant(Tensor.fromValues(weight.dtype, weight.shape, values));
  }
  writeOnnx(model, outPath);
  return removed;
}
