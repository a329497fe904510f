// Latency-aware placement, measured: one network quantized with quantize-static's default placement
// and once more per class of nodes kept float (exclude=), all timed interleaved against fp32 in one
// process (one thread, batch 1, graph optimization `all`), with the smallest output cosine vs fp32.
// A class that is faster float than int8 *on the whole network* (Q/DQ, ORT's NHWC transposes and
// reorders included) shows up as a variant whose ratio is below the default's.
//
//   node tools/bench/quantize/placement-variants.mjs --model .fixtures-cache/torchvision/efficientnet_b0.onnx \
//     [--classes se-branch,se-scale,act-mul,depthwise,se-convs] [--runs 100] [--kernel-runs 20] [--samples 8] [--out DIR]
//
// Two figures per variant: end-to-end latency (median and minimum of `runs` interleaved runs) and the
// summed kernel time (ORT's profiler, `kernel-runs` interleaved runs, each node's fastest run after
// the first two, summed; 0 skips it). On a loaded shared machine preemption stretches whole runs, while
// a node kernel is short and almost always once undisturbed: the kernel-time ratio is the steadier one.
//
// Classes (from the float graph's structure; the torchvision SE/MBConv nets spell them this way):
//   se-branch  GlobalAveragePool → fc1 Conv → its activation → fc2 Conv → gate (Sigmoid/HardSigmoid):
//              the squeeze-excitation branch on [N, C, 1, 1] (the scale Mul stays int8 when it can)
//   se-scale   the Mul of the SE gate with the feature map (x · s[C])
//   se-convs   the SE branch's two 1×1 Convs only
//   act-mul    SiLU / HardSwish outside the SE gate: x · σ(x), x · hσ(x) (the gate and the Mul)
//   depthwise  depthwise Convs (group = input channels, one input channel per group)
//   depthwise-odd  depthwise Convs whose channel count is not a multiple of 16 (MLAS's int8
//              depthwise kernel's fast path wants multiples of 16)
//   a+b        the union of two classes, e.g. depthwise-odd+se-scale
// Each variant is `modelpass convert` with `simplify,quantize-static{samples=N exclude=[…]}` (the
// repo's CLI, or --cli): seeded random calibration inputs, enough for latency; the cosine is printed
// so a variant that would hurt outputs is visible.
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import { readOnnx } from '@modelpass/onnx';
import { prepareForQuantization } from '@modelpass/quantize';
import { convert, flag, median } from './lib.mjs';

const GATES = new Set(['onnx.Sigmoid', 'onnx.HardSigmoid']);

/** Readers of a node's first output. */
const readers = (node) => [...node.output(0).uses].map((use) => use.node).filter(Boolean);

/** The one reader of a node's output, when it has exactly one. */
const soleReader = (node) => {
  const all = readers(node);
  return all.length === 1 ? all[0] : undefined;
};

/** The SE branches: GlobalAveragePool → fc1 Conv → activation → fc2 Conv → gate, and the scale Mul after it. */
function seBranches(graph) {
  const branches = [];
  for (const pool of graph.nodesOf('onnx.GlobalAveragePool')) {
    const fc1 = soleReader(pool);
    if (fc1?.op !== 'onnx.Conv') continue;
    const after = readers(fc1);
    // Relu / HardSwish: one node; SiLU: Sigmoid and the Mul reading both
    const mul = after.find((node) => node.op === 'onnx.Mul');
    const activation = after.length === 1 ? after : mul && after.length === 2 ? after : undefined;
    const last = after.length === 1 ? after[0] : mul;
    const fc2 = last ? soleReader(last) : undefined;
    const gate = fc2?.op === 'onnx.Conv' ? soleReader(fc2) : undefined;
    if (!activation || !gate || !GATES.has(gate.op)) continue;
    const scale = readers(gate).find((node) => node.op === 'onnx.Mul');
    branches.push({ nodes: [pool, fc1, ...activation, fc2, gate], convs: [fc1, fc2], scale });
  }
  return branches;
}

