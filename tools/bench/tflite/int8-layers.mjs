#!/usr/bin/env node
// int8 TFLite vs ONNX Runtime, layer by layer (issue 12: is a disagreement accumulated rounding or a bug?).
//
//  1. full run: ORT on the QDQ model (every value an output) and the TFLite 2.9 runtime on the int8 .tflite
//     (every activation an output), on one seeded input; each TFLite tensor is paired with the ORT
//     DequantizeLinear that gives the same reals (by the ONNX node or value the TFLite tensor is named after,
//     through Q → DQ, a fused Relu, a Q(s) → DQ(s') reinterpretation; a FULLY_CONNECTED written as RESHAPE → CONV_2D
//     → RESHAPE by its <fc>_as_nhwc/_as_conv/_units names); NCHW ORT tensors are read channels-last, and a Flatten
//     the .tflite does on NHWC (the next layer's weights permuted) reads ORT's rows as [C,H,W] channels-last;
//  2. isolated: each paired op alone (the .tflite cut at that node), fed ORT's own values of its inputs
//     (requantized: exact, they are on the grid), its output against ORT's — a lowering bug (a wrong scale,
//     zero point, padding value, requantization) shows here as more than one step on a single op;
//  3. --exact: for 1×1 CONV_2Ds, both runtimes' integers against the float64 result of the same integers.
// Differences are in steps of the TFLite tensor's scale (float tensors: absolute).
//
// A dynamic batch (or any symbolic dim) is fixed to the --input shape (default: the ONNX input's shape with each
// symbolic dim 1): the full run resizes the TFLite input to it, and every cut model of the isolated pass is written
// with the static shapes of that run (its dynamic cut inputs had no size: the cuts could not be fed). An integer
// TFLite input (legalize-tflite{io-type=int8}, or int16) gets the seeded input quantized with the input tensor's
// scale and zero point (half to even, as QuantizeLinear), and ORT gets the same reals (those integers dequantized).
// --npy FILE[:ROW] feeds row ROW (default 0) of a float32 .npy batch instead of the seeded input (a smooth-noise or
// real image: seeded uniform noise hides drift that images show), its shape the input's with batch 1.
//
//   nice -n 10 node tools/bench/tflite/int8-layers.mjs --onnx m.qs.onnx --tflite m.tflite [--input NAME[=1,128,128,3]] [--seed 7 | --npy x.npy:2] [--exact]
import { existsSync, readFileSync } from 'node:fs';
import { Tensor, tensorType } from '@modelpass/ir';
import { decodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, readNpy, runOrt, TfliteEngine } from '@modelpass/runtime';
import { encodeTflite, META_SIGNATURE_DEFS, readTflite } from '@modelpass/tflite';

const USAGE = 'usage: int8-layers.mjs --onnx QDQ.onnx --tflite INT8.tflite [--input NAME[=D0,D1,...]] [--seed N | --npy FILE[:ROW]] [--exact]';
const fail = (message) => {
  console.error(`int8-layers: ${message}\n${USAGE}`);
  process.exit(2);
};
const argv = process.argv.slice(2);
const flag = (name, fallback) => { const i = argv.indexOf(`--${name}`); return i < 0 ? fallback : argv[i + 1]; };
const onnxPath = flag('onnx');
const tflitePath = flag('tflite');
if (!onnxPath || !tflitePath) fail('--onnx and --tflite are required');
for (const [option, path] of [['--onnx', onnxPath], ['--tflite', tflitePath]]) if (!existsSync(path)) fail(`${option} ${path}: no such file`);
const EXACT = argv.includes('--exact');
const seedText = flag('seed', '7');
if (!/^\d+$/.test(seedText)) fail(`--seed takes a non-negative integer, got '${seedText}'`);

/** Integer storage types a quantized TFLite tensor may have, with their ranges. */
const INTEGER_RANGES = { int8: [-128, 127], uint8: [0, 255], int16: [-32768, 32767] };
/** round(r / scale) + zeroPoint, half to even (ONNX QuantizeLinear), saturated to the dtype. */
function quantizeReals(reals, dtype, quant) {
  const [low, high] = INTEGER_RANGES[dtype];
  return reals.map((r) => {
    const scaled = r / quant.scale[0];
    const floor = Math.floor(scaled);
    const diff = scaled - floor;
    const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
    return Math.max(low, Math.min(high, rounded + quant.zeroPoint[0]));
  });
}

