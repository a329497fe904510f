/**
 * `batch` of TorchScript archives, which record no input shapes: legalize-tflite then fails node by
 * node ("convolution needs the input's rank"). batch takes --input-shape/--input-dtype as convert
 * does (carried by each job to its worker), and without them a failed .pt gets a hint naming the flag.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { spawnCli } from './run-cli.js';

function smallConvNet(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('image', tensorType('float32', [1, 2, 6, 6]));
  const weight = Tensor.fromValues('float32', [3, 2, 3, 3], Array.from({ length: 54 }, (_, i) => Math.cos(i * 0.7)));
  const conv = g.op1('onnx.Conv', [x, g.constant(weight, 'w')], { kernel_shape: attrs.ints([3, 3]), pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv' });
  const pooled = g.op1('onnx.MaxPool', [g.op1('onnx.Relu', [conv], {}, { name: 'relu' })], { kernel_shape: attrs.ints([2, 2]), strides: attrs.ints([2, 2]) }, { name: 'pool' });
  g.output(pooled);
  return encodeOnnx(g.model({ onnx: 17 }));
}

let temp: string;
let models: string;
beforeAll(() => {
  temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-batch-shape-')));
  models = join(temp, 'models');
  mkdirSync(models);
  writeFileSync(join(temp, 'net.onnx'), smallConvNet());
  const made = spawnCli(['convert', join(temp, 'net.onnx'), '-o', join(models, 'net.pt')], temp);
  expect(made.code, made.stderr).toBe(0);
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('batch --input-shape', () => {
  it('without it, a .pt that needs ranks fails and the hint names the flag', () => {
    const out = join(temp, 'out-bare');
    mkdirSync(out);
    const result = spawnCli(['batch', models, '-o', out, '-p', 'legalize-tflite', '--to', 'tflite'], temp);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("needs the input's rank");
    expect(result.stderr).toContain('modelpass: hint: TorchScript archives record no input shapes; the failed .pt may need them: --input-shape NAME=DIMS');
  });

  it('with it, every model is read with the shape and the .tflite agrees with torch', () => {
    const out = join(temp, 'out-shaped');
    mkdirSync(out);
    const result = spawnCli(['batch', models, '-o', out, '-p', 'legalize-tflite', '--to', 'tflite', '--input-shape', 'image=1,2,6,6'], temp);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).not.toContain('hint');
    const compared = spawnCli(['compare', join(models, 'net.pt'), join(out, 'net.tflite'), '--input-shape', 'image=1,2,6,6'], temp);
    expect(compared.code, compared.stdout + compared.stderr).toBe(0);
    expect(compared.stdout).toContain('verdict: agree');
  });

  it('a .pt refused as hostile gets no shape hint; one failing for want of ranks beside it still does (QA s12 N5)', () => {
    const mixed = join(temp, 'mixed');
    mkdirSync(mixed);
    copyFileSync(join(models, 'net.pt'), join(mixed, 'net.pt'));
    const script = [
      'import sys, pickle, zipfile, os',
      'class Evil:',
      '    def __reduce__(self): return (os.system, ("true",))',
      'with zipfile.ZipFile(sys.argv[1], "w") as z:',
      '    z.writestr("evil/data.pkl", pickle.dumps(Evil(), protocol=2))',
      '    z.writestr("evil/constants.pkl", pickle.dumps((), protocol=2))',
      '    z.writestr("evil/version", "3\\n")',
    ].join('\n');
    execFileSync('/usr/bin/python3', ['-c', script, join(mixed, 'evil.pt')]);
    const both = join(temp, 'out-mixed');
    mkdirSync(both);
    const result = spawnCli(['batch', mixed, '-o', both, '-p', 'legalize-tflite', '--to', 'tflite'], temp);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/global '(posix|os)\.system' is not allowed/);
    expect(result.stderr, result.stdout + result.stderr).toContain('modelpass: hint: TorchScript archives record no input shapes; the failed .pt may need them');

    rmSync(join(mixed, 'net.pt'));
    const alone = join(temp, 'out-hostile');
    mkdirSync(alone);
    const hostile = spawnCli(['batch', mixed, '-o', alone, '-p', 'legalize-tflite', '--to', 'tflite'], temp);
    expect(hostile.code).toBe(1);
    expect(hostile.stdout).toMatch(/global '(posix|os)\.system' is not allowed/);
    expect(hostile.stderr).not.toContain('record no input shapes');
  });

  it('names a wrong input and a malformed value like convert does', () => {
    const out = join(temp, 'out-wrong');
    mkdirSync(out);
    const wrong = spawnCli(['batch', models, '-o', out, '-p', 'legalize-tflite', '--to', 'tflite', '--input-shape', 'nope=1,2,6,6'], temp);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toContain("input shapes are given for 'nope', but");
    const malformed = spawnCli(['batch', models, '-o', out, '-p', 'legalize-tflite', '--to', 'tflite', '--input-shape', 'image=1,x-2'], temp);
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toContain("--input-shape 'image=1,x-2': dim 'x-2' is not a size, a symbolic name or ?");
  });
});
