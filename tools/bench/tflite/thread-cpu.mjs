#!/usr/bin/env node
// Where run.mjs's process CPU goes besides the main thread: per round of a plain readOnnx + writeOnnx and of a conversion
// (readOnnx, legalize-tflite{io-layout=nhwc}, writeTflite), the CPU milliseconds of the main thread and of each other
// thread of the process (/proc/self/task/<tid>/schedstat, Linux), means over --rounds after --warmup-rounds, in run.mjs's
// regime (one process, the two steps alternating).
//
//   nice -n 10 node tools/bench/tflite/thread-cpu.mjs [--models fashion-transformer,shufflenet_v2_x0_5] [--rounds 9]
//
// The other threads are V8's platform workers. Which work they do can be told apart with V8 flags (not for the bench's
// figures, only to attribute them): `node --no-concurrent-recompilation …` moves TurboFan's compiles onto the main
// thread, `node --single-threaded-gc …` moves the garbage collector's. On 2026-12-04 (s10, 23:15 UTC, load 3.2, a vitest
// run beside it) the other threads burned 43.8 ms per ShuffleNet conversion round against the main thread's 29.7 (plain
// load+save: 16.2 against 20.4; fashion-transformer: 19.8 against 14.5, load+save 11.5 against 8.7); with
// --no-concurrent-recompilation they fell to 10.1 ms and the main thread rose to 80.9 ms, with --single-threaded-gc they
// stayed at 47.5 ms: the CPU beyond the main thread is TurboFan compiling the conversion's wide spread of functions (256
// of them for ShuffleNet, still 11–32 compiles per conversion round in rounds 1–9 under `--trace-opt`), not the collector.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { registerTfliteDialect, tflitePasses, writeTflite } from '@modelpass/tflite';
import { transformPasses } from '@modelpass/transforms';
import { modelPath } from './models.mjs';
import { flag } from '../prune/ort-timing.mjs';

const MODELS = flag('models', 'fashion-transformer,shufflenet_v2_x0_5').split(',');
const ROUNDS = Number(flag('rounds', '9'));
const WARMUP_ROUNDS = Number(flag('warmup-rounds', '1'));
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-tflite-threads-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

/** CPU nanoseconds of every thread of this process, by thread id (threads that end between reads are left out). */
function threadTimes() {
  const times = new Map();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      times.set(tid, Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch {
      // the thread ended
    }
  }
  return times;
}

/** Milliseconds between two reads: the main thread's and the other threads' together. */
function split(before, after) {
  let main = 0;
  let others = 0;
  for (const [tid, ns] of after) {
    const ms = (ns - (before.get(tid) ?? 0)) / 1e6;
    if (tid === String(process.pid)) main += ms;
    else others += ms;
  }
  return { main, others };
}

/** Lets the workers finish what a step started (a compile queued at its end) before the next read. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 20));

for (const name of MODELS) {
  const sums = { plain: { main: 0, others: 0 }, conversion: { main: 0, others: 0 } };
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
    const t0 = threadTimes();
    writeOnnx(readOnnx(modelPath(name)), join(WORK, `${name}.onnx`));
    await settle();
    const t1 = threadTimes();
    const model = readOnnx(modelPath(name));
    const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
    environment.passes.register(transformPasses, '@modelpass/transforms');
    environment.passes.register(tflitePasses, '@modelpass/tflite');
    await new PassManager({ environment, verifyEach: false }).run(model, 'legalize-tflite{io-layout=nhwc}');
    writeTflite(model, join(WORK, `${name}.tflite`));
    await settle();
    const t2 = threadTimes();
    if (round < 0) continue;
    for (const [side, times] of [['plain', split(t0, t1)], ['conversion', split(t1, t2)]]) {
      sums[side].main += times.main / ROUNDS;
      sums[side].others += times.others / ROUNDS;
    }
  }
  const line = (side) => `main ${sums[side].main.toFixed(1)} ms, other threads ${sums[side].others.toFixed(1)} ms`;
  console.log(`${name} (CPU per round, means of ${ROUNDS}): load+save ${line('plain')}; conversion ${line('conversion')}`);
}
