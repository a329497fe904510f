#!/usr/bin/env node
// int8 TFLite export (issue 12): each model is quantized with quantize-static (QDQ, ORT's uint8
// activations / int8 per-channel weights), converted to full-integer TFLite by legalize-tflite, and
//  - Fashion-MNIST fixtures: top-1 accuracy on the full test set (10,000 images) of the float model
//    (ORT), the int8 ONNX model (ORT) and the int8 .tflite (TFLite 2.9 runtime), and the difference;
//  - torchvision nets (random weights, calibrated on seeded random inputs): worst |difference|,
//    cosine and top-1 agreement of the logits, ORT int8 vs TFLite int8, on seeded inputs;
//  - dynamic range: quantize-dynamic models (DynamicQuantizeLinear + MatMulInteger) in ORT vs their
//    hybrid .tflite (int8 weights, activations quantized on the fly), same 10k images;
//  - file sizes (fp32 ONNX, int8 ONNX, int8 .tflite) and the ops of the .tflite by input dtype;
//  - float left in the int8 .tflite: QUANTIZE (float → int8) and DEQUANTIZE (of activations) ops, split into
//    those at the edges (the float side reaches a graph input/output through float ops only: a first layer or
//    a classifier the quantizer kept float) and those inside (a float island between int8 ops);
//  - latency at batch 1, one thread each: the int8 ONNX model in ORT vs the int8 .tflite in TFLite, interleaved.
//
//   NX_DAEMON=false npx nx run @modelpass/cli:build          # builds every package the bench imports
//   /usr/bin/python3 tools/fixtures/make_torchvision.py resnet18 mobilenet_v2 …   # the torchvision family (.fixtures-cache)
//   nice -n 10 node tools/bench/tflite/int8.mjs [--models fashion-cnn,fashion-mlp,...] [--dynamic fashion-mlp,...] [--limit 10000] [--runs 20] [--out FILE]
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { builtinEnvironment } from '@modelpass/cli';
import { Tensor } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { disposeSharedOrtRunner, evaluateAccuracy, loadDataset, runOrt, TfliteEngine } from '@modelpass/runtime';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { TORCHVISION, modelPath } from './models.mjs';
import { ROOT, flag, median, session } from '../prune/ort-timing.mjs';

const FASHION = ['fashion-cnn', 'fashion-mlp', 'fashion-resnet', 'fashion-transformer'];
const MODELS = flag('models', [...FASHION, ...TORCHVISION].join(',')).split(',').filter(Boolean);
/** Fashion-MNIST fixtures also quantized with quantize-dynamic (dynamic-range TFLite: hybrid kernels). */
const DYNAMIC = flag('dynamic', 'fashion-mlp,fashion-transformer').split(',').filter(Boolean);
/** Fashion-MNIST fixtures also quantized with int16 activations (opset 21) → TFLite's 16x8 mode. */
const INT16 = flag('int16', 'fashion-cnn,fashion-mlp,fashion-resnet').split(',').filter(Boolean);
const QUANTIZE_INT16 = 'simplify,quantize-static{dataset=fashion-mnist:train samples=512 activations=int16}';
const LIMIT = Number(flag('limit', '10000'));
const RUNS = Number(flag('runs', '20'));
const WARMUP = 3;
const OUT = resolve(flag('out', join(ROOT, 'tools/bench/tflite/RESULTS-int8.md')));
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-tflite-int8-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

const QUANTIZE_FASHION = 'simplify,quantize-static{dataset=fashion-mnist:train samples=512}';
const QUANTIZE_TORCHVISION = 'simplify,quantize-static{samples=16}';

const pathOf = (name) => (FASHION.includes(name) ? join(ROOT, 'fixtures/models', name, 'model.onnx') : modelPath(name));

/**
 * QUANTIZE ops from float and DEQUANTIZE ops of activations, each at an edge (its float side reaches a
 * graph input / output through float ops alone) or inside (a float island between int8 ops).
 */
