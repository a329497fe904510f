#!/usr/bin/env node
// int4 weight-only quantization of a ~1 B-parameter decoder (tools/make-decoder-model, external
// data) with the real CLI, under /usr/bin/time -v:
//   modelpass convert fp32/model.onnx -o int4/model.onnx --pipeline 'quantize-weights{bits=4 block-size=32}'
// Reports peak RSS, the pass's time and throughput (MB of float32 weights quantized per second),
// the whole command's throughput (MB of the data file per second), next to the disk's own read
// rate measured in the same run: `dd` reading the data file once (bs=16M) right before and right
// after the conversion. Nothing drops the page cache (that would disturb everyone else on the
// machine): the generator has just written the file, so dd and the CLI both read it mostly from
// the page cache — state that with the figures. Then ONNX's checker (structure, external data
// not loaded) and, optionally (--ort), ONNX Runtime runs the int4 model once.
//
//   node tools/bench/quantize/int4-1b.mjs [--dir /tmp/modelpass-bench-int4-1b] [--size 1b] [--keep] [--ort]
// Needs the built CLI (NX_DAEMON=false npx nx run @modelpass/cli:build) and ~6 GB free in --dir.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseTimeV } from '../onnx-io/time-v.mjs';
import { CLI, ROOT } from './lib.mjs';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: '/tmp/modelpass-bench-int4-1b' },
    size: { type: 'string', default: '1b' },
    pipeline: { type: 'string', default: 'quantize-weights{bits=4 block-size=32}' },
    keep: { type: 'boolean', default: false },
    ort: { type: 'boolean', default: false },
  },
});
const fp32 = join(values.dir, `fp32-${values.size}`, 'model.onnx');
const int4 = join(values.dir, 'int4', 'model.onnx');
const MB = 1024 * 1024;

/**
 * Runs `command` under `/usr/bin/time -v`: its stdout, wall seconds and peak RSS. A CLI whose
 * packages someone is rebuilding at that moment (ERR_MODULE_NOT_FOUND) is retried after a pause.
 */
function timeV(command, args) {
  for (let attempt = 0; ; attempt++) {
    try {
      const stdout = execFileSync('bash', ['-c', 'exec /usr/bin/time -v -o /tmp/modelpass-int4-1b.time "$@"', 'time', command, ...args], { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
      const report = readFileSync('/tmp/modelpass-int4-1b.time', 'utf8');
      const cpu = ['User', 'System'].reduce((sum, kind) => sum + Number(new RegExp(`${kind} time \\(seconds\\): ([\\d.]+)`).exec(report)?.[1] ?? 0), 0);
      return { stdout, ...parseTimeV(report), cpuSeconds: cpu };
    } catch (error) {
      const text = String(error.stderr || error.message);
      if (attempt < 5 && /ERR_MODULE_NOT_FOUND/.test(text)) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20_000);
        continue;
      }
      throw new Error(`${command} ${args.join(' ')} failed: ${text.trim().split('\n').slice(-5).join(' | ')}`);
    }
  }
}

/** dd's own rate for reading `path` once (MB/s, MiB-based) and the seconds it took. */
function ddRead(path) {
  const started = performance.now();
  execFileSync('dd', [`if=${path}`, 'of=/dev/null', 'bs=16M'], { stdio: 'ignore' });
  const seconds = (performance.now() - started) / 1000;
  return { seconds, mbPerSecond: statSync(path).size / MB / seconds };
}

