#!/usr/bin/env node
// TorchScript import (issue 13): for each archive made by tools/fixtures/make_torchscript.py, in one run:
//  - modelpass: readTorchScript with every weight loaded (a fresh Node process per archive: wall time
//    and peak RSS growth over the process after its modules loaded), against
//  - torch: torch.jit.load of the same archive (a fresh Python process: wall time, peak RSS growth
//    after `import torch`);
//  - correctness: the imported model written as ONNX, run in ONNX Runtime, worst |difference| from
//    torch's own output; and the model written back as TorchScript, run by torch.jit.load, same check.
//
//   NX_DAEMON=false npx nx run @modelpass/cli:build                 # builds the packages the bench imports
//   /usr/bin/python3 tools/fixtures/make_torchscript.py             # archives into .fixtures-cache/torchscript
//   nice -n 10 node tools/bench/torchscript/run.mjs [--models resnet18,...] [--rounds 3] [--out FILE] [--from-log LOG]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(here, '../../..');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};

if (args[0] === '--child') {
  // One import, measured in this fresh process.
  const { readTorchScript } = await import('@modelpass/torchscript');
  const options = JSON.parse(args[2] ?? '{}');
  // maxRSS after module loading is a noisy baseline (its garbage may exceed what an import adds), so
  // the figure is resident memory after the import minus before, both measured after a full GC.
  globalThis.gc?.();
  const base = process.memoryUsage().rss;
  const start = performance.now();
  const model = readTorchScript(args[1], options);
  // Hold every weight's bytes, as torch.jit.load holds its tensors, so the peaks compare like with like.
  const held = model.graph.constants.map((value) => value.constant.bytes());
  const ms = performance.now() - start;
  globalThis.gc?.();
  console.log(JSON.stringify({ ms, peakMiB: (process.memoryUsage().rss - base) / 2 ** 20, nodes: model.graph.nodeList().length, heldMiB: held.reduce((n, b) => n + b.byteLength, 0) / 2 ** 20 }));
  process.exit(0);
}

const { writeOnnx } = await import('@modelpass/onnx');
const { readNpy, runOrt, disposeSharedOrtRunner } = await import('@modelpass/runtime');
const { readTorchScript, writeTorchScript } = await import('@modelpass/torchscript');

const DIR = resolve(flag('dir', join(ROOT, '.fixtures-cache/torchscript')));
const ROUNDS = Number(flag('rounds', '3'));
const OUT = resolve(flag('out', join(here, 'RESULTS.md')));
if (!existsSync(DIR)) throw new Error(`${DIR} is missing: run /usr/bin/python3 tools/fixtures/make_torchscript.py first`);
const wanted = flag('models', '')?.split(',').filter(Boolean);
const archives = readdirSync(DIR)
  .filter((f) => f.endsWith('.pt') && !f.includes('.rewritten'))
  .filter((f) => !wanted?.length || wanted.includes(f.split('.')[0]))
  .sort();
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-torchscript-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const json = (cmd, argv) => JSON.parse(execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 }).trim().split('\n').pop());
function maxDiff(a, b) {
  const x = a.toNumbers();
  const y = b.toNumbers();
  if (x.length !== y.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i] - y[i]));
  return worst;
}
const fmt = (n, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : String(n));

/** One table row; a step that failed shows its error in its own column and leaves the others. */
function tableRow(r) {
  const cell = (value, digits) => (value === undefined ? '—' : digits === 'e' ? value.toExponential(1) : fmt(value, digits));
  const failure = r.error ? `fails: ${r.error.replace(/^\/\S+: /, '').replace(/cannot write \S+ as TorchScript: /, 'not written: ').replaceAll('|', '\\|').slice(0, 110)}` : '—';
  return `| ${r.name} (${r.mode}) | ${r.nodes ?? '—'} | ${cell(r.oursMs, 1)} | ${cell(r.torchMs, 1)} | ${cell(r.oursMiB, 1)} | ${cell(r.torchMiB, 1)} | ${r.ortDiff === undefined ? failure : cell(r.ortDiff, 'e')} | ${r.torchDiff === undefined ? (r.ortDiff === undefined ? '' : failure) : cell(r.torchDiff, 'e')} |`;
}

const FROM_LOG = flag('from-log', undefined);
// --from-log FILE: re-render RESULTS.md from the JSON lines a previous run printed (no measuring).
const rows = FROM_LOG ? readFileSync(FROM_LOG, 'utf8').split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line)) : [];
for (const file of FROM_LOG ? [] : archives) {
  const path = join(DIR, file);
  const [name, mode] = file.split('.');
  const row = { name, mode };
  try {
    // The input shape the fixture script recorded (sequence models need ranks and sizes; torch.jit.load needs none).
    const options = { inputs: [{ shape: JSON.parse(readFileSync(join(DIR, `${name}.json`), 'utf8')).input }] };
    const ours = [];
    const theirs = [];
    for (let r = 0; r < ROUNDS; r++) {
      ours.push(json(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), '--child', path, JSON.stringify(options)]));
      theirs.push(json('/usr/bin/python3', [join(here, 'torch_load.py'), path]));
    }
    row.oursMs = median(ours.map((o) => o.ms));
    row.oursMiB = median(ours.map((o) => o.peakMiB));
    row.nodes = ours[0].nodes;
    row.torchMs = median(theirs.map((o) => o.ms));
    row.torchMiB = median(theirs.map((o) => o.peakMiB));
    const model = readTorchScript(path, options);
    const input = readNpy(join(DIR, `${name}.input.npy`));
    const expected = readNpy(join(DIR, `${name}.${mode}.expected.npy`));
    const onnxPath = join(WORK, `${name}.${mode}.onnx`);
    writeOnnx(model, onnxPath);
    const [ortOut] = [...(await runOrt(onnxPath, { [model.graph.inputs[0].name]: input })).values()];
    row.ortDiff = maxDiff(ortOut, expected);
    const ptPath = join(WORK, `${name}.${mode}.pt`);
    writeTorchScript(model, ptPath);
    execFileSync('/usr/bin/python3', [join(ROOT, 'packages/torchscript/src/__tests__/torch/run-archive.py'), ptPath, join(DIR, `${name}.input.npy`), join(WORK, 'out.npy')], { stdio: 'ignore' });
    row.torchDiff = maxDiff(readNpy(join(WORK, 'out.npy')), expected);
  } catch (error) {
    row.error = String(error.message ?? error).split('\n')[0].slice(0, 400);
  }
  rows.push(row);
  console.log(JSON.stringify(row));
}
await disposeSharedOrtRunner();

const lines = [
  '# TorchScript import bench',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} with \`node tools/bench/torchscript/run.mjs\` (median of ${ROUNDS} fresh processes each; archives from`,
  '`tools/fixtures/make_torchscript.py`, torchvision nets at 64×64, seeded weights). Import = `readTorchScript` with every weight',
  'read and held and the input shape from the fixture\'s json given. Memory: modelpass = resident memory the import adds (after a',
  'full GC, weights held); torch = growth of max RSS over the process after `import torch`.',
  '`ORT diff` = worst |ORT(imported ONNX) − torch|; `torch diff` = worst |torch.jit.load(written .pt) − torch|.',
  '',
  '| archive | nodes | modelpass import ms | torch.jit.load ms | modelpass retained MiB | torch peak MiB | ORT diff | torch diff |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => tableRow(r)),
  '',
];
writeFileSync(OUT, lines.join('\n'));
console.log(`wrote ${OUT}`);
