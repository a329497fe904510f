#!/usr/bin/env node
// ONNX → TFLite (issue 12): for each model, in one process,
//  - conversion time: readOnnx + legalize-tflite{io-layout=nhwc} + writeTflite, against a plain
//    readOnnx + writeOnnx of the same model (the bar: ratio ≤ 2), medians and minimums of --rounds,
//    in wall time and in CPU time (process.cpuUsage: on the shared, loaded machine wall time mostly
//    measures the scheduler), after --warmup-rounds uncounted rounds of each (default 300: V8 compiles a
//    conversion's many rules on background threads for a hundred rounds and more, and process CPU counts those
//    threads; with 30, as before 2026-12-06, rounds 31–60 still carried that compiling and the transformer's CPU
//    median swung 2.4–3.4× run to run on a quiet machine against 1.7–1.8× in steady state);
//    the warm-up rounds' own CPU ratio is printed beside it ("JIT warm-up": every compile included, amortized over
//    the warm-up rounds), so the one-time cost stays visible (a whole cold CLI process is tools/bench/tflite/cli-cold.mjs;
//    --warmup-rounds 30 --rounds 30 gives the old regime);
//  - Transposes left inside the converted graph and at its edges;
//  - latency: ONNX Runtime on the original vs the TFLite runtime (TFLite 2.9, XNNPACK) on our .tflite,
//    one thread each, interleaved A/B rounds, medians, batch 1; and the worst |difference| of their outputs;
//  - a control: MediaPipe's own .tflite in the TFLite runtime vs its raise-tflite ONNX in ORT.
//
//   NX_DAEMON=false npx nx run @modelpass/cli:build          # builds every package the bench imports
//   /usr/bin/python3 tools/fixtures/make_torchvision.py      # optional: the torchvision nets (.fixtures-cache)
//   nice -n 10 node tools/bench/tflite/run.mjs [--models fashion-cnn,resnet18,...] [--rounds 60] [--warmup-rounds 300] [--runs 30] [--out FILE]
//   (without --out the results go in a new dated section at the top of tools/bench/tflite/RESULTS.md)
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isTensorType, Tensor } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager } from '@modelpass/pass-manager';
import { runOrt, TfliteEngine, disposeSharedOrtRunner } from '@modelpass/runtime';
import { countTransposes, readTflite, registerTfliteDialect, tflitePasses, writeTflite } from '@modelpass/tflite';
import { transformPasses } from '@modelpass/transforms';
import { FASHION, TORCHVISION, modelPath } from './models.mjs';
import { ROOT, flag, median, session } from '../prune/ort-timing.mjs';

const MODELS = flag('models', [...FASHION, ...TORCHVISION].join(',')).split(',');
const ROUNDS = Number(flag('rounds', '60'));
const RUNS = Number(flag('runs', '30'));
const WARMUP = Number(flag('warmup', '3'));
const WARMUP_ROUNDS = Number(flag('warmup-rounds', '300'));
const RESULTS = join(ROOT, 'tools/bench/tflite/RESULTS.md');
const OUT = resolve(flag('out', RESULTS));
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-tflite-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));


function environment() {
  const env = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
  env.passes.register(transformPasses, '@modelpass/transforms');
  env.passes.register(tflitePasses, '@modelpass/tflite');
  return env;
}

async function convert(source, target) {
  const model = readOnnx(source);
  await new PassManager({ environment: environment(), verifyEach: false }).run(model, 'legalize-tflite{io-layout=nhwc}');
  writeTflite(model, target);
  return model;
}

function seeded(shape, seed) {
  let state = seed;
  const count = shape.reduce((n, d) => n * d, 1);
  const values = new Array(count);
  for (let i = 0; i < count; i++) {
    state = (state * 1664525 + 1013904223) >>> 0;
    values[i] = (state / 2 ** 32) * 2 - 1;
  }
  return Tensor.fromValues('float32', shape, values);
}