if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`NX_DAEMON=false npx nx run @modelpass/cli:build\` first`);
let generation;
if (!existsSync(`${fp32}.data`)) {
  const made = timeV(process.execPath, [join(ROOT, 'tools/make-decoder-model/make-decoder.mjs'), '--size', values.size, '--out', join(values.dir, `fp32-${values.size}`)]);
  generation = { ...JSON.parse(made.stdout.trim().split('\n').pop()), wallSeconds: made.seconds, peakRssMB: Math.round(made.rssMB) };
  console.log(`generated ${fp32}: ${generation.parameters} parameters in ${made.seconds.toFixed(1)} s, peak RSS ${Math.round(made.rssMB)} MB`);
}
const dataBytes = statSync(`${fp32}.data`).size;
const before = ddRead(`${fp32}.data`);
rmSync(join(values.dir, 'int4'), { recursive: true, force: true });
execFileSync('mkdir', ['-p', join(values.dir, 'int4')]);
const conversion = timeV(process.execPath, [CLI, 'convert', fp32, '-o', int4, '--pipeline', values.pipeline, '--json', '--no-summary']);
const after = ddRead(`${fp32}.data`);
const summary = JSON.parse(conversion.stdout);
const pass = (summary.passes ?? []).find((p) => (p.name ?? p.pass) === 'quantize-weights');
const passSeconds = (pass?.ms ?? pass?.timeMs ?? pass?.durationMs ?? (pass?.seconds ?? NaN) * 1000) / 1000;
const statistics = pass?.statistics ?? {};
const weightBytes = statistics['weight-bytes-before'];
const outBytes = statSync(int4).size + (existsSync(`${int4}.data`) ? statSync(`${int4}.data`).size : 0);
const check = execFileSync('/usr/bin/python3', ['-c', 'import onnx,sys; onnx.checker.check_model(onnx.load(sys.argv[1], load_external_data=False)); print("ok")', int4], { encoding: 'utf8' }).trim();

let ortRun;
if (values.ort) {
  const ran = timeV(process.execPath, ['-e', `
    const ort = require(${JSON.stringify(join(ROOT, 'node_modules/onnxruntime-node'))});
    (async () => {
      const s = await ort.InferenceSession.create(${JSON.stringify(int4)}, { intraOpNumThreads: 2, logSeverityLevel: 3 });
      const ids = new ort.Tensor('int64', BigInt64Array.from({ length: 16 }, (_, i) => BigInt(i * 97)), [1, 16]);
      const t = performance.now(); const out = await s.run({ input_ids: ids });
      console.log(JSON.stringify({ ms: performance.now() - t, shape: out.logits.dims, finite: out.logits.data.every(Number.isFinite) }));
    })();`]);
  ortRun = { ...JSON.parse(ran.stdout.trim()), peakRssMB: Math.round(ran.rssMB) };
}

const result = {
  pipeline: values.pipeline,
  model: { path: fp32, dataBytes, ...(generation ? { generation } : {}) },
  conversion: {
    wallSeconds: Number(conversion.seconds.toFixed(1)),
    cpuSeconds: Number(conversion.cpuSeconds.toFixed(1)),
    loadAverage: loadavg().map((l) => Number(l.toFixed(1))),
    peakRssMB: Math.round(conversion.rssMB),
    passSeconds: Number(passSeconds.toFixed(1)),
    statistics,
    passMBps: weightBytes ? Number((weightBytes / MB / passSeconds).toFixed(0)) : undefined,
    commandMBps: Number((dataBytes / MB / conversion.seconds).toFixed(0)),
    // on a shared machine the wall clock mostly measures the others: MB of the data file per CPU second of the command
    commandMBperCpuSecond: Number((dataBytes / MB / conversion.cpuSeconds).toFixed(0)),
    outputBytes: outBytes,
    sizeRatio: Number((outBytes / (dataBytes + statSync(fp32).size)).toFixed(3)),
  },
  diskRead: { method: 'dd if=<data file> of=/dev/null bs=16M, once before and once after the conversion; page cache not dropped', beforeMBps: Math.round(before.mbPerSecond), afterMBps: Math.round(after.mbPerSecond) },
  checker: check,
  ...(ortRun ? { ort: ortRun } : {}),
};
console.log(JSON.stringify(result, null, 2));
writeFileSync(join(values.dir, 'int4-1b.json'), JSON.stringify(result, null, 2));
if (!values.keep) rmSync(join(values.dir, 'int4'), { recursive: true, force: true });
