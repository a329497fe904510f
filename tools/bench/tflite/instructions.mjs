#!/usr/bin/env node
// Instructions, not milliseconds: ONNX → TFLite conversion against a plain ONNX load+save counted by valgrind
// (cachegrind, no cache simulation), so two trees can be compared on the loaded, shared 2-core machine where wall and
// CPU times move ±50% between runs. Per model, three processes under valgrind, each run.mjs's regime for one step only
// (--warmup-rounds + --rounds rounds): nothing (imports only), load+save, conversion. Conversion and
// load+save are each their process's instructions less the nothing-process's; every thread is counted (valgrind
// serializes them), so V8's background compiles and GC helpers are in, as process CPU time has them. Each process
// warms its own code (run.mjs's one process shares readOnnx's warm code between the two steps), and the figures are per
// round over every round, the warm-up round included, so the ratio differs somewhat from run.mjs's: compare trees by it,
// not with run.mjs's figures. The instruction counts repeat within about 2% (JIT compiles finish at other points of a
// run); a model takes about 1–2 minutes.
//
//   nice -n 10 node tools/bench/tflite/instructions.mjs [--models fashion-transformer,shufflenet_v2_x0_5] [--rounds 9]
//   (run it from each tree, e.g. a frozen copy of tools/bench/tflite/freeze-tree.sh, to compare them)
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { flag } from '../prune/ort-timing.mjs';

const MODELS = flag('models', 'fashion-transformer,shufflenet_v2_x0_5').split(',');
const ROUNDS = Number(flag('rounds', '9'));
const WARMUP_ROUNDS = Number(flag('warmup-rounds', '1'));

if (process.argv.includes('--child')) await child(flag('model', ''), flag('step', 'none'));
else parent();

function parent() {
  const self = fileURLToPath(import.meta.url);
  /** The instructions valgrind counts for one child process (its summary is on stderr). */
  const instructions = (model, step) => {
    const args = ['--tool=cachegrind', '--cache-sim=no', '--cachegrind-out-file=/dev/null', process.execPath, self, '--child', '--model', model, '--step', step, '--rounds', String(ROUNDS), '--warmup-rounds', String(WARMUP_ROUNDS)];
    const result = spawnSync('valgrind', args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 26 });
    if (result.error) throw new Error(`valgrind could not run (${result.error.message}): it is needed for instruction counts`);
    const match = result.status === 0 ? result.stderr.match(/I\s+refs:\s+([\d,]+)/) : null;
    if (!match) throw new Error(`valgrind on ${model} (${step}) gave no instruction count (exit ${result.status}):\n${result.stderr.slice(-2000)}`);
    return Number(match[1].replaceAll(',', ''));
  };
  for (const model of MODELS) {
    const none = instructions(model, 'none');
    const rounds = ROUNDS + WARMUP_ROUNDS;
    const plain = (instructions(model, 'plain') - none) / rounds;
    const conversion = (instructions(model, 'conversion') - none) / rounds;
    console.log(JSON.stringify({ name: model, rounds, none, plainPerRound: Math.round(plain), conversionPerRound: Math.round(conversion), ratio: Number((conversion / plain).toFixed(3)) }));
  }
}

async function child(model, step) {
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { readOnnx, writeOnnx } = await import('@modelpass/onnx');
  const { createOpRegistry } = await import('@modelpass/ops');
  const { PassEnvironment, PassManager } = await import('@modelpass/pass-manager');
  const { registerTfliteDialect, tflitePasses, writeTflite } = await import('@modelpass/tflite');
  const { transformPasses } = await import('@modelpass/transforms');
  const { modelPath } = await import('./models.mjs');
  const source = modelPath(model);
  const work = mkdtempSync(join(tmpdir(), 'modelpass-bench-tflite-instructions-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
    if (step === 'plain') writeOnnx(readOnnx(source), join(work, `${model}.onnx`));
    else if (step === 'conversion') {
      const converted = readOnnx(source);
      const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
      environment.passes.register(transformPasses, '@modelpass/transforms');
      environment.passes.register(tflitePasses, '@modelpass/tflite');
      await new PassManager({ environment, verifyEach: false }).run(converted, 'legalize-tflite{io-layout=nhwc}');
      writeTflite(converted, join(work, `${model}.tflite`));
    }
  }
}
