#!/usr/bin/env node
// IR scaling benchmark: builds chain-and-branch graphs (10k, 100k and 1M nodes by default) and
// times four stages on each: building the graph through GraphBuilder, verifyModel, printModel and
// parseModel. Every stage must be linear, so each 10× size step should cost about 10× the time.
//
//   cd packages/ir && npx tsc -b && cd ../..
//   node --expose-gc tools/bench/ir-scaling/run.mjs
//
// Options:
//   --runs N            timed rounds per size (default 5; sizes of 1M nodes and more: --large-runs, default 3)
//   --warmup N          untimed rounds first (default 2; 1 at 1M nodes and more)
//   --sizes a,b,c       node counts (default 10000,100000,1000000)
//   --baseline DIR      another built @modelpass/ir (its dist/ folder) timed in the same rounds, for before/after
//   --baseline-sizes …  sizes to time the baseline at (default: those under 1M)
//   --baseline-name S   how RESULTS.md names the baseline (default: its folder)
//   --no-write          print the tables only (RESULTS.md is left alone)
//
// Noise: rounds interleave the stages (and the baseline), with a forced GC and a short pause before
// each measurement; medians and minimums of wall and CPU time are reported. On a loaded machine
// read the CPU columns (user+system time of this process; it excludes waiting for a core).
import { renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}
const runs = Number(option('runs', '5'));
const largeRuns = Number(option('large-runs', '3'));
const warmup = Number(option('warmup', '2'));
const sizes = option('sizes', '10000,100000,1000000').split(',').map(Number);
const baselineDir = option('baseline', undefined);
const baselineName = option('baseline-name', baselineDir);
const baselineSizes = option('baseline-sizes', sizes.filter((s) => s < 1_000_000).join(',')).split(',').map(Number);
const write = !process.argv.includes('--no-write');

if (!globalThis.gc) {
  console.error('run with node --expose-gc, so that each measurement starts from a collected heap');
  process.exit(1);
}

async function loadIr(dir) {
  const entry = join(dir, 'index.js');
  try {
    return await import(pathToFileURL(entry).href);
  } catch (error) {
    console.error(`cannot load ${entry}: build it first with 'cd packages/ir && npx tsc -b'\n${error.message}`);
    process.exit(1);
  }
}
const current = { label: 'current', ir: await loadIr(join(here, '../../../packages/ir/dist')) };
const baseline = baselineDir ? { label: 'baseline', ir: await loadIr(resolve(baselineDir)) } : undefined;

/**
 * A chain with side branches: every step applies a LeakyRelu to the running value; every third
 * step forks a branch (Mul by a 16-element constant, then Relu) that an Add joins back. Node count is exact.
 */
function chainAndBranch(ir, nodeCount) {
  const { GraphBuilder, Tensor, attrs, tensorType } = ir;
  const b = new GraphBuilder();
  const type = tensorType('float32', ['N', 16]);
  let value = b.input('x', type);
  let nodes = 0;
  let step = 0;
  while (nodes < nodeCount) {
    step++;
    if (step % 3 === 0 && nodes + 3 <= nodeCount) {
      const scale = b.constant(Tensor.fromValues('float32', [16], Array.from({ length: 16 }, (_, i) => (i + step) / 7)), `s${step}`);
      const branch = b.op1('onnx.Mul', [value, scale], {}, { name: `mul${step}`, types: [type] });
      const side = b.op1('onnx.Relu', [branch], {}, { name: `relu${step}`, types: [type] });
      value = b.op1('onnx.Add', [value, side], {}, { name: `add${step}`, types: [type] });
      nodes += 3;
    } else {
      value = b.op1('onnx.LeakyRelu', [value], { alpha: attrs.float(0.01) }, { name: `leaky${step}`, types: [type], loc: { file: 'bench.onnx', line: step } });
      nodes += 1;
    }
  }
  b.output(value);
  return b.model({ onnx: 17 });
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const minimum = (values) => Math.min(...values);

// Garbage-collection pauses observed during a measurement (PerformanceObserver `gc` entries).
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });
const settle = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Times `fn` from a collected heap, called `repeat` times in a row (the figures are per call). A
 * forced full GC leaves V8's young generation at its smallest, which slows the next ~50 ms of
 * allocation-heavy work, so sizes under 100k nodes repeat the call to do as much work after each
 * GC as one call at 100k; the results are kept until the measurement ends, so that as much data
 * survives (and is copied by the GC) as in one call at 100k.
 */
async function measure(fn, repeat) {
  globalThis.gc();
  await settle();
  gcMs = 0;
  const results = new Array(repeat);
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  for (let i = 0; i < repeat; i++) results[i] = fn(i);
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const cpuUsed = process.cpuUsage(cpuStart);
  results.fill(undefined);
  await settle(); // let the GC entries of the timed calls arrive
  return { wall: wall / repeat, cpu: (cpuUsed.user + cpuUsed.system) / 1000 / repeat, gc: Math.min(gcMs, wall) / repeat };
}

