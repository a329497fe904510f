#!/usr/bin/env node
// run.mjs's conversion loop in one fresh process (models in run.mjs's order, --warmup-rounds uncounted + --rounds counted
// rounds of a plain readOnnx + writeOnnx and a conversion, alternating), timed three ways: the MAIN THREAD's CPU time
// (/proc/self/task/<pid>/schedstat: V8's background compiler and GC helper threads, which process.cpuUsage adds, and the
// time the shared machine's scheduler keeps the thread waiting, both left out), the whole process's CPU time
// (process.cpuUsage: precise, helper threads included; keys plainCpu / conversionCpu) and wall time. Prints one JSON line per model.
// ab-processes.mjs runs it alternately from two trees; run it alone to see one tree's figures.
// The schedstat counter only advances at scheduler ticks and context switches (every 4 ms at CONFIG_HZ=250): the slice
// running when it is read is left out, so one step's main-thread figure is off by up to a tick (1.5 ms of busy work read
// 0.03–2.85 ms on 2026-12-04). Compare means over many rounds, or the process CPU, not single values or medians of few.
//
//   node tools/bench/tflite/regime.mjs [--models fashion-cnn,fashion-mlp,fashion-transformer] [--rounds 9] [--warmup-rounds 1]
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { registerTfliteDialect, tflitePasses, writeTflite } from '@modelpass/tflite';
import { transformPasses } from '@modelpass/transforms';
import { FASHION, TORCHVISION, modelPath } from './models.mjs';
import { flag } from '../prune/ort-timing.mjs';

const MODELS = flag('models', [...FASHION, ...TORCHVISION].join(',')).split(',');
const ROUNDS = Number(flag('rounds', '9'));
const WARMUP_ROUNDS = Number(flag('warmup-rounds', '1'));
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-tflite-regime-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

/** CPU milliseconds of this process's main thread (Linux). */
const SCHEDSTAT = `/proc/self/task/${process.pid}/schedstat`;
const mainThreadMs = () => Number(readFileSync(SCHEDSTAT, 'latin1').split(' ')[0]) / 1e6;
/** CPU milliseconds of the whole process (all threads), precise. */
const processMs = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};

async function convert(source, target) {
  const model = readOnnx(source);
  const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(tflitePasses, '@modelpass/tflite');
  await new PassManager({ environment, verifyEach: false }).run(model, 'legalize-tflite{io-layout=nhwc}');
  writeTflite(model, target);
}

for (const name of MODELS) {
  const source = modelPath(name);
  const times = { plain: [], conversion: [], plainCpu: [], conversionCpu: [], plainWall: [], conversionWall: [] };
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
    const steps = [
      ['plain', async () => writeOnnx(readOnnx(source), join(WORK, `${name}.onnx`))],
      ['conversion', () => convert(source, join(WORK, `${name}.tflite`))],
    ];
    for (const [key, step] of round % 2 ? steps.reverse() : steps) {
      const cpu = mainThreadMs();
      const all = processMs();
      const wall = performance.now();
      await step();
      if (round >= 0) times[key].push(mainThreadMs() - cpu), times[`${key}Cpu`].push(processMs() - all), times[`${key}Wall`].push(performance.now() - wall);
    }
  }
  console.log(JSON.stringify({ name, ...times }));
}
