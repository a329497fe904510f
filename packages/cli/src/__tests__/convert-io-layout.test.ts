/**
 * `convert m.onnx -o m.tflite --io-layout nhwc`: the legalize-tflite that convert adds runs with io-layout=nhwc (issue 12
 * names the flag; before, only `-p 'legalize-tflite{io-layout=nhwc}'` did it and `--io-layout` was an unknown option).
 * Refused, exit 2, nothing written: a value other than nchw/nhwc, a non-.tflite output, a pipeline that names
 * legalize-tflite itself.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseModel } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-convert-io-layout-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(temp, { recursive: true, force: true });
});

const onnxPath = join(temp, 'conv.onnx');
writeFileSync(
  onnxPath,
  encodeOnnx(
    parseModel(`model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[1,3,6,10]) {
  const %w = tensor<float32[2,3,1,1]> [0.5, -1, 0.25, 2, 0.125, -0.5]
  %c: float32[1,2,6,10] = onnx.Conv(%x, %w) name="conv"
  %y: float32[1,2,6,10] = onnx.Relu(%c) name="relu"
  return %y
}
}`),
  ),
);

async function declaredShapes(path: string): Promise<{ input: number[]; output: number[] }> {
  const inspected = await runCli(['inspect', path, '--json']);
  expect(inspected.code, inspected.stderr).toBe(0);
  const summary = JSON.parse(inspected.stdout);
  return { input: summary.inputs[0].shape, output: summary.outputs[0].shape };
}

describe('convert --io-layout', () => {
  it('nhwc declares the image input and output channels-last with no Transpose; nchw (and no flag) keeps the ONNX layout', async () => {
    const nhwc = join(temp, 'conv.nhwc.tflite');
    const converted = await runCli(['convert', onnxPath, '-o', nhwc, '--io-layout', 'nhwc', '--statistics']);
    expect(converted.code, converted.stderr).toBe(0);
    expect(converted.stderr).toContain('running legalize-tflite{io-layout=nhwc} after the pipeline');
    expect(converted.stderr).toMatch(/0 transposes-at-boundary/);
    expect(await declaredShapes(nhwc)).toEqual({ input: [1, 6, 10, 3], output: [1, 6, 10, 2] });
    const compared = await runCli(['compare', onnxPath, nhwc]);
    expect(compared.code, compared.stderr).toBe(0);
    for (const layout of [['--io-layout', 'nchw'], []]) {
      const nchw = join(temp, `conv.${layout.length ? 'nchw' : 'default'}.tflite`);
      const plain = await runCli(['convert', onnxPath, '-o', nchw, ...layout]);
      expect(plain.code, plain.stderr).toBe(0);
      expect(await declaredShapes(nchw)).toEqual({ input: [1, 3, 6, 10], output: [1, 2, 6, 10] });
    }
  });

  it('refuses a wrong value, a non-.tflite output and a pipeline naming legalize-tflite, writing nothing', async () => {
    const cases: [string[], RegExp][] = [
      [['-o', join(temp, 'bad-value.tflite'), '--io-layout', 'nhwd'], /--io-layout must be one of nchw, nhwc, not 'nhwd'/],
      [['-o', join(temp, 'bad-format.onnx'), '--io-layout', 'nhwc'], /--io-layout lays out a \.tflite output; '.*bad-format\.onnx' is written as onnx/],
      [['-o', join(temp, 'bad-pipeline.tflite'), '--io-layout', 'nhwc', '-p', 'legalize-tflite'], /give legalize-tflite\{io-layout=nhwc\} in --pipeline instead/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['convert', onnxPath, ...args]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(existsSync(args[1]!)).toBe(false);
    }
  });
});