const onnx = decodeOnnx(readFileSync(onnxPath));
const [inputName, shapeText] = (flag('input') ?? onnx.graph.inputs[0]?.name ?? '').split('=');
const onnxInput = onnx.graph.inputs.find((v) => v.name === inputName);
if (!onnxInput) fail(`--input: ${onnxPath} has no input '${inputName}' (inputs: ${onnx.graph.inputs.map((v) => v.name).join(', ')})`);
const declared = onnxInput.type.shape;
let shape;
if (shapeText !== undefined) {
  shape = shapeText.split(',').map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 1)) fail(`--input ${inputName}=${shapeText}: expected positive integer dims`);
  if (declared && (declared.length !== shape.length || declared.some((d, i) => typeof d === 'number' && d !== shape[i]))) {
    fail(`--input ${inputName}=${shapeText} does not fit the model's input ${inputName}[${declared.map((d) => d ?? '?').join(',')}]`);
  }
} else {
  if (!declared) fail(`--input: the model's input '${inputName}' has no rank: give its shape, --input ${inputName}=D0,D1,...`);
  shape = declared.map((d) => (typeof d === 'number' ? d : 1));
  if (declared.some((d) => typeof d !== 'number')) console.log(`input ${inputName}[${declared.map((d) => d ?? '?').join(',')}] fixed to [${shape}] (give --input ${inputName}=D0,... for another size)`);
}
let state = Number(seedText);
const size = shape.reduce((a, b) => a * b, 1);
let x = Tensor.fromValues('float32', shape, Array.from({ length: size }, () => {
  state = (state * 1664525 + 1013904223) >>> 0;
  return (state / 2 ** 32) * 2 - 1;
}));
const npyText = flag('npy');
if (npyText !== undefined) {
  const [, npyPath, rowText = '0'] = /^(.*?)(?::(\d+))?$/.exec(npyText);
  if (!existsSync(npyPath)) fail(`--npy ${npyPath}: no such file`);
  let batch;
  try { batch = readNpy(npyPath); } catch (error) { fail(`--npy ${npyPath}: ${error.message}`); }
  const row = Number(rowText);
  const rowShape = batch.shape.slice(1);
  if (batch.dtype !== 'float32' || shape[0] !== 1 || rowShape.join() !== shape.slice(1).join()) {
    fail(`--npy ${npyPath}: expected float32 [N,${shape.slice(1)}] (rows of the input ${inputName}[${shape}]), got ${batch.dtype} [${batch.shape}]`);
  }
  if (row >= batch.shape[0]) fail(`--npy ${npyText}: row ${row} is past the file's ${batch.shape[0]} rows`);
  x = Tensor.fromValues('float32', shape, batch.toNumbers().slice(row * size, (row + 1) * size).map(Number));
}
const inputLabel = npyText !== undefined ? `--npy ${npyText}` : `seed ${seedText}`;

const tfl = readTflite(tflitePath);
if (tfl.graph.inputs.length !== 1) fail(`--tflite ${tflitePath} has ${tfl.graph.inputs.length} inputs; this bench feeds one`);
const tInput = tfl.graph.inputs[0];
const tQuant = tInput.type.quant;
let tfliteFeed = x;
let ortFeed = x;
if (tInput.type.dtype !== 'float32') {
  if (!INTEGER_RANGES[tInput.type.dtype] || !tQuant || tQuant.scale.length !== 1) {
    fail(`--tflite ${tflitePath}: input '${tInput.name}' is ${tInput.type.dtype}${tQuant ? ` with ${tQuant.scale.length} scales` : ' without scale/zero point'} (expected float32, or int8/uint8/int16 with one scale)`);
  }
  const q = quantizeReals(x.toNumbers(), tInput.type.dtype, tQuant);
  tfliteFeed = Tensor.fromValues(tInput.type.dtype, shape, q);
  ortFeed = Tensor.fromValues('float32', shape, q.map((v) => (v - tQuant.zeroPoint[0]) * tQuant.scale[0]));
  console.log(`TFLite input '${tInput.name}' is ${tInput.type.dtype} (scale ${tQuant.scale[0]}, zero point ${tQuant.zeroPoint[0]}): fed the input (${inputLabel}) quantized, ORT the same reals`);
}