function floatLeft(path) {
  const graph = readTflite(path).graph;
  const isFloat = (value) => value?.type?.dtype === 'float32' && !value.isConstant;
  // Memoized walks (a value reached twice, as a SiLU's input is, gives the same answer both times).
  const memo = (walk) => {
    const known = new Map();
    const visit = (value) => {
      if (!known.has(value)) {
        known.set(value, false); // a cycle (none in a TFLite graph) counts as inside
        known.set(value, walk(value, visit));
      }
      return known.get(value);
    };
    return visit;
  };
  const fromInput = memo((value, visit) => {
    if (value.isGraphInput) return true;
    const producer = value.producer;
    if (!producer || producer.op === 'tflite.DEQUANTIZE') return false;
    const floats = producer.inputs.filter(isFloat);
    return floats.length > 0 && floats.every(visit);
  });
  const toOutput = memo((value, visit) => {
    if (value.isGraphOutput) return true;
    return value.users.length > 0 && value.users.every((user) => {
      if (user.op === 'tflite.QUANTIZE') return false;
      const floats = user.outputs.filter(isFloat);
      return floats.length > 0 && floats.every(visit);
    });
  });
  const counts = { quantizeEdge: 0, quantizeInside: 0, dequantizeEdge: 0, dequantizeInside: 0, floatOps: new Map() };
  for (const node of graph.nodeList()) {
    const input = node.inputs[0];
    if (node.op === 'tflite.QUANTIZE' && isFloat(input)) fromInput(input) ? counts.quantizeEdge++ : counts.quantizeInside++;
    else if (node.op === 'tflite.DEQUANTIZE' && input && !input.isConstant) toOutput(node.output(0)) ? counts.dequantizeEdge++ : counts.dequantizeInside++;
    else if (node.op !== 'tflite.DEQUANTIZE' && node.outputs.some(isFloat)) counts.floatOps.set(node.op.slice(7), (counts.floatOps.get(node.op.slice(7)) ?? 0) + 1);
  }
  return counts;
}

const floatCell = (f) => `${f.quantizeInside + f.dequantizeInside} (${f.quantizeEdge + f.dequantizeEdge})`;
const floatOpsCell = (f) => [...f.floatOps].map(([op, n]) => `${op}×${n}`).join(', ') || '—';

/** Median latency (ms) at batch 1 of the int8 ONNX model in ORT and the .tflite in TFLite, interleaved (one thread each). */
async function latencies(onnxPath, tflitePath, name, x) {
  const ortSession = await session(onnxPath);
  const feeds = { [name]: new (await import('onnxruntime-node')).Tensor('float32', Float32Array.from(x.toNumbers()), x.shape) };
  const engine = new TfliteEngine({ threads: 1 });
  const times = { ort: [], tflite: [] };
  for (let i = 0; i < WARMUP + RUNS; i++) {
    const pair = [['ort', () => ortSession.run(feeds)], ['tflite', () => engine.run(tflitePath, { [name]: x })]];
    for (const [key, call] of i % 2 ? pair.reverse() : pair) {
      const start = performance.now();
      await call();
      if (i >= WARMUP) times[key].push(performance.now() - start);
    }
  }
  await ortSession.release();
  return { ort: median(times.ort), tflite: median(times.tflite), ortMin: Math.min(...times.ort), tfliteMin: Math.min(...times.tflite) };
}
const latencyCells = (t) => `${t.ort.toFixed(2)} | ${t.tflite.toFixed(2)} | ${(t.tflite / t.ort).toFixed(2)} (${(t.tfliteMin / t.ortMin).toFixed(2)})`;

async function run(model, pipeline) {
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment: builtinEnvironment(), verifyEach: false, instrumentations: [statistics] }).run(model, pipeline);
  return new Map(statistics.get('legalize-tflite') ?? []);
}