function toNhwc(t) {
  const [n, c, h, w] = t.shape;
  const src = t.toNumbers();
  const out = new Array(src.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[((b * h + y) * w + x) * c + k] = src[((b * c + k) * h + y) * w + x];
  return Tensor.fromValues('float32', [n, h, w, c], out);
}

const rows = [];
const engine = new TfliteEngine({ threads: 1 });
for (const name of MODELS) {
  const source = modelPath(name);
  const onnxOut = join(WORK, `${name}.onnx`);
  const tfliteOut = join(WORK, `${name}.tflite`);
  const plain = [];
  const conversion = [];
  const plainCpu = [];
  const conversionCpu = [];
  const warmupCpu = { plain: 0, conversion: 0 };
  let converted;
  const cpuMs = (since) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  for (let round = -WARMUP_ROUNDS; round < ROUNDS; round++) {
    const counted = round >= 0;
    // Alternate the order so a slow phase of the shared machine hits both alike.
    const steps = [
      async () => {
        const cpu = process.cpuUsage();
        const start = performance.now();
        writeOnnx(readOnnx(source), onnxOut);
        if (counted) plain.push(performance.now() - start), plainCpu.push(cpuMs(cpu));
        else warmupCpu.plain += cpuMs(cpu);
      },
      async () => {
        const cpu = process.cpuUsage();
        const start = performance.now();
        converted = await convert(source, tfliteOut);
        if (counted) conversion.push(performance.now() - start), conversionCpu.push(cpuMs(cpu));
        else warmupCpu.conversion += cpuMs(cpu);
      },
    ];
    for (const step of round % 2 ? steps.reverse() : steps) await step();
  }
  const transposes = countTransposes(converted.graph);
  const original = readOnnx(source);
  const input = original.graph.inputs[0];
  const shape = isTensorType(input.type) ? input.type.shape.map((d) => (typeof d === 'number' ? d : 1)) : [1];
  const x = seeded(shape, 7);
  const nhwc = shape.length === 4 && converted.graph.inputs[0].type.shape?.[3] === shape[1] && shape[1] !== shape[3];
  const tfliteFeed = { [converted.graph.inputs[0].name]: nhwc ? toNhwc(x) : x };
  const ortFeed = { [input.name]: x };
  const expected = [...(await runOrt(original, ortFeed)).values()][0].toNumbers();
  const actual = [...(await engine.run(tfliteOut, tfliteFeed)).values()][0].toNumbers();
  const worst = Math.max(...expected.map((v, i) => Math.abs(v - actual[i])));
  const ort = await session(source);
  const ortTensor = { [input.name]: new (await import('onnxruntime-node')).Tensor('float32', Float32Array.from(x.toNumbers()), shape) };
  const times = { ort: [], tflite: [] };
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const pair = [
      ['ort', () => ort.run(ortTensor)],
      ['tflite', () => engine.run(tfliteOut, tfliteFeed)],
    ];
    for (const [key, run] of i % 2 ? pair.reverse() : pair) {
      const start = performance.now();
      await run();
      if (i >= WARMUP) times[key].push(performance.now() - start);
    }
  }
  await ort.release();
  const row = {
    name,
    plain: median(plain),
    conversion: median(conversion),
    // On a shared machine the minimums are the least disturbed pair.
    plainMin: Math.min(...plain),
    conversionMin: Math.min(...conversion),
    cpuRatio: median(conversionCpu) / median(plainCpu),
    cpuRatioMin: Math.min(...conversionCpu) / Math.min(...plainCpu),
    plainCpu: median(plainCpu),
    conversionCpu: median(conversionCpu),
    // CPU of all uncounted rounds together: the JIT's warm-up (compiles on helper threads), paid once per process.
    warmupCpuRatio: WARMUP_ROUNDS > 0 ? warmupCpu.conversion / warmupCpu.plain : NaN,
    inner: transposes.inner,
    boundary: transposes.boundary,
    ort: median(times.ort),
    tflite: median(times.tflite),
    worst,
  };
  rows.push(row);
  console.log(
    `${name}: load+save ${row.plain.toFixed(1)} ms, convert ${row.conversion.toFixed(1)} ms (×${(row.conversion / row.plain).toFixed(2)}; minimums ×${(row.conversionMin / row.plainMin).toFixed(2)}; CPU ×${row.cpuRatio.toFixed(2)}, minimums ×${row.cpuRatioMin.toFixed(2)}; JIT warm-up rounds CPU ×${row.warmupCpuRatio.toFixed(2)}), ` +
      `transposes ${row.inner} inside / ${row.boundary} at edges, ORT ${row.ort.toFixed(2)} ms, TFLite ${row.tflite.toFixed(2)} ms, max|diff| ${row.worst.toExponential(2)}`,
  );
}
// Control: Google's own MediaPipe .tflite in the TFLite runtime against our raise-tflite ONNX of it in ORT,
// so the latency ratio above can be read as the runtime's, not our output's.
const controls = [];
for (const id of flag('controls', 'mediapipe-face-detection-short-range,mediapipe-face-detection-full-range').split(',').filter(Boolean)) {
  const dir = join(ROOT, '.fixtures-cache', id);
  if (!existsSync(dir)) throw new Error(`${dir} is missing: run \`node tools/fixtures/third-party.mjs\` (or any test that fetches the TFLite fixtures) first`);
  const file = join(dir, (await import('node:fs')).readdirSync(dir).find((f) => f.endsWith('.tflite')));
  const model = readTflite(file);
  await new PassManager({ environment: environment(), verifyEach: false }).run(model, 'raise-tflite');
  const onnxPath = join(WORK, `${id}.onnx`);
  writeOnnx(model, onnxPath);
  const input = model.graph.inputs[0];
  const shape = input.type.shape;
  const x = seeded(shape, 3);
  const ort = await session(onnxPath);
  const feeds = { [input.name]: new (await import('onnxruntime-node')).Tensor('float32', Float32Array.from(x.toNumbers()), shape) };
  const times = { ort: [], tflite: [] };
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const pair = [
      ['ort', () => ort.run(feeds)],
      ['tflite', () => engine.run(file, { [input.name]: x })],
    ];
    for (const [key, run] of i % 2 ? pair.reverse() : pair) {
      const start = performance.now();
      await run();
      if (i >= WARMUP) times[key].push(performance.now() - start);
    }
  }
  await ort.release();
  controls.push({ id, ort: median(times.ort), tflite: median(times.tflite) });
  console.log(`control ${id}: ORT ${median(times.ort).toFixed(2)} ms, TFLite ${median(times.tflite).toFixed(2)} ms`);
}
disposeSharedOrtRunner();

