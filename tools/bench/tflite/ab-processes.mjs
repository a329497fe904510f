#!/usr/bin/env node
// A/B of ONNX → TFLite conversion time between two built trees, each measured as run.mjs measures it (a fresh process,
// models in run.mjs's order, one uncounted round, then --rounds rounds: code that has not been optimized by the JIT yet
// is most of a small model's conversion in that regime, which an in-process A/B (ab.mjs) cannot reproduce for both trees
// alike). --pairs processes per tree, alternating A, B, B, A, …; each process runs regime.mjs from its own tree and is
// timed by its main thread's CPU time. Prints, per model, the conversion / load+save ratio of each tree (median over the
// processes of each process's ratio of medians) and B/A of the conversion's median.
//
//   node tools/bench/tflite/ab-processes.mjs --base /tmp/before [--models fashion-cnn,fashion-mlp,fashion-transformer] [--pairs 6] [--rounds 9]
// The base tree needs tools/bench/{tflite,prune}, packages/{ir,ops,onnx,pass-manager,transforms,tflite}/dist + package.json,
// fixtures and .fixtures-cache (or links to them), node_modules whose @modelpass/* point at its own packages, and this
// directory's regime.mjs, models.mjs and ../prune/ort-timing.mjs (copy them in when the tree predates them).
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { flag, median, ROOT } from '../prune/ort-timing.mjs';

const mean = (values) => values.reduce((sum, v) => sum + v, 0) / values.length;

const BASE = flag('base', '');
if (!BASE) throw new Error('--base <tree> is required: a built copy of the repository to compare against');
const MODELS = flag('models', 'fashion-cnn,fashion-mlp,fashion-transformer');
const PAIRS = Number(flag('pairs', '6'));
const ROUNDS = flag('rounds', '9');
const trees = { A: resolve(BASE), B: ROOT };
const results = { A: [], B: [] };
console.log(`load average ${loadavg()[0].toFixed(1)} at the start; A = ${trees.A}, B = ${trees.B}; main-thread CPU ms, ${PAIRS} processes each`);
for (let pair = 0; pair < PAIRS; pair++) {
  for (const side of pair % 2 ? ['B', 'A'] : ['A', 'B']) {
    const script = join(trees[side], 'tools/bench/tflite/regime.mjs');
    const output = execFileSync(process.execPath, [script, '--models', MODELS, '--rounds', ROUNDS], { cwd: trees[side], encoding: 'utf8' });
    results[side].push(Object.fromEntries(output.trim().split('\n').map((line) => JSON.parse(line)).map((row) => [row.name, row])));
  }
}
for (const name of MODELS.split(',')) {
  const summary = (side) => {
    const rows = results[side].map((run) => run[name]);
    return {
      conversion: median(rows.map((row) => median(row.conversion))),
      plain: median(rows.map((row) => median(row.plain))),
      ratio: median(rows.map((row) => median(row.conversion) / median(row.plain))),
      ratioMin: median(rows.map((row) => Math.min(...row.conversion) / Math.min(...row.plain))),
      wallRatio: median(rows.map((row) => median(row.conversionWall) / median(row.plainWall))),
      // Process CPU (precise, helper threads included), means over all rounds of all processes: the main-thread
      // figures above move in scheduler ticks (see regime.mjs), so this is the steadier A/B.
      conversionCpu: mean(rows.flatMap((row) => row.conversionCpu ?? [])),
      plainCpu: mean(rows.flatMap((row) => row.plainCpu ?? [])),
    };
  };
  const a = summary('A');
  const b = summary('B');
  const line = (s) =>
    `conversion ${s.conversion.toFixed(2)}, load+save ${s.plain.toFixed(2)}, ratio ×${s.ratio.toFixed(2)} (of minimums ×${s.ratioMin.toFixed(2)}; wall ×${s.wallRatio.toFixed(2)}); ` +
    `process CPU means: conversion ${s.conversionCpu.toFixed(2)}, load+save ${s.plainCpu.toFixed(2)}, ×${(s.conversionCpu / s.plainCpu).toFixed(2)}`;
  console.log(
    `${name}\n  A ${line(a)}\n  B ${line(b)}\n  B/A conversion ×${(b.conversion / a.conversion).toFixed(3)} (main thread, median), ×${(b.conversionCpu / a.conversionCpu).toFixed(3)} (process CPU, mean)`,
  );
}
console.log(`load average ${loadavg()[0].toFixed(1)} at the end`);
