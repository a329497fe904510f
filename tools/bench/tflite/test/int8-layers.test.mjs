/**
 * int8-layers.mjs on a dynamic-batch fixture (fashion-mlp, input [N,784]), as a float-io and an io-type=int8 .tflite:
 * both must run through (s17, note11 item 2: the isolated pass stopped on the cut inputs' dynamic batch — no size to
 * feed — and an int8 input was fed float32 and refused). Needs the built CLI (npx nx run @modelpass/cli:build) and the
 * Fashion-MNIST fixtures; about 20 s.
 *
 *   node --test tools/bench/tflite/test/
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const CLI = join(ROOT, 'packages/cli/bin/modelpass.js');
const BENCH = join(ROOT, 'tools/bench/tflite/int8-layers.mjs');
const work = mkdtempSync(join(tmpdir(), 'modelpass-int8-layers-test-'));
after(() => rmSync(work, { recursive: true, force: true }));

function run(script, args) {
  const result = spawnSync(process.execPath, [script, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  assert.equal(result.signal, null, `${script} ended by ${result.signal}:\n${result.stdout}\n${result.stderr}`);
  assert.equal(result.status, 0, `${script} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

const qdq = join(work, 'mlp.qs.onnx');
run(CLI, ['convert', join(ROOT, 'fixtures/models/fashion-mlp/model.onnx'), '-o', qdq, '-p', 'simplify,quantize-static{dataset=fashion-mnist:train samples=32}']);

test('a dynamic batch is fixed to 1 and every cut model is fed (float-io .tflite)', () => {
  const tflite = join(work, 'mlp.tflite');
  run(CLI, ['convert', qdq, '-o', tflite]);
  const out = run(BENCH, ['--onnx', qdq, '--tflite', tflite]);
  assert.match(out, /input input\[N,784\] fixed to \[1,784\]/);
  const isolated = out.split('isolated (each op alone')[1] ?? '';
  assert.match(isolated, /FULLY_CONNECTED\s+logits\s+float\s+0\.00/);
  // The int8 layers (FULLY_CONNECTED written as RESHAPE → CONV_2D → RESHAPE) are paired and cut too, each within a step.
  assert.match(isolated, /CONV_2D\s+\/fc1\/Gemm_fully_connected_as_conv_0\s+int8\s+[01]\.00/);
});

test('an io-type=int8 .tflite is fed the seeded input quantized with its input scale and zero point', () => {
  const tflite = join(work, 'mlp.io8.tflite');
  run(CLI, ['convert', qdq, '-o', tflite, '-p', 'legalize-tflite{io-type=int8}']);
  const out = run(BENCH, ['--onnx', qdq, '--tflite', tflite, '--input', 'input=2,784']);
  assert.match(out, /TFLite input 'input' is int8 \(scale [\d.e-]+, zero point -?\d+\)/);
  // The same reals in both runtimes: the logits agree to float rounding.
  assert.match(out.split('isolated (each op alone')[0], /FULLY_CONNECTED\s+logits\s+float\s+0\.0\d/);
  // The int8 input itself is aligned: the first layer's reshape of it is cut and fed too.
  assert.match(out.split('isolated (each op alone')[1] ?? '', /RESHAPE\s+\/fc1\/Gemm_fully_connected_as_nhwc_0\s+int8\s+0\.00/);
});

test('bad options are named, exit 2', () => {
  const result = spawnSync(process.execPath, [BENCH, '--onnx', qdq, '--tflite', join(work, 'missing.tflite')], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(result.status, 2);
  assert.match(result.stderr, /--tflite .*missing\.tflite: no such file/);
  const shape = spawnSync(process.execPath, [BENCH, '--onnx', qdq, '--tflite', qdq, '--input', 'input=1,783'], { cwd: ROOT, encoding: 'utf8' });
  assert.equal(shape.status, 2);
  assert.match(shape.stderr, /--input input=1,783 does not fit the model's input input\[N,784\]/);
});
