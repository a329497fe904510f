// Rerunnable ONNX load/save benchmark: modelpass (built dist) vs Debian's Python onnx vs cp, timed in
// the same run with peak RSS from /usr/bin/time -v. Big files go under /tmp, never into the repo.
// usage: node tools/bench/onnx-io/run.mjs [--sizes 100,1024] [--repeat 3]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTimeV } from './time-v.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '../../..');
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const sizes = option('sizes', '100,1024').split(',').map(Number);
const repeat = Number(option('repeat', '3'));
const work = option('dir', '/tmp/modelpass-bench-onnx-io');
const PYTHON = '/usr/bin/python3';

mkdirSync(work, { recursive: true });
console.error('building @modelpass/onnx dist ...');
execFileSync('npx', ['tsc', '-b', 'packages/onnx'], { cwd: repo, stdio: 'inherit' });

function measure(command, commandArgs, output) {
  // Every run starts from the same state: no output file left by the previous run (freeing its
  // blocks on this discard-mounted disk costs seconds, and whoever replaces it would pay), and no
  // dirty pages (otherwise a run pays for the writeback of the previous one).
  if (output) rmSync(output, { force: true });
  spawnSync('sync');
  const result = spawnSync('/usr/bin/time', ['-v', command, ...commandArgs], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${commandArgs.join(' ')} failed:\n${result.stderr}`);
  return parseTimeV(result.stderr);
}

function best(runs) {
  const sorted = [...runs].sort((a, b) => a.seconds - b.seconds);
  const median = sorted[Math.floor(sorted.length / 2)];
  return { seconds: median.seconds, rssMB: Math.max(...runs.map((r) => r.rssMB)) };
}

/** Runs the commands interleaved (a, b, c, a, b, c, ...) so slow phases of the machine hit all alike. */
function runInterleaved(commands) {
  const runs = commands.map(() => []);
  for (let i = 0; i < repeat; i++) commands.forEach(([command, commandArgs, output], j) => runs[j].push(measure(command, commandArgs, output)));
  return runs.map(best);
}

const rows = [];
for (const size of sizes) {
  const model = join(work, `chain-${size}mb.onnx`);
  const external = join(work, `chain-${size}mb-ext.onnx`);
  if (!existsSync(model)) execFileSync(PYTHON, [join(here, 'make_model.py'), model, String(size)], { stdio: 'inherit' });
  if (!existsSync(external)) execFileSync(PYTHON, [join(here, 'make_model.py'), external, String(size), '--external'], { stdio: 'inherit' });
  const fileMB = statSync(model).size / 2 ** 20;
  const out = join(work, 'out.onnx');
  const [cp, modelpass, python] = runInterleaved([
    ['cp', [model, out], out],
    ['node', [join(here, 'modelpass-io.mjs'), 'convert', model, out], out],
    [PYTHON, [join(here, 'python-io.py'), 'convert', model, out], out],
  ]);
  const [inspectMp, inspectPy] = runInterleaved([
    ['node', [join(here, 'modelpass-io.mjs'), 'inspect', external]],
    [PYTHON, [join(here, 'python-io.py'), 'inspect', external]],
  ]);
  rmSync(out, { force: true });
  rows.push({ size, fileMB, cp, modelpass, python, inspectMp, inspectPy });
  console.error(JSON.stringify(rows.at(-1)));
}

const f = (x, digits = 2) => x.toFixed(digits);
const lines = [
  '# ONNX load+save benchmark',
  '',
  `Machine: ${execFileSync('nproc').toString().trim()} cores, Node ${process.version}, ` +
    `Python onnx ${execFileSync(PYTHON, ['-c', 'import onnx; print(onnx.__version__)']).toString().trim()}. ` +
    `Median of ${repeat} interleaved runs, the output file removed and \`sync\` before each (peak RSS: the largest of them), measured by \`node tools/bench/onnx-io/run.mjs\` ` +
    `on ${new Date().toISOString().slice(0, 10)}. Models: chains of 2048x2048 float32 MatMuls (random weights).`,
  '',
  '## convert (load + save, single-file model)',
  '',
  '| model | file MB | cp s | modelpass s | python onnx s | modelpass / python time | modelpass peak RSS MB | python peak RSS MB | modelpass RSS / file size |',
  '|---|---|---|---|---|---|---|---|---|',
  ...rows.map(
    (r) =>
      `| ${r.size} MB | ${f(r.fileMB, 0)} | ${f(r.cp.seconds)} | ${f(r.modelpass.seconds)} | ${f(r.python.seconds)} | ${f(r.modelpass.seconds / r.python.seconds)} | ` +
      `${f(r.modelpass.rssMB, 0)} | ${f(r.python.rssMB, 0)} | ${f(r.modelpass.rssMB / r.fileMB)} |`,
  ),
  '',
  '## inspect (load only, weights in external data)',
  '',
  '| model | modelpass s | python onnx s | modelpass peak RSS MB | python peak RSS MB |',
  '|---|---|---|---|---|',
  ...rows.map((r) => `| ${r.size} MB | ${f(r.inspectMp.seconds)} | ${f(r.inspectPy.seconds)} | ${f(r.inspectMp.rssMB, 0)} | ${f(r.inspectPy.rssMB, 0)} |`),
  '',
  'modelpass scans the .onnx file in the protobuf wire format and leaves every initializer\'s raw_data in',
  'the file as a lazy byte range (one descriptor held per file); only the small parts are decoded. Saving',
  'streams tensor by tensor, copying file ranges in 16 MiB chunks, so peak memory does not grow with the',
  'weights. External data stays on disk the same way. Python onnx reads the whole file, parses it into',
  'C++ messages and serializes them again, so it holds about twice the file in memory.',
  '',
];
writeFileSync(join(here, 'RESULTS.md'), lines.join('\n'));
console.log(lines.join('\n'));
