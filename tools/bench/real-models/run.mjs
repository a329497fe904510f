#!/usr/bin/env node
// Timing of modelpass on the real-model corpus (the ONNX models of fixtures/third-party.json and the
// project fixtures), per model: ONNX import (`readOnnx`) and export (`encodeOnnx`), ONNX Runtime
// latency (one intra-op thread, after warm-up) and the reference interpreter's (`runReference`)
// latency on the same inputs, with the interpreter's slowdown against ORT. Models that use an op
// without a reference kernel show which. Medians of N runs, interleaved per model.
//
// With `--baseline <entry.js>` (an older @modelpass/ops built by build-baseline.mjs) the older
// interpreter runs in the same loop, so the before/after columns share one machine state, and the
// outputs of both are compared bit for bit.
//
//   npx nx run-many -t build        # this script imports the built dist of each package
//   node tools/bench/real-models/run.mjs [--runs 5] [--out tools/bench/real-models/RESULTS.md] \
//     [--baseline "$(node tools/bench/real-models/build-baseline.mjs b3e71c2)"]
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
const BASELINE = flag('baseline', undefined);
const baseline = BASELINE ? await import(resolve(BASELINE)) : undefined;
const baselineLabel = BASELINE ? flag('baseline-label', BASELINE.match(/ops-baseline\/([0-9a-f]+)/)?.[1] ?? 'baseline') : undefined;

/** Whether two output maps hold the same dtypes, shapes and bytes. */
function sameOutputs(a, b) {
  if (a.size !== b.size) return false;
  for (const [name, x] of a) {
    const y = b.get(name);
    if (!y || x.dtype !== y.dtype || x.shape.join(',') !== y.shape.join(',')) return false;
    if (x.dtype === 'string' ? JSON.stringify(x.strings) !== JSON.stringify(y.strings) : !Buffer.from(x.bytes()).equals(Buffer.from(y.bytes()))) return false;
  }
  return true;
}

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
  const current = missing.length === 0 ? runReference(imported, feeds) : undefined; // warm-up
  const before = baseline && missing.length === 0 ? baseline.runReference(imported, feeds) : undefined;
  const times = { read: [], encode: [], ort: [], reference: [], baseline: [] };
  for (let i = 0; i < RUNS; i++) {
    times.read.push(await timed(() => readOnnx(model.path)));
    times.encode.push(await timed(() => encodeOnnx(imported)));
    times.ort.push(await timed(() => ort.run(model.path, feeds)));
    if (missing.length === 0) times.reference.push(await timed(() => runReference(imported, feeds)));
    if (before) times.baseline.push(await timed(() => baseline.runReference(imported, feeds)));
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
  if (baseline) {
    const ratio = (values) => {
      const r = median(values) / median(times.ort);
      return `${r < 10 ? r.toFixed(1) : r.toFixed(0)}x`;
    };
    row.splice(6, 2,
      before ? ms(times.baseline) : `no kernel: ${missing.join(', ')}`,
      before ? ratio(times.baseline) : '-',
      missing.length === 0 ? ms(times.reference) : `no kernel: ${missing.join(', ')}`,
      missing.length === 0 ? ratio(times.reference) : '-',
      before ? `${(median(times.baseline) / median(times.reference)).toFixed(1)}x` : '-',
      before ? (sameOutputs(before, current) ? 'yes' : 'NO') : '-',
    );
  }
  rows.push(row);
  console.error(row.join('  '));
}
await ort.dispose();

const headers = baseline
  ? ['model', 'nodes', 'bytes', 'readOnnx ms', 'encodeOnnx ms', 'ORT ms', `before ms (${baselineLabel})`, 'before / ORT', 'runReference ms', 'reference / ORT', 'speed-up', 'same bits']
  : ['model', 'nodes', 'bytes', 'readOnnx ms', 'encodeOnnx ms', 'ORT ms', 'runReference ms', 'reference / ORT'];
const text = `# Real-model timings

\`node tools/bench/real-models/run.mjs --runs ${RUNS}\` on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version},
${new Date().toISOString().slice(0, 10)}. Medians of ${RUNS} runs; ORT with one intra-op thread (default graph
optimizations); inputs as in the conformance tests (\`realModelFeeds\`, seed 0, the manifest's test shapes).${
  baseline
    ? `\n"before" is \`runReference\` of @modelpass/ops at ${baselineLabel} (built by \`build-baseline.mjs\`), timed in the same
loop as the current build; "same bits" compares both interpreters' outputs byte for byte.`
    : ''
}

\`\`\`
${formatTable(headers, rows)}
\`\`\`
`;
const temporary = `${OUT}.${process.pid}.tmp`;
writeFileSync(temporary, text);
renameSync(temporary, OUT);
console.error(`wrote ${OUT}`);
