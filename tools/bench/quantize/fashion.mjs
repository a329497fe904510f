// Part 1 of the quantization bench: the Fashion-MNIST fixtures side by side with PyTorch FX int8.
// Per network: the peer (torch_fx.py: torch fp32 vs FX int8, oneDNN, same weights, calibrated on the
// same first N training images) and every variant of ours made by the real CLI, each judged by ONNX's
// checker, `modelpass eval` on the 10k test images, its file size, and ORT latency (batch 64, one
// thread) interleaved with the fp32 fixture in this process.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { loadDataset } from '@modelpass/runtime';
import { PYTHON, ROOT, cli, convert, fileBytes, kernelProfile, latencyPair, missingPass, onnxFacts, writeOptimizedGraph } from './lib.mjs';

export const FASHION_NETWORKS = ['fashion-resnet', 'fashion-cnn', 'fashion-mlp', 'fashion-transformer'];

const staticVariant = (calibration, samples) => ({
  id: `static-${calibration}`,
  label: `int8 static QDQ, ${calibration}`,
  kind: 'static',
  pipeline: `simplify,quantize-static{dataset=fashion-mnist:train samples=${samples} calibration=${calibration}}`,
  timedPass: 'quantize-static',
});

/** Our variants; `headline` is the one set beside PyTorch's int8 in the first table. */
export function fashionVariants(samples) {
  return [
    { ...staticVariant('percentile', samples), headline: true },
    // PyTorch FX's numerics in ORT (README "Beside PyTorch FX"): its full-range int8 weight grid, its
    // quantized stem Conv, no bias correction. Set beside PyTorch in the first table too.
    { ...staticVariant('percentile', samples), id: 'static-torch-numerics', beside: true, label: 'int8 static QDQ, percentile, PyTorch\'s numerics (weight-range=full min-conv-reduction=0 bias-correction=off)', pipeline: `simplify,quantize-static{dataset=fashion-mnist:train samples=${samples} calibration=percentile weight-range=full min-conv-reduction=0 bias-correction=off}` },
    { ...staticVariant('percentile', samples), id: 'static-percentile-no-bias-correction', label: 'int8 static QDQ, percentile, bias-correction=off', pipeline: `simplify,quantize-static{dataset=fashion-mnist:train samples=${samples} calibration=percentile bias-correction=off}` },
    { ...staticVariant('percentile', samples), id: 'static-percentile-per-tensor', label: 'int8 static QDQ, percentile, per-tensor weights (per-channel-min-gain=20)', pipeline: `simplify,quantize-static{dataset=fashion-mnist:train samples=${samples} calibration=percentile per-channel-min-gain=20}` },
    staticVariant('minmax', samples),
    staticVariant('entropy', samples),
    staticVariant('distribution', samples),
    { ...staticVariant('percentile', samples), id: 'static-qoperator', label: 'int8 static QOperator, percentile', pipeline: `simplify,quantize-static{dataset=fashion-mnist:train samples=${samples} calibration=percentile format=qoperator}` },
    { id: 'dynamic', label: 'int8 dynamic', kind: 'dynamic', pipeline: 'simplify,quantize-dynamic', timedPass: 'quantize-dynamic' },
    { id: 'weights-int8', label: 'int8 weight-only (block 32)', kind: 'weights8', pipeline: 'simplify,quantize-weights{bits=8 block-size=32}', timedPass: 'quantize-weights' },
    { id: 'weights-int4', label: 'int4 weight-only (block 32, MatMulNBits)', kind: 'weights4', pipeline: 'simplify,quantize-weights{bits=4 block-size=32}', timedPass: 'quantize-weights' },
    { id: 'weights-int4-gptq', label: 'int4 weight-only GPTQ (block 32, 256 train samples)', kind: 'weights4', pipeline: 'simplify,quantize-weights{bits=4 block-size=32 method=gptq dataset=fashion-mnist:train samples=256}', timedPass: 'quantize-weights' },
    { id: 'weights-int4-hqq', label: 'int4 weight-only HQQ (block 32)', kind: 'weights4', pipeline: 'simplify,quantize-weights{bits=4 block-size=32 method=hqq}', timedPass: 'quantize-weights' },
    { id: 'float16', label: 'float16', kind: 'float16', pipeline: 'simplify,convert-float16', timedPass: 'convert-float16' },
  ];
}

/** Issue 9's accuracy goals per kind of variant (drop in percentage points). */
export const DROP_GOAL_PP = { static: 0.3, dynamic: 0.5, weights4: 1.5 };
/** Issue 9's size goal for int8 files, as a fraction of fp32. */
export const INT8_SIZE_GOAL = 0.26;

