#!/usr/bin/env node
// A long-running process's regime (a service converting model after model): --rounds conversions and plain ONNX
// load+saves of one model in one process, alternating, with a full GC after each step (`global.gc()`, as a process
// that lives long enough meets major GCs between conversions). A major GC drops the hidden classes of a class none of
// whose instances is alive, and V8 then discards every optimized function that relied on them ("weak objects" in
// `--trace-deopt`): such code is re-optimized in every round instead of once. run.mjs and instructions.mjs meet about
// one major GC per process, so they do not show it. Prints the median process CPU (helper threads in) of rounds
// after the first, and the deopts for 'weak objects' per round.
//
//   nice -n 10 node --expose-gc tools/bench/tflite/long-process.mjs [--models fashion-transformer] [--rounds 30]
//   (from each tree, e.g. frozen copies of tools/bench/tflite/freeze-tree.sh; add --single-threaded to put V8's
//   compiles on the main thread)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, median } from '../prune/ort-timing.mjs';

const MODELS = flag('models', 'fashion-transformer').split(',');
const ROUNDS = Number(flag('rounds', '30'));

if (process.argv.includes('--child')) await child(flag('model', ''));
else parent();

function parent() {
  for (const model of MODELS) {
    const flags = [...process.execArgv.filter((f) => f !== '--expose-gc'), '--expose-gc', '--trace-deopt'];
    const result = spawnSync(process.execPath, [...flags, fileURLToPath(import.meta.url), '--child', '--model', model, '--rounds', String(ROUNDS)], { encoding: 'utf8', maxBuffer: 1 << 28 });
    if (result.status !== 0) throw new Error(`the ${model} process failed (exit ${result.status}):\n${result.stderr.slice(-2000)}`);
    const lines = result.stdout.split('\n');
    const summary = JSON.parse(lines.find((line) => line.startsWith('{"name"')));
    const weak = lines.filter((line) => line.includes('reason: weak objects')).length;
    console.log(JSON.stringify({ ...summary, weakObjectDeoptsPerRound: Number((weak / ROUNDS).toFixed(1)) }));
  }
}

async function child(model) {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
  const { readOnnx, writeOnnx } = await import('@modelpass/onnx');
  const { createOpRegistry } = await import('@modelpass/ops');
  const { PassEnvironment, PassManager } = await import('@modelpass/pass-manager');
  const { registerTfliteDialect, tflitePasses, writeTflite } = await import('@modelpass/tflite');
  const { transformPasses } = await import('@modelpass/transforms');
  const { modelPath } = await import('./models.mjs');
  const source = modelPath(model);
  const work = mkdtempSync(join(tmpdir(), 'modelpass-bench-tflite-long-'));
  process.on('exit', () => rmSync(work, { recursive: true, force: true }));
  const cpu = () => {
    const used = process.cpuUsage();
    return (used.user + used.system) / 1000;
  };
  const plain = [];
  const conversion = [];
  for (let round = 0; round < ROUNDS; round++) {
    let start = cpu();
    writeOnnx(readOnnx(source), join(work, `${model}.onnx`));
    if (round > 0) plain.push(cpu() - start);
    global.gc();
    start = cpu();
    const converted = readOnnx(source);
    const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
    environment.passes.register(transformPasses, '@modelpass/transforms');
    environment.passes.register(tflitePasses, '@modelpass/tflite');
    await new PassManager({ environment, verifyEach: false }).run(converted, 'legalize-tflite{io-layout=nhwc}');
    writeTflite(converted, join(work, `${model}.tflite`));
    if (round > 0) conversion.push(cpu() - start);
    global.gc();
  }
  const round2 = (x) => Number(x.toFixed(2));
  console.log(JSON.stringify({ name: model, rounds: ROUNDS, plainMedianMs: round2(median(plain)), conversionMedianMs: round2(median(conversion)), ratio: round2(median(conversion) / median(plain)) }));
}