/** x · gate(x) pairs outside SE branches: [gate, mul]. */
function activationMuls(graph, inSe) {
  const pairs = [];
  for (const gate of graph.nodes()) {
    if (!GATES.has(gate.op) || inSe.has(gate)) continue;
    const x = gate.inputs[0];
    const mul = readers(gate).find((node) => node.op === 'onnx.Mul' && node.inputs.includes(x));
    if (mul && !inSe.has(mul)) pairs.push(gate, mul);
  }
  return pairs;
}

function depthwiseConvs(graph) {
  return [...graph.nodesOf('onnx.Conv')].filter((node) => {
    const group = node.optionalAttr('group', 'int') ?? 1;
    const weight = node.inputs[1]?.constant;
    return group > 1 && weight?.shape[1] === 1;
  });
}

/** Node names per class, from the float model (after BN folding, as quantize-static sees it). */
function classify(model) {
  const branches = seBranches(model.graph);
  const inSe = new Set(branches.flatMap((b) => [...b.nodes, ...(b.scale ? [b.scale] : [])]));
  const names = (nodes) => nodes.map((node) => node.name);
  return {
    'se-branch': names(branches.flatMap((b) => b.nodes)),
    'se-scale': names(branches.flatMap((b) => (b.scale ? [b.scale] : []))),
    'se-convs': names(branches.flatMap((b) => b.convs)),
    'act-mul': names(activationMuls(model.graph, inSe)),
    depthwise: names(depthwiseConvs(model.graph)),
    'depthwise-odd': names(depthwiseConvs(model.graph).filter((node) => (node.inputs[1].constant.shape[0] % 16) !== 0)),
  };
}

const quiet = { debug: () => {}, report: () => {}, warn: () => {} };

/** `modelpass convert` with `simplify,quantize-static{samples=N exclude=[…]}`: what a user would run. */
function quantizeVariant(path, exclude, samples, out) {
  const pipeline = `simplify,quantize-static{samples=${samples}${exclude.length > 0 ? ` exclude=[${exclude.join(',')}]` : ''}}`;
  const result = convert(path, out, pipeline, 'quantize-static');
  if (!result.ok) throw new Error(`${pipeline.slice(0, 200)}…: ${result.error}`);
  return out;
}

function feedsFor(session, batch, seed) {
  const data = new Float32Array(batch * 3 * 224 * 224);
  for (let i = 0; i < data.length; i++) data[i] = Math.sin((i + seed) * 12.9898) * 1.7;
  return { [session.inputNames[0]]: new ort.Tensor('float32', data, [batch, 3, 224, 224]) };
}

function cosine(x, y) {
  let [dot, nx, ny] = [0, 0, 0];
  for (let i = 0; i < x.length; i++) [dot, nx, ny] = [dot + x[i] * y[i], nx + x[i] * x[i], ny + y[i] * y[i]];
  return dot / Math.sqrt(nx * ny);
}

const modelPath = flag('model', '');
if (!modelPath) throw new Error('usage: placement-variants.mjs --model fp32.onnx [--classes a,b] [--runs N] [--samples N] [--out DIR]');
const wanted = flag('classes', 'se-branch,se-scale,se-convs,act-mul,depthwise').split(',').filter(Boolean);
const runs = Number(flag('runs', '100'));
const samples = Number(flag('samples', '8'));
const kernelRuns = Number(flag('kernel-runs', '20'));
const out = flag('out', '') || mkdtempSync(join(tmpdir(), 'placement-'));
mkdirSync(out, { recursive: true });

const prepared = readOnnx(modelPath);
await prepareForQuantization(prepared, quiet);
const classes = classify(prepared);
const name = basename(modelPath, '.onnx');
const variants = [{ label: 'fp32', path: modelPath }, { label: 'int8 (default placement)', path: quantizeVariant(modelPath, [], samples, join(out, `${name}.int8.onnx`)) }];
for (const kind of wanted) {
  // `a+b`: the union of two classes
  const parts = kind.split('+');
  const unknown = parts.find((part) => !classes[part]);
  if (unknown) throw new Error(`--classes: unknown class '${unknown}' (known: ${Object.keys(classes).join(', ')}; join with + for a union)`);
  const exclude = [...new Set(parts.flatMap((part) => classes[part]))];
  if (exclude.length === 0) {
    console.log(`${kind}: no such nodes in ${name}`);
    continue;
  }
  variants.push({ label: `int8, ${kind} float (${exclude.length} nodes)`, path: quantizeVariant(modelPath, exclude, samples, join(out, `${name}.${kind}-float.onnx`)) });
}