const outputs = new Set(onnx.graph.outputs.map((v) => v.name));
for (const node of onnx.graph.nodeList()) for (const v of node.outputs) if (v && !outputs.has(v.name)) onnx.graph.addOutput(v);
const ort = await runOrt(onnx, { [inputName]: ortFeed });

const produced = [];
for (const node of tfl.graph.nodeList()) for (const v of node.outputs) if (v) produced.push({ v, node });
const tOutputs = new Set(tfl.graph.outputs.map((v) => v.name));
for (const { v } of produced) if (!tOutputs.has(v.name)) tfl.graph.addOutput(v);
const full = await new TfliteEngine().run(encodeTflite(tfl), { [tInput.name]: tfliteFeed });

/** Each tensor's shape in the full run (a dynamic batch fixed to --input's): what the cut models are written with. */
const concrete = new Map([[tInput.name, shape]]);
for (const [name, tensor] of full) concrete.set(name, tensor.shape);
const shapeOf = (value) => concrete.get(value.name) ?? value.type.shape;
const staticType = (value) => (concrete.has(value.name) ? tensorType(value.type.dtype, concrete.get(value.name), value.type.quant) : value.type);

const users = (value) => [...value.uses].map((use) => use.user).filter((user) => user && user.op);
/** The ORT tensor with the reals of `value` after its Q → DQ (→ Relu → Q → DQ)*, and the factor a reinterpreting DQ applied. */
function pairOf(value) {
  const direct = users(value).find((n) => n.op === 'onnx.DequantizeLinear' && n.inputs[0] === value);
  if (direct) return { name: direct.outputs[0].name, factor: 1 };
  let current = value;
  let last;
  for (;;) {
    const q = users(current).find((n) => n.op === 'onnx.QuantizeLinear');
    const dq = q && users(q.outputs[0]).find((n) => n.op === 'onnx.DequantizeLinear');
    if (!dq) break;
    last = dq.outputs[0];
    const factor = q.inputs[1].constant.toNumbers()[0] / dq.inputs[1].constant.toNumbers()[0];
    if (factor !== 1) return { name: last.name, factor };
    const next = users(last);
    if (next.length !== 1 || !['onnx.Relu', 'onnx.Clip'].includes(next[0].op)) break;
    current = next[0].outputs[0];
  }
  if (last) return { name: last.name, factor: 1 };
  return ort.has(value.name) ? { name: value.name, factor: 1 } : undefined;
}
/**
 * A float TFLite tensor's pair: ORT's float output of the node (not the DequantizeLinear after its QuantizeLinear,
 * whose reals are rounded and saturated to the next layer's range), after the Relu/Clip the TFLite op fused.
 */
