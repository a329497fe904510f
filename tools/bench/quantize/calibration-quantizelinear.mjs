#!/usr/bin/env node
// Could one QuantizeLinear to int16 replace the in-graph histogram's Mul + Floor + Cast (issue 9,
// idea 1)? Times, on one float32 vector the size of one calibration run's activations (fashion-resnet,
// 8 samples), ORT runs of: Mul + Floor + Cast (the indices of a tensor that may be negative), Mul +
// Cast (one known ≥ 0), QuantizeLinear to int16 at scale w (opset 21), the same to int8 (MLAS's
// vectorized kernel, for reference), and Floor + QuantizeLinear at scale 1 replacing only the Cast.
// Interleaved run by run, 1 intra-op thread, CPU ms per run (medians). Then what QuantizeLinear's
// rounding (half to even) does to the bins: how many values land elsewhere than floor(x/w), and how
// many values' bin at width 2w is not determined by their bin at w (round-to-nearest bins do not
// nest, so counts could not be re-binned when the width doubles, nor shards merged exactly). Also
// Sub + QuantizeLinear (x − w/2 first, at w and at 2w): where its bins differ from floor's, and
// whether they nest (edges at multiples of w, but exact multiples go to the even neighbour: no).
//
//   npx tsc -b packages/quantize
//   node tools/bench/quantize/calibration-quantizelinear.mjs [--values 1150000] [--rounds 60]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, median } from '../prune/ort-timing.mjs';

const { GraphBuilder, Tensor, attrs, tensorType } = await import('@modelpass/ir');
const { writeOnnx } = await import('@modelpass/onnx');
const ort = (await import('onnxruntime-node')).default;

const size = Number(flag('values', '1150000'));
const rounds = Number(flag('rounds', '60'));
const width = 2 ** -6;
const folder = mkdtempSync(join(tmpdir(), 'calibration-quantizelinear-'));

/** A one-input graph: `build(g, x)` returns its one output. */
function graph(name, opset, outputType, build) {
  const g = new GraphBuilder();
  const x = g.input('x', tensorType('float32', [size]));
  const y = build(g, x);
  g.output(y);
  const file = join(folder, `${name}.onnx`);
  writeOnnx(g.model({ onnx: opset }), file);
  return file;
}
const f32 = (g, v) => g.constant(Tensor.scalar('float32', v));
const t = (dtype) => ({ types: [tensorType(dtype, [size])] });
const files = {
  'Mul + Floor + Cast': graph('mfc', 13, 'int16', (g, x) => g.op1('onnx.Cast', [g.op1('onnx.Floor', [g.op1('onnx.Mul', [x, f32(g, 1 / width)], {}, t('float32'))], {}, t('float32'))], { to: attrs.int(5) }, { outputs: ['y'], ...t('int16') })),
  'Mul + Cast': graph('mc', 13, 'int16', (g, x) => g.op1('onnx.Cast', [g.op1('onnx.Mul', [x, f32(g, 1 / width)], {}, t('float32'))], { to: attrs.int(5) }, { outputs: ['y'], ...t('int16') })),
  'QuantizeLinear int16 (opset 21)': graph('q16', 21, 'int16', (g, x) => g.op1('onnx.QuantizeLinear', [x, f32(g, width), g.constant(Tensor.scalar('int16', 0))], {}, { outputs: ['y'], ...t('int16') })),
  'QuantizeLinear int8': graph('q8', 13, 'int8', (g, x) => g.op1('onnx.QuantizeLinear', [x, f32(g, width * 16), g.constant(Tensor.scalar('int8', 0))], {}, { outputs: ['y'], ...t('int8') })),
  // Idea 1 of s11: bins with edges at multiples of w from round-half-even(x/w − ½) (a Sub of w/2, then QuantizeLinear), at w and at 2w.
  'Sub + QuantizeLinear int16': graph('sq16', 21, 'int16', (g, x) => g.op1('onnx.QuantizeLinear', [g.op1('onnx.Sub', [x, f32(g, width / 2)], {}, t('float32')), f32(g, width), g.constant(Tensor.scalar('int16', 0))], {}, { outputs: ['y'], ...t('int16') })),
  'Sub + QuantizeLinear int16 at 2w': graph('sq16w2', 21, 'int16', (g, x) => g.op1('onnx.QuantizeLinear', [g.op1('onnx.Sub', [x, f32(g, width)], {}, t('float32')), f32(g, 2 * width), g.constant(Tensor.scalar('int16', 0))], {}, { outputs: ['y'], ...t('int16') })),
  // s15: float → int16 Cast is ORT's slowest of the three passes; int32 first, then int16 (the same integers: |floor(x/w)| < 2^15 here).
  'Mul + Cast int32 (int32 out)': graph('mc32', 13, 'int32', (g, x) => g.op1('onnx.Cast', [g.op1('onnx.Mul', [x, f32(g, 1 / width)], {}, t('float32'))], { to: attrs.int(6) }, { outputs: ['y'], ...t('int32') })),
  'Mul + Cast int32 + Cast int16': graph('mc3216', 13, 'int16', (g, x) => g.op1('onnx.Cast', [g.op1('onnx.Cast', [g.op1('onnx.Mul', [x, f32(g, 1 / width)], {}, t('float32'))], { to: attrs.int(6) }, t('int32'))], { to: attrs.int(5) }, { outputs: ['y'], ...t('int16') })),
  'Mul + Floor + Cast int32 + Cast int16': graph('mfc3216', 13, 'int16', (g, x) => g.op1('onnx.Cast', [g.op1('onnx.Cast', [g.op1('onnx.Floor', [g.op1('onnx.Mul', [x, f32(g, 1 / width)], {}, t('float32'))], {}, t('float32'))], { to: attrs.int(6) }, t('int32'))], { to: attrs.int(5) }, { outputs: ['y'], ...t('int16') })),
  'Mul + Floor + QuantizeLinear int16 (scale 1)': graph('mfq', 21, 'int16', (g, x) => g.op1('onnx.QuantizeLinear', [g.op1('onnx.Floor', [g.op1('onnx.Mul', [x, f32(g, 1 / width)], {}, t('float32'))], {}, t('float32')), f32(g, 1), g.constant(Tensor.scalar('int16', 0))], {}, { outputs: ['y'], ...t('int16') })),
};