/** Heap bytes a freshly built model keeps alive. */
async function retainedBytes(make) {
  globalThis.gc();
  await settle();
  const before = process.memoryUsage().heapUsed;
  const model = make();
  globalThis.gc();
  const after = process.memoryUsage().heapUsed;
  if (!model) throw new Error('unreachable');
  return after - before;
}

const STAGES = ['build', 'verify', 'print', 'parse'];

/** Prepares one implementation at one size: the model, its text, the checked round trip. */
async function prepare(impl, size, repeat) {
  const { ir } = impl;
  const retained = await retainedBytes(() => chainAndBranch(ir, size));
  const model = chainAndBranch(ir, size);
  const text = ir.printModel(model);
  let parsed = ir.parseModel(text);
  const difference = ir.modelsEqual(model, parsed);
  if (difference) throw new Error(`${impl.label}: round trip failed at ${size} nodes: ${difference}`);
  if (ir.printModel(parsed) !== text) throw new Error(`${impl.label}: print(parse(print(m))) differs at ${size} nodes`);
  parsed = undefined;
  const errors = ir.verifyModel(model);
  if (errors.length) throw new Error(`${impl.label}: benchmark model does not verify: ${errors[0].reason}`);
  // Repeated calls verify and print distinct models, so that they touch as much memory as one call at 100k.
  const models = [model];
  while (models.length < repeat) models.push(chainAndBranch(ir, size));
  const stages = {
    build: () => chainAndBranch(ir, size),
    verify: (i) => ir.verifyModel(models[i]),
    print: (i) => ir.printModel(models[i]),
    parse: () => ir.parseModel(text),
  };
  return { impl, size, nodes: model.graph.nodeCount, bytes: Buffer.byteLength(text), retained, stages, text, samples: {} };
}

async function runSize(size, impls) {
  const repeat = Math.max(1, Math.round(100_000 / size));
  const prepared = [];
  for (const impl of impls) prepared.push(await prepare(impl, size, repeat));
  const texts = new Set(prepared.map((p) => p.text));
  if (texts.size !== 1) throw new Error(`current and baseline print different text at ${size} nodes`);
  for (const p of prepared) p.text = undefined;
  const rounds = size >= 1_000_000 ? largeRuns : runs;
  const warmupRounds = size >= 1_000_000 ? Math.min(warmup, 1) : warmup;
  // Warm-up rounds (JIT tiers, heap sizing) are not reported.
  for (let round = 1 - warmupRounds; round <= rounds; round++) {
    for (const stage of STAGES) {
      for (const p of round % 2 === 0 ? prepared : [...prepared].reverse()) {
        const timing = await measure(p.stages[stage], repeat);
        if (round <= 0) continue;
        (p.samples[stage] ??= []).push(timing);
      }
    }
    console.error(`${size} nodes: ${round <= 0 ? 'warm-up round' : `round ${round}/${rounds}`} done`);
  }
  return prepared.map((p) => {
    const row = { label: p.impl.label, size, nodes: p.nodes, bytes: p.bytes, retained: p.retained, rounds, warmupRounds, repeat, stages: {} };
    for (const stage of STAGES) {
      const samples = p.samples[stage];
      row.stages[stage] = {
        wall: median(samples.map((s) => s.wall)),
        wallMin: minimum(samples.map((s) => s.wall)),
        cpu: median(samples.map((s) => s.cpu)),
        cpuMin: minimum(samples.map((s) => s.cpu)),
        gc: median(samples.map((s) => s.gc)),
      };
    }
    return row;
  });
}

// The main figures come from the current build alone (its data only on the heap); with a
// baseline, a second pass times both in the same rounds for the before/after table.
const rows = [];
for (const size of sizes) rows.push(...(await runSize(size, [current])));
const comparisonRows = [];
if (baseline) for (const size of baselineSizes) comparisonRows.push(...(await runSize(size, [current, baseline])));

const fmt = (ms) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));
const sizeName = (n) => (n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n));
const currentRows = rows.filter((r) => r.label === 'current');

const timingTable = [
  '| stage | nodes | wall median (ms) | wall min (ms) | CPU median (ms) | CPU min (ms) | GC pauses, median (ms) | CPU median per node (µs) |',
  '|---|---:|---:|---:|---:|---:|---:|---:|',
  ...STAGES.flatMap((stage) =>
    currentRows.map((r) => {
      const s = r.stages[stage];
      return `| ${stage} | ${sizeName(r.nodes)} | ${fmt(s.wall)} | ${fmt(s.wallMin)} | ${fmt(s.cpu)} | ${fmt(s.cpuMin)} | ${fmt(s.gc)} | ${((s.cpu * 1000) / r.nodes).toFixed(2)} |`;
    }),
  ),
].join('\n');

