// Knowledge-distillation results on Fashion-MNIST with the built CLI (issue 11), accuracy by
// `modelpass eval` on the 10k test images:
//  (a) the CNN fixture 50% channel-pruned, then distill{…} from the original CNN;
//  (b) a student with ≤ 1/4 of the teacher's parameters trained FROM SCRATCH (seeded init, half the channels,
//      tools/fixtures/make_distill_models.py) on hard labels (train{…}) and distilled from a well-trained teacher
//      (the fashion-cnn architecture trained longer, or wider with --teacher-width; same script) for the same epochs, seed, optimizer and
//      schedule. Stage 1 (the first seed): each arm kind (hard labels; distillation at each --grid T:α) trains at
//      each --lrs-b lr and keeps its own best lr (and T, α) by accuracy on a validation split of the training set
//      (10%, seeded; every arm trains on the other 90%). Stage 2: the picked settings with every other seed (the
//      seed sets the shuffles). Then every seed's two picked students see the test set once; all seeds are
//      reported (mean ± sample sd, min–max), nothing on the test set picks anything.
// Every run goes through /usr/bin/time (wall seconds, peak RSS) under `nice -n 10`.
//
//   node tools/bench/train/distill.mjs [--parts a,b] [--epochs-a 5] [--epochs-b 6] [--lrs-b 0.01,0.03] [--seeds-b 1,2,3]
//        [--lrs-hard L,…] [--lrs-distill L,…] [--split-seed S] [--grid 2:0.5] [--jobs 2] [--models .fixtures-cache/distill] [--student-hidden 31]
//        [--teacher-holdout] [--teacher-epochs 5] [--teacher-augment] [--teacher-threads 2] [--teacher-width 16,32,64] [--validation-only] [--samples 0] [--out tools/bench/train/RESULTS-distill.md]
//        [--cli /tmp/snap/packages/cli/dist/bin.js]
// --cli: the modelpass CLI every arm runs (default: the checkout's packages/cli/dist/bin.js), e.g. a frozen copy made
// by tools/bench/quantize/snapshot-cli.sh so other sessions' rebuilds during a long run do not change its numerics
// (the script's own imports, for the data split and parameter counts, then come from the same copy when it has them).
// --teacher-holdout: the teacher of part (b) never trains on the held-out split (models in .fixtures-cache/distill-holdout).
// --teacher-epochs / --teacher-augment / --teacher-threads / --teacher-width: the teacher's recipe when make_distill_models.py
// makes it (a recipe other than fashion-cnn's widths, 5 epochs, no augmentation is kept in its own folder, e.g.
// .fixtures-cache/distill-holdout-e12-aug or .fixtures-cache/distill-holdout-w32-64-128-e8).
// --validation-only: a pilot of part (b): stage 1 only (every setting at every lr, first seed), scored on the
// held-out split and printed; the test set is never evaluated and no RESULTS file is written.
// The report goes to --out as a dated section under the file's title; an existing file keeps its older sections below it.
// --parts a or --parts b runs one part; --jobs runs that many of part (b)'s arms at once (their wall times then
// overlap). Each row is also printed to stderr as soon as it is measured.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const teacher = join(root, 'fixtures/models/fashion-cnn/model.onnx');