const table = [
  '| model | ONNX load+save (ms) | ONNX → TFLite (ms) | ratio | ratio of minimums | CPU load+save (ms) | CPU ONNX → TFLite (ms) | CPU ratio | CPU ratio of minimums | CPU ratio, warm-up rounds | Transposes inside / at edges | ORT latency (ms) | TFLite latency (ms) | TFLite / ORT | max abs diff |',
  '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.plain.toFixed(1)} | ${r.conversion.toFixed(1)} | ${(r.conversion / r.plain).toFixed(2)} | ${(r.conversionMin / r.plainMin).toFixed(2)} | ${r.plainCpu.toFixed(1)} | ${r.conversionCpu.toFixed(1)} | ${r.cpuRatio.toFixed(2)} | ${r.cpuRatioMin.toFixed(2)} | ${r.warmupCpuRatio.toFixed(2)} | ${r.inner} / ${r.boundary} | ${r.ort.toFixed(2)} | ${r.tflite.toFixed(2)} | ${(r.tflite / r.ort).toFixed(2)} | ${r.worst.toExponential(1)} |`,
  ),
];
const section = [
  `## run.mjs, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
  '',
  `\`node ${relative(ROOT, process.argv[1])} ${process.argv.slice(2).join(' ')}\` on ${new Date().toISOString().slice(0, 10)} (rounds ${ROUNDS} after ${WARMUP_ROUNDS} uncounted, runs ${RUNS}, one thread per runtime, batch 1, io-layout=nhwc; load average ${loadavg()[0].toFixed(1)} at the end).`,
  '',
  ...table,
  '',
  'Control: the original MediaPipe `.tflite` in the TFLite runtime against its `raise-tflite` ONNX in ORT (same runtimes, threads and timing):',
  '',
  '| model | ORT latency (ms) | TFLite latency (ms) | TFLite / ORT |',
  '|---|---:|---:|---:|',
  ...controls.map((c) => `| ${c.id} | ${c.ort.toFixed(2)} | ${c.tflite.toFixed(2)} | ${(c.tflite / c.ort).toFixed(2)} |`),
  '',
].join('\n');
// A new dated section at the top of RESULTS.md (newest first, older sections kept); any other --out gets the section alone.
const TITLE = '# ONNX → TFLite: conversion time, transposes, latency';
if (OUT === RESULTS && existsSync(OUT)) {
  const old = readFileSync(OUT, 'utf8');
  const rest = old.startsWith(TITLE) ? old.slice(TITLE.length).replace(/^\n+/, '') : old;
  writeFileSync(OUT, `${TITLE}\n\n${section}\n${rest}`);
} else writeFileSync(OUT, `${TITLE}\n\n${section}`);
console.log(`\n${table.join('\n')}\n\nwritten ${relative(ROOT, OUT)}`);
