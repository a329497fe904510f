#!/usr/bin/env node
// Full-integer TFLite (issue 12; issue 9's size goal): each Fashion-MNIST fixture is quantized with
// `quantize-static{full-integer=true}` (graph outputs quantized too, the stem Conv quantized), converted with
// `legalize-tflite{io-type=int8 full-integer=true}` (int8 input and output, refused when any op would stay float),
// and measured on the test images:
//  - top-1 accuracy of the fp32 model (ORT), of the full-integer QDQ model (ORT: the same .onnx file the .tflite
//    was converted from) and of the .tflite in TFLite 2.9 (tfjs-tflite-node), which takes int8 images: each image
//    quantized here with the input's scale and zero point, rounding half to even as ONNX's QuantizeLinear does, so
//    both runtimes see the same integers; prediction = argmax of the int8 logits (same as of their reals: scale > 0);
//  - the gap TFLite − ORT (goal |gap| ≤ 0.3 pp) and how many images the two predict differently;
//  - sizes: fp32 ONNX, the default int8 QDQ (quantize-static's defaults), the full-integer QDQ, the .tflite, and the
//    full-integer QDQ / fp32 and .tflite / fp32 ratios (issue 9: int8 file ≤ 0.26× fp32);
//  - the .tflite's operators by the dtypes they read/write, and the float ones;
//  - with --torchvision a,b,…: those nets (`${QUANTIZE_TORCHVISION}`, seeded random calibration) converted the same way, and
//    the .tflite's int8 logits against ORT's on 4 seeded inputs (the same integers in): worst difference in output steps,
//    cosine, top-1 agreement;
//  - a model the strict conversion refuses (fashion-transformer): the nodes it names, by op, and the same model
//    converted without full-integer=true (its float ops counted), both accuracies measured the same way.
//
//   NX_DAEMON=false npx nx run @modelpass/quantize:build && NX_DAEMON=false npx nx run @modelpass/tflite:build
//   (committed code only: tools/bench/tflite/freeze-tree.sh HEAD /tmp/frozen && (cd /tmp/frozen/packages/quantize && tsc -b), then run it from /tmp/frozen)
//   nice -n 10 node tools/bench/tflite/int8-full-integer.mjs [--models fashion-cnn,fashion-mlp,fashion-resnet,fashion-transformer] [--limit 10000]
//       [--quantize-options 'per-channel-min-gain=20 names=short'] [--torchvision resnet18,…] [--out FILE]
// The markdown table goes to stdout (and to FILE with --out); RESULTS.md holds the dated runs.
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { Tensor } from '@modelpass/ir';
import { readOnnx, writeOnnx } from '@modelpass/onnx';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { quantizePasses } from '@modelpass/quantize';
import { transformPasses } from '@modelpass/transforms';
import { datasetBatches, disposeSharedOrtRunner, evaluateAccuracy, loadDataset, runOrt, TfliteEngine } from '@modelpass/runtime';
import { readTflite, registerTfliteDialect, tflitePasses, writeTflite } from '@modelpass/tflite';
import { ROOT, flag } from '../prune/ort-timing.mjs';
import { modelPath } from './models.mjs';

const MODELS = flag('models', 'fashion-cnn,fashion-mlp,fashion-resnet,fashion-transformer').split(',').filter(Boolean);
const LIMIT = Number(flag('limit', '10000'));
/** torchvision nets (random weights, seeded random calibration): logits of the .tflite vs ORT on seeded inputs (empty: none). */
const TORCHVISION = flag('torchvision', '').split(',').filter(Boolean);
const QUANTIZE_TORCHVISION = 'simplify,quantize-static{samples=16 full-integer=true}';
const OUT = flag('out', '') ? resolve(flag('out', '')) : undefined;
const WORK = mkdtempSync(join(tmpdir(), 'modelpass-bench-full-integer-'));
process.on('exit', () => rmSync(WORK, { recursive: true, force: true }));

