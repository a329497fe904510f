#!/usr/bin/env node
// A second view of issue 12's conversion time, beside run.mjs (never instead of it): what a user running the CLI once per
// model sees. Each measurement is a fresh process of the built CLI, both fully cold (node start, module loading, JIT):
//   plain:      modelpass convert MODEL.onnx -o x.onnx                                   (read + write, no pass)
//   conversion: modelpass convert MODEL.onnx -o x.tflite --pipeline 'legalize-tflite{io-layout=nhwc}'
// alternating plain, conversion, conversion, plain, … (--pairs of each per model). Prints wall-time medians and the children's
// CPU time (from /proc/self/stat cutime + cstime: clock ticks, 10 ms each) and their ratios. The CLI's defaults stay on
// (verify-each after the pass, its summary), as a user gets them. Outputs nothing but its table; writes no RESULTS file.
//
//   NX_DAEMON=false npx nx run @modelpass/cli:build
//   node tools/bench/tflite/cli-cold.mjs [--models fashion-transformer,shufflenet_v2_x0_5,regnet_y_400mf] [--pairs 4]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { modelPath } from './models.mjs';
import { flag, median, ROOT } from '../prune/ort-timing.mjs';

const MODELS = flag('models', 'fashion-transformer,shufflenet_v2_x0_5,regnet_y_400mf').split(',');
const PAIRS = Number(flag('pairs', '4'));
const CLI = join(ROOT, 'packages/cli/dist/bin.js');
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-tflite-cli-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

/** CPU milliseconds of this process's waited-for children so far (/proc/self/stat fields 16 and 17, clock ticks of 10 ms). */
function childrenCpuMs() {
  const stat = readFileSync('/proc/self/stat', 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[13]) + Number(fields[14])) * 10;
}

function run(args) {
  const cpu = childrenCpuMs();
  const start = performance.now();
  const result = spawnSync(process.execPath, [CLI, ...args], { cwd: WORK, encoding: 'utf8' });
  const wall = performance.now() - start;
  if (result.status !== 0) throw new Error(`modelpass ${args.join(' ')} failed (${result.status}): ${result.stderr.slice(-2000)}`);
  return { wall, cpu: childrenCpuMs() - cpu };
}

console.log(`load average ${loadavg()[0].toFixed(1)} at the start; ${PAIRS} processes per arm and model, alternating`);
const rows = [];
for (const name of MODELS) {
  const source = modelPath(name);
  const arms = {
    plain: () => run(['convert', source, '-o', join(WORK, `${name}.onnx`)]),
    conversion: () => run(['convert', source, '-o', join(WORK, `${name}.tflite`), '--pipeline', 'legalize-tflite{io-layout=nhwc}']),
  };
  const times = { plain: [], conversion: [] };
  for (let pair = 0; pair < PAIRS; pair++) for (const arm of pair % 2 ? ['conversion', 'plain'] : ['plain', 'conversion']) times[arm].push(arms[arm]());
  const summary = (arm, key) => median(times[arm].map((t) => t[key]));
  const row = { name, plainWall: summary('plain', 'wall'), conversionWall: summary('conversion', 'wall'), plainCpu: summary('plain', 'cpu'), conversionCpu: summary('conversion', 'cpu') };
  rows.push(row);
  console.log(`${name}: wall ${row.plainWall.toFixed(0)} → ${row.conversionWall.toFixed(0)} ms (×${(row.conversionWall / row.plainWall).toFixed(2)}), CPU ${row.plainCpu.toFixed(0)} → ${row.conversionCpu.toFixed(0)} ms (×${(row.conversionCpu / row.plainCpu).toFixed(2)})`);
}
console.log(`load average ${loadavg()[0].toFixed(1)} at the end\n`);
console.log('| model | CLI → .onnx wall (ms) | CLI → .tflite wall (ms) | ratio | CLI → .onnx CPU (ms) | CLI → .tflite CPU (ms) | CPU ratio |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.name} | ${r.plainWall.toFixed(0)} | ${r.conversionWall.toFixed(0)} | ${(r.conversionWall / r.plainWall).toFixed(2)} | ${r.plainCpu.toFixed(0)} | ${r.conversionCpu.toFixed(0)} | ${(r.conversionCpu / r.plainCpu).toFixed(2)} |`);
}
