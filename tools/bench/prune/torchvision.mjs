#!/usr/bin/env node
// Channel pruning on real torchvision architectures (issue 10): for each model exported by
// tools/fixtures/make_torchvision.py (random seeded weights, .fixtures-cache/torchvision/, never
// committed) it runs the built CLI, `modelpass convert M -o out.onnx --pipeline P --statistics-json`,
// then checks the result with ONNX's checker (full_check, Debian's /usr/bin/python3) and ONNX Runtime
// (output names and shapes unchanged, outputs finite), and reports parameters and FLOPs
// (`modelpass inspect --json`), the ORT latency ratio against the original (interleaved A,B in this
// process, same seeded input, one thread, medians, at batch 1 and batch B), the groups pruned and
// the reasons groups were left whole (the pass's diagnostics, names replaced by X and counted).
//
//   /usr/bin/python3 tools/fixtures/make_torchvision.py
//   NX_DAEMON=false npx nx run @modelpass/cli:build
//   node tools/bench/prune/torchvision.mjs [--models resnet18,mobilenet_v2] [--runs 30] [--batch-runs 10]
//        [--warmup 3] [--batch 8] [--no-proof] [--out tools/bench/prune/RESULTS-torchvision.md]
//
// Unless --no-proof, it also runs the group proof on each architecture (channel-proof.mjs).
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, tmpdir } from 'node:os';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { CLI, ROOT, flag, interleavedLatencies, session } from './ort-timing.mjs';
import { prepareProof } from './channel-proof.mjs';

const CACHE = join(ROOT, '.fixtures-cache/torchvision');
const args = process.argv.slice(2);
const MODELS = flag('models', 'resnet18,mobilenet_v2,shufflenet_v2_x0_5,efficientnet_b0,mobilenet_v3_small,regnet_y_400mf').split(',');
const RUNS = Number(flag('runs', '30'));
const BATCH_RUNS = Number(flag('batch-runs', '10'));
const WARMUP = Number(flag('warmup', '3'));
const BATCH = Number(flag('batch', '8'));
const OUT = resolve(flag('out', join(ROOT, 'tools/bench/prune/RESULTS-torchvision.md')));
const PROVE = !args.includes('--no-proof');
const VARIANTS = (flag('pipelines', null)?.split(';') ?? ['prune-channels{ratio=0.5}', 'prune-channels{ratio=0.5 round-to=8}', 'optimize', 'optimize,prune-channels{ratio=0.5}']);

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`NX_DAEMON=false npx nx run @modelpass/cli:build\` first`);
for (const m of MODELS) {
  if (!existsSync(join(CACHE, `${m}.onnx`))) throw new Error(`${join(CACHE, `${m}.onnx`)} is missing: run \`/usr/bin/python3 tools/fixtures/make_torchvision.py ${m}\` first`);
}
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-torchvision-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

const cli = (...cliArgs) => spawnSync(process.execPath, [CLI, ...cliArgs], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20 });

/** ONNX's checker with full_check (shape inference included); returns undefined or the error's last line. */
function checkerError(path) {
  const script = 'import onnx,sys\nonnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)';
  const result = spawnSync('/usr/bin/python3', ['-c', script, path], { encoding: 'utf8' });
  return result.status === 0 ? undefined : (result.stderr.trim().split('\n').pop() || `exit ${result.status}`);
}

/** The reasons in the pass's "left whole: …" diagnostics, with names and sizes folded, counted. */
function refusalReasons(stderr) {
  const counts = new Map();
  for (const line of stderr.split('\n')) {
    const at = line.indexOf('left whole: ');
    if (at < 0) continue;
    const reason = line.slice(at + 'left whole: '.length)
      .replace(/'[^']*'/g, 'X')
      .replace(/\([^)]*\)/g, '(…)')
      .split('; ')
      .filter((part, i, parts) => parts.indexOf(part) === i)
      .join('; ')
      .trim();
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}

