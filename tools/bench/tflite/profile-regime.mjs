#!/usr/bin/env node
// run.mjs's conversion loop alone (no latency part), for profiling it under `node --cpu-prof`: --warmup-rounds uncounted
// and --rounds counted rounds of a plain readOnnx + writeOnnx and a conversion, alternating, one model per process.
//
//   node --cpu-prof --cpu-prof-dir /tmp/prof tools/bench/tflite/profile-regime.mjs --models shufflenet_v2_x0_5
//   node tools/bench/tflite/cpuprofile-top.mjs /tmp/prof/*.cpuprofile
// --json prints each model's CPU ms per round (ab.mjs reads it).
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

const MODELS = flag('models', 'shufflenet_v2_x0_5').split(',');
const ROUNDS = Number(flag('rounds', '9'));
const WARMUP_ROUNDS = Number(flag('warmup-rounds', '1'));
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-tflite-profile-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

const cpu = () => {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
};

for (const name of MODELS) {
  const source = modelPath(name);
  const plain = [];
  const conversion = [];
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
    const steps = [
      async () => {
        const start = cpu();
        writeOnnx(readOnnx(source), join(WORK, `${name}.onnx`));
        if (round >= 0) plain.push(cpu() - start);
      },
      async () => {
        const start = cpu();
        const model = readOnnx(source);
        const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
        environment.passes.register(transformPasses, '@modelpass/transforms');
        environment.passes.register(tflitePasses, '@modelpass/tflite');
        await new PassManager({ environment, verifyEach: false }).run(model, 'legalize-tflite{io-layout=nhwc}');
        writeTflite(model, join(WORK, `${name}.tflite`));
        if (round >= 0) conversion.push(cpu() - start);
      },
    ];
    for (const step of round % 2 ? steps.reverse() : steps) await step();
  }
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ name, plain, conversion }));
    continue;
  }
  console.log(
    `${name}: CPU load+save ${median(plain).toFixed(1)} ms (min ${Math.min(...plain).toFixed(1)}), conversion ${median(conversion).toFixed(1)} ms (min ${Math.min(...conversion).toFixed(1)}), ` +
      `×${(median(conversion) / median(plain)).toFixed(2)} by medians, ×${(Math.min(...conversion) / Math.min(...plain)).toFixed(2)} by minimums`,
  );
}
