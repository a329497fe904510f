// Issue 9's size goal with quantize-static's default options: per Fashion fixture, the int8 file's
// bytes and its ratio to the fp32 file, where those bytes go (onnx_bytes.py --json, in groups),
// accuracy of both on the 10k test images (`modelpass eval`, ORT), ONNX's checker, and the kernels
// ORT fuses the QDQ groups into (optimized graph; "unfused": DequantizeLinear still feeding a float
// Conv/MatMul/Gemm).
//
//   node tools/bench/quantize/default-size.mjs [--cli PATH] [--out DIR] [--samples 512] [--json FILE]
//
// --cli: a frozen build (tools/bench/tflite/freeze-tree.sh + tsc -b packages/cli, or snapshot-cli.sh),
// so two commits can be compared on the same machine one after the other.
import { execFileSync } from 'node:child_process';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PYTHON, ROOT, cli, convert, flag, onnxFacts, writeOptimizedGraph } from './lib.mjs';

const FIXTURES = ['fashion-cnn', 'fashion-mlp', 'fashion-resnet', 'fashion-transformer', 'fashion-transformer-opset17'];
const samples = Number(flag('samples', '512'));
const out = flag('out', '/tmp/modelpass-default-size');
const jsonPath = flag('json', undefined);
const pipeline = `simplify,quantize-static{dataset=fashion-mnist:train samples=${samples} calibration=percentile}`;
const BYTES = join(ROOT, 'tools/bench/quantize/onnx_bytes.py');
const INTEGER_KERNEL = /^(com\.microsoft\.)?(QLinear\w+|QGemm|MatMulIntegerToFloat|DynamicQuantize\w+|ConvInteger|MatMulInteger)$/;

function accuracy(path) {
  return JSON.parse(cli('eval', path, '--dataset', 'fashion-mnist:test', '--json')).accuracy;
}

mkdirSync(out, { recursive: true });
const results = [];
for (const fixture of FIXTURES) {
  const fp32 = join(ROOT, 'fixtures/models', fixture, 'model.onnx');
  const int8 = join(out, `${fixture}.int8.onnx`);
  const converted = convert(fp32, int8, pipeline, 'quantize-static');
  if (!converted.ok) {
    results.push({ fixture, error: converted.error });
    continue;
  }
  const optimized = join(out, `${fixture}.int8.ort-optimized.onnx`);
  await writeOptimizedGraph(int8, optimized);
  const facts = onnxFacts([int8], [optimized]);
  const unfused = facts.unfused[optimized];
  const bytes = JSON.parse(execFileSync(PYTHON, [BYTES, '--json', '--reference', fp32, int8], { encoding: 'utf8', maxBuffer: 64 << 20 }))[int8];
  const [fp32Bytes, int8Bytes] = [statSync(fp32).size, statSync(int8).size];
  results.push({
    fixture,
    fp32Bytes,
    int8Bytes,
    ratio: int8Bytes / fp32Bytes,
    accuracyFp32: accuracy(fp32),
    accuracyInt8: accuracy(int8),
    checker: facts.check[int8],
    unfused: unfused.dequantize_feeding_compute,
    integerKernels: Object.fromEntries(Object.entries(unfused.ops).filter(([op]) => INTEGER_KERNEL.test(op))),
    groups: bytes.summary.groups,
    qdqNodeBytes: bytes.summary['quantize/dequantize nodes'],
  });
}

const pct = (v) => `${(v * 100).toFixed(2)}%`;
console.log(`pipeline: ${pipeline}`);
console.log('| fixture | fp32 bytes | int8 bytes | int8 / fp32 | accuracy fp32 → int8 (Δ) | checker | unfused | ORT integer kernels |');
console.log('|---|---:|---:|---:|---|---|---:|---|');
for (const r of results) {
  if (r.error) {
    console.log(`| ${r.fixture} | | | | ${r.error} | | | |`);
    continue;
  }
  const delta = ((r.accuracyInt8 - r.accuracyFp32) * 100).toFixed(2);
  const kernels = Object.entries(r.integerKernels).map(([op, n]) => `${op.replace('com.microsoft.', '')} ×${n}`).join(', ');
  console.log(`| ${r.fixture} | ${r.fp32Bytes} | ${r.int8Bytes} | ${r.ratio.toFixed(4)}× | ${pct(r.accuracyFp32)} → ${pct(r.accuracyInt8)} (${delta} pp) | ${r.checker} | ${r.unfused} | ${kernels} |`);
}
const labels = Object.keys(results.find((r) => r.groups)?.groups ?? {});
console.log(`\n| fixture | ${labels.join(' | ')} |`);
console.log(`|---|${labels.map(() => '---:').join('|')}|`);
for (const r of results.filter((r) => r.groups)) {
  console.log(`| ${r.fixture} | ${labels.map((l) => `${r.groups[l]} (${(r.groups[l] / r.fp32Bytes).toFixed(4)}×)`).join(' | ')} |`);
}
if (jsonPath) writeFileSync(jsonPath, JSON.stringify({ pipeline, results }, null, 1));