function seededInput(shape) {
  let state = 12345;
  const data = new Float32Array(shape.reduce((n, d) => n * d, 1));
  for (let i = 0; i < data.length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    data[i] = state / 2 ** 32 * 2 - 1;
  }
  return data;
}

/** Median latency of A and B on the same input, interleaved (order alternating each round). */
async function latencies(a, b, inputName, shape, runs) {
  const feeds = { [inputName]: new ort.Tensor('float32', seededInput(shape), shape) };
  return interleavedLatencies(a, b, feeds, { warmup: WARMUP, runs });
}

/** Output names, shapes and finiteness of one run, for comparing the pruned model's interface. */
async function outputsOf(s, inputName, shape) {
  const result = await s.run({ [inputName]: new ort.Tensor('float32', seededInput(shape), shape) });
  return Object.fromEntries(Object.entries(result).map(([name, t]) => [name, { dims: [...t.dims], finite: [...t.data].every(Number.isFinite) }]));
}

/** Largest |a − b| over the outputs of two sessions on one seeded batch, relative to the largest |a|. */
async function largestDifference(a, b, inputName, shape) {
  const feeds = { [inputName]: new ort.Tensor('float32', seededInput(shape), shape) };
  const [x, y] = [await a.run(feeds), await b.run(feeds)];
  let diff = 0;
  let scale = 0;
  for (const name of Object.keys(x)) {
    const [u, v] = [x[name].data, y[name].data];
    if (u.length !== v.length) return Number.POSITIVE_INFINITY;
    for (let i = 0; i < u.length; i++) {
      diff = Math.max(diff, Math.abs(u[i] - v[i]));
      scale = Math.max(scale, Math.abs(u[i]));
    }
  }
  return diff / Math.max(scale, 1e-30);
}

