#!/usr/bin/env node
// How close two int8 .tflite files of one full-integer QDQ model are to ONNX Runtime (a lowering A/B: e.g. SiLU as
// LOGISTIC + MUL against SiLU as a 256-code table). Each file runs in TFLite 2.9 on the same seeded int8 inputs as
// ORT gets their reals (uniform in [-2, 2) quantized with the .tflite input's scale and zero point, half to even);
// every output element's difference from ORT is counted in the output's steps: mean, the share of elements 1 and
// 2+ steps apart, the worst, and top-1 agreement of the logits. Files are run in alternation per input.
// Accuracy figures: no timing, so the machine's load does not change them (it is printed anyway).
//
//   nice -n 10 node tools/bench/tflite/int8-agreement-ab.mjs --onnx m.q.onnx --a a.tflite --b b.tflite [--inputs 16] [--seed 1]
import { loadavg } from 'node:os';
import { Tensor } from '@modelpass/ir';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { readTflite } from '@modelpass/tflite';

const argv = process.argv.slice(2);
const flag = (name, fallback) => { const i = argv.indexOf(`--${name}`); return i < 0 ? fallback : argv[i + 1]; };
const onnxPath = flag('onnx');
const files = { A: flag('a'), B: flag('b') };
if (!onnxPath || !files.A || !files.B) {
  console.error('usage: int8-agreement-ab.mjs --onnx QDQ.onnx --a A.tflite --b B.tflite [--inputs 16] [--seed 1]');
  process.exit(2);
}
const INPUTS = Number(flag('inputs', '16'));
const FIRST_SEED = Number(flag('seed', '1'));

/** ONNX QuantizeLinear to int8: round half to even, saturate. */
function quantize(real, scale, zeroPoint) {
  const scaled = Math.fround(real / scale);
  const floor = Math.floor(scaled);
  const diff = scaled - floor;
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return Math.max(-128, Math.min(127, rounded + zeroPoint));
}

const graphs = Object.fromEntries(Object.entries(files).map(([key, path]) => [key, readTflite(path).graph]));
const input = graphs.A.inputs[0];
const iq = input.type.quant;
const oq = graphs.A.outputs[0].type.quant;
for (const graph of Object.values(graphs)) {
  if (JSON.stringify(graph.outputs[0].type.quant) !== JSON.stringify(oq) || JSON.stringify(graph.inputs[0].type.quant) !== JSON.stringify(iq)) throw new Error('A and B must have the same int8 input and output parameters');
}
const shape = input.type.shape.map((d) => (typeof d === 'number' ? d : 1));
const count = shape.reduce((n, d) => n * d, 1);
const engine = new TfliteEngine({ threads: 1 });
const tally = Object.fromEntries(Object.keys(files).map((key) => [key, { sum: 0, n: 0, one: 0, more: 0, worst: 0, agree: 0 }]));
const argmax = (v) => v.reduce((best, value, i) => (value > v[best] ? i : best), 0);
const started = new Date().toISOString();
const loadBefore = loadavg().map((l) => l.toFixed(2)).join(' ');
for (let seed = FIRST_SEED; seed < FIRST_SEED + INPUTS; seed++) {
  let state = seed;
  const codes = Array.from({ length: count }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return quantize((state / 2 ** 32) * 4 - 2, iq.scale[0], iq.zeroPoint[0]);
  });
  const reals = Tensor.fromValues('float32', shape, codes.map((q) => Math.fround((q - iq.zeroPoint[0]) * iq.scale[0])));
  const ort = [...(await runOrt(onnxPath, { [input.name]: reals })).values()][0].toNumbers().map((r) => quantize(r, oq.scale[0], oq.zeroPoint[0]));
  for (const [key, path] of Object.entries(files)) {
    const out = [...(await engine.run(path, { [input.name]: Tensor.fromValues('int8', shape, codes) })).values()][0].toNumbers();
    const t = tally[key];
    for (let i = 0; i < ort.length; i++) {
      const steps = Math.abs(Number(out[i]) - ort[i]);
      t.sum += steps;
      t.n++;
      if (steps === 1) t.one++;
      if (steps >= 2) t.more++;
      t.worst = Math.max(t.worst, steps);
    }
    if (argmax(out.map(Number)) === argmax(ort)) t.agree++;
  }
}
await disposeSharedOrtRunner();
console.log(`onnx ${onnxPath}; ${INPUTS} seeded inputs (seeds ${FIRST_SEED}–${FIRST_SEED + INPUTS - 1}), output steps of ${oq.scale[0]}; ${started} → ${new Date().toISOString()}, load ${loadBefore} → ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
console.log('| file | mean steps | 1 step | 2+ steps | worst | top-1 agreement |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const [key, path] of Object.entries(files)) {
  const t = tally[key];
  console.log(`| ${key}: ${path} | ${(t.sum / t.n).toFixed(4)} | ${((100 * t.one) / t.n).toFixed(2)} % | ${((100 * t.more) / t.n).toFixed(2)} % | ${t.worst} | ${t.agree} / ${INPUTS} |`);
}
