#!/usr/bin/env node
// IR scaling benchmark: builds chain-and-branch graphs of 10k and 100k nodes and times the
// verifier, the textual IR printer and the parser (median of several runs). Every stage must be
// linear, so each 100k/10k ratio should be near 10. Writes RESULTS.md beside this file.
//
//   cd packages/ir && npx tsc -b && cd ../.. && node --expose-gc tools/bench/ir-scaling/run.mjs
//
// Options: --runs N (default 5), --sizes 10000,100000, --no-write (print the table only).
import { renameSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const irEntry = join(here, '../../../packages/ir/dist/index.js');
let ir;
try {
  ir = await import(irEntry);
} catch (error) {
  console.error(`cannot load ${irEntry}: build it first with 'cd packages/ir && npx tsc -b'\n${error.message}`);
  process.exit(1);
}
const { GraphBuilder, Tensor, attrs, modelsEqual, parseModel, printModel, tensorType, verifyModel } = ir;

function option(name, fallback) {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : fallback;
}
const runs = Number(option('runs', '5'));
const sizes = option('sizes', '10000,100000').split(',').map(Number);
const write = !process.argv.includes('--no-write');

/**
 * A chain with side branches: every step applies Conv-like/Relu nodes to the running value; every
 * third step forks a branch (Mul by a small constant) that an Add joins back. Node count is exact.
 */
function chainAndBranch(nodeCount) {
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

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// Garbage-collection pauses are measured apart: their cost grows with the live heap (the model
// being built is itself large), which is V8's doing rather than the algorithm's.
let gcMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) gcMs += entry.duration;
}).observe({ entryTypes: ['gc'] });
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

async function time(fn) {
  globalThis.gc?.();
  await settle();
  gcMs = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  fn();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const cpu = process.cpuUsage(cpuStart);
  await settle(); // let the GC entries of the timed call arrive
  return { ms, cpu: (cpu.user + cpu.system) / 1000, gc: Math.min(gcMs, ms) };
}

const results = [];
for (const size of sizes) {
  const model = chainAndBranch(size);
  const text = printModel(model);
  let parsed = parseModel(text);
  const difference = modelsEqual(model, parsed);
  if (difference) throw new Error(`round trip failed at ${size} nodes: ${difference}`);
  if (printModel(parsed) !== text) throw new Error(`print(parse(print(m))) differs at ${size} nodes`);
  parsed = undefined; // keep the live heap to the model being measured
  const errors = verifyModel(model);
  if (errors.length) throw new Error(`benchmark model does not verify: ${errors[0].reason}`);
  const stagesToTime = { verify: () => verifyModel(model), print: () => printModel(model), parse: () => parseModel(text) };
  const row = { size, nodes: model.graph.nodeCount, bytes: Buffer.byteLength(text) };
  for (const [stage, fn] of Object.entries(stagesToTime)) {
    const wall = [];
    const cpu = [];
    const work = [];
    // one warm-up run, then `runs` timed runs
    for (let round = 0; round <= runs; round++) {
      const timing = await time(fn);
      if (round === 0) continue;
      wall.push(timing.ms);
      cpu.push(timing.cpu);
      work.push(timing.ms - timing.gc);
    }
    row[stage] = median(wall);
    row[`${stage}-cpu`] = median(cpu);
    row[`${stage}-work`] = median(work);
  }
  results.push(row);
  console.error(`${size} nodes done`);
}

const stages = ['verify', 'print', 'parse'];
const pair = results.length === 2;
const measures = [
  ['', 'wall'],
  ['-cpu', 'CPU'],
  ['-work', 'wall − GC'],
];
const header = `| stage | ${results.map((r) => `${r.nodes} nodes: ${measures.map(([, label]) => label).join(' / ')} (ms)`).join(' | ')} |${pair ? ` ${measures.map(([, label]) => `ratio ${label}`).join(' | ')} |` : ''}`;
const rule = `|---|${results.map(() => '---:').join('|')}|${pair ? measures.map(() => '---:').join('|') + '|' : ''}`;
const rows = stages.map((stage) => {
  const cells = results.map((r) => measures.map(([suffix]) => r[`${stage}${suffix}`].toFixed(0)).join(' / '));
  const ratios = pair ? ` ${measures.map(([suffix]) => (results[1][`${stage}${suffix}`] / results[0][`${stage}${suffix}`]).toFixed(1)).join(' | ')} |` : '';
  return `| ${stage} | ${cells.join(' | ')} |${ratios}`;
});
const table = [header, rule, ...rows].join('\n');
console.log(table);

if (write) {
  const command = 'cd packages/ir && npx tsc -b && cd ../.. && node --expose-gc tools/bench/ir-scaling/run.mjs';
  const text = `# IR scaling: verify, print, parse

Chain-and-branch graphs (a chain of LeakyRelu nodes; every third step a Mul-by-constant → Relu
branch joined by an Add), ${results.map((r) => `${r.nodes} nodes / ${(r.bytes / 1e6).toFixed(1)} MB of .mpir`).join(' and ')}.
Median of ${runs} runs after one warm-up run${globalThis.gc ? ', with a forced GC before each timing' : ''}.
Each round trip was also checked: \`modelsEqual(m, parseModel(printModel(m)))\` and print ∘ parse ∘ print = print.

${table}

A ratio near 10 means linear time. "CPU" is this process's user+system time (all its threads, so
it excludes time spent waiting for a core on a loaded machine but includes parallel GC work);
"wall − GC" subtracts the garbage-collection pauses observed
during the call (PerformanceObserver \`gc\` entries); GC cost grows faster than linearly with the
live heap, so the wall ratio can exceed 10 on a busy machine even though the printer and parser do a
constant amount of work per token (one pass, no backtracking, hash lookups for names).

- Command: \`${command}\`
- Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')} when the run ended
- Date: ${new Date().toISOString().slice(0, 10)}
`;
  const target = join(here, 'RESULTS.md');
  writeFileSync(target + '.tmp', text);
  renameSync(target + '.tmp', target);
  console.error(`wrote ${target}`);
}