const rows = [];
const proofs = [];
for (const model of MODELS) {
  const original = join(CACHE, `${model}.onnx`);
  const base = JSON.parse(cli('inspect', original, '--json').stdout);
  const inputShape = base.inputs[0].shape.map((d, i) => (typeof d === 'number' ? d : i === 0 ? 1 : Number.NaN));
  if (inputShape.some(Number.isNaN)) throw new Error(`${model}: input shape ${JSON.stringify(base.inputs[0].shape)} has symbolic dims beyond the batch`);
  const batchShape = [BATCH, ...inputShape.slice(1)];
  const a = await session(original);
  const inputName = a.inputNames[0];
  const baseOutputs = await outputsOf(a, inputName, inputShape);
  rows.push({ model, pipeline: '(original)', parameters: base.parameters, flops: base.flops, paramRatio: 1, flopsRatio: 1 });
  for (const pipeline of VARIANTS) {
    const path = join(WORK, `${model}-${rows.length}.onnx`);
    const statsPath = `${path}.stats.json`;
    const started = performance.now();
    const convert = cli('convert', original, '-o', path, '--pipeline', pipeline, '--statistics-json', statsPath);
    const convertSeconds = (performance.now() - started) / 1000;
    const row = { model, pipeline, convertSeconds };
    rows.push(row);
    if (convert.status !== 0) {
      row.error = `convert failed: ${convert.stderr.trim().split('\n').filter((l) => l.includes('error')).slice(0, 1).join('') || convert.stderr.trim().split('\n')[0]}`;
      console.error(`${model} ${pipeline}: ${row.error}`);
      continue;
    }
    const stats = JSON.parse(readFileSync(statsPath, 'utf8'))['prune-channels'] ?? {};
    row.stats = stats;
    row.refusals = refusalReasons(convert.stderr);
    row.checker = checkerError(path);
    const inspect = JSON.parse(cli('inspect', path, '--json').stdout);
    Object.assign(row, { parameters: inspect.parameters, flops: inspect.flops, paramRatio: inspect.parameters / base.parameters, flopsRatio: inspect.flops / base.flops, bytes: statSync(path).size });
    let b;
    try {
      b = await session(path);
    } catch (e) {
      row.error = `ORT refuses it: ${String(e.message).split('\n')[0]}`;
      console.error(`${model} ${pipeline}: ${row.error}`);
      continue;
    }
    const outputs = await outputsOf(b, inputName, inputShape);
    row.interface = JSON.stringify(Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.dims]))) === JSON.stringify(Object.fromEntries(Object.entries(baseOutputs).map(([k, v]) => [k, v.dims])));
    row.finite = Object.values(outputs).every((o) => o.finite);
    const one = await latencies(a, b, inputName, inputShape, RUNS);
    const many = await latencies(a, b, inputName, batchShape, BATCH_RUNS);
    Object.assign(row, { latency1: one.b / one.a, latencyB: many.b / many.a, ms1: [one.a, one.b], msB: [many.a, many.b] });
    await b.release();
    console.error(`${model} ${pipeline}: params ×${row.paramRatio.toFixed(3)}, FLOPs ×${row.flopsRatio.toFixed(3)}, latency ×${row.latency1.toFixed(2)} (b1) ×${row.latencyB.toFixed(2)} (b${BATCH}), checker ${row.checker ?? 'ok'}, shapes ${row.interface ? 'same' : 'CHANGED'}`);
  }
  if (PROVE) {
    // The group proof on this architecture: the channels to lose made irrelevant first, then the real CLI prunes.
    const prepared = join(WORK, `${model}-proof-in.onnx`);
    const pruned = join(WORK, `${model}-proof-out.onnx`);
    const expected = prepareProof(original, prepared, 0.5);
    const convert = cli('convert', prepared, '-o', pruned, '--pipeline', 'prune-channels{ratio=0.5}', '--statistics-json', `${pruned}.json`);
    if (convert.status !== 0) proofs.push({ model, expected, error: convert.stderr.trim().split('\n')[0] });
    else {
      const removed = JSON.parse(readFileSync(`${pruned}.json`, 'utf8'))['prune-channels']?.['channels-removed'] ?? 0;
      const [p, q] = [await session(prepared), await session(pruned)];
      const worst = Math.max(await largestDifference(p, q, inputName, inputShape), await largestDifference(p, q, inputName, [2, ...inputShape.slice(1)]));
      await p.release();
      await q.release();
      proofs.push({ model, expected, removed, worst });
      console.error(`${model} proof: ${removed}/${expected} channels removed, largest output difference ${worst.toExponential(2)} of the largest output`);
    }
  }
  await a.release();
}

