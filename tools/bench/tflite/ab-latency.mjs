#!/usr/bin/env node
// A/B of TFLite runtime latency between two .tflite files of one model (e.g. the same ONNX converted before and after
// a lowering change): one TfliteEngine (TFLite 2.9, XNNPACK, one thread), both files run on the same seeded batch-1
// input (symbolic dims as 1), interleaved and alternating in order every run so the shared machine's load hits both
// alike, after --warmup uncounted runs; medians and minimums, and B/A of the medians. Only the first input is fed: for
// single-input models.
//
//   nice -n 10 node tools/bench/tflite/ab-latency.mjs A.tflite B.tflite [--runs 2000] [--warmup 200]
import { Tensor } from '@modelpass/ir';
import { TfliteEngine } from '@modelpass/runtime';
import { flag } from '../prune/ort-timing.mjs';

const [a, b] = process.argv.slice(2).filter((arg, i, all) => !arg.startsWith('--') && !all[i - 1]?.startsWith('--'));
if (!a || !b) throw new Error('usage: ab-latency.mjs A.tflite B.tflite [--runs N] [--warmup N]');
const RUNS = Number(flag('runs', '2000'));
const WARMUP = Number(flag('warmup', '200'));
const engine = new TfliteEngine({ threads: 1 });
const feedFor = (file, values) => ({ [engine.describe(file).inputs[0].name]: values });
const info = engine.describe(a).inputs[0];
const shape = info.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
const input = Tensor.fromValues('float32', shape, Array.from({ length: shape.reduce((x, y) => x * y, 1) }, (_, i) => Math.sin(i)));
const feeds = { a: feedFor(a, input), b: feedFor(b, input) };
const times = { a: [], b: [] };
for (let i = 0; i < WARMUP + RUNS; i++) {
  const order = i % 2 ? ['b', 'a'] : ['a', 'b'];
  for (const key of order) {
    const start = performance.now();
    await engine.run(key === 'a' ? a : b, feeds[key]);
    if (i >= WARMUP) times[key].push(performance.now() - start);
  }
}
const median = (values) => [...values].sort((x, y) => x - y)[values.length >> 1];
for (const [key, file] of [['a', a], ['b', b]]) console.log(`${key.toUpperCase()} ${file}: median ${median(times[key]).toFixed(4)} ms, min ${Math.min(...times[key]).toFixed(4)} ms`);
console.log(`B/A median ${(median(times.b) / median(times.a)).toFixed(3)}`);
await engine.dispose();