const QUANTIZE_DEFAULT = 'simplify,quantize-static{dataset=fashion-mnist:train samples=512}';
/** More quantize-static options for the full-integer run (e.g. "per-channel-min-gain=20 names=short" for a smaller file). */
const QUANTIZE_OPTIONS = flag('quantize-options', '');
const QUANTIZE_FULL = `simplify,quantize-static{dataset=fashion-mnist:train samples=512 full-integer=true${QUANTIZE_OPTIONS ? ` ${QUANTIZE_OPTIONS}` : ''}}`;
const LEGALIZE_FULL = 'legalize-tflite{io-type=int8 full-integer=true}';
const LEGALIZE_LENIENT = 'legalize-tflite{io-type=int8}';
const BATCH = 100;

/** The passes the bench runs (transforms, quantize, tflite: no CLI build needed, so a frozen tree builds only these). */
function environment() {
  const env = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
  env.passes.register(transformPasses, '@modelpass/transforms');
  env.passes.register(quantizePasses, '@modelpass/quantize');
  env.passes.register(tflitePasses, '@modelpass/tflite');
  return env;
}

/** Runs a pipeline; returns the statistics of `pass` and the warnings. */
async function run(model, pipeline, pass) {
  const statistics = new StatisticsInstrumentation();
  const result = await new PassManager({ environment: environment(), verifyEach: false, instrumentations: [statistics] }).run(model, pipeline);
  return { statistics: new Map(statistics.get(pass) ?? []), warnings: result.diagnostics.filter((d) => d.severity === 'warning').map((d) => d.reason) };
}

/** ONNX's QuantizeLinear: round half to even, saturate to int8. */
function quantize(value, scale, zeroPoint) {
  const x = value / scale;
  const floor = Math.floor(x);
  const diff = x - floor;
  const rounded = diff > 0.5 ? floor + 1 : diff < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
  return Math.max(-128, Math.min(127, rounded + zeroPoint));
}

/** Top-1 accuracy of an int8-input .tflite: images quantized with its input's parameters; also the predictions. */
async function tfliteAccuracy(path, dataset) {
  const graph = readTflite(path).graph;
  const input = graph.inputs[0];
  const type = input.type;
  const sampleShape = type.shape.slice(1);
  const engine = new TfliteEngine({ threads: 1 });
  const predictions = [];
  let correct = 0;
  for (const batch of datasetBatches(dataset, { batchSize: BATCH, sampleShape })) {
    const rows = batch.labels.length;
    const values = batch.input.toNumbers();
    const feed = type.dtype === 'int8' ? Tensor.fromValues('int8', batch.input.shape, values.map((v) => quantize(v, type.quant.scale[0], type.quant.zeroPoint[0]))) : batch.input;
    const logits = [...(await engine.run(path, { [input.name]: feed })).values()][0].toNumbers();
    const classes = logits.length / rows;
    for (let i = 0; i < rows; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
      predictions.push(best);
      if (best === batch.labels[i]) correct++;
    }
  }
  return { accuracy: correct / predictions.length, predictions };
}

/** ORT's predictions on the float images (the QDQ model quantizes them itself). */
async function ortPredictions(path, dataset, sampleShape, inputName, batchSize) {
  const predictions = [];
  for (const batch of datasetBatches(dataset, { batchSize, sampleShape })) {
    const rows = batch.labels.length;
    const logits = [...(await runOrt(path, { [inputName]: batch.input })).values()][0].toNumbers();
    const classes = logits.length / rows;
    for (let i = 0; i < rows; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++) if (logits[i * classes + c] > logits[i * classes + best]) best = c;
      predictions.push(best);
    }
  }
  return predictions;
}

