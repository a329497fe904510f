#!/usr/bin/env node
// How far apart two int8 models of one network land by chance: ours (quantize-static through the
// real CLI) and PyTorch FX's (torch_fx.py, oneDNN) calibrated on K disjoint sets of N training
// images each (images [k·N, (k+1)·N) for k = 0..K−1; k = 0 is run.mjs's headline calibration set).
// Each int8 model is one draw of the rounding: a McNemar test between two single models measures
// the test images' noise for *those two models*, not how much a different, equally valid calibration
// set moves the accuracy. Per network: test accuracy of every draw for both, mean ± standard
// deviation, the paired difference per set (same images calibrate both) and its t statistic, and
// the same on the validation split of the training images (50,000–59,999; never used to calibrate).
// Prints a Markdown section (and --json FILE writes the raw per-draw figures).
//
//   NX_DAEMON=false npx nx run @modelpass/cli:build
//   nice -n 10 node tools/bench/quantize/calibration-subsets.mjs [--networks fashion-resnet,...] [--sets 8]
//     [--samples 512] [--options 'calibration=percentile'] [--json FILE] [--cli PATH/TO/bin.js]
// Takes ~1.5 min per network and set on a quiet machine (two CLI runs, two evaluations, one torch run).
import { execFileSync } from 'node:child_process';
import { gunzipSync } from 'node:zlib';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { PYTHON, ROOT, cli, flag } from './lib.mjs';
import { FASHION_NETWORKS } from './fashion.mjs';
import { mcnemar } from './report.mjs';

const networks = flag('networks', FASHION_NETWORKS.join(',')).split(',').filter(Boolean);
const sets = Number(flag('sets', '8'));
const samples = Number(flag('samples', '512'));
const extraOptions = flag('options', 'calibration=percentile');
const JSON_OUT = flag('json', undefined);
const DATA = '/usr/share/datasets/fashion-mnist';
const VALIDATION_FIRST = 50_000;
if (sets * samples > VALIDATION_FIRST) throw new Error(`--sets × --samples must stay below ${VALIDATION_FIRST} (the validation split)`);

const trainImages = gunzipSync(readFileSync(join(DATA, 'train-images-idx3-ubyte.gz')));
const trainLabels = gunzipSync(readFileSync(join(DATA, 'train-labels-idx1-ubyte.gz')));
const testImages = gunzipSync(readFileSync(join(DATA, 't10k-images-idx3-ubyte.gz')));
const testLabels = gunzipSync(readFileSync(join(DATA, 't10k-labels-idx1-ubyte.gz')));
const PIXELS = 784;

/** IDX files of training images [first, first + count) (uncompressed; the runtime reads both). */
function writeIdx(dir, name, first, count) {
  const images = Buffer.alloc(16 + count * PIXELS);
  images.writeUInt32BE(2051, 0);
  images.writeUInt32BE(count, 4);
  images.writeUInt32BE(28, 8);
  images.writeUInt32BE(28, 12);
  trainImages.copy(images, 16, 16 + first * PIXELS, 16 + (first + count) * PIXELS);
  const labels = Buffer.alloc(8 + count);
  labels.writeUInt32BE(2049, 0);
  labels.writeUInt32BE(count, 4);
  trainLabels.copy(labels, 8, 8 + first, 8 + first + count);
  const paths = [join(dir, `${name}-images-idx3-ubyte`), join(dir, `${name}-labels-idx1-ubyte`)];
  writeFileSync(paths[0], images);
  writeFileSync(paths[1], labels);
  return paths;
}

/** '1'/'0' per image: the model's top class (ORT) is the label. */
async function correctImages(path, images, labels, first, count) {
  const s = await ort.InferenceSession.create(path, { logSeverityLevel: 3 });
  const shape = s.inputMetadata?.[0]?.shape?.slice(1).map(Number);
  const marks = [];
  try {
    for (let start = 0; start < count; start += 500) {
      const n = Math.min(500, count - start);
      const at = 16 + (first + start) * PIXELS;
      const data = Float32Array.from(images.subarray(at, at + n * PIXELS), (v) => v / 255);
      const out = await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', data, [n, ...shape]) });
      const logits = out[s.outputNames[0]].data;
      const classes = logits.length / n;
      for (let i = 0; i < n; i++) {
        let best = 0;
        for (let k = 1; k < classes; k++) if (logits[i * classes + k] > logits[i * classes + best]) best = k;
        marks.push(best === labels[8 + first + start + i] ? '1' : '0');
      }
    }
  } finally {
    await s.release();
  }
  return marks.join('');
}

const ones = (marks) => [...marks].filter((c) => c === '1').length;
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs) => Math.sqrt(xs.reduce((a, b) => a + (b - mean(xs)) ** 2, 0) / Math.max(1, xs.length - 1));