// Conv-output-like values: signed, a third exact multiples of w/2 (ties for round-to-nearest), every fourth 0.
let state = 7;
const next = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
const values = Float32Array.from({ length: size }, (_, i) => (i % 4 === 0 ? 0 : i % 3 === 0 ? (Math.round(next() * 200) * width) / 2 : next() * 30));
const feeds = { x: new ort.Tensor('float32', values, [size]) };
const sessions = {};
for (const [name, file] of Object.entries(files)) {
  try {
    sessions[name] = await ort.InferenceSession.create(file, { intraOpNumThreads: 1, logSeverityLevel: 3 });
  } catch (error) {
    console.log(`${name}: ORT refused it (${error.message.split('\n')[0]})`);
  }
}
const cpu = Object.fromEntries(Object.keys(sessions).map((name) => [name, []]));
const outputs = {};
for (let round = 0; round < rounds + 3; round++) {
  for (const [name, session] of Object.entries(sessions)) {
    const before = process.cpuUsage();
    const result = await session.run(feeds);
    const used = process.cpuUsage(before);
    if (round >= 3) cpu[name].push((used.user + used.system) / 1000);
    outputs[name] = result.y.data;
  }
}
rmSync(folder, { recursive: true, force: true });
console.log(`${size} float32 values, ${rounds} interleaved rounds, 1 intra-op thread, onnxruntime-node ${ort.env.versions?.common ?? ''} (CPU ms per run including the feed and output copies, medians):`);
for (const name of Object.keys(sessions)) console.log(`  ${name}: ${median(cpu[name]).toFixed(2)} ms`);

const floors = outputs['Mul + Floor + Cast'];
const rounded = outputs['QuantizeLinear int16 (opset 21)'];
if (floors && rounded) {
  let moved = 0;
  for (let i = 0; i < size; i++) if (floors[i] !== rounded[i]) moved++;
  // Round-to-nearest bins at w and at 2w: does a value's bin at w fix its bin at 2w?
  const rne = (v) => {
    const r = Math.round(v);
    return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  const coarseOf = new Map();
  let undetermined = 0;
  for (let i = 0; i < size; i++) {
    const fine = rne(values[i] / width);
    const coarse = rne(values[i] / (2 * width));
    const seen = coarseOf.get(fine);
    if (seen === undefined) coarseOf.set(fine, coarse);
    else if (seen !== coarse) undetermined++;
  }
  const floorsNest = [...Array(size).keys()].every((i) => Math.floor(Math.floor(values[i] / width) / 2) === Math.floor(values[i] / (2 * width)));
  console.log(`  QuantizeLinear's index differs from floor(x/w) for ${moved} of ${size} values (${((100 * moved) / size).toFixed(1)} %)`);
  console.log(`  round-to-nearest bins: ${undetermined} values sit in a bin at w whose values fall into two bins at 2w (floor bins: every bin at 2w follows from the bin at w: ${floorsNest})`);
}
// Sub + QuantizeLinear: round-half-even(fl32(x − w/2)/w). Where it differs from floor(x/w), whether a
// JavaScript rule reproduces ORT's indices exactly, and whether ORT's bins at w determine its bins at 2w.
const shifted = outputs['Sub + QuantizeLinear int16'];
const shifted2 = outputs['Sub + QuantizeLinear int16 at 2w'];
if (floors && shifted && shifted2) {
  const rhe = (v) => {
    const r = Math.round(v);
    return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  const rule = (x, w) => Math.max(-32768, Math.min(32767, rhe(Math.fround(x - w / 2) / w)));
  let moved = 0;
  let oddMultiples = 0;
  let ruleDiffers = 0;
  const coarseOf = new Map();
  const split = new Set();
  for (let i = 0; i < size; i++) {
    if (floors[i] !== shifted[i]) {
      moved++;
      if (Number.isInteger(values[i] / width) && Math.abs(values[i] / width) % 2 === 1) oddMultiples++;
    }
    if (rule(values[i], width) !== shifted[i] || rule(values[i], 2 * width) !== shifted2[i]) ruleDiffers++;
    const seen = coarseOf.get(shifted[i]);
    if (seen === undefined) coarseOf.set(shifted[i], shifted2[i]);
    else if (seen !== shifted2[i]) split.add(shifted[i]);
  }
  console.log(`  Sub + QuantizeLinear: index differs from floor(x/w) for ${moved} of ${size} values (${oddMultiples} of them odd multiples of w); the JavaScript rule round-half-even(fl32(x − w/2)/w) differs from ORT's for ${ruleDiffers}`);
  console.log(`  Sub + QuantizeLinear bins: ${split.size} bins at w hold values that ORT puts into two bins at 2w (${[...split].slice(0, 4).join(', ')}${split.size > 4 ? ', …' : ''}): they do not nest`);
}