function floatPair(value, node) {
  const fused = (node.optionalAttr('fused_activation_function', 'string') ?? 'NONE') !== 'NONE';
  const next = users(value);
  const output = fused && next.length === 1 && ['onnx.Relu', 'onnx.Clip'].includes(next[0].op) ? next[0].outputs[0] : value;
  return ort.has(output.name) ? { name: output.name, factor: 1 } : undefined;
}
const onnxNodes = new Map(onnx.graph.nodeList().map((n) => [n.name, n]));
function ortPair(value, node) {
  // A TFLite tensor named after a QuantizeLinear's output (composites-int8's RSQRT): ORT's tensor holds its codes, the reals are its DQ's.
  const quantized = onnx.graph.getValue(value.name);
  if (quantized?.producer?.op === 'onnx.QuantizeLinear') return pairOf(quantized);
  if (ort.has(value.name)) return { name: value.name, factor: 1 };
  // A FULLY_CONNECTED written as RESHAPE → CONV_2D → RESHAPE (fc-as-conv): <fc>_as_nhwc holds the Gemm's input,
  // <fc>_as_conv and <fc>_units its output.
  const fcInput = /^(.*)_fully_connected_as_nhwc_\d+$/.exec(value.name);
  const gemmInput = fcInput && onnxNodes.get(fcInput[1])?.inputs[0];
  if (gemmInput && ort.has(gemmInput.name)) return { name: gemmInput.name, factor: 1 };
  const fcAsConv = /^(.*)_fully_connected_(?:as_conv|units)_\d+$/.exec(value.name);
  const base = fcAsConv ? fcAsConv[1] : value.name.replace(new RegExp(`_${node.op.replace('tflite.', '').toLowerCase()}_\\d+$`), '');
  // A table lookup (quantized/unary-table-int8.ts: CAST → GATHER) computes the chain named before _table_gather.
  const candidates = [base, base.replace(/_(de)?quantize(_\d+)?$/, '')];
  if (node.op === 'tflite.GATHER') candidates.push(base.replace(/_table_gather$/, ''));
  for (const candidate of candidates) {
    const n = onnxNodes.get(candidate);
    if (n?.op === 'onnx.DequantizeLinear') return { name: n.outputs[0].name, factor: 1 };
    if (n?.op === 'onnx.QuantizeLinear') return pairOf(n.outputs[0]);
    if (n && !value.type.quant) return floatPair(n.outputs[0], node);
    if (n) return pairOf(n.outputs[0]);
    const v = onnx.graph.getValue(candidate);
    if (v) return pairOf(v);
  }
  return undefined;
}
const realsOf = (tensor, quant) => tensor.toNumbers().map((q) => (quant ? (Number(q) - quant.zeroPoint[0]) * quant.scale[0] : Number(q)));
function channelsLast(reals, s) {
  const [N, C, H, W] = s;
  const out = new Array(reals.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) out[((n * H + h) * W + w) * C + c] = reals[((n * C + c) * H + h) * W + w];
  return out;
}
function steps(a, b, scale) {
  let worst = 0, one = 0, over = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]) / scale;
    worst = Math.max(worst, d);
    if (d > 0.5) one++;
    if (d > 1.001) over++;
  }
  return { worst, one, over, count: a.length };
}

