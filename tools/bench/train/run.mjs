#!/usr/bin/env node
// Training speed: one epoch of the Fashion-MNIST CNN (fixtures/models/fashion-cnn, 60k training
// images, batch 128, SGD momentum 0.9, BatchNorm in training mode), ours (@modelpass/train's fit:
// the optimizer inside the training graph, one ONNX Runtime session) against PyTorch CPU training of
// the same architecture from the same weights (torch_epoch.py), in the same run, interleaved
// ours, torch, ours, torch… with the same thread count. Each side runs in its own process so its
// peak RSS (getrusage maxrss) is its own. Reports epoch seconds (training loop only: no data loading,
// imports or evaluation), the time ratio ours/torch per pair and of the minimums, peak RSS, and test
// accuracy after the epoch (both should train).
//
//   npx nx run @modelpass/train:build
//   node tools/bench/train/run.mjs [--threads 2] [--repeats 2] [--samples 0] [--batch 128] [--lr 0.01] [--optimizer sgd|adamw] [--out tools/bench/train/RESULTS.md]
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '../../..');
const flag = (name, fallback) => {
  const index = process.argv.indexOf(`--${name}`);
  return index > 0 ? process.argv[index + 1] : fallback;
};
const THREADS = flag('threads', '2');
const REPEATS = Number(flag('repeats', '2'));
const SAMPLES = flag('samples', '0');
const BATCH = flag('batch', '128');
const LR = flag('lr', '0.01');
const OPTIMIZER = flag('optimizer', 'sgd');
const OUT = resolve(flag('out', join(HERE, 'RESULTS.md')));
const MODEL = join(ROOT, 'fixtures/models/fashion-cnn/model.onnx');
const args = [MODEL, THREADS, BATCH, LR, '0', OPTIMIZER, SAMPLES];

function runSide(side) {
  const [command, script] = side === 'ours' ? [process.execPath, join(HERE, 'ours_epoch.mjs')] : ['/usr/bin/python3', join(HERE, 'torch_epoch.py')];
  const load = loadavg()[0];
  const out = execFileSync(command, [script, ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, OMP_NUM_THREADS: THREADS } });
  const result = JSON.parse(out.trim().split('\n').at(-1));
  console.error(`${side}: ${result.seconds.toFixed(1)} s (CPU ${result.cpu_seconds.toFixed(1)} s), ${Math.round(result.samples_per_second)} samples/s, peak RSS ${result.peak_rss_mib.toFixed(0)} MiB, test accuracy ${(100 * result.test_accuracy).toFixed(2)}% (load average before ${load.toFixed(1)})`);
  return { ...result, load };
}

const pairs = [];
for (let r = 0; r < REPEATS; r++) pairs.push({ ours: runSide('ours'), torch: runSide('torch') });
const min = (side, key) => Math.min(...pairs.map((p) => p[side][key]));
const ratio = min('ours', 'seconds') / min('torch', 'seconds');
const cpuRatio = min('ours', 'cpu_seconds') / min('torch', 'cpu_seconds');
const command = `node ${relative(ROOT, fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(' ')}`.trim();
const lines = [
  '# Training bench: one epoch of the Fashion-MNIST CNN, ours vs PyTorch CPU',
  '',
  `Command: \`${command}\` (${new Date().toISOString().slice(0, 16)} UTC, ${cpus().length} cores, ${cpus()[0]?.model ?? 'cpu'}).`,
  `Model \`fixtures/models/fashion-cnn\` (${SAMPLES === '0' ? '60,000' : SAMPLES} training images, batch ${BATCH}, ${OPTIMIZER === 'sgd' ? 'SGD momentum 0.9' : 'AdamW'}, lr ${LR}, BatchNorm in training mode), ${THREADS} threads each, interleaved ours, torch, ….`,
  'Seconds are the training loop only (CPU s: all threads; ours includes building the training graph and the ORT session); peak RSS is each process\'s getrusage maxrss (torch\'s includes its ~400 MiB import).',
  '',
  '| pair | ours s | torch s | ratio ours/torch | ours CPU s | torch CPU s | CPU ratio | ours samples/s | torch samples/s | ours peak RSS MiB | torch peak RSS MiB | ours test acc | torch test acc | load avg (ours, torch) |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...pairs.map((p, i) => `| ${i + 1} | ${p.ours.seconds.toFixed(1)} | ${p.torch.seconds.toFixed(1)} | ${(p.ours.seconds / p.torch.seconds).toFixed(2)} | ${p.ours.cpu_seconds.toFixed(1)} | ${p.torch.cpu_seconds.toFixed(1)} | ${(p.ours.cpu_seconds / p.torch.cpu_seconds).toFixed(2)} | ${Math.round(p.ours.samples_per_second)} | ${Math.round(p.torch.samples_per_second)} | ${p.ours.peak_rss_mib.toFixed(0)} | ${p.torch.peak_rss_mib.toFixed(0)} | ${(100 * p.ours.test_accuracy).toFixed(2)}% | ${(100 * p.torch.test_accuracy).toFixed(2)}% | ${p.ours.load.toFixed(1)}, ${p.torch.load.toFixed(1)} |`),
  '',
  `**Ratio of the minimums (ours/torch): ${ratio.toFixed(2)}×** (goal ≤ 1.0×); CPU time ${cpuRatio.toFixed(2)}×. Peak RSS: ours ${min('ours', 'peak_rss_mib').toFixed(0)} MiB, torch ${min('torch', 'peak_rss_mib').toFixed(0)} MiB.`,
  '',
];
writeFileSync(OUT, lines.join('\n'));
console.log(lines.join('\n'));
