#!/usr/bin/env node
// Which functions V8 optimizes and deoptimizes in run.mjs's regime, round by round (issue 12's conversion time: a warm
// process that keeps compiling spends its helper threads' CPU on TurboFan, and one that keeps deoptimizing runs slow code).
// Runs regime.mjs's loop (models in run.mjs's order, --warmup-rounds uncounted + --rounds rounds of load+save and
// conversion) in a child `node --trace-opt --trace-deopt`, marks each step in the trace, and prints per model and step
// the optimizations and deoptimizations after the first counted round (rounds 1…), the functions doing them, the deopt
// reasons and the time V8 reports for those compile jobs (wall time of background jobs: longer on a loaded machine).
// A job is counted in the step during which V8 reports it done (a concurrent compile may finish a step later).
//
// What it showed on 2026-12-05 (s11): 519 TurboFan compiles over the nine-model regime and only ~60 deopts (most one-off
// "wrong map" on a model's first rounds, e.g. the ONNX reader's importGraph, recompiled 4×): no deoptimization loops.
// The compiles after warm-up are functions getting hot late (different ones each round: fashion-transformer 6–12 a
// round, ShuffleNet 3–11), at 1–55 ms a job. Under valgrind (instructions.mjs's processes) `node --no-opt` runs
// ShuffleNet's conversion in 22% fewer instructions (its load+save 3% fewer) and fashion-transformer's conversion and
// load+save each ~31% fewer: in a 10-round regime the optimizing compiler costs more than it saves.
//
//   nice -n 10 node tools/bench/tflite/trace-jit.mjs [--models fashion-transformer,shufflenet_v2_x0_5] [--rounds 9] [--top 25]
//   nice -n 10 node tools/bench/tflite/trace-jit.mjs --raw > trace.txt     # the annotated trace itself
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { flag } from '../prune/ort-timing.mjs';

const TOP = Number(flag('top', '25'));
if (process.argv.includes('--child')) {
  await child();
} else {
  const args = process.argv.slice(2).filter((a) => a !== '--raw');
  const result = spawnSync(process.execPath, ['--trace-opt', '--trace-deopt', fileURLToPath(import.meta.url), '--child', ...args], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (result.status !== 0) throw new Error(`the traced child failed: ${result.stderr}`);
  if (process.argv.includes('--raw')) process.stdout.write(result.stdout);
  else summarize(result.stdout);
}

async function child() {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { readOnnx, writeOnnx } = await import('@modelpass/onnx');
  const { createOpRegistry } = await import('@modelpass/ops');
  const { PassEnvironment, PassManager } = await import('@modelpass/pass-manager');
  const { registerTfliteDialect, tflitePasses, writeTflite } = await import('@modelpass/tflite');
  const { transformPasses } = await import('@modelpass/transforms');
  const { FASHION, TORCHVISION, modelPath } = await import('./models.mjs');
  const models = flag('models', [...FASHION, ...TORCHVISION].join(',')).split(',');
  const rounds = Number(flag('rounds', '9'));
  const warmupRounds = Number(flag('warmup-rounds', '1'));
  const work = mkdtempSync(join(tmpdir(), 'modelpass-bench-tflite-trace-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const convert = async (source, target) => {
    const model = readOnnx(source);
    const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
    environment.passes.register(transformPasses, '@modelpass/transforms');
    environment.passes.register(tflitePasses, '@modelpass/tflite');
    await new PassManager({ environment, verifyEach: false }).run(model, 'legalize-tflite{io-layout=nhwc}');
    writeTflite(model, target);
  };
  for (const name of models) {
    const source = modelPath(name);
    for (let round = -warmupRounds; round < rounds; round++) {
      const steps = [
        ['plain', async () => writeOnnx(readOnnx(source), join(work, `${name}.onnx`))],
        ['conversion', () => convert(source, join(work, `${name}.tflite`))],
      ];
      for (const [key, step] of round % 2 ? steps.reverse() : steps) {
        console.log(`@@step ${name} ${round} ${key}`);
        await step();
      }
    }
  }
  console.log('@@end');
}

function summarize(trace) {
  let step;
  const byStep = new Map();
  const entry = (key) => {
    let e = byStep.get(key);
    if (!e) byStep.set(key, (e = { opt: new Map(), deopt: new Map(), reasons: new Map(), rounds: new Set(), compileMs: 0 }));
    return e;
  };
  const bump = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
  const functionName = (line) => line.match(/<JSFunction ([^ >]*)/)?.[1] ?? '?';
  for (const line of trace.split('\n')) {
    if (line.startsWith('@@')) {
      const [, name, round, key] = line.split(' ');
      step = name && Number(round) >= 1 ? { name, round, key } : undefined;
      if (step) entry(`${name} ${key}`).rounds.add(round);
      continue;
    }
    if (!step) continue;
    const e = entry(`${step.name} ${step.key}`);
    const took = line.startsWith('[completed compiling') ? line.match(/took ([\d.]+), ([\d.]+), ([\d.]+) ms/) : null;
    if (took) e.compileMs += Number(took[1]) + Number(took[2]) + Number(took[3]);
    if (line.startsWith('[completed optimizing')) bump(e.opt, functionName(line));
    else if (line.startsWith('[bailout')) {
      bump(e.deopt, functionName(line));
      bump(e.reasons, `${functionName(line)}: ${line.match(/reason: ([^)\]]*)/)?.[1] ?? '?'}`);
    }
  }
  const total = (map) => [...map.values()].reduce((a, b) => a + b, 0);
  const top = (map) => [...map].sort((a, b) => b[1] - a[1]).slice(0, TOP).map(([k, v]) => `    ${v}× ${k}`).join('\n');
  for (const [key, e] of byStep) {
    const n = e.rounds.size || 1;
    console.log(
      `${key}: rounds 1–${n}: ${total(e.opt)} optimizations (${(total(e.opt) / n).toFixed(1)}/round, ${(e.compileMs / n).toFixed(1)} ms of compile jobs/round), ${total(e.deopt)} deopts`,
    );
    if (e.opt.size) console.log(`  optimized:\n${top(e.opt)}`);
    if (e.reasons.size) console.log(`  deopts:\n${top(e.reasons)}`);
  }
}