function opsByDtype(path) {
  const counts = new Map();
  let floatOps = 0;
  for (const node of readTflite(path).graph.nodeList()) {
    const dtypes = [...new Set([...node.inputs, ...node.outputs].filter(Boolean).map((v) => v.type.dtype))].join('/');
    if (dtypes.includes('float')) floatOps++;
    const key = `${node.op.slice('tflite.'.length)}(${dtypes})`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return { floatOps, text: [...counts].map(([op, n]) => `${op}×${n}`).join(', ') };
}

const kib = (path) => statSync(path).size / 1024;
const pct = (x) => `${(x * 100).toFixed(2)}%`;
const pp = (x) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)} pp`;
const rows = [];
const notes = [];
const dataset = loadDataset('fashion-mnist:test', { limit: LIMIT });
const started = new Date();
const loadStart = loadavg()[0];

for (const name of MODELS) {
  const source = join(ROOT, 'fixtures/models', name, 'model.onnx');
  process.stderr.write(`${name}: quantizing (defaults, full-integer)…\n`);
  const defaults = readOnnx(source);
  await run(defaults, QUANTIZE_DEFAULT, 'quantize-static');
  const defaultPath = join(WORK, `${name}.int8.onnx`);
  writeOnnx(defaults, defaultPath);
  const full = readOnnx(source);
  const quantized = await run(full, QUANTIZE_FULL, 'quantize-static');
  const fullPath = join(WORK, `${name}.full-integer.onnx`);
  writeOnnx(full, fullPath);
  const leftFloat = quantized.warnings.filter((w) => w.startsWith('full-integer:'));

  process.stderr.write(`${name}: ${LEGALIZE_FULL}…\n`);
  const tflitePath = join(WORK, `${name}.full-integer.tflite`);
  let converted = readOnnx(fullPath);
  let strict = 'yes';
  let legalize;
  try {
    legalize = await run(converted, LEGALIZE_FULL, 'legalize-tflite');
  } catch (error) {
    const named = (error.diagnostics ?? []).slice(1).map((d) => /^onnx\.(\w+) /.exec(d.reason)?.[1] ?? '?');
    const byOp = new Map();
    for (const op of named) byOp.set(op, (byOp.get(op) ?? 0) + 1);
    strict = `refused: ${named.length} nodes`;
    notes.push(`- ${name}: \`${LEGALIZE_FULL}\` refused it, naming ${named.length} nodes: ${[...byOp].map(([op, n]) => `${op}×${n}`).join(', ')}. quantize-static's warning: ${leftFloat.map((w) => w.slice(0, 600)).join(' ')}${leftFloat.some((w) => w.length > 600) ? '…' : ''}`);
    converted = readOnnx(fullPath);
    legalize = await run(converted, LEGALIZE_LENIENT, 'legalize-tflite');
  }
  writeTflite(converted, tflitePath);
  const ops = opsByDtype(tflitePath);
  const input = readOnnx(fullPath).graph.inputs[0];
  const sampleShape = input.type.shape.slice(1);

  process.stderr.write(`${name}: evaluating ${dataset.size} images (fp32 ORT, full-integer ORT, TFLite int8)…\n`);
  const fp32 = await evaluateAccuracy(source, dataset, { engine: 'ort' });
  const ort = await evaluateAccuracy(fullPath, dataset, { engine: 'ort' });
  const tflite = await tfliteAccuracy(tflitePath, dataset);
  const batchDim = input.type.shape[0];
  const ortPredicted = await ortPredictions(fullPath, dataset, sampleShape, input.name, typeof batchDim === 'number' ? batchDim : BATCH);
  const disagree = ortPredicted.filter((p, i) => p !== tflite.predictions[i]).length;
  const gap = tflite.accuracy - ort.accuracy;
  const fp32KiB = kib(source);
  rows.push(
    `| ${name} | ${strict} | ${pct(fp32.accuracy)} | ${pct(ort.accuracy)} | ${pct(tflite.accuracy)} | ${pp(gap)} | ${Math.abs(gap) <= 0.003 ? 'met' : 'NOT met'} | ${disagree} | ` +
      `${fp32KiB.toFixed(1)} / ${kib(defaultPath).toFixed(1)} / ${kib(fullPath).toFixed(1)} / ${kib(tflitePath).toFixed(1)} | ${(kib(fullPath) / fp32KiB).toFixed(3)}× / ${(kib(tflitePath) / fp32KiB).toFixed(3)}× | ` +
      `${legalize.statistics.get('int8-ops') ?? 0} / ${legalize.statistics.get('float-ops-in-int8-model') ?? 0} | ${ops.floatOps} | ${ops.text} |`,
  );
}
const torchvisionRows = [];
for (const name of TORCHVISION) {
  process.stderr.write(`${name}: quantizing, converting, comparing logits…\n`);
  const source = modelPath(name);
  const full = readOnnx(source);
  await run(full, QUANTIZE_TORCHVISION, 'quantize-static');
  const fullPath = join(WORK, `${name}.full-integer.onnx`);
  writeOnnx(full, fullPath);
  const converted = readOnnx(fullPath);
  let strict = 'yes';
  try {
    await run(converted, LEGALIZE_FULL, 'legalize-tflite');
  } catch (error) {
    strict = `refused: ${(error.diagnostics ?? []).length - 1} nodes`;
    torchvisionRows.push(`| ${name} | ${strict} | | | | | |`);
    continue;
  }
  const tflitePath = join(WORK, `${name}.full-integer.tflite`);
  writeTflite(converted, tflitePath);
  const graph = readTflite(tflitePath).graph;
  const [input] = graph.inputs;
  const [output] = graph.outputs;
  const iq = input.type.quant;
  const oq = output.type.quant;
  const shape = input.type.shape.map((d) => (typeof d === 'number' ? d : 1));
  const engine = new TfliteEngine({ threads: 1 });
  let worst = 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  let agree = 0;
  for (let seed = 1; seed <= 4; seed++) {
    let state = seed;
    const count = shape.reduce((n, d) => n * d, 1);
    const q = Array.from({ length: count }, () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return quantize((state / 2 ** 32) * 4 - 2, iq.scale[0], iq.zeroPoint[0]);
    });
    const reals = Tensor.fromValues('float32', shape, q.map((v) => (v - iq.zeroPoint[0]) * iq.scale[0]));
    const a = [...(await runOrt(fullPath, { [input.name]: reals })).values()][0].toNumbers();
    const b = [...(await engine.run(tflitePath, { [input.name]: Tensor.fromValues('int8', shape, q) })).values()][0].toNumbers().map((v) => (v - oq.zeroPoint[0]) * oq.scale[0]);
    for (let i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]) / oq.scale[0]);
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    const argmax = (v) => v.reduce((best, value, i) => (value > v[best] ? i : best), 0);
    if (argmax(a) === argmax(b)) agree++;
  }
  const fp32KiB = kib(source);
  torchvisionRows.push(`| ${name} | ${strict} | ${worst.toFixed(2)} | ${(dot / Math.sqrt(na * nb)).toFixed(6)} | ${agree} / 4 | ${fp32KiB.toFixed(1)} / ${kib(fullPath).toFixed(1)} / ${kib(tflitePath).toFixed(1)} | ${opsByDtype(tflitePath).floatOps} |`);
}
await disposeSharedOrtRunner();

