#!/usr/bin/env node
// Sampled histograms (issue 9, CalibrationOptions.histogramStride): how far each calibrated tensor's
// activation scale moves when the histogram counts 1 in p values instead of all of them. One
// calibration per stride (the histogram does not depend on the method), then percentile, entropy and
// distribution ranges from each; the scale is uint8's (max(max, 0) − min(min, 0)) / 255, as
// quantize-static widens a range to hold 0. Tensors: quantize-static's plan (BatchNorm folded).
// Entropy here uses the default quantizedBins (128); quantize-static gives non-negative tensors 256.
//
//   npx tsc -b packages/quantize
//   node tools/bench/quantize/calibration-stride-scales.mjs --model fixtures/models/fashion-resnet/model.onnx
//     [--dataset fashion-mnist:train | random] [--samples 2000] [--strides 1,3,7,13] [--batch 64]
// A last row, "1, next set", is the exact histogram of the next `samples` samples (dataset samples
// [samples, 2·samples), or random inputs of seed 1): how far the scales move with the calibration set
// alone, the yardstick for the strides' moves.
import { ROOT, flag } from '../prune/ort-timing.mjs';
import { resolve } from 'node:path';
import os from 'node:os';

const { readOnnx } = await import('@modelpass/onnx');
const { collectStatistics, chooseRanges, histogramStrides, prepareForQuantization, planStaticQuantization } = await import('@modelpass/quantize');
const modelPath = resolve(ROOT, flag('model', 'fixtures/models/fashion-resnet/model.onnx'));
const model = readOnnx(modelPath);
await prepareForQuantization(model);
const tensors = planStaticQuantization(model).calibrationTensors;
const datasetFlag = flag('dataset', 'fashion-mnist:train');
const dataset = datasetFlag === 'random' ? undefined : datasetFlag;
const samples = Number(flag('samples', '2000'));
const strides = flag('strides', '1,3,7,13').split(',').map(Number);
const batchSize = Number(flag('batch', '64'));
const methods = ['percentile', 'entropy', 'distribution'];
const scale = (r) => (Math.max(r.max, 0) - Math.min(r.min, 0)) / 255;
const started = new Date().toISOString();
const load = os.loadavg()[0];
const results = new Map();
for (const stride of [...strides, 'next set']) {
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  const next = stride === 'next set' ? (dataset ? { firstSample: samples, samples: 2 * samples } : { seed: 1 }) : {};
  const statistics = await collectStatistics(model, tensors, { method: 'percentile', dataset, samples, batchSize, histogramStride: stride === 'next set' ? 1 : stride, warn: () => {}, ...next });
  const used = process.cpuUsage(cpu);
  const perMethod = new Map(methods.map((method) => [method, chooseRanges(statistics, { method, samples })]));
  const used_strides = [...histogramStrides(model, tensors, stride === 'next set' ? 1 : stride).values()];
  results.set(stride, { perMethod, seconds: (performance.now() - t0) / 1000, cpu: (used.user + used.system) / 1e6, strides: used_strides });
}
console.log(`${modelPath.replace(ROOT + '/', '')}, ${tensors.length} plan tensors, ${dataset ?? 'seeded random inputs'}, ${samples} samples, batch ${batchSize}; ${started} – ${new Date().toISOString()}, load ${load.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}`);
console.log('');
console.log('| stride asked | strides used (tensors) | collection CPU / wall (s) | ' + methods.map((m) => `${m}: largest |Δscale| / scale (tensor)`).join(' | ') + ' |');
console.log('|---:|---|---:|' + methods.map(() => '---').join('|') + '|');
const exact = results.get(1);
for (const [stride, result] of results) {
  const used = new Map();
  for (const s of result.strides) used.set(s, (used.get(s) ?? 0) + 1);
  const cells = methods.map((method) => {
    if (!exact) return '–';
    let worst = 0;
    let worstName = '';
    for (const [name, range] of result.perMethod.get(method)) {
      const reference = scale(exact.perMethod.get(method).get(name));
      const change = reference === 0 ? 0 : Math.abs(scale(range) - reference) / reference;
      if (change >= worst) [worst, worstName] = [change, name];
    }
    return `${(100 * worst).toFixed(2)} % (${worstName})`;
  });
  console.log(`| ${stride} | ${[...used].map(([s, n]) => `${s} (${n})`).join(', ')} | ${result.cpu.toFixed(2)} / ${result.seconds.toFixed(2)} | ${cells.join(' | ')} |`);
}
