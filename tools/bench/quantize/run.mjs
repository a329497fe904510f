#!/usr/bin/env node
// Quantization benchmark (issue 9), in one run:
//  1. Fashion-MNIST networks (fashion-resnet, -cnn, -mlp, -transformer) beside PyTorch 1.13's FX
//     int8 post-training quantization (oneDNN, tools/bench/quantize/torch_fx.py): accuracy on the 10k
//     test images, size, latency at batch 64 on one thread; and every variant of ours (static with each
//     calibration method, dynamic, weight-only int8/int4, float16) through the real CLI.
//  2. torchvision-family conv nets: our int8 static QDQ against fp32 in ORT per calibration method
//     (latency ratio, QDQ groups ORT left unfused, output cosine, calibration time vs minmax).
//  3. Calibration peak memory and time per method from 100 to 2,000 samples (calibration-memory.mjs).
// Writes tools/bench/quantize/RESULTS.md (tables, ratios, the exact command).
//
//   NX_DAEMON=false npx nx run @modelpass/cli:build
//   node tools/bench/quantize/run.mjs [--parts fashion,torchvision,memory] [--networks fashion-resnet,...]
//     [--variants static-percentile,...] [--samples 512] [--batch 64] [--runs 40] [--warmup 5]
//     [--tv-networks resnet18,...] [--tv-methods minmax,...] [--tv-samples 64] [--tv-batch 1] [--tv-runs 20]
//     [--memory-model fixtures/models/fashion-resnet/model.onnx] [--memory-samples 100,2000] [--memory-repeat 1]
//     [--out tools/bench/quantize/RESULTS.md] [--json FILE] [--cli PATH/TO/bin.js] [--skip-peer]
//   node tools/bench/quantize/run.mjs --render-from FILE.json --parts torchvision --out RESULTS-torchvision.md
//     renders the given parts of a saved run (its --json) without measuring anything again;
//     --render-from A.json,B.json merges runs first (B's parts and Fashion variants replace A's).
import { cpus, tmpdir } from 'node:os';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ROOT, flag, registeredPasses } from './lib.mjs';
import { FASHION_NETWORKS, fashionVariants, runFashion } from './fashion.mjs';
import { CALIBRATION_METHODS, TORCHVISION_NETWORKS, runTorchvision } from './torchvision.mjs';
import { runMemory } from './memory.mjs';
import { renderResults } from './report.mjs';