const text = [
  `\`nice -n 10 node ${relative(ROOT, process.argv[1])} ${process.argv.slice(2).join(' ')}\`, ${started.toISOString().slice(0, 16)}–${new Date().toISOString().slice(11, 16)} UTC, load average ${loadStart.toFixed(1)} at the start, ${loadavg()[0].toFixed(1)} at the end (2 cores shared).`,
  `Quantized with \`${QUANTIZE_FULL}\`, converted with \`${LEGALIZE_FULL}\` (\`${LEGALIZE_LENIENT}\` where that refuses); ORT 1.30 runs the full-integer QDQ .onnx, TFLite 2.9 the .tflite (int8 images in, int8 logits out). First ${dataset.size} test images.`,
  '',
  '| model | strict conversion | fp32 (ORT) | full-integer ONNX (ORT) | TFLite int8 | TFLite − ORT | within 0.3 pp | images predicted differently | KiB fp32 / int8 QDQ (defaults) / full-integer QDQ / .tflite | full-integer QDQ / fp32, .tflite / fp32 | int8 / float ops (legalize) | float TFLite ops | TFLite ops (dtypes read/written) |',
  '|---|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---|',
  ...rows,
  '',
  ...notes,
  '',
  ...(torchvisionRows.length
    ? [
        `torchvision (\`${QUANTIZE_TORCHVISION}\`, random weights; 4 seeded inputs in [-2, 2], the same int8 codes to both runtimes): .tflite logits vs ORT on the full-integer QDQ model:`,
        '',
        '| model | strict conversion | worst difference (output steps) | cosine | top-1 agreement | KiB fp32 / full-integer QDQ / .tflite | float TFLite ops |',
        '|---|---|---:|---:|---:|---:|---:|',
        ...torchvisionRows,
        '',
      ]
    : []),
].join('\n');
if (OUT) writeFileSync(OUT, text);
process.stdout.write(text);