const fmtM = (x) => (x / 1e6).toFixed(2);
const lines = [
  '# Channel pruning on torchvision architectures (tools/bench/prune/torchvision.mjs)',
  '',
  `Command: \`/usr/bin/python3 tools/fixtures/make_torchvision.py && node tools/bench/prune/torchvision.mjs --runs ${RUNS} --batch-runs ${BATCH_RUNS} --warmup ${WARMUP} --batch ${BATCH}\` on ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}, shared with other jobs: latency is noisy), Node ${process.version}.`,
  'Models: torchvision 0.14, random seeded weights (no pretrained weights here), `torch.onnx.export` opset 13, input 1×3×224×224 (see the JSON beside each file in `.fixtures-cache/torchvision/`).',
  `Checks per output: ONNX checker \`full_check\` (python3-onnx 1.12), ONNX Runtime loads and runs it, output names/shapes equal to the original's, outputs finite. Parameters and FLOPs: \`modelpass inspect --json\` (batch 1). Latency: ORT CPU, one intra-op thread, graph optimization \`all\`, median of ${RUNS} (batch 1) and ${BATCH_RUNS} (batch ${BATCH}) interleaved runs after ${WARMUP} warm-up, ratio to the original in the same process. Without fine-tuning or \`reconstruct\` the pruned models' outputs differ from the original's (weights are random anyway); accuracy is not measured here.`,
  '',
  '| model | pipeline | checker | ORT shapes | params (M) | params ratio | GFLOPs | FLOPs ratio | latency b1 | latency b' + BATCH + ' | groups pruned / all | channels removed |',
  '|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|',
];
for (const row of rows) {
  if (row.pipeline === '(original)') {
    lines.push(`| ${row.model} | original | | | ${fmtM(row.parameters)} | 1.000 | ${(row.flops / 1e9).toFixed(3)} | 1.000 | 1.00 | 1.00 | | |`);
    continue;
  }
  if (row.error && row.parameters === undefined) {
    lines.push(`| ${row.model} | \`${row.pipeline}\` | failed: ${row.error.replace(/\|/g, '\\|')} | | | | | | | | | |`);
    continue;
  }
  const groups = row.stats?.groups !== undefined ? `${row.stats['groups-pruned']} / ${row.stats.groups}` : '—';
  const shapes = row.error ? row.error.replace(/\|/g, '\\|') : `${row.interface ? 'same' : '**changed**'}${row.finite ? '' : ', **non-finite**'}`;
  lines.push(`| ${row.model} | \`${row.pipeline}\` | ${row.checker ? `**${row.checker.replace(/\|/g, '\\|')}**` : 'ok'} | ${shapes} | ${fmtM(row.parameters)} | ${row.paramRatio.toFixed(3)} | ${(row.flops / 1e9).toFixed(3)} | ${row.flopsRatio.toFixed(3)} | ${row.latency1?.toFixed(2) ?? '—'} | ${row.latencyB?.toFixed(2) ?? '—'} | ${groups} | ${row.stats?.['channels-removed'] ?? '—'} |`);
}
lines.push('', '## Groups left whole, by reason (names replaced by X)', '');
for (const row of rows) {
  if (!row.refusals?.length) continue;
  lines.push(`- ${row.model}, \`${row.pipeline}\`: ${row.refusals.map(([reason, n]) => `${n}× ${reason}`).join('; ')}`);
}
if (proofs.length > 0) {
  lines.push('', '## Proof of the groups on each architecture', '');
  lines.push('As in `packages/prune/src/__tests__/channels-equivalence.test.ts` (`tools/bench/prune/channel-proof.mjs`): the channels each prunable group will lose are chosen (seeded) and made irrelevant first (every weight reading them zeroed, the rows making them scaled by 1e-6 so that L1 picks exactly them); then the CLI runs `prune-channels{ratio=0.5}`. ORT must give the same outputs (batch 1 and 2) before and after: a missed dependency (residual partner, SE gate, depthwise/grouped conv, Concat offset) would change them.', '');
  lines.push('| model | channels removed / chosen | largest output difference (relative to the largest output) |', '|---|---:|---:|');
  for (const proof of proofs) lines.push(`| ${proof.model} | ${proof.error ? `failed: ${proof.error}` : `${proof.removed} / ${proof.expected}`} | ${proof.worst === undefined ? '' : proof.worst.toExponential(2)} |`);
}
lines.push('', '## Absolute latencies (ms, original → pruned)', '');
for (const row of rows) {
  if (!row.ms1) continue;
  lines.push(`- ${row.model}, \`${row.pipeline}\`: batch 1 ${row.ms1[0].toFixed(1)} → ${row.ms1[1].toFixed(1)}; batch ${BATCH} ${row.msB[0].toFixed(1)} → ${row.msB[1].toFixed(1)}; convert ${row.convertSeconds.toFixed(1)} s`);
}
lines.push('');
const temporary = `${OUT}.${process.pid}.tmp`;
writeFileSync(temporary, lines.join('\n'));
renameSync(temporary, OUT);
console.log(lines.join('\n'));
console.error(`wrote ${relative(ROOT, OUT)}`);
