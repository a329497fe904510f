#!/usr/bin/env node
// Sampled histograms (issue 9, quantize-static's histogram-stride): accuracy of the int8 model on
// the 10k Fashion-MNIST test images (`modelpass eval`) for each histogram method and stride, the
// rest of the pipeline as the README's accuracy table (simplify, quantize-static with
// dataset=fashion-mnist:train samples=512; bias-correction auto, so on).
//
//   NX_DAEMON=false npx nx run @modelpass/cli:build
//   node tools/bench/quantize/calibration-stride-accuracy.mjs [--models fashion-resnet,fashion-cnn]
//     [--methods percentile,entropy,distribution] [--strides 1,7] [--samples 512] [--cli packages/cli/dist/bin.js]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { ROOT, flag } from '../prune/ort-timing.mjs';

const cliPath = resolve(ROOT, flag('cli', 'packages/cli/dist/bin.js'));
const cli = (...args) => execFileSync(process.execPath, [cliPath, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
const models = flag('models', 'fashion-resnet,fashion-cnn').split(',');
const methods = flag('methods', 'percentile,entropy,distribution').split(',');
const strides = flag('strides', '1,7').split(',');
const samples = flag('samples', '512');
const work = mkdtempSync(join(os.tmpdir(), 'stride-accuracy-'));
const started = new Date().toISOString();
const load = os.loadavg()[0];
const rows = [];
try {
  for (const model of models) {
    const fp32 = join(ROOT, 'fixtures/models', model, 'model.onnx');
    const baseline = JSON.parse(cli('eval', fp32, '--dataset', 'fashion-mnist:test', '--json')).accuracy;
    for (const method of methods) {
      const cells = [];
      for (const stride of strides) {
        const out = join(work, `${model}-${method}-${stride}.onnx`);
        cli('convert', fp32, '-o', out, '--pipeline', `simplify,quantize-static{dataset=fashion-mnist:train samples=${samples} calibration=${method} histogram-stride=${stride}}`);
        cells.push(JSON.parse(cli('eval', out, '--dataset', 'fashion-mnist:test', '--json')).accuracy);
      }
      rows.push({ model, method, baseline, cells });
      process.stderr.write(`${model} ${method}: ${cells.map((c) => (100 * c).toFixed(2)).join(' / ')}\n`);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(`${started} – ${new Date().toISOString()}, load ${load.toFixed(1)} → ${os.loadavg()[0].toFixed(1)}; samples=${samples}; accuracy on fashion-mnist:test (10k)`);
console.log('');
console.log(`| model (fp32) | method | ${strides.map((s) => `stride ${s}`).join(' | ')} | ${strides.slice(1).map((s) => `${s} vs 1 (pp)`).join(' | ')} |`);
console.log(`|---|---|${strides.map(() => '---:').join('|')}|${strides.slice(1).map(() => '---:').join('|')}|`);
for (const r of rows) console.log(`| ${r.model} (${(100 * r.baseline).toFixed(2)}%) | ${r.method} | ${r.cells.map((c) => (100 * c).toFixed(2) + '%').join(' | ')} | ${r.cells.slice(1).map((c) => ((c - r.cells[0]) * 100 >= 0 ? '+' : '') + ((c - r.cells[0]) * 100).toFixed(2)).join(' | ')} |`);