function opsByInputType(path) {
  const counts = new Map();
  for (const node of readTflite(path).graph.nodeList()) {
    const key = `${node.op.slice('tflite.'.length)}(${node.inputs[0]?.type.dtype})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([op, n]) => `${op}×${n}`).join(', ');
}

function seeded(shape, seed) {
  let state = seed;
  const count = shape.reduce((n, d) => n * d, 1);
  const values = new Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = (state / 2 ** 32) * 2 - 1;
  }
  return Tensor.fromValues('float32', shape, values);
}

const kib = (path) => (statSync(path).size / 1024).toFixed(1);
const pct = (x) => `${(x * 100).toFixed(2)}%`;
const fashionRows = [];
const torchvisionRows = [];
const dataset = loadDataset('fashion-mnist:test', { limit: LIMIT });

for (const name of MODELS) {
  const source = pathOf(name);
  const fashion = FASHION.includes(name);
  process.stderr.write(`${name}: quantizing…\n`);
  const int8Onnx = readOnnx(source);
  await run(int8Onnx, fashion ? QUANTIZE_FASHION : QUANTIZE_TORCHVISION);
  const onnxPath = join(WORK, `${name}.int8.onnx`);
  writeOnnx(int8Onnx, onnxPath);
  process.stderr.write(`${name}: converting…\n`);
  const converted = readOnnx(onnxPath);
  const statistics = await run(converted, 'legalize-tflite');
  const tflitePath = join(WORK, `${name}.int8.tflite`);
  writeTflite(converted, tflitePath);
  const sizes = `${kib(source)} / ${kib(onnxPath)} / ${kib(tflitePath)}`;
  const ops = opsByInputType(tflitePath);
  const int8Ops = statistics.get('int8-ops') ?? 0;
  const floatOps = statistics.get('float-ops-in-int8-model') ?? 0;
  const float = floatLeft(tflitePath);
  const input = int8Onnx.graph.inputs[0];
  const shape = input.type.shape.map((d) => (typeof d === 'number' ? d : 1));
  process.stderr.write(`${name}: latency (${RUNS} runs each, interleaved)…\n`);
  const latency = await latencies(onnxPath, tflitePath, input.name, seeded(shape, 99));
  if (fashion) {
    process.stderr.write(`${name}: evaluating ${dataset.size} images in ORT (fp32, int8) and TFLite (int8)…\n`);
    const fp32 = await evaluateAccuracy(source, dataset, { engine: 'ort' });
    const ort = await evaluateAccuracy(onnxPath, dataset, { engine: 'ort' });
    const tflite = await evaluateAccuracy(tflitePath, dataset, { engine: 'tflite' });
    const drop = (tflite.accuracy - ort.accuracy) * 100;
    const met = Math.abs(drop) <= 0.3 ? 'met' : 'not met';
    fashionRows.push(`| ${name} | ${pct(fp32.accuracy)} | ${pct(ort.accuracy)} | ${pct(tflite.accuracy)} | ${drop >= 0 ? '+' : ''}${drop.toFixed(2)} pp | ${met} | ${int8Ops} / ${floatOps} | ${floatCell(float)} | ${floatOpsCell(float)} | ${latencyCells(latency)} | ${sizes} | ${ops} |`);
  } else {
    process.stderr.write(`${name}: comparing logits on 8 seeded inputs…\n`);
    const engine = new TfliteEngine();
    let worst = 0;
    let dot = 0;
    let na = 0;
    let nb = 0;
    let agree = 0;
    for (let seed = 1; seed <= 8; seed++) {
      const x = seeded(shape, seed);
      const a = [...(await runOrt(onnxPath, { [input.name]: x })).values()][0].toNumbers();
      const b = [...(await engine.run(tflitePath, { [input.name]: x })).values()][0].toNumbers();
      for (let i = 0; i < a.length; i++) {
        worst = Math.max(worst, Math.abs(a[i] - b[i]));
        dot += a[i] * b[i];
        na += a[i] * a[i];
        nb += b[i] * b[i];
      }
      const argmax = (v) => v.reduce((best, value, i) => (value > v[best] ? i : best), 0);
      if (argmax(a) === argmax(b)) agree++;
    }
    torchvisionRows.push(`| ${name} | ${worst.toExponential(2)} | ${(dot / Math.sqrt(na * nb)).toFixed(6)} | ${agree} / 8 | ${int8Ops} / ${floatOps} | ${floatCell(float)} | ${floatOpsCell(float)} | ${latencyCells(latency)} | ${sizes} | ${ops} |`);
  }
}
const dynamicRows = [];
for (const name of DYNAMIC) {
  const source = pathOf(name);
  process.stderr.write(`${name}: quantize-dynamic, converting, evaluating…\n`);
  const dynamic = readOnnx(source);
  await run(dynamic, 'quantize-dynamic');
  const onnxPath = join(WORK, `${name}.dynamic.onnx`);
  writeOnnx(dynamic, onnxPath);
  const converted = readOnnx(onnxPath);
  const statistics = await run(converted, 'legalize-tflite');
  const tflitePath = join(WORK, `${name}.dynamic.tflite`);
  writeTflite(converted, tflitePath);
  const ort = await evaluateAccuracy(onnxPath, dataset, { engine: 'ort' });
  const tflite = await evaluateAccuracy(tflitePath, dataset, { engine: 'tflite' });
  const drop = (tflite.accuracy - ort.accuracy) * 100;
  dynamicRows.push(`| ${name} | ${pct(ort.accuracy)} | ${pct(tflite.accuracy)} | ${drop >= 0 ? '+' : ''}${drop.toFixed(2)} pp | ${statistics.get('hybrid-ops') ?? 0} | ${kib(source)} / ${kib(onnxPath)} / ${kib(tflitePath)} |`);
}
const int16Rows = [];
for (const name of INT16) {
  const source = pathOf(name);
  process.stderr.write(`${name}: int16 activations (opset 21), 16x8 TFLite, evaluating…\n`);
  const int16 = readOnnx(source);
  int16.opsetImports.set('onnx', 21); // int16 QuantizeLinear; these fixtures' ops mean the same at 21
  int16.irVersion = 10;
  await run(int16, QUANTIZE_INT16);
  const onnxPath = join(WORK, `${name}.int16.onnx`);
  writeOnnx(int16, onnxPath);
  const converted = readOnnx(onnxPath);
  const statistics = await run(converted, 'legalize-tflite');
  const tflitePath = join(WORK, `${name}.int16.tflite`);
  writeTflite(converted, tflitePath);
  const ort = await evaluateAccuracy(onnxPath, dataset, { engine: 'ort' });
  const tflite = await evaluateAccuracy(tflitePath, dataset, { engine: 'tflite' });
  const drop = (tflite.accuracy - ort.accuracy) * 100;
  const float = floatLeft(tflitePath);
  int16Rows.push(`| ${name} | ${pct(ort.accuracy)} | ${pct(tflite.accuracy)} | ${drop >= 0 ? '+' : ''}${drop.toFixed(2)} pp | ${Math.abs(drop) <= 0.3 ? 'met' : 'not met'} | ${statistics.get('int8-ops') ?? 0} / ${statistics.get('float-ops-in-int8-model') ?? 0} | ${floatCell(float)} | ${kib(source)} / ${kib(onnxPath)} / ${kib(tflitePath)} | ${opsByInputType(tflitePath)} |`);
}
await disposeSharedOrtRunner();

const text = [
  '# int8 TFLite export: accuracy against the ORT int8 model',
  '',
  `\`node ${relative(ROOT, process.argv[1])} ${process.argv.slice(2).join(' ')}\` on ${new Date().toISOString().slice(0, 10)} (load average ${loadavg()[0].toFixed(1)} at the end, 2 cores shared). Models quantized with`,
  `\`${QUANTIZE_FASHION}\` (Fashion-MNIST fixtures) or \`${QUANTIZE_TORCHVISION}\` (torchvision, random`,
  'weights, seeded random calibration), then `legalize-tflite` (defaults: float32 input/output, QUANTIZE/DEQUANTIZE at the edges).',
  'ORT 1.30 runs the int8 ONNX model, the TFLite 2.9 runtime (tfjs-tflite-node) the .tflite. "int8 / float ops": canonical ops that became',
  'int8 TFLite ops / ops on quantized values that run in float (a Gemm whose output the model keeps float, a layer quantize-static left float).',
  '"Q/DQ inside (edges)": QUANTIZE ops from float plus DEQUANTIZE ops of activations in the .tflite whose float side is an island between int8 ops',
  '(goal 0), and in brackets those at the edges (the float side reaches a graph input or output through float ops only: the first conv',
  'quantize-static keeps float for ORT\'s speed (`min-conv-reduction`), the classifier whose output the model keeps float). "float ops": TFLite',
  `ops computing float32 (edges included). Latency: batch 1, one thread each, ${RUNS} interleaved runs after ${WARMUP}, median ms (ratio of minimums in brackets).`,
  '',
  ...(fashionRows.length
    ? [
        `Fashion-MNIST test set, first ${dataset.size} images:`,
        '',
        '| model | fp32 (ORT) | int8 ONNX (ORT) | int8 TFLite | TFLite − ORT int8 | within 0.3 pp | int8 / float ops | Q/DQ inside (edges) | float ops | ORT int8 ms | TFLite int8 ms | TFLite / ORT | KiB fp32 / int8 ONNX / TFLite | TFLite ops (input dtype) |',
        '|---|---:|---:|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---|',
        ...fashionRows,
        '',
      ]
    : []),
  ...(torchvisionRows.length
    ? [
        'torchvision (8 seeded inputs in [-1, 1]): logits of the int8 ONNX model in ORT vs the int8 .tflite in TFLite:',
        '',
        '| model | max abs diff | cosine | top-1 agreement | int8 / float ops | Q/DQ inside (edges) | float ops | ORT int8 ms | TFLite int8 ms | TFLite / ORT | KiB fp32 / int8 ONNX / TFLite | TFLite ops (input dtype) |',
        '|---|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---|',
        ...torchvisionRows,
        '',
      ]
    : []),
  ...(dynamicRows.length
    ? [
        `Dynamic range (\`quantize-dynamic\`; TFLite's hybrid kernels quantize activations per row on the fly, ORT per tensor), first ${dataset.size} test images:`,
        '',
        '| model | ORT | TFLite (hybrid) | TFLite − ORT | hybrid ops | KiB fp32 / dynamic ONNX / TFLite |',
        '|---|---:|---:|---:|---:|---:|',
        ...dynamicRows,
        '',
      ]
    : []),
  ...(int16Rows.length
    ? [
        `16x8 (\`${QUANTIZE_INT16}\` at opset 21: int16 activations, int8 weights; TFLite's 16x8 kernels with symmetric int16 activations and int64 biases), first ${dataset.size} test images:`,
        '',
        '| model | ORT int16 | TFLite 16x8 | TFLite − ORT | within 0.3 pp | int16 / float ops | Q/DQ inside (edges) | KiB fp32 / int16 ONNX / TFLite | TFLite ops (input dtype) |',
        '|---|---:|---:|---:|---|---:|---:|---:|---|',
        ...int16Rows,
        '',
      ]
    : []),
].join('\n');
writeFileSync(OUT, text);
process.stdout.write(text);
