#!/usr/bin/env node
// run.mjs's conversion loop in one fresh process (models in run.mjs's order, --warmup-rounds uncounted + --rounds counted
// rounds of a plain readOnnx + writeOnnx and a conversion, alternating), timed by the MAIN THREAD's CPU time
// (/proc/self/task/<pid>/schedstat: V8's background compiler and GC helper threads, which process.cpuUsage adds, and the
// time the shared machine's scheduler keeps the thread waiting, both left out) and by wall time. Prints one JSON line per model.
// ab-processes.mjs runs it alternately from two trees; run it alone to see one tree's figures.
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
  const times = { plain: [], conversion: [], plainWall: [], conversionWall: [] };
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
    const steps = [
      ['plain', async () => writeOnnx(readOnnx(source), join(WORK, `${name}.onnx`))],
      ['conversion', () => convert(source, join(WORK, `${name}.tflite`))],
    ];
    for (const [key, step] of round % 2 ? steps.reverse() : steps) {
      const cpu = mainThreadMs();
      const wall = performance.now();
      await step();
      if (round >= 0) times[key].push(mainThreadMs() - cpu), times[`${key}Wall`].push(performance.now() - wall);
    }
  }
  console.log(JSON.stringify({ name, ...times }));
}
