#!/usr/bin/env node
// Benchmark of the pruning passes on the Fashion-MNIST fixtures, in one table: accuracy on the 10k
// test set (`modelpass eval`), parameters (all and nonzero), FLOPs (`modelpass inspect --json`),
// file size, and the ONNX Runtime latency ratio pruned/original (interleaved A,B,A,B in this
// process, one intra-op thread, warm-up, median). Each variant is made by the real CLI:
// `modelpass convert model.onnx -o out.onnx --pipeline P`. The peer is PyTorch's
// torch.nn.utils.prune (50% global L1 unstructured, tools/bench/prune/torch_prune.py) on the same
// weights, run in the same invocation; it also counts where its mask differs from ours.
//
//   npx nx run-many -t build
//   node tools/bench/prune/run.mjs [--runs 200] [--warmup 20] [--batch 32] [--out tools/bench/prune/RESULTS.md]
import { execFileSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { existsSync, mkdtempSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { CLI, ROOT, flag, interleavedLatencies, session } from './ort-timing.mjs';
import { readOnnx } from '@modelpass/onnx';

const RUNS = Number(flag('runs', '200'));
const WARMUP = Number(flag('warmup', '20'));
const BATCH = Number(flag('batch', '32'));
const OUT = resolve(flag('out', join(ROOT, 'tools/bench/prune/RESULTS.md')));
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npx nx run-many -t build\` first`);
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-prune-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

const RECONSTRUCT = 'reconstruct{dataset=fashion-mnist:train samples=1024}';
const VARIANTS = [
  ['original', ''],
  ['50% unstructured (first/last dense)', 'prune-magnitude{sparsity=0.5}'],
  ['50% unstructured, global, all layers', 'prune-magnitude{sparsity=0.5 scope=global skip-first-last=false}'],
  ['2:4 (first/last dense)', 'prune-nm{n=2 m=4}'],
  ['25% channels', 'prune-channels{ratio=0.25}'],
  ['25% channels + reconstruct', `prune-channels{ratio=0.25},${RECONSTRUCT}`],
  ['25% channels, round-to=8, + reconstruct', `prune-channels{ratio=0.25 round-to=8},${RECONSTRUCT}`],
  ['50% channels', 'prune-channels{ratio=0.5}'],
  ['50% channels + reconstruct', `prune-channels{ratio=0.5},${RECONSTRUCT}`],
  ['50% channels, round-to=8, + reconstruct', `prune-channels{ratio=0.5 round-to=8},${RECONSTRUCT}`],
];
const FIXTURES = ['fashion-cnn', 'fashion-mlp'];

const cli = (...cliArgs) => execFileSync(process.execPath, [CLI, ...cliArgs], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });

function nonzeroParameters(path) {
  let total = 0;
  const model = readOnnx(path);
  for (const value of model.graph.constants) {
    if (value.constant) for (const v of value.constant.toNumbers()) total += v !== 0 ? 1 : 0;
    else if (value.sparseConstant) for (const v of value.sparseConstant.values.toNumbers()) total += v !== 0 ? 1 : 0;
  }
  return total;
}

/** Median latency of A and B, interleaved, on one seeded batch of the model's input shape. */
async function latencies(pathA, pathB, sampleShape) {
  const [a, b] = [await session(pathA), await session(pathB)];
  const shape = [BATCH, ...sampleShape];
  const data = Float32Array.from({ length: shape.reduce((n, d) => n * d, 1) }, (_, i) => ((i * 2654435761) % 1000) / 1000);
  const feeds = { [a.inputNames[0]]: new ort.Tensor('float32', data, shape) };
  const result = await interleavedLatencies(a, b, feeds, { warmup: WARMUP, runs: RUNS });
  await a.release();
  await b.release();
  return result;
}

