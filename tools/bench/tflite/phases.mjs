#!/usr/bin/env node
// Steady-state CPU time of ONNX → TFLite by phase (issue 12's conversion-time goal), in one process:
// each round times a plain readOnnx + writeOnnx and a conversion (readOnnx, environment, legalize-tflite{io-layout=nhwc},
// writeTflite) with process.cpuUsage (the shared machine's load makes wall time mostly the scheduler's), after
// --warmup uncounted rounds (JIT compilation). Prints the minimum and the median of each phase and the ratios.
//
//   NX_DAEMON=false npx nx run @modelpass/cli:build
//   nice -n 10 node tools/bench/tflite/phases.mjs [--models shufflenet_v2_x0_5,fashion-transformer] [--rounds 20] [--warmup 2]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { registerTfliteDialect, tflitePasses, writeTflite } from '@modelpass/tflite';
import { transformPasses } from '@modelpass/transforms';
import { modelPath } from './models.mjs';
import { flag, median } from '../prune/ort-timing.mjs';

const MODELS = flag('models', 'fashion-cnn,fashion-transformer,shufflenet_v2_x0_5,regnet_y_400mf').split(',');
const ROUNDS = Number(flag('rounds', '20'));
const WARMUP = Number(flag('warmup', '2'));
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-tflite-phases-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));


const cpu = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};

/** Runs `step`, adds its CPU milliseconds to `times[key]` when counted, returns its result. */
async function timed(times, key, counted, step) {
  const start = cpu();
  const result = await step();
  if (counted) (times[key] ??= []).push(cpu() - start);
  return result;
}

for (const name of MODELS) {
  const source = modelPath(name);
  const times = {};
  for (let round = -WARMUP; round < ROUNDS; round++) {
    const counted = round >= 0;
    const plain = await timed(times, 'plain read', counted, () => readOnnx(source));
    await timed(times, 'plain write', counted, () => writeOnnx(plain, join(WORK, `${name}.onnx`)));
    const model = await timed(times, 'read', counted, () => readOnnx(source));
    const manager = await timed(times, 'environment', counted, () => {
      const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
      environment.passes.register(transformPasses, '@modelpass/transforms');
      environment.passes.register(tflitePasses, '@modelpass/tflite');
      return new PassManager({ environment, verifyEach: false });
    });
    await timed(times, 'legalize-tflite', counted, () => manager.run(model, 'legalize-tflite{io-layout=nhwc}'));
    await timed(times, 'write', counted, () => writeTflite(model, join(WORK, `${name}.tflite`)));
  }
  const sum = (keys, pick) => keys.reduce((total, key) => total + pick(times[key]), 0);
  const plainKeys = ['plain read', 'plain write'];
  const conversionKeys = ['read', 'environment', 'legalize-tflite', 'write'];
  const perRound = (keys) => times[keys[0]].map((_, i) => keys.reduce((total, key) => total + times[key][i], 0));
  console.log(`${name} (CPU ms over ${ROUNDS} rounds after ${WARMUP} warm-up; minimum / median)`);
  for (const [key, values] of Object.entries(times)) console.log(`  ${key.padEnd(16)} ${Math.min(...values).toFixed(2).padStart(8)} ${median(values).toFixed(2).padStart(8)}`);
  const plainRounds = perRound(plainKeys);
  const conversionRounds = perRound(conversionKeys);
  console.log(
    `  conversion / load+save: ×${(Math.min(...conversionRounds) / Math.min(...plainRounds)).toFixed(2)} by minimums, ×${(median(conversionRounds) / median(plainRounds)).toFixed(2)} by medians` +
      ` (sums of per-phase minimums ×${(sum(conversionKeys, (v) => Math.min(...v)) / sum(plainKeys, (v) => Math.min(...v))).toFixed(2)})`,
  );
}
