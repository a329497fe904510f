// Part 2 of the quantization bench: torchvision-family conv nets (Debian torch, seeded random weights,
// tools/fixtures/make_torchvision.py), fp32 against our int8 static QDQ in ONNX Runtime, once per
// calibration method: latency ratio (one thread, interleaved), whether ORT fused every QDQ group
// (DequantizeLinear nodes left feeding Conv/MatMul/Gemm in ORT's optimized graph), the smallest
// per-sample output cosine vs fp32 on held-out inputs of the calibration distribution, ONNX's
// checker, and the pass's own time (calibration included) relative to minmax.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { Tensor } from '@modelpass/ir';
import { SeededRandom, writeNpy } from '@modelpass/runtime';
import { PYTHON, ROOT, convert, fileBytes, kernelProfile, kernelTimePair, latencyPair, minOutputCosine, missingPass, onnxFacts, writeOptimizedGraph } from './lib.mjs';

export const TORCHVISION_NETWORKS = ['resnet18', 'mobilenet_v2', 'mobilenet_v3_small', 'efficientnet_b0', 'regnet_y_400mf'];
export const CALIBRATION_METHODS = ['minmax', 'percentile', 'entropy', 'distribution'];
const CACHE = join(ROOT, '.fixtures-cache/torchvision');
const SAMPLE_SHAPE = [3, 224, 224];
const FILE_BATCH = 16;

/** Exports the networks not yet in the cache (make_torchvision.py skips up-to-date ones). */
function ensureExported(networks, log) {
  const missing = networks.filter((n) => !existsSync(join(CACHE, `${n}.onnx`)));
  if (missing.length === 0) return;
  log(`exporting ${missing.join(', ')} with tools/fixtures/make_torchvision.py`);
  execFileSync(PYTHON, [join(ROOT, 'tools/fixtures/make_torchvision.py'), ...missing], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** `count` samples of i.i.d. N(0, 1) pixels (what normalized images look like to the first layer), seeded. */
function normalSamples(count, seed) {
  const random = new SeededRandom(seed);
  const data = new Float32Array(count * SAMPLE_SHAPE.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - random.nextFloat()));
    const t = 2 * Math.PI * random.nextFloat();
    data[i] = r * Math.cos(t);
    if (i + 1 < data.length) data[i + 1] = r * Math.sin(t);
  }
  return data;
}

/** A folder of .npy batch files with `samples` calibration samples (seed 1). */
function calibrationFolder(work, samples) {
  const dir = join(work, `calibration-${samples}`);
  if (existsSync(dir)) return dir;
  mkdirSync(dir, { recursive: true });
  const all = normalSamples(samples, 1);
  const per = all.length / samples;
  for (let start = 0, file = 0; start < samples; start += FILE_BATCH, file++) {
    const n = Math.min(FILE_BATCH, samples - start);
    const tensor = Tensor.fromValues('float32', [n, ...SAMPLE_SHAPE], all.subarray(start * per, (start + n) * per));
    writeNpy(tensor, join(dir, `batch_${String(file).padStart(3, '0')}.npy`));
  }
  return dir;
}

export async function runTorchvision({ networks, methods, samples, evalSamples, batch, runs, warmup, work, passes, log }) {
  ensureExported(networks, log);
  const calibration = calibrationFolder(work, samples);
  const held = normalSamples(evalSamples, 2);
  const cosineFeeds = { input: new ort.Tensor('float32', held, [evalSamples, ...SAMPLE_SHAPE]) };
  const per = held.length / evalSamples;
  const timingFeeds = { input: new ort.Tensor('float32', held.slice(0, batch * per), [batch, ...SAMPLE_SHAPE]) };
  const results = [];
  for (const network of networks) {
    const fp32 = join(CACHE, `${network}.onnx`);
    const info = { network, fp32Bytes: fileBytes(fp32), methods: [] };
    results.push(info);
    for (const method of methods) {
      const pipeline = `simplify,quantize-static{dataset=${calibration} samples=${samples} calibration=${method}}`;
      const row = { method, pipeline };
      info.methods.push(row);
      const missing = missingPass(pipeline, passes);
      if (missing) {
        row.error = `not available (no pass '${missing}' in the built CLI)`;
        log(`${network} ${method}: ${row.error}`);
        continue;
      }
      const out = join(work, `${network}-${method}.onnx`);
      const converted = convert(fp32, out, pipeline, 'quantize-static');
      if (!converted.ok) {
        row.error = converted.error;
        log(`${network} ${method}: failed: ${row.error}`);
        continue;
      }
      row.passSeconds = converted.passSeconds;
      row.wallSeconds = converted.wallSeconds;
      row.bytes = fileBytes(out);
      try {
        const optimized = join(work, `${network}-${method}.ort-optimized.onnx`);
        await writeOptimizedGraph(out, optimized);
        const facts = onnxFacts([out], [optimized]);
        row.checker = facts.check[out];
        row.fusion = facts.unfused[optimized];
        row.cosine = await minOutputCosine(fp32, out, cosineFeeds, evalSamples);
        const latency = await latencyPair(fp32, out, timingFeeds, { warmup, runs });
        row.fp32Ms = latency.a;
        row.ms = latency.b;
        row.fp32MinMs = latency.aMin;
        row.minMs = latency.bMin;
        const kernels = await kernelTimePair(fp32, out, timingFeeds, { runs, work });
        row.kernelFp32Ms = kernels.a;
        row.kernelMs = kernels.b;
        row.kernelMedianFp32Ms = kernels.aMedian;
        row.kernelMedianMs = kernels.bMedian;
        if (!info.profile) {
          info.profile = { method, int8: await kernelProfile(out, timingFeeds, { runs: 5, work }), fp32: await kernelProfile(fp32, timingFeeds, { runs: 5, work }) };
        }
      } catch (error) {
        row.error = `ORT: ${error.message.split('\n')[0]}`;
      }
      log(`${network} ${method}: ${row.error ?? `latency ${(row.ms / row.fp32Ms).toFixed(3)}× fp32 (kernels ${(row.kernelMs / row.kernelFp32Ms).toFixed(3)}×), ${row.fusion.dequantize_feeding_compute} DQ left feeding Conv/MatMul/Gemm, cosine ${row.cosine.toFixed(4)}, pass ${row.passSeconds?.toFixed(1)} s, checker ${row.checker}`}`);
    }
  }
  return results;
}