const steps = currentRows.slice(1).map((r, i) => [currentRows[i], r]);
const ratioTable = steps.length
  ? [
      `| stage | ${steps.map(([a, b]) => `${sizeName(b.nodes)}/${sizeName(a.nodes)} CPU median | ${sizeName(b.nodes)}/${sizeName(a.nodes)} CPU min | ${sizeName(b.nodes)}/${sizeName(a.nodes)} wall median`).join(' | ')} |`,
      `|---|${steps.map(() => '---:|---:|---:').join('|')}|`,
      ...STAGES.map(
        (stage) =>
          `| ${stage} | ${steps
            .map(([a, b]) => {
              const x = a.stages[stage];
              const y = b.stages[stage];
              const size = b.nodes / a.nodes;
              return [y.cpu / x.cpu, y.cpuMin / x.cpuMin, y.wall / x.wall].map((ratio) => ((ratio * 10) / size).toFixed(1)).join(' | ');
            })
            .join(' | ')} |`,
      ),
    ].join('\n')
  : '';

const memoryTable = [
  '| nodes | .mpir text | heap kept by the built model | per node |',
  '|---:|---:|---:|---:|',
  ...currentRows.map((r) => `| ${sizeName(r.nodes)} | ${(r.bytes / 1e6).toFixed(1)} MB | ${(r.retained / 1e6).toFixed(0)} MB | ${(r.retained / r.nodes).toFixed(0)} B |`),
].join('\n');

const baselineRows = comparisonRows.filter((r) => r.label === 'baseline');
const comparisonTable = baselineRows.length
  ? [
      '| stage | nodes | baseline CPU median (ms) | current CPU median (ms) | speed-up (CPU) | baseline wall median (ms) | current wall median (ms) | speed-up (wall) |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      ...STAGES.flatMap((stage) =>
        baselineRows.map((b) => {
          const c = comparisonRows.find((r) => r.label === 'current' && r.size === b.size);
          const x = b.stages[stage];
          const y = c.stages[stage];
          return `| ${stage} | ${sizeName(b.nodes)} | ${fmt(x.cpu)} | ${fmt(y.cpu)} | ${(x.cpu / y.cpu).toFixed(1)}× | ${fmt(x.wall)} | ${fmt(y.wall)} | ${(x.wall / y.wall).toFixed(1)}× |`;
        }),
      ),
      '',
      `Baseline heap kept per node: ${baselineRows.map((b) => `${(b.retained / b.nodes).toFixed(0)} B at ${sizeName(b.nodes)}`).join(', ')}.`,
    ].join('\n')
  : '';

console.log(timingTable);
if (ratioTable) console.log('\n' + ratioTable);
console.log('\n' + memoryTable);
if (comparisonTable) console.log('\n' + comparisonTable);

if (write) {
  const quote = (arg) => (/^[\w./,=:-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`);
  const command = `node --expose-gc tools/bench/ir-scaling/run.mjs${process.argv.slice(2).filter((a) => a !== '--no-write').map((a) => ` ${quote(a)}`).join('')}`;
  const text = `# IR scaling: build, verify, print, parse

Chain-and-branch graphs (a chain of LeakyRelu nodes; every third step a Mul-by-constant → Relu
branch joined by an Add) of ${currentRows.map((r) => `${sizeName(r.nodes)} nodes (${(r.bytes / 1e6).toFixed(1)} MB of .mpir)`).join(', ')}.
Stages: **build** (GraphBuilder calls, tensors included), **verify** (\`verifyModel\`), **print**
(\`printModel\`), **parse** (\`parseModel\`). The sizes ran ${currentRows.map((r) => `${r.rounds}`).join('/')} timed rounds after ${currentRows.map((r) => `${r.warmupRounds}`).join('/')} warm-up
round(s); a round measures every stage once (sizes under 100k nodes: ${currentRows
    .filter((r) => r.repeat > 1)
    .map((r) => `${r.repeat} calls in a row at ${sizeName(r.nodes)}`)
    .join(', ') || 'none here'}, results kept until the measurement ends, figures per call)${baselineRows.length ? '' : ''}, with a forced GC and a
short pause before each measurement. The round trip was checked at every size:
\`modelsEqual(m, parseModel(printModel(m)))\` and print ∘ parse ∘ print = print.

${timingTable}

Scaling: each ratio is normalized to a 10× size step, so **10.0 means linear**.

${ratioTable}

Memory:

${memoryTable}
${comparisonTable ? `\nBefore/after: a second pass timed the current build and the baseline (${baselineName}) in the same rounds, alternating which goes first, so both share the heap and the machine's load (figures are higher than above, where only the current build's data was on the heap):\n\n${comparisonTable}\n` : ''}
"CPU" is this process's user+system time (all its threads, so it excludes time spent waiting for a
core on a loaded machine but includes parallel GC work); "GC pauses" are the garbage-collection
pauses observed during the call (PerformanceObserver \`gc\` entries), part of the wall time. GC
cost grows with the live heap, which is why the largest size can show ratios above 10 while the
code does a constant amount of work per node.

- Command: \`cd packages/ir && npx tsc -b && cd ../.. && ${command}\`
- Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} when the run ended
- Date: ${new Date().toISOString().slice(0, 10)}
`;
  const target = join(here, 'RESULTS.md');
  writeFileSync(target + '.tmp', text);
  renameSync(target + '.tmp', target);
  console.error(`wrote ${target}`);
}