/** ORT's reals of each paired TFLite tensor, in the TFLite tensor's layout. */
const aligned = new Map();
// The input, when the .tflite takes it in the ONNX layout (an op fed by it can then be isolated too).
if (shapeOf(tInput).join() === shape.join()) aligned.set(tInput.name, ortFeed.toNumbers().map(Number));
const label = (name) => name.replace(/^StatefulPartitionedCall\/functional_1\//, '').slice(0, 48).padEnd(48);
console.log(`full run (${tflitePath} in TFLite vs ${onnxPath} in ORT, ${inputLabel}): worst, elements 1 step apart, more than 1`);
for (const { v, node } of produced) {
  const quant = v.type.quant;
  const tensor = full.get(v.name);
  let reals;
  if (node.op === 'tflite.PAD' && aligned.has(node.inputs[0].name)) {
    // PAD has no ONNX tensor (Conv pads inside): ORT's input padded with real 0 (the zero point).
    const source = aligned.get(node.inputs[0].name), inShape = shapeOf(node.inputs[0]), outShape = shapeOf(v);
    const pads = node.inputs[1].constant.toNumbers().map(Number);
    const strides = (s) => s.map((_, i) => s.slice(i + 1).reduce((p, d) => p * d, 1));
    const si = strides(inShape), so = strides(outShape);
    reals = new Array(outShape.reduce((p, d) => p * d, 1)).fill(0);
    for (let i = 0; i < source.length; i++) {
      let o = 0;
      for (let d = 0; d < inShape.length; d++) o += ((Math.floor(i / si[d]) % inShape[d]) + pads[2 * d]) * so[d];
      reals[o] = source[i];
    }
  } else if (node.op === 'tflite.TRANSPOSE' && aligned.has(node.inputs[0].name) && node.inputs[1].constant?.toNumbers().map(Number).join() === '0,2,3,1') {
    // To NHWC (no ONNX tensor: the input of a Conv the .tflite runs channels-last): the aligned input moved.
    reals = channelsLast(aligned.get(node.inputs[0].name), shapeOf(node.inputs[0]));
  } else if (node.op === 'tflite.CAST' && aligned.has(node.inputs[0].name) && node.inputs[0].type.quant && !quant) {
    // The codes of a quantized tensor as integers (the indices of a table lookup): ORT's reals quantized back.
    reals = quantizeReals(aligned.get(node.inputs[0].name), node.inputs[0].type.dtype, node.inputs[0].type.quant);
  } else if (node.op === 'tflite.FLOOR_MOD' && aligned.has(node.inputs[0].name) && node.inputs[1].constant?.size === 1 && !quant) {
    // The table's indices: negative codes wrapped by the table size.
    const d = Number(node.inputs[1].constant.toNumbers()[0]);
    reals = aligned.get(node.inputs[0].name).map((i) => ((i % d) + d) % d);
  } else if (node.op === 'tflite.RESHAPE' && /_fully_connected_as_nhwc_\d+$/.test(v.name) && aligned.has(node.inputs[0].name)) {
    // The FULLY_CONNECTED's input made 4-D keeps its order: ORT's reals as already aligned (a Flatten done on NHWC
    // stays in NHWC order here, where the Gemm's input in ORT is in NCHW order).
    reals = aligned.get(node.inputs[0].name);
  } else {
    const pair = ortPair(v, node);
    if (!pair || !tensor) continue;
    const ortTensor = ort.get(pair.name);
    reals = ortTensor.toNumbers().map((y) => Number(y) * pair.factor);
    const os = ortTensor.shape, ts = tensor.shape;
    if (reals.length !== tensor.size && reals.length !== ts.reduce((p, d) => p * d, 1)) continue;
    if (os.length === 4 && ts.length === 4 && os[1] === ts[3] && os[2] === ts[1] && os[3] === ts[2]) {
      // NCHW in ORT: read channels-last; when C = H = W the shapes cannot tell, so take the closer reading.
      const moved = channelsLast(reals, os);
      const tReals = realsOf(tensor, quant);
      const far = (a) => a.reduce((m, y, i) => Math.max(m, Math.abs(y - tReals[i])), 0);
      if (os.join() !== ts.join() || far(moved) < far(reals)) reals = moved;
    }
    const from = node.op === 'tflite.RESHAPE' ? shapeOf(node.inputs[0]) : undefined;
    if (from?.length === 4 && os.length === 2 && ts.length === 2 && os[0] === from[0]) {
      // A Flatten of NCHW in ORT that the .tflite does on NHWC (the next layer's weights permuted to match): ORT's
      // row read as [C,H,W] channels-last, when that is the closer reading.
      const [N, H, W, C] = from;
      const moved = channelsLast(reals, [N, C, H, W]);
      const tReals = realsOf(tensor, quant);
      const far = (a) => a.reduce((m, y, i) => Math.max(m, Math.abs(y - tReals[i])), 0);
      if (far(moved) < far(reals)) reals = moved;
    }
  }
  aligned.set(v.name, reals);
  const r = steps(reals, realsOf(tensor, quant), quant ? quant.scale[0] : 1);
  console.log(`  ${node.op.replace('tflite.', '').padEnd(18)} ${label(v.name)} ${quant ? 'int8 ' : 'float'} ${r.worst.toFixed(2).padStart(6)} ${String(r.one).padStart(6)} ${String(r.over).padStart(6)} of ${r.count}`);
}

console.log('isolated (each op alone, fed ORT\'s values of its inputs): worst, elements 1 step apart, more than 1');
const summary = new Map();
for (const { v: target } of produced) {
  if (!aligned.has(target.name)) continue;
  const model = readTflite(tflitePath);
  const graph = model.graph;
  const node = graph.getValue(target.name).producer;
  const original = node.inputs.slice();
  const feeds = {};
  let complete = true;
  node.inputs.forEach((input, i) => {
    if (!input || input.isConstant) return;
    const reals = aligned.get(input.name);
    if (!reals) { complete = false; return; }
    const cut = graph.addInput(`isolated_${i}`, staticType(input));
    node.setInput(i, cut);
    const quant = input.type.quant;
    // ORT's reals are on the input's grid: quantizing them gives back ORT's integers.
    feeds[cut.name] = quant
      ? Tensor.fromValues(input.type.dtype, shapeOf(input), quantizeReals(reals, input.type.dtype, quant))
      : Tensor.fromValues(input.type.dtype, shapeOf(input), reals);
  });
  if (!complete) continue;
  graph.setOutputs([node.outputs[0]]);
  for (const other of graph.nodeList().reverse()) if (other !== node && other.outputs.every((o) => !o || o.uses.size === 0)) other.erase();
  for (const input of [...graph.inputs]) if (input.uses.size === 0) graph.removeInput(input);
  // The file's signature names the inputs and outputs just cut away (modelpass's own .tflite files have one).
  model.metadata.delete(META_SIGNATURE_DEFS);
  // Static shapes, those of the full run: a dynamic batch left in the cut gives its inputs no size to feed.
  for (const n of graph.nodeList()) for (const o of n.outputs) if (o) o.type = staticType(o);
  const result = await new TfliteEngine().run(encodeTflite(model), feeds);
  const quant = target.type.quant;
  const tflReals = realsOf(result.get(target.name), quant);
  const ortReals = aligned.get(target.name);
  const r = steps(ortReals, tflReals, quant ? quant.scale[0] : 1);
  console.log(`  ${node.op.replace('tflite.', '').padEnd(18)} ${label(target.name)} ${quant ? 'int8 ' : 'float'} ${r.worst.toFixed(2).padStart(6)} ${String(r.one).padStart(6)} ${String(r.over).padStart(6)} of ${r.count}`);
  if (quant) {
    const s = summary.get(node.op) ?? { ops: 0, worst: 0, one: 0, count: 0 };
    summary.set(node.op, { ops: s.ops + 1, worst: Math.max(s.worst, r.worst), one: s.one + r.one, count: s.count + r.count });
  }
  if (EXACT && quant && original[0].type.quant && node.inputs[1].type.quant && node.op === 'tflite.CONV_2D' && node.inputs[1].type.shape[1] === 1 && node.inputs[1].type.shape[2] === 1) {
    const input = original[0], inReals = aligned.get(input.name), weights = node.inputs[1], bias = node.inputs[2];
    const [O, , , I] = weights.type.shape;
    const wq = weights.constant.toNumbers().map(Number), ws = weights.type.quant.scale, bq = bias.constant.toNumbers().map(Number);
    const sIn = input.type.quant.scale[0], sOut = quant.scale[0], zOut = quant.zeroPoint[0];
    let tflOff = 0, ortOff = 0, tflUp = 0, worstOff = 0, inside = 0;
    for (let p = 0; p < inReals.length / I; p++) for (let o = 0; o < O; o++) {
      const sw = ws[ws.length > 1 ? o : 0];
      let acc = bq[o] * sIn * sw;
      for (let i = 0; i < I; i++) acc += inReals[p * I + i] * wq[o * I + i] * sw;
      const exact = acc / sOut + zOut;
      if (exact < -127.5 || exact > 126.5) continue;
      inside++;
      const dt = tflReals[p * O + o] / sOut + zOut - exact, dO = ortReals[p * O + o] / sOut + zOut - exact;
      if (Math.abs(dt) > 0.5 + 1e-6) { tflOff++; if (dt > 0) tflUp++; worstOff = Math.max(worstOff, Math.abs(dt)); }
      if (Math.abs(dO) > 0.5 + 1e-6) ortOff++;
    }
    console.log(`    exact (float64 of the same integers): TFLite more than half a step away on ${tflOff} of ${inside} (${tflUp} rounded up, at most ${worstOff.toFixed(4)} steps), ORT on ${ortOff}`);
  }
}
console.log('isolated int8 ops by kind: ops, worst steps, share of elements 1 step apart');
for (const [op, s] of summary) console.log(`  ${op.replace('tflite.', '').padEnd(18)} ${String(s.ops).padStart(3)} ${s.worst.toFixed(2)} ${((100 * s.one) / s.count).toFixed(2)}%`);
await disposeSharedOrtRunner();