function argument(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : fallback;
}
const cli = resolve(argument('cli', join(root, 'packages/cli/dist/bin.js')));
if (!existsSync(cli)) {
  console.error(`distill.mjs: --cli ${cli} does not exist (build the CLI, or make a snapshot with tools/bench/quantize/snapshot-cli.sh)`);
  process.exit(2);
}
/** Imports a workspace package from the copy the CLI runs from (its node_modules/@modelpass), else from the checkout. */
async function workspacePackage(name) {
  const folder = join(dirname(cli), '../../../node_modules', name);
  if (!existsSync(join(folder, 'package.json'))) return import(name);
  const entry = JSON.parse(readFileSync(join(folder, 'package.json'), 'utf8')).exports['.'].import;
  return import(pathToFileURL(join(folder, entry)).href);
}
const { readOnnx } = await workspacePackage('@modelpass/onnx');
const { loadFashionMnist } = await workspacePackage('@modelpass/runtime');
const { splitValidation } = await workspacePackage('@modelpass/train');
const epochsA = Number(argument('epochs-a', '5'));
const epochsB = Number(argument('epochs-b', '6'));
const lr = Number(argument('lr', '0.01'));
const seedsB = argument('seeds-b', '1,2,3').split(',').map(Number);
const lrsB = argument('lrs-b', '0.01,0.03').split(',').map(Number);
// Per arm kind, the lrs stage 1 tries (default: --lrs-b); one value each skips the pick (e.g. more seeds with lrs picked before).
// `--lrs-hard none` (with --validation-only): no hard-label arm in this pilot.
const lrsHard = argument('lrs-hard', lrsB.join(',')) === 'none' ? [] : argument('lrs-hard', lrsB.join(',')).split(',').map(Number);
if (!lrsHard.length && !process.argv.includes('--validation-only')) throw new Error('--lrs-hard none is for --validation-only pilots: the comparison needs a hard-label arm');
const lrsDistill = argument('lrs-distill', lrsB.join(',')).split(',').map(Number);
// The seed of the held-out split (default: the first seed), the same for every seed so all arms are scored on the same images.
const splitSeed = Number(argument('split-seed', String(seedsB[0])));
// The student's hidden units (make_distill_models.py --student-hidden; 31: 24.5% of the teacher's parameters).
const studentHidden = Number(argument('student-hidden', '31'));
// --teacher-holdout: a teacher that never trained on the held-out split (made with make_distill_models.py
// --teacher-holdout), so the held-out comparison of the students is not biased towards distillation.
const teacherHoldout = process.argv.includes('--teacher-holdout');
const validationOnly = process.argv.includes('--validation-only');
// The teacher's recipe when make_distill_models.py makes it (--epochs, --augment, --threads there); a recipe other
// than the default (5 epochs, no augmentation) gets its own models folder, e.g. .fixtures-cache/distill-holdout-e12-aug.
const teacherEpochs = Number(argument('teacher-epochs', '5'));
const teacherAugment = process.argv.includes('--teacher-augment');
const teacherThreads = Number(argument('teacher-threads', '2'));
// --teacher-width C1,C2,HIDDEN: a teacher other than fashion-cnn's widths (16,32,64), e.g. 32,64,128 (421k parameters).
const teacherWidth = argument('teacher-width', '16,32,64');
if (!/^\d+,\d+,\d+$/.test(teacherWidth)) {
  console.error(`distill.mjs: --teacher-width ${teacherWidth} is not three integers C1,C2,HIDDEN (e.g. 32,64,128)`);
  process.exit(2);
}
const teacherWide = teacherWidth !== '16,32,64';
const teacherRecipe = `${teacherWide ? `-w${teacherWidth.replaceAll(',', '-')}` : ''}${teacherEpochs !== 5 || teacherAugment ? `-e${teacherEpochs}${teacherAugment ? '-aug' : ''}` : ''}`;
const grid = argument('grid', '2:0.5').split(',').map((pair) => pair.split(':').map(Number));
const jobs = Number(argument('jobs', '2'));
const samples = Number(argument('samples', '0'));
if (samples && process.argv.includes('--teacher-holdout')) {
  // The held-out split is drawn from the first `samples` images; the teacher's was drawn from all 60,000.
  console.error('distill.mjs: --samples with --teacher-holdout would score the students on images the held-out teacher trained on; use one or the other');
  process.exit(2);
}
const parts = argument('parts', 'a,b').split(',');
const out = argument('out', join(root, 'tools/bench/train/RESULTS-distill.md'));
const work = mkdtempSync(join(tmpdir(), 'modelpass-distill-bench-'));
const command = `node tools/bench/train/distill.mjs ${process.argv.slice(2).join(' ')}`.trim();