const rows = [];
const peers = [];
for (const fixture of FIXTURES) {
  const original = join(ROOT, 'fixtures/models', fixture, 'model.onnx');
  const sampleShape = fixture === 'fashion-mlp' ? [784] : [1, 28, 28];
  const base = JSON.parse(cli('inspect', original, '--json'));
  let globalPath;
  for (const [label, pipeline] of VARIANTS) {
    const path = pipeline ? join(WORK, `${fixture}-${rows.length}.onnx`) : original;
    let error;
    const started = performance.now();
    if (pipeline) {
      try {
        cli('convert', original, '-o', path, '--pipeline', pipeline);
      } catch (e) {
        error = String(e.stderr || e.message).trim().split('\n')[0];
      }
    }
    const convertSeconds = (performance.now() - started) / 1000;
    if (error) {
      rows.push({ fixture, label, pipeline, error });
      console.error(`${fixture} ${label}: ${error}`);
      continue;
    }
    if (label.startsWith('50% unstructured, global')) globalPath = path;
    const inspect = JSON.parse(cli('inspect', path, '--json'));
    const evaluation = JSON.parse(cli('eval', path, '--dataset', 'fashion-mnist:test', '--json'));
    const latency = await latencies(original, path, sampleShape);
    const row = {
      fixture, label, pipeline, accuracy: evaluation.accuracy, total: evaluation.total,
      parameters: inspect.parameters, nonzero: nonzeroParameters(path), flops: inspect.flops,
      flopsRatio: inspect.flops / base.flops, bytes: statSync(path).size,
      latencyRatio: latency.b / latency.a, latencyMs: latency.b, convertSeconds: pipeline ? convertSeconds : 0,
    };
    rows.push(row);
    console.error(`${fixture} ${label}: ${(100 * row.accuracy).toFixed(2)}%, ${row.nonzero}/${row.parameters} nonzero, flops ×${row.flopsRatio.toFixed(3)}, latency ×${row.latencyRatio.toFixed(3)}`);
  }
  try {
    const out = execFileSync('/usr/bin/python3', [join(ROOT, 'tools/bench/prune/torch_prune.py'), fixture, ...(globalPath ? ['--ours', globalPath] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    peers.push(JSON.parse(out));
  } catch (e) {
    peers.push({ fixture, error: String(e.stderr || e.message).trim().split('\n').slice(-1)[0] });
  }
}

const pct = (x) => `${(100 * x).toFixed(2)}%`;
const lines = [
  '# Pruning benchmark (tools/bench/prune)',
  '',
  `Command: \`node tools/bench/prune/run.mjs --runs ${RUNS} --warmup ${WARMUP} --batch ${BATCH}\` on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, onnxruntime-node ${ort.env.versions?.common ?? ''}.`,
  `Accuracy: \`modelpass eval MODEL --dataset fashion-mnist:test\` (all 10,000 test images, ONNX Runtime). FLOPs: \`modelpass inspect --json\` (batch 1). Latency: ORT, batch ${BATCH}, one thread, median of ${RUNS} interleaved runs after ${WARMUP} warm-up, pruned/original.`,
  'Parameters: elements of all initializers; nonzero: those not zero (what unstructured/N:M pruning changes; dense ORT kernels do not skip zeros).',
  '',
  '| model | variant | accuracy | Δ vs original | parameters | nonzero | FLOPs ratio | latency ratio | file KiB |',
  '|---|---|---:|---:|---:|---:|---:|---:|---:|',
];
for (const row of rows) {
  if (row.error) {
    lines.push(`| ${row.fixture} | ${row.label} | failed: ${row.error.replace(/\|/g, '\\|')} | | | | | | |`);
    continue;
  }
  const base = rows.find((r) => r.fixture === row.fixture && r.label === 'original');
  const delta = `${((row.accuracy - base.accuracy) * 100).toFixed(2)} pp`;
  lines.push(`| ${row.fixture} | ${row.label} | ${pct(row.accuracy)} | ${delta} | ${row.parameters.toLocaleString('en-US')} | ${row.nonzero.toLocaleString('en-US')} | ${row.flopsRatio.toFixed(3)} | ${row.latencyRatio.toFixed(3)} | ${(row.bytes / 1024).toFixed(1)} |`);
}
lines.push('', '## Peer: PyTorch torch.nn.utils.prune (same weights, same run)', '');
lines.push('| model | peer | dense accuracy | pruned accuracy | Δ | ours (global, all layers) | mask differences vs ours |', '|---|---|---:|---:|---:|---:|---:|');
for (const peer of peers) {
  if (peer.error) {
    lines.push(`| ${peer.fixture} | failed: ${peer.error.replace(/\|/g, '\\|')} | | | | | |`);
    continue;
  }
  const ours = rows.find((r) => r.fixture === peer.fixture && r.label.startsWith('50% unstructured, global'));
  lines.push(`| ${peer.fixture} | ${peer.peer} | ${pct(peer.dense_accuracy)} | ${pct(peer.pruned_accuracy)} | ${((peer.pruned_accuracy - peer.dense_accuracy) * 100).toFixed(2)} pp | ${ours ? pct(ours.accuracy) : '—'} | ${peer.mask_differences ?? '—'} of ${peer.weights.toLocaleString('en-US')} |`);
}
lines.push('', `Pipelines: ${VARIANTS.filter(([, p]) => p).map(([l, p]) => `${l}: \`${p}\``).join('; ')}.`, '');
const temporary = `${OUT}.${process.pid}.tmp`;
writeFileSync(temporary, lines.join('\n'));
renameSync(temporary, OUT);
console.log(lines.join('\n'));
console.error(`wrote ${relative(ROOT, OUT)}`);
