#!/usr/bin/env node
// Timing of modelpass on the real-model corpus (the ONNX models of fixtures/third-party.json and the
// project fixtures), per model: ONNX import (`readOnnx`) and export (`encodeOnnx`), ONNX Runtime
// latency (one intra-op thread, after warm-up) and the reference interpreter's (`runReference`)
// latency on the same inputs, with the interpreter's slowdown against ORT. Models that use an op
// without a reference kernel show which. Medians of N runs, interleaved per model.
//
//   npx nx run-many -t build        # this script imports the built dist of each package
//   node tools/bench/real-models/run.mjs [--runs 5] [--out tools/bench/real-models/RESULTS.md]
import { cpus } from 'node:os';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { decodeOnnx, encodeOnnx, readOnnx } from '@modelpass/onnx';
import { runReference } from '@modelpass/ops';
import { OrtRunner } from '@modelpass/runtime';
import { fileSize, formatTable, opCounts, opsWithoutKernel, projectOnnxModels, realModelFeeds, thirdPartyOnnxModels } from '@modelpass/conformance';
import { ensureThirdPartyModels } from '../../fixtures/third-party.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const RUNS = Number(flag('runs', '5'));
const OUT = resolve(flag('out', join(ROOT, 'tools/bench/real-models/RESULTS.md')));
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`--runs takes a positive integer, got '${flag('runs')}'`);

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function timed(work) {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

const ort = new OrtRunner({ maxSessions: 1, sessionOptions: { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' } });
const corpus = [...thirdPartyOnnxModels(await ensureThirdPartyModels({ format: 'onnx' })), ...projectOnnxModels()];
const rows = [];
for (const model of corpus) {
  const bytes = readFileSync(model.path);
  const imported = decodeOnnx(bytes);
  const feeds = realModelFeeds(model, imported, 0);
  const missing = opsWithoutKernel(imported);
  await ort.run(model.path, feeds); // session creation and warm-up
  await ort.run(model.path, feeds);
  if (missing.length === 0) runReference(imported, feeds); // warm-up
  const times = { read: [], encode: [], ort: [], reference: [] };
  for (let i = 0; i < RUNS; i++) {
    times.read.push(await timed(() => readOnnx(model.path)));
    times.encode.push(await timed(() => encodeOnnx(imported)));
    times.ort.push(await timed(() => ort.run(model.path, feeds)));
    if (missing.length === 0) times.reference.push(await timed(() => runReference(imported, feeds)));
  }
  const ms = (values) => Number(median(values).toFixed(1));
  const counts = opCounts(imported);
  const row = [
    model.id,
    [...counts.values()].reduce((a, b) => a + b, 0),
    fileSize(model.path),
    ms(times.read),
    ms(times.encode),
    ms(times.ort),
    missing.length === 0 ? ms(times.reference) : `no kernel: ${missing.join(', ')}`,
    missing.length === 0 ? `${(median(times.reference) / median(times.ort)).toFixed(0)}x` : '-',
  ];
  rows.push(row);
  console.error(row.join('  '));
}
await ort.dispose();

const headers = ['model', 'nodes', 'bytes', 'readOnnx ms', 'encodeOnnx ms', 'ORT ms', 'runReference ms', 'reference / ORT'];
const text = `# Real-model timings

\`node tools/bench/real-models/run.mjs --runs ${RUNS}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version},
${new Date().toISOString().slice(0, 10)}. Medians of ${RUNS} runs; ORT with one intra-op thread (default graph
optimizations); inputs as in the conformance tests (\`realModelFeeds\`, seed 0, the manifest's test shapes).

\`\`\`
${formatTable(headers, rows)}
\`\`\`
`;
const temporary = `${OUT}.${process.pid}.tmp`;
writeFileSync(temporary, text);
renameSync(temporary, OUT);
console.error(`wrote ${OUT}`);