function torchDraw(network, offset) {
  const out = execFileSync(PYTHON, [join(ROOT, 'tools/bench/quantize/torch_fx.py'), network, '--samples', String(samples), '--calibration-offset', String(offset), '--accuracy-only', '--validation'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 << 20 });
  return JSON.parse(out);
}

const work = mkdtempSync(join(tmpdir(), 'modelpass-calibration-subsets-'));
const started = new Date();
const load = [loadavg()[0]];
const results = [];
try {
  for (const network of networks) {
    const fp32 = join(ROOT, 'fixtures/models', network, 'model.onnx');
    const fp32Test = await correctImages(fp32, testImages, testLabels, 0, 10_000);
    const fp32Validation = await correctImages(fp32, trainImages, trainLabels, VALIDATION_FIRST, 10_000);
    const draws = [];
    for (let k = 0; k < sets; k++) {
      const offset = k * samples;
      const [images, labels] = writeIdx(work, `set${k}`, offset, samples);
      const out = join(work, `${network}-set${k}.onnx`);
      cli('convert', fp32, '-o', out, '--pipeline', `simplify,quantize-static{dataset="idx:${images},${labels}" samples=${samples} ${extraOptions}}`);
      const ours = { test: await correctImages(out, testImages, testLabels, 0, 10_000), validation: await correctImages(out, trainImages, trainLabels, VALIDATION_FIRST, 10_000) };
      const torch = torchDraw(network, offset);
      draws.push({ offset, ours, torch: { test: torch.int8_correct, validation: torch.validation_int8_correct } });
      load.push(loadavg()[0]);
      console.error(`${network} set ${k} (images ${offset}–${offset + samples - 1}): test ours ${ones(ours.test)} torch ${ones(torch.int8_correct)}; validation ours ${ones(ours.validation)} torch ${ones(torch.validation_int8_correct)}`);
    }
    results.push({ network, fp32Test, fp32Validation, draws });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

function summary(split, r) {
  const ours = r.draws.map((d) => ones(d.ours[split]));
  const torch = r.draws.map((d) => ones(d.torch[split]));
  const diff = ours.map((o, i) => o - torch[i]);
  const t = sd(diff) > 0 ? mean(diff) / (sd(diff) / Math.sqrt(diff.length)) : 0;
  const fp32 = ones(split === 'test' ? r.fp32Test : r.fp32Validation);
  const head = mcnemar(r.draws[0].ours[split], r.draws[0].torch[split]);
  return { ours, torch, diff, t, fp32, head };
}

const f = (x) => x.toFixed(1);
/** Two-sided 5% critical values of Student's t by degrees of freedom (30+: ~2.0). */
const T_CRITICAL = { 1: 12.71, 2: 4.3, 3: 3.18, 4: 2.78, 5: 2.57, 6: 2.45, 7: 2.36, 8: 2.31, 9: 2.26, 10: 2.23, 15: 2.13, 20: 2.09 };
const lines = [
  `### Calibration-set spread (calibration-subsets.mjs)`,
  '',
  `\`nice -n 10 node tools/bench/quantize/calibration-subsets.mjs --networks ${networks.join(',')} --sets ${sets} --samples ${samples} --options '${extraOptions}'\`, ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${((Date.now() - started.getTime()) / 60000).toFixed(0)} min, load ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)}. ` +
    `Both quantizers calibrated on the same ${sets} disjoint sets of ${samples} training images (set k: images k·${samples} … (k+1)·${samples}−1; set 0 is the table's); correct images of 10,000 (test; validation = training images 50,000–59,999). ` +
    `Ours: \`simplify,quantize-static{dataset=<set k> samples=${samples} ${extraOptions}}\` in ORT; PyTorch: FX, oneDNN qconfig. t: paired t statistic of ours − PyTorch over the sets (|t| > ${T_CRITICAL[sets - 1] ?? 2.0}: apart beyond the calibration spread, two-sided 5%, ${sets - 1} d.f.).`,
  '',
  '| network | split | fp32 | ours per set | PyTorch per set | ours mean ± sd | PyTorch mean ± sd | ours − PyTorch per set | mean diff | t |',
  '|---|---|---:|---|---|---:|---:|---|---:|---:|',
];
for (const r of results) {
  for (const split of ['test', 'validation']) {
    const s = summary(split, r);
    lines.push(`| ${r.network} | ${split} | ${s.fp32} | ${s.ours.join(', ')} | ${s.torch.join(', ')} | ${f(mean(s.ours))} ± ${f(sd(s.ours))} | ${f(mean(s.torch))} ± ${f(sd(s.torch))} | ${s.diff.map((d) => (d > 0 ? `+${d}` : d)).join(', ')} | ${mean(s.diff) >= 0 ? '+' : ''}${f(mean(s.diff))} | ${s.t.toFixed(2)} |`);
  }
}
lines.push('');
console.log(lines.join('\n'));
if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify({ date: started.toISOString(), networks, sets, samples, options: extraOptions, load, results }, null, 1));