const sessions = [];
for (const variant of variants) {
  sessions.push({ ...variant, s: await ort.InferenceSession.create(variant.path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3 }), times: [] });
}
const feeds = feedsFor(sessions[0].s, 1, 0);
const check = feedsFor(sessions[0].s, 4, 7);
const reference = (await sessions[0].s.run(check))[sessions[0].s.outputNames[0]].data;
for (const entry of sessions) {
  const y = (await entry.s.run(check))[entry.s.outputNames[0]].data;
  const per = y.length / 4;
  entry.cosine = Math.min(...[0, 1, 2, 3].map((i) => cosine(reference.subarray(i * per, (i + 1) * per), y.subarray(i * per, (i + 1) * per))));
}
const cpuStart = process.cpuUsage();
for (let round = 0; round < runs + 3; round++) {
  const order = round % 2 ? sessions : [...sessions].reverse();
  for (const entry of order) {
    const start = performance.now();
    await entry.s.run(feeds);
    if (round >= 3) entry.times.push(performance.now() - start);
  }
}
const cpuSeconds = process.cpuUsage(cpuStart).user / 1e6;
for (const entry of sessions) await entry.s.release();

/** Summed per-node fastest kernel time of every variant, interleaved (see the header). */
async function kernelTimes(entries) {
  const work = mkdtempSync(join(tmpdir(), 'placement-kernels-'));
  const profiled = [];
  for (const [i, entry] of entries.entries()) {
    const prefix = join(work, `k${i}`);
    profiled.push({ entry, prefix, s: await ort.InferenceSession.create(entry.path, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3, enableProfiling: true, profileFilePrefix: prefix }) });
  }
  for (let round = 0; round < kernelRuns + 2; round++) for (const p of round % 2 ? profiled : [...profiled].reverse()) await p.s.run(feeds);
  for (const p of profiled) {
    p.s.endProfiling();
    await p.s.release();
    const file = readdirSync(work).map((f) => join(work, f)).find((f) => f.startsWith(p.prefix + '_') || f.startsWith(p.prefix));
    const perNode = new Map();
    for (const event of JSON.parse(readFileSync(file, 'utf8'))) {
      if (event.cat !== 'Node' || !event.name.endsWith('_kernel_time')) continue;
      perNode.set(event.name, [...(perNode.get(event.name) ?? []), event.dur / 1000]);
    }
    p.entry.kernelMs = [...perNode.values()].map((times) => (times.length > 2 ? times.slice(2) : times)).reduce((total, times) => total + Math.min(...times), 0);
    p.entry.kernelNodes = perNode.size;
  }
  rmSync(work, { recursive: true, force: true });
}
if (kernelRuns > 0) await kernelTimes(sessions);

const [fpMedian, fpMin, fpKernel] = [median(sessions[0].times), Math.min(...sessions[0].times), sessions[0].kernelMs];
console.log(`${name}: ${runs} interleaved runs per model (kernel time: ${kernelRuns}), batch 1, one thread; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}; CPU ${cpuSeconds.toFixed(1)} s for the timed runs`);
console.log('| variant | median ms | min ms | / fp32 median | / fp32 min | kernel ms (ORT nodes) | / fp32 kernel | min cosine vs fp32 |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
for (const entry of sessions) {
  const [m, lo] = [median(entry.times), Math.min(...entry.times)];
  const kernel = entry.kernelMs !== undefined ? [`${entry.kernelMs.toFixed(2)} (${entry.kernelNodes})`, (entry.kernelMs / fpKernel).toFixed(3)] : ['—', '—'];
  console.log(`| ${entry.label} | ${m.toFixed(2)} | ${lo.toFixed(2)} | ${(m / fpMedian).toFixed(3)} | ${(lo / fpMin).toFixed(3)} | ${kernel[0]} | ${kernel[1]} | ${entry.cosine.toFixed(5)} |`);
}
console.log(`files in ${out}`);
