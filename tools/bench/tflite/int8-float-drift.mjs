#!/usr/bin/env node
// How far an int8 model is from its float original, ORT's int8 vs TFLite 2.9's int8 (left-overs T s20, QA 18 F2):
// the float ONNX model (ORT), its QDQ model (ORT) and the .tflite converted from that QDQ model (TFLite 2.9) run on the
// first --limit Fashion-MNIST test images (pixels / 255); per runtime: max and mean |logit − float logit|, top-1
// accuracy, and top-1 agreement with the float model.
//
//   nice -n 10 node tools/bench/tflite/int8-float-drift.mjs --float model.onnx --qdq m.q.onnx --tflite m.q.tflite [--limit 2000]
import { existsSync } from 'node:fs';
import { Tensor } from '@modelpass/ir';
import { disposeSharedOrtRunner, loadDataset, runOrt, TfliteEngine } from '@modelpass/runtime';

const USAGE = 'usage: int8-float-drift.mjs --float F.onnx --qdq Q.onnx --tflite Q.tflite [--limit N]';
const argv = process.argv.slice(2);
const flag = (name, fallback) => { const i = argv.indexOf(`--${name}`); return i < 0 ? fallback : argv[i + 1]; };
const paths = { float: flag('float'), qdq: flag('qdq'), tflite: flag('tflite') };
for (const [option, path] of Object.entries(paths)) {
  if (!path || !existsSync(path)) { console.error(`int8-float-drift: --${option} ${path ?? '(missing)'}: no such file\n${USAGE}`); process.exit(2); }
}
const LIMIT = Number(flag('limit', '2000'));
if (!Number.isInteger(LIMIT) || LIMIT < 1) { console.error(`int8-float-drift: --limit takes a positive integer\n${USAGE}`); process.exit(2); }
const INPUT = flag('input', 'input');
const BATCH = 100;

const data = loadDataset('fashion-mnist:test', { limit: LIMIT });
const pixels = data.samples.toNumbers();
const per = data.sampleShape.reduce((n, d) => n * d, 1);
const batchOf = (start, count) => {
  const values = new Float32Array(count * per);
  for (let i = 0; i < values.length; i++) values[i] = pixels[start * per + i] / 255;
  return Tensor.fromValues('float32', [count, ...data.sampleShape], values);
};
async function logitsOf(run) {
  const rows = [];
  for (let start = 0; start < data.size; start += BATCH) {
    const count = Math.min(BATCH, data.size - start);
    const out = [...(await run(batchOf(start, count))).values()][0].toNumbers();
    const width = out.length / count;
    for (let r = 0; r < count; r++) rows.push(out.slice(r * width, (r + 1) * width));
  }
  return rows;
}
const engine = new TfliteEngine({ threads: 1 });
const results = {
  float: await logitsOf((x) => runOrt(paths.float, { [INPUT]: x })),
  ort: await logitsOf((x) => runOrt(paths.qdq, { [INPUT]: x })),
  tflite: await logitsOf((x) => engine.run(paths.tflite, { [INPUT]: x })),
};
const argmax = (v) => v.reduce((best, value, i) => (value > v[best] ? i : best), 0);
const table = ['| runtime | max abs vs float | mean abs vs float | top-1 accuracy | top-1 = float |', '|---|---|---|---|---|'];
for (const key of ['float', 'ort', 'tflite']) {
  let worst = 0, sum = 0, n = 0, correct = 0, same = 0;
  results[key].forEach((row, r) => {
    const reference = results.float[r];
    row.forEach((v, i) => { const d = Math.abs(v - reference[i]); worst = Math.max(worst, d); sum += d; n++; });
    if (argmax(row) === data.labels[r]) correct++;
    if (argmax(row) === argmax(reference)) same++;
  });
  table.push(`| ${key} | ${worst.toFixed(4)} | ${(sum / n).toFixed(5)} | ${(100 * correct / data.size).toFixed(2)}% | ${same} / ${data.size} |`);
}
console.log(`${data.size} Fashion-MNIST test images; ${paths.qdq} (ORT) and ${paths.tflite} (TFLite 2.9) vs ${paths.float} (ORT)`);
console.log(table.join('\n'));
await disposeSharedOrtRunner();