/** Runs the CLI under nice and /usr/bin/time; returns stdout, wall seconds and peak RSS (MiB). */
function modelpass(args, attempts = 4) {
  const timing = join(work, 'time.txt');
  let run;
  for (let attempt = 1; ; attempt++) {
    run = spawnSync('nice', ['-n', '10', '/usr/bin/time', '-o', timing, '-f', '%e %M', process.execPath, cli, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (run.status === 0 || attempt >= attempts || !/ERR_MODULE_NOT_FOUND/.test(run.stderr)) break;
    console.error(`  a dist was missing (a rebuild?); retrying in 30 s: modelpass ${args[0]} …`);
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30_000);
  }
  if (run.status !== 0) throw new Error(`modelpass ${args.join(' ')} failed (${run.status}):\n${run.stderr}`);
  const [wall, rssKb] = readFileSync(timing, 'utf8').trim().split(/\s+/).map(Number);
  return { stdout: run.stdout, stderr: run.stderr, wall, rss: rssKb / 1024 };
}

let timings = 0;
/** `modelpass` without blocking, so part (b)'s arms can run side by side. A start that finds a package's dist
 * missing (another session rebuilding it on this shared checkout) is retried after a pause. */
async function modelpassAsync(args, attempts = 4) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await modelpassOnce(args);
    } catch (error) {
      if (attempt >= attempts || !/ERR_MODULE_NOT_FOUND/.test(error.message)) throw error;
      console.error(`  a dist was missing (a rebuild?); retrying in 30 s: modelpass ${args[0]} …`);
      await new Promise((done) => setTimeout(done, 30_000));
    }
  }
}

function modelpassOnce(args) {
  const timing = join(work, `time-${timings++}.txt`);
  return new Promise((resolveRun, reject) => {
    const child = spawn('nice', ['-n', '10', '/usr/bin/time', '-o', timing, '-f', '%e %M', process.execPath, cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => { stdout += chunk; });
    child.stderr.on('data', (chunk) => { stderr += chunk; });
    child.on('error', reject);
    child.on('close', (status) => {
      if (status !== 0) { reject(new Error(`modelpass ${args.join(' ')} failed (${status}):\n${stderr}`)); return; }
      const [wall, rssKb] = readFileSync(timing, 'utf8').trim().split(/\s+/).map(Number);
      resolveRun({ stdout, stderr, wall, rss: rssKb / 1024 });
    });
  });
}

/** Runs the tasks, at most `limit` at a time. */
async function runAll(tasks, limit) {
  let next = 0;
  const worker = async () => { while (next < tasks.length) await tasks[next++](); };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, tasks.length)) }, worker));
}

function accuracy(model, dataset = 'fashion-mnist:test') {
  const run = modelpass(['eval', model, '--dataset', dataset, '--json']);
  return 100 * JSON.parse(run.stdout).accuracy;
}

async function accuracyAsync(model, dataset) {
  const run = await modelpassAsync(['eval', model, '--dataset', dataset, '--json']);
  return { acc: 100 * JSON.parse(run.stdout).accuracy };
}

function parameters(path) {
  const model = readOnnx(path);
  return model.graph.constants.filter((v) => v.constant && /^float/.test(v.constant.dtype)).reduce((sum, v) => sum + v.constant.size, 0);
}