function peer(network, samples, batch, runs, warmup) {
  try {
    const out = execFileSync(PYTHON, [join(ROOT, 'tools/bench/quantize/torch_fx.py'), network, '--samples', String(samples), '--batch', String(batch), '--runs', String(runs), '--warmup', String(warmup)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
    return JSON.parse(out);
  } catch (error) {
    return { error: String(error.stderr || error.message).trim().split('\n').slice(-1)[0] };
  }
}

/** The first `batch` test images as the model's input (NCHW or flattened), for timing. */
function testBatch(sampleShape, batch) {
  const dataset = loadDataset('fashion-mnist:test', { limit: batch });
  const bytes = dataset.samples.bytes();
  const data = Float32Array.from(bytes.subarray(0, batch * 784), (v) => v / 255);
  return new ort.Tensor('float32', data, [batch, ...sampleShape]);
}

/**
 * Per test image, '1' where the model's top class (ORT) is the label, else '0': the paired outcomes
 * McNemar's test compares (report.mjs), in the order of fashion-mnist:test.
 */
async function correctImages(path, sampleShape) {
  const dataset = loadDataset('fashion-mnist:test');
  const images = dataset.samples.bytes();
  const labels = dataset.labels;
  const count = labels.length;
  const perImage = 784;
  const s = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
  const marks = [];
  try {
    for (let start = 0; start < count; start += 500) {
      const n = Math.min(500, count - start);
      const data = Float32Array.from(images.subarray(start * perImage, (start + n) * perImage), (v) => v / 255);
      const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', data, [n, ...sampleShape]) });
      const logits = out[s.outputNames[0]].data;
      const classes = logits.length / n;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let k = 1; k < classes; k++) if (logits[i * classes + k] > logits[i * classes + best]) best = k;
        marks.push(best === labels[start + i] ? '1' : '0');
      }
    }
  } finally {
    await s.release();
  }
  return marks.join('');
}

async function sampleShapeOf(path) {
  const s = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
  const meta = s.inputMetadata?.[0];
  await s.release();
  if (meta?.shape) return meta.shape.slice(1).map(Number);
  throw new Error(`${path}: ORT does not report the input shape`);
}

/** Measures every network; `log` gets one line per step. */
export async function runFashion({ networks, variants, samples, batch, runs, warmup, work, passes, log, skipPeer = false, onNetwork = () => {} }) {
  const results = [];
  for (const network of networks) {
    const fp32 = join(ROOT, 'fixtures/models', network, 'model.onnx');
    const info = { network, fp32Bytes: fileBytes(fp32), variants: [] };
    if (!skipPeer) {
      log(`${network}: PyTorch FX peer`);
      info.peer = peer(network, samples, batch, runs, warmup);
    }
    info.fp32Accuracy = JSON.parse(cli('eval', fp32, '--dataset', 'fashion-mnist:test', '--json')).accuracy;
    const sampleShape = await sampleShapeOf(fp32);
    const feeds = { input: testBatch(sampleShape, batch) };
    info.fp32Correct = await correctImages(fp32, sampleShape);
    for (const variant of fashionVariants(samples).filter((v) => !variants?.length || variants.includes(v.id))) {
      const row = { ...variant };
      info.variants.push(row);
      const missing = missingPass(variant.pipeline, passes);
      if (missing) {
        row.error = `not available (no pass '${missing}' in the built CLI)`;
        log(`${network} ${variant.label}: ${row.error}`);
        continue;
      }
      const out = join(work, `${network}-${variant.id}.onnx`);
      const converted = convert(fp32, out, variant.pipeline, variant.timedPass);
      if (!converted.ok) {
        row.error = converted.error;
        log(`${network} ${variant.label}: failed: ${row.error}`);
        continue;
      }
      row.passSeconds = converted.passSeconds;
      row.statistics = converted.statistics;
      row.bytes = fileBytes(out);
      try {
        const optimized = join(work, `${network}-${variant.id}.ort-optimized.onnx`);
        await writeOptimizedGraph(out, optimized);
        const facts = onnxFacts([out], [optimized]);
        row.checker = facts.check[out];
        row.fusion = facts.unfused[optimized];
        row.accuracy = JSON.parse(cli('eval', out, '--dataset', 'fashion-mnist:test', '--json')).accuracy;
        const latency = await latencyPair(fp32, out, feeds, { warmup, runs });
        row.fp32Ms = latency.a;
        row.ms = latency.b;
        row.fp32MinMs = latency.aMin;
        row.minMs = latency.bMin;
        if (variant.headline || variant.beside) row.correct = await correctImages(out, sampleShape);
        if (variant.headline) {
          row.profile = await kernelProfile(out, feeds, { work });
          info.fp32Profile = await kernelProfile(fp32, feeds, { work });
        }
      } catch (error) {
        row.error = `ORT: ${error.message.split('\n')[0]}`;
      }
      log(`${network} ${variant.label}: ${row.error ?? `${(100 * row.accuracy).toFixed(2)}%, ${(row.bytes / info.fp32Bytes).toFixed(3)}× size, ${(row.ms / row.fp32Ms).toFixed(3)}× fp32 latency, checker ${row.checker}`}`);
    }
    results.push(info);
    onNetwork(results);
  }
  return results;
}