const list = (name, fallback) => flag(name, fallback.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
const settings = {
  parts: list('parts', ['fashion', 'torchvision', 'memory']),
  networks: list('networks', FASHION_NETWORKS),
  // Fashion variant ids (static-percentile, static-minmax, …, dynamic, weights-int8, weights-int4, float16); all when not given.
  variants: list('variants', []),
  samples: Number(flag('samples', '512')),
  batch: Number(flag('batch', '64')),
  runs: Number(flag('runs', '40')),
  warmup: Number(flag('warmup', '5')),
  tvNetworks: list('tv-networks', TORCHVISION_NETWORKS),
  tvMethods: list('tv-methods', CALIBRATION_METHODS),
  tvSamples: Number(flag('tv-samples', '64')),
  tvEvalSamples: Number(flag('tv-eval-samples', '8')),
  tvBatch: Number(flag('tv-batch', '1')),
  tvRuns: Number(flag('tv-runs', '20')),
  tvWarmup: Number(flag('tv-warmup', '3')),
  memoryModel: resolve(ROOT, flag('memory-model', 'fixtures/models/fashion-resnet/model.onnx')),
  memorySamples: list('memory-samples', ['100', '2000']).map(Number),
  memoryRepeat: Number(flag('memory-repeat', '1')),
  // Fashion part without the PyTorch peer (its figures then come from an earlier run merged with --render-from).
  skipPeer: process.argv.includes('--skip-peer'),
};
const OUT = resolve(flag('out', join(ROOT, 'tools/bench/quantize/RESULTS.md')));
const JSON_OUT = flag('json', undefined);
for (const part of settings.parts) if (!['fashion', 'torchvision', 'memory'].includes(part)) throw new Error(`--parts: unknown part '${part}' (fashion, torchvision, memory)`);

const RENDER_FROM = flag('render-from', undefined);

/**
 * Several saved runs (--json) as one: parts a later run measured replace an earlier run's; Fashion
 * networks merge variant by variant (a later run's variant, peer and profile win), in the order of
 * fashionVariants. The commands are listed together.
 */
function mergeRuns(runs) {
  const merged = { ...runs[0] };
  const order = fashionVariants(0).map((v) => v.id);
  for (const run of runs.slice(1)) {
    for (const part of ['torchvision', 'memory']) if (run[part]) merged[part] = run[part];
    for (const network of run.fashion ?? []) {
      merged.fashion = [...(merged.fashion ?? [])];
      const at = merged.fashion.findIndex((n) => n.network === network.network);
      if (at < 0) {
        merged.fashion.push(network);
        continue;
      }
      const earlier = merged.fashion[at];
      const variants = new Map(earlier.variants.map((v) => [v.id, v]));
      for (const v of network.variants) variants.set(v.id, v);
      merged.fashion[at] = { ...earlier, ...network, peer: network.peer ?? earlier.peer, fp32Profile: network.fp32Profile ?? earlier.fp32Profile, variants: [...variants.values()].sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id)) };
    }
    merged.seconds = (merged.seconds ?? 0) + (run.seconds ?? 0);
  }
  if (runs.length > 1) merged.command = runs.map((run) => run.command).join('` + `');
  return merged;
}
if (RENDER_FROM) {
  // A saved run's parts, rendered as they were measured (no part is run again).
  const saved = mergeRuns(RENDER_FROM.split(',').map((file) => JSON.parse(readFileSync(resolve(file), 'utf8'))));
  const kept = { ...saved };
  for (const part of ['fashion', 'torchvision', 'memory']) if (!settings.parts.includes(part)) delete kept[part];
  const text = renderResults(kept, `${saved.command ?? "node tools/bench/quantize/run.mjs (command not saved)"} (parts ${settings.parts.join(',')} rendered from its --json)`);
  writeFileSync(OUT, text);
  console.log(text);
  process.exit(0);
}

const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-quantize-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : 15)));
const log = (line) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`);
const passes = registeredPasses();
const started = Date.now();

const results = { settings, machine: `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, onnxruntime-node ${ort.env.versions?.common ?? ''}`, date: new Date().toISOString().slice(0, 10) };
if (settings.parts.includes('fashion')) {
  // Each finished network is saved at once (--json), so a long run that is stopped keeps what it measured.
  const saveSoFar = (fashion) => JSON_OUT && writeFileSync(JSON_OUT, JSON.stringify({ ...results, fashion, seconds: (Date.now() - started) / 1000, command: `node tools/bench/quantize/run.mjs ${process.argv.slice(2).join(' ')}`.trim(), partial: true }, null, 2));
  results.fashion = await runFashion({ networks: settings.networks, variants: settings.variants, samples: settings.samples, batch: settings.batch, runs: settings.runs, warmup: settings.warmup, work: WORK, passes, log, skipPeer: settings.skipPeer, onNetwork: saveSoFar });
}
if (settings.parts.includes('torchvision')) {
  results.torchvision = await runTorchvision({ networks: settings.tvNetworks, methods: settings.tvMethods, samples: settings.tvSamples, evalSamples: settings.tvEvalSamples, batch: settings.tvBatch, runs: settings.tvRuns, warmup: settings.tvWarmup, work: WORK, passes, log });
}
if (settings.parts.includes('memory')) {
  results.memory = runMemory({ model: settings.memoryModel, samples: settings.memorySamples, methods: CALIBRATION_METHODS, repeat: settings.memoryRepeat, work: WORK, log });
}
results.seconds = (Date.now() - started) / 1000;

const command = `node tools/bench/quantize/run.mjs ${process.argv.slice(2).join(' ')}`.trim();
results.command = command;
const text = renderResults(results, command);
const temporary = `${OUT}.${process.pid}.tmp`;
writeFileSync(temporary, text);
renameSync(temporary, OUT);
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results, null, 2));
console.log(text);
log(`wrote ${relative(ROOT, OUT)} in ${results.seconds.toFixed(0)} s`);
