// Knowledge-distillation results on Fashion-MNIST with the built CLI (issue 11), accuracy by
// `modelpass eval` on the 10k test images:
//  (a) the CNN fixture 50% channel-pruned, then distill{…} from the original CNN;
//  (b) a student with ≤ 1/4 of the teacher's parameters (prune-channels with a larger ratio), distilled vs
//      the same student trained on hard labels (train{…}) for the same epochs, optimizer, lr and schedule.
// Every run goes through /usr/bin/time (wall seconds, peak RSS) under `nice -n 10`.
//
//   node tools/bench/train/distill.mjs [--parts a,b] [--epochs-a 5] [--epochs-b 3] [--ratio-b 0.55] [--lr 0.01] [--samples 0] [--out tools/bench/train/RESULTS-distill.md]
// --parts a or --parts b runs one part (two processes can run the parts side by side); each row is also
// printed to stderr as soon as it is measured.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readOnnx } from '@modelpass/onnx';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const cli = join(root, 'packages/cli/dist/bin.js');
const teacher = join(root, 'fixtures/models/fashion-cnn/model.onnx');

function argument(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}
const epochsA = Number(argument('epochs-a', '5'));
const epochsB = Number(argument('epochs-b', '3'));
const ratioB = Number(argument('ratio-b', '0.55'));
const lr = Number(argument('lr', '0.01'));
const samples = Number(argument('samples', '0'));
const parts = argument('parts', 'a,b').split(',');
const out = argument('out', join(root, 'tools/bench/train/RESULTS-distill.md'));
const work = mkdtempSync(join(tmpdir(), 'modelpass-distill-bench-'));

/** Runs the CLI under nice and /usr/bin/time; returns stdout, wall seconds and peak RSS (MiB). */
function modelpass(args) {
  const timing = join(work, 'time.txt');
  const run = spawnSync('nice', ['-n', '10', '/usr/bin/time', '-o', timing, '-f', '%e %M', process.execPath, cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`modelpass ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  const [wall, rssKb] = execFileSync('cat', [timing], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
  return { stdout: run.stdout, stderr: run.stderr, wall, rss: rssKb / 1024 };
}

function accuracy(model) {
  const run = modelpass(['eval', model, '--dataset', 'fashion-mnist:test', '--json']);
  return 100 * JSON.parse(run.stdout).accuracy;
}

function parameters(path) {
  const model = readOnnx(path);
  return model.graph.constants.filter((v) => v.constant && /^float/.test(v.constant.dtype)).reduce((sum, v) => sum + v.constant.size, 0);
}

function convert(input, output, pipeline) {
  const run = modelpass(['convert', input, '-o', output, '--pipeline', pipeline]);
  console.error(`  ${pipeline.slice(0, 110)}… ${run.wall.toFixed(1)} s, ${run.rss.toFixed(0)} MiB`);
  return run;
}

const common = `dataset=fashion-mnist:train batch=64 lr=${lr} schedule=cosine seed=1${samples ? ` samples=${samples}` : ''}`;
const rows = [];
const row = (what, params, acc, run) => {
  rows.push({ what, params, acc, wall: run?.wall, rss: run?.rss });
  console.error(`ROW ${what}: ${params} parameters, ${acc.toFixed(2)}%${run ? `, ${run.wall.toFixed(0)} s, ${run.rss.toFixed(0)} MiB` : ''}`);
};
const summary = [];

const teacherAcc = accuracy(teacher);
const teacherParams = parameters(teacher);
row('teacher: fashion-cnn fixture', teacherParams, teacherAcc);
console.error(`teacher ${teacherAcc.toFixed(2)}% (${teacherParams} parameters)`);

// (a) 50% channel-pruned, recovered by distillation.
if (parts.includes('a')) {
  const prunedA = join(work, 'pruned-a.onnx');
  convert(teacher, prunedA, 'prune-channels{ratio=0.5}');
  row('(a) prune-channels{ratio=0.5}', parameters(prunedA), accuracy(prunedA));
  const distilledA = join(work, 'distilled-a.onnx');
  const runA = convert(prunedA, distilledA, `distill{teacher=${teacher} ${common} epochs=${epochsA}}`);
  const accA = accuracy(distilledA);
  row(`(a) … then distill{epochs=${epochsA}}`, parameters(distilledA), accA, runA);
  summary.push(`- (a) distilled − teacher: ${(accA - teacherAcc).toFixed(2)} pp (goal ≥ −0.5 pp: ${accA >= teacherAcc - 0.5 ? 'met' : 'not met'})`);
}

// (b) a ≤ 1/4 student: distilled vs trained on hard labels, same epochs.
if (parts.includes('b')) {
  const prunedB = join(work, 'pruned-b.onnx');
  convert(teacher, prunedB, `prune-channels{ratio=${ratioB}}`);
  const paramsB = parameters(prunedB);
  if (paramsB * 4 > teacherParams) throw new Error(`the (b) student has ${paramsB} parameters, more than 1/4 of the teacher's ${teacherParams}; raise --ratio-b`);
  row(`(b) student: prune-channels{ratio=${ratioB}}`, paramsB, accuracy(prunedB));
  const distilledB = join(work, 'distilled-b.onnx');
  const runDistillB = convert(prunedB, distilledB, `distill{teacher=${teacher} ${common} epochs=${epochsB}}`);
  const accDistillB = accuracy(distilledB);
  row(`(b) … distill{epochs=${epochsB}}`, paramsB, accDistillB, runDistillB);
  const trainedB = join(work, 'trained-b.onnx');
  const runTrainB = convert(prunedB, trainedB, `train{${common} epochs=${epochsB}}`);
  const accTrainB = accuracy(trainedB);
  row(`(b) … train{epochs=${epochsB}} (hard labels)`, paramsB, accTrainB, runTrainB);
  summary.push(`- (b) distilled − hard labels: ${(accDistillB - accTrainB).toFixed(2)} pp (goal > 0: ${accDistillB > accTrainB ? 'met' : 'not met'}); distilled − teacher: ${(accDistillB - teacherAcc).toFixed(2)} pp (goal ≥ −1.5 pp: ${accDistillB >= teacherAcc - 1.5 ? 'met' : 'not met'})`);
}

const lines = [
  `# distill results (tools/bench/train/distill.mjs)`,
  '',
  `Fashion-MNIST, accuracy by \`modelpass eval\` on the 10k test images; common options: \`${common}\` (SGD, momentum 0.9, temperature 4, alpha 0.7).`,
  `Wall time and peak RSS of each \`modelpass convert\` run (under \`nice -n 10\` on a shared machine: ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, load ${execFileSync('cat', ['/proc/loadavg'], { encoding: 'utf8' }).split(' ').slice(0, 3).join(' ')} at the end).`,
  '',
  '| model | parameters | accuracy | wall | peak RSS |',
  '|---|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.what} | ${r.params.toLocaleString('en')} (${((100 * r.params) / teacherParams).toFixed(1)}%) | ${r.acc.toFixed(2)}% | ${r.wall === undefined ? '' : `${r.wall.toFixed(0)} s`} | ${r.rss === undefined ? '' : `${r.rss.toFixed(0)} MiB`} |`),
  '',
  ...summary,
  '',
];
writeFileSync(out, lines.join('\n'));
console.log(lines.join('\n'));
rmSync(work, { recursive: true, force: true });