/** Writes the samples `indices` of a uint8 dataset as two IDX files; returns the `idx:` dataset spec. */
function writeIdxSplit(dataset, indices, name) {
  const sampleSize = dataset.sampleShape.reduce((a, b) => a * b, 1);
  const pixels = dataset.samples.data();
  const dims = [indices.length, ...dataset.sampleShape];
  const images = Buffer.alloc(4 + 4 * dims.length + indices.length * sampleSize);
  images.writeUInt32BE(0x0800 + dims.length, 0);
  dims.forEach((d, i) => images.writeUInt32BE(d, 4 + 4 * i));
  const labels = Buffer.alloc(8 + indices.length);
  labels.writeUInt32BE(0x0801, 0);
  labels.writeUInt32BE(indices.length, 4);
  indices.forEach((index, i) => {
    images.set(pixels.subarray(index * sampleSize, (index + 1) * sampleSize), 4 + 4 * dims.length + i * sampleSize);
    labels[8 + i] = dataset.labels[index];
  });
  const imagesPath = join(work, `${name}-images-idx3-ubyte`);
  const labelsPath = join(work, `${name}-labels-idx1-ubyte`);
  writeFileSync(imagesPath, images);
  writeFileSync(labelsPath, labels);
  return `idx:${imagesPath},${labelsPath}`;
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
const resultsB = [];

// (a) 50% channel-pruned, recovered by distillation.
if (parts.includes('a')) {
  const teacherAcc = accuracy(teacher);
  const teacherParams = parameters(teacher);
  row('teacher: fashion-cnn fixture', teacherParams, teacherAcc);
  const prunedA = join(work, 'pruned-a.onnx');
  convert(teacher, prunedA, 'prune-channels{ratio=0.5}');
  row('(a) prune-channels{ratio=0.5}', parameters(prunedA), accuracy(prunedA));
  const distilledA = join(work, 'distilled-a.onnx');
  const runA = convert(prunedA, distilledA, `distill{teacher=${teacher} ${common} epochs=${epochsA}}`);
  const accA = accuracy(distilledA);
  row(`(a) … then distill{epochs=${epochsA}}`, parameters(distilledA), accA, runA);
  summary.push(`- (a) distilled − teacher: ${(accA - teacherAcc).toFixed(2)} pp (goal ≥ −0.5 pp: ${accA >= teacherAcc - 0.5 ? 'met' : 'not met'})`);
}

// (b) a student with ≤ 1/4 of the teacher's parameters, trained from scratch (seeded init), distilled from a
// well-trained teacher vs trained on hard labels: same epochs, seed, optimizer, lr and schedule. T and α are
// chosen on a validation split of the TRAINING set (both arms train on the rest); only the chosen distilled
// student and the hard-label student are then evaluated on the test set.
if (parts.includes('b')) await partB();

async function partB() {
  const models = resolve(argument('models', join(root, `${teacherHoldout ? '.fixtures-cache/distill-holdout' : '.fixtures-cache/distill'}${teacherRecipe}`)));
  const teacherB = join(models, 'teacher/model.onnx');
  const studentB = join(models, 'student/model.onnx');
  const script = join(root, 'tools/fixtures/make_distill_models.py');
  if (!existsSync(teacherB) || !existsSync(studentB)) {
    const makeArgs = ['--epochs', String(teacherEpochs), '--threads', String(teacherThreads), ...(teacherAugment ? ['--augment'] : []), ...(teacherWide ? ['--teacher-width', teacherWidth] : [])];
    if (teacherHoldout) {
      const holdoutFile = join(models, 'holdout.json');
      mkdirSync(models, { recursive: true });
      writeFileSync(holdoutFile, JSON.stringify(Array.from(splitValidation(60000, 0.1, splitSeed).validation)));
      makeArgs.push('--teacher-holdout', holdoutFile);
    }
    console.error(`making the teacher and the student: /usr/bin/python3 tools/fixtures/make_distill_models.py --out ${models} --student-hidden ${studentHidden} ${makeArgs.join(' ')}`);
    execFileSync('nice', ['-n', '10', '/usr/bin/python3', script, '--out', models, '--student-hidden', String(studentHidden), ...makeArgs], { stdio: 'inherit' });
  } else if (!JSON.parse(readFileSync(join(models, 'student/info.json'), 'utf8')).architecture.includes(`Linear(784->${studentHidden})`)) {
    // A student of another width (e.g. the earlier runs' 24 hidden units) is remade; the teacher is kept.
    console.error(`remaking the student with ${studentHidden} hidden units: /usr/bin/python3 tools/fixtures/make_distill_models.py --out ${models} --student-hidden ${studentHidden} --student-only`);
    execFileSync('nice', ['-n', '10', '/usr/bin/python3', script, '--out', models, '--student-hidden', String(studentHidden), '--student-only'], { stdio: 'inherit' });
  }
  const studentInfo = JSON.parse(readFileSync(join(models, 'student/info.json'), 'utf8'));
  const teacherInfo = JSON.parse(readFileSync(join(models, 'teacher/info.json'), 'utf8'));
  const paramsTeacherB = parameters(teacherB);
  const paramsB = parameters(studentB);
  if (paramsB * 4 > paramsTeacherB) throw new Error(`the (b) student has ${paramsB} parameters, more than 1/4 of the teacher's ${paramsTeacherB}`);

  // The validation split: splitValidation(60000, 0.1, first seed), the split fit{validation=0.1} would hold out.
  // It stays the same for every seed, so all arms are scored on the same held-out images.
  const train = loadFashionMnist({ split: 'train', ...(samples ? { limit: samples } : {}) });
  const split = splitValidation(train.size, 0.1, splitSeed);
  const trainSpec = writeIdxSplit(train, split.train, 'train-split');
  const validationSpec = writeIdxSplit(train, split.validation, 'validation-split');
  const commonB = (armLr, seed) => `dataset="${trainSpec}" batch=64 lr=${armLr} schedule=cosine seed=${seed} batch-norm=batch-statistics threads=1 epochs=${epochsB}`;
  const settings = [{ kind: 'hard', lr: 0, name: 'hard labels', pipeline: (armLr, seed) => `train{${commonB(armLr, seed)}}` }];
  for (const [t, a] of grid) settings.push({ kind: 'distill', t, a, name: `distill T=${t} α=${a}`, pipeline: (armLr, seed) => `distill{teacher=${teacherB} ${commonB(armLr, seed)} temperature=${t} alpha=${a}}` });

  const trainArm = async (setting, armLr, seed) => {
    const arm = { ...setting, lr: armLr, seed, output: join(work, `b-${setting.name.replace(/\W+/g, '_')}-lr${armLr}-seed${seed}.onnx`) };
    arm.run = await modelpassAsync(['convert', studentB, '-o', arm.output, '--pipeline', setting.pipeline(armLr, seed)]);
    arm.validation = (await accuracyAsync(arm.output, validationSpec)).acc;
    console.error(`ROW (b) ${arm.name} lr=${armLr} seed=${seed}: validation ${arm.validation.toFixed(2)}%, ${arm.run.wall.toFixed(0)} s, ${arm.run.rss.toFixed(0)} MiB`);
    return arm;
  };
  // Stage 1, the first seed: every setting at every lr, scored on the held-out images only. Each kind of arm
  // (hard labels; distillation) keeps its own best lr (and T, α), so neither arm is held back by the other's lr.
  const picking = [];
  for (const setting of settings) for (const armLr of setting.kind === 'hard' ? lrsHard : lrsDistill) picking.push({ setting, armLr });
  await runAll(picking.map((p) => async () => { p.arm = await trainArm(p.setting, p.armLr, seedsB[0]); }), jobs);
  const best = (kind) => picking.filter((p) => p.setting.kind === kind).reduce((b, p) => (b === undefined || p.arm.validation > b.arm.validation ? p : b), undefined);
  const pickedHard = best('hard');
  const pickedDistill = best('distill');
  if (validationOnly) {
    const teacherValidation = (await accuracyAsync(teacherB, validationSpec)).acc;
    const label = (arm) => (arm.kind === 'hard' ? `train{lr=${arm.lr}} hard labels` : `distill{lr=${arm.lr} temperature=${arm.t} alpha=${arm.a}}`);
    console.log([`# distill.mjs --validation-only (stage 1, seed ${seedsB[0]}, ${epochsB} epochs; held-out split of splitValidation(${train.size}, 0.1, ${splitSeed}); the test set was not evaluated)`, '',
      `Command: \`${command}\` (finished ${new Date().toISOString().slice(0, 16)} UTC; load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}). Teacher on the held-out split: ${teacherValidation.toFixed(2)}%.`, '',
      '| arm | validation accuracy | wall | peak RSS |', '|---|---:|---:|---:|',
      ...picking.map(({ arm }) => `| ${label(arm)}${arm === pickedHard?.arm || arm === pickedDistill?.arm ? ' (best)' : ''} | ${arm.validation.toFixed(2)}% | ${arm.run.wall.toFixed(0)} s | ${arm.run.rss.toFixed(0)} MiB |`)].join('\n'));
    return;
  }
  // Stage 2, the other seeds, with the picked settings only.
  const bySeed = new Map([[seedsB[0], { hard: pickedHard.arm, distill: pickedDistill.arm }]]);
  const later = [];
  for (const seed of seedsB.slice(1)) {
    bySeed.set(seed, {});
    later.push(async () => { bySeed.get(seed).hard = await trainArm(pickedHard.setting, pickedHard.armLr, seed); });
    later.push(async () => { bySeed.get(seed).distill = await trainArm(pickedDistill.setting, pickedDistill.armLr, seed); });
  }
  await runAll(later, jobs);

  // The test set: the teacher, and the picked arms of every seed (nothing on the test set picks anything).
  const teacherTest = accuracy(teacherB);
  const seeds = [...bySeed].map(([seed, arms]) => ({ seed, hard: arms.hard, distill: arms.distill, hardTest: accuracy(arms.hard.output), distillTest: accuracy(arms.distill.output) }));
  for (const s of seeds) console.error(`ROW (b) test seed=${s.seed}: hard ${s.hardTest.toFixed(2)}%, distilled ${s.distillTest.toFixed(2)}%`);
  const teacherValidation = (await accuracyAsync(teacherB, validationSpec)).acc;
  resultsB.push({ teacherInfo, studentInfo, paramsTeacherB, paramsB, studentInit: accuracy(studentB), teacherTest, teacherValidation, picking: picking.map((p) => p.arm), pickedHard: pickedHard.arm, pickedDistill: pickedDistill.arm, seeds, split, common: commonB('LR', 'SEED') });
}
/** Mean and sample standard deviation, and min–max, as "m ± s (min–max)". */
function spread(values) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd, min: Math.min(...values), max: Math.max(...values), text: `${mean.toFixed(2)} ± ${sd.toFixed(2)} (${Math.min(...values).toFixed(2)}–${Math.max(...values).toFixed(2)})` };
}
/** One-sided 5% critical values of Student's t by degrees of freedom (tables; beyond 10: 1.81). */
function studentT95(df) {
  return [Infinity, 6.314, 2.92, 2.353, 2.132, 2.015, 1.943, 1.895, 1.86, 1.833, 1.812][df] ?? 1.81;
}
const pct = (value) => `${value.toFixed(2)}%`;
const lines = [`# distill results (tools/bench/train/distill.mjs)`, '', `Command: \`${command}\` (finished ${new Date().toISOString().slice(0, 16)} UTC; ${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} at the end).`, ''];
if (rows.length) {
  lines.push(
    `## (a) 50% channel-pruned, recovered by distillation`, '',
    `Common options: \`${common}\` (SGD, momentum 0.9, temperature 4, alpha 0.7).`, '',
    '| model | parameters | accuracy | wall | peak RSS |', '|---|---:|---:|---:|---:|',
    ...rows.map((r) => `| ${r.what} | ${r.params.toLocaleString('en')} (${((100 * r.params) / rows[0].params).toFixed(1)}%) | ${pct(r.acc)} | ${r.wall === undefined ? '' : `${r.wall.toFixed(0)} s`} | ${r.rss === undefined ? '' : `${r.rss.toFixed(0)} MiB`} |`),
    '', ...summary, '');
}
for (const r of resultsB) {
  const share = (p) => `${p.toLocaleString('en')} (${((100 * p) / r.paramsTeacherB).toFixed(1)}%)`;
  const time = (run) => `${run.wall.toFixed(0)} s | ${run.rss.toFixed(0)} MiB`;
  const label = (arm) => (arm.kind === 'hard' ? `\`train{lr=${arm.lr}}\` hard labels` : `\`distill{lr=${arm.lr} temperature=${arm.t} alpha=${arm.a}}\``);
  const hard = spread(r.seeds.map((s) => s.hardTest));
  const distilled = spread(r.seeds.map((s) => s.distillTest));
  const gaps = spread(r.seeds.map((s) => s.distillTest - s.hardTest));
  const behind = spread(r.seeds.map((s) => s.distillTest - r.teacherTest));
  const walls = (kind) => spread(r.seeds.map((s) => s[kind].run.wall));
  const rss = (kind) => Math.max(...r.seeds.map((s) => s[kind].run.rss));
  lines.push(
    `## (b) a from-scratch student (≤ 1/4 of the teacher), distilled vs hard labels, ${epochsB} epochs, ${r.seeds.length} seeds`, '',
    `Student: ${r.studentInfo.architecture}, from \`${r.studentInfo.made_by}\`. Teacher from \`${r.teacherInfo.made_by}\` (teacher: ${r.teacherInfo.training.epochs} epochs, ${r.teacherInfo.training.optimizer}; ${r.teacherInfo.training.data}; ${r.teacherInfo.training.seconds} s of torch training). Every arm starts from the student's seeded initial weights and trains on the same 90% of the training set (${r.split.train.length.toLocaleString('en')} images; \`splitValidation(${r.split.train.length + r.split.validation.length}, 0.1, ${splitSeed})\`) with \`${r.common.replace(/dataset=\S+ /, '')}\` (SGD, momentum 0.9); within a seed both arms see the same batches in the same order. The seed sets the shuffles (the initial weights are the student file's).`, '',
    (r.picking.length > 2 ? `Stage 1 (seed ${seedsB[0]}): lr (and T, α) picked per arm by accuracy on the held-out ${r.split.validation.length.toLocaleString('en')} training images:` : `Stage 1 (seed ${seedsB[0]}): the settings given (\`--lrs-hard ${lrsHard} --lrs-distill ${lrsDistill}\`, nothing picked), scored on the held-out ${r.split.validation.length.toLocaleString('en')} training images:`), '',
    '| arm | validation accuracy (held-out training images) | wall | peak RSS |', '|---|---:|---:|---:|',
    ...r.picking.map((arm) => `| ${label(arm)}${arm === r.pickedHard || arm === r.pickedDistill ? ' (picked)' : ''} | ${pct(arm.validation)} | ${time(arm.run)} |`),
    '', `Stage 2: the picked settings with seeds ${seedsB.join(', ')}, each evaluated once on the test set (10k images, \`modelpass eval\`); every seed is listed:`, '',
    '| seed | hard labels: validation | hard labels: test | distilled: validation | distilled: test | distilled − hard labels | distilled − teacher |', '|---:|---:|---:|---:|---:|---:|---:|',
    ...r.seeds.map((s) => `| ${s.seed} | ${pct(s.hard.validation)} | ${pct(s.hardTest)} | ${pct(s.distill.validation)} | ${pct(s.distillTest)} | ${(s.distillTest - s.hardTest).toFixed(2)} pp | ${(s.distillTest - r.teacherTest).toFixed(2)} pp |`),
    '', '| model | parameters | epochs | seeds | test accuracy, mean ± sd (min–max) | wall per run, mean ± sd | peak RSS (max) |', '|---|---:|---:|---:|---:|---:|---:|',
    `| teacher (${teacherWide ? `widths ${teacherWidth}` : 'fashion-cnn architecture'}, ${r.teacherInfo.training.epochs} epochs) | ${share(r.paramsTeacherB)} | ${r.teacherInfo.training.epochs} | 1 | ${pct(r.teacherTest)} | ${r.teacherInfo.training.seconds} s (torch) | |`,
    `| student, initial weights | ${share(r.paramsB)} | 0 | | ${pct(r.studentInit)} | | |`,
    `| student, ${label(r.pickedHard)} | ${share(r.paramsB)} | ${epochsB} | ${r.seeds.length} | ${hard.text}% | ${walls('hard').mean.toFixed(0)} ± ${walls('hard').sd.toFixed(0)} s | ${rss('hard').toFixed(0)} MiB |`,
    `| student, ${label(r.pickedDistill)} | ${share(r.paramsB)} | ${epochsB} | ${r.seeds.length} | ${distilled.text}% | ${walls('distill').mean.toFixed(0)} ± ${walls('distill').sd.toFixed(0)} s | ${rss('distill').toFixed(0)} MiB |`,
    '',
    `- (b) distilled − hard labels, per seed: ${gaps.text} pp; distilled beats hard labels in ${r.seeds.filter((s) => s.distillTest > s.hardTest).length} of ${r.seeds.length} seeds (goal > 0 on the mean: ${gaps.mean > 0 ? 'met' : 'not met'})`,
    `- paired over the seeds: mean ${gaps.mean.toFixed(2)} pp, standard error ${(gaps.sd / Math.sqrt(r.seeds.length)).toFixed(2)} pp, t = ${(gaps.mean / (gaps.sd / Math.sqrt(r.seeds.length) || Infinity)).toFixed(2)} with ${r.seeds.length - 1} degrees of freedom (one-sided 5% critical value ${studentT95(r.seeds.length - 1)}): ${gaps.mean / (gaps.sd / Math.sqrt(r.seeds.length)) > studentT95(r.seeds.length - 1) ? 'more than the seeds\' spread explains' : 'within what the seeds\' spread explains'}`,
    `- (b) distilled − teacher: ${behind.text} pp; within 1.5 pp in ${r.seeds.filter((s) => s.distillTest >= r.teacherTest - 1.5).length} of ${r.seeds.length} seeds (goal ≥ −1.5 pp on the mean: ${behind.mean >= -1.5 ? 'met' : 'not met'})`,
    teacherHoldout && !samples ? `- the teacher on the held-out split: ${pct(r.teacherValidation)} (it never trained on those images)` : `- the teacher on the held-out split: ${pct(r.teacherValidation)} (it was trained on all 60k training images, so this is not a held-out figure for it)`,
    `- wall times: ${jobs === 1 ? 'one run at a time' : `${jobs} runs side by side`} under \`nice -n 10\` on a machine shared with other sessions, so they are upper bounds`,
    '');
}
if (!validationOnly) {
  // A results file that exists keeps its older sections: this run goes under its title, as a dated section.
  const title = lines[0];
  const previous = existsSync(out) ? readFileSync(out, 'utf8') : '';
  const older = previous.startsWith(`${title}\n`) ? previous.slice(title.length + 1).replace(/^\n+/, '') : previous;
  const section = [`## Run of ${new Date().toISOString().slice(0, 16)} UTC`, ...lines.slice(1)];
  writeFileSync(out, [title, '', ...section, ...(older ? ['', older] : [])].join('\n'));
  console.log(lines.join('\n'));
}
rmSync(work, { recursive: true, force: true });
