/**
 * `compare a.onnx a.nhwc.tflite --input-shape x=1,3,H,W`: the .onnx has symbolic dims, the .tflite (made with
 * `legalize-tflite{io-layout=nhwc}` and the same --input-shape) declares [1,H,W,3]. The flag restates that input
 * as its NCHW shape, and compare feeds it channels-last anyway, so it must not be refused as a contradiction
 * (QA s10: PaddleOCR's cls model was refused "dim 1 is declared 48; … the flag gives 3"). A size that really
 * contradicts the file is still refused. Without the flag, the symbolic dims take the sizes the .tflite fixes
 * (they were 1, and the TFLite runtime refused a [1,3,1,1] feed for its [1,3,6,10] input).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseModel } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-compare-nhwc-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(temp, { recursive: true, force: true });
});

const model = parseModel(`model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[N,3,H,W]) {
  const %w = tensor<float32[2,3,1,1]> [0.5, -1, 0.25, 2, 0.125, -0.5]
  %y: float32[N,2,H,W] = onnx.Conv(%x, %w) name="conv"
  return %y
}
}`);

describe('compare --input-shape against an io-layout=nhwc .tflite', () => {
  it('the NCHW shape restates the channels-last input: agree; a contradicting size is still refused', async () => {
    const onnxPath = join(temp, 'conv.onnx');
    writeFileSync(onnxPath, encodeOnnx(model));
    const tflitePath = join(temp, 'conv.nhwc.tflite');
    const shape = ['--input-shape', 'x=1,3,6,10'];
    const converted = await runCli(['convert', onnxPath, '-o', tflitePath, ...shape, '-p', 'legalize-tflite{io-layout=nhwc}']);
    expect(converted.code, converted.stderr).toBe(0);
    const compared = await runCli(['compare', onnxPath, tflitePath, ...shape, '--json']);
    expect(compared.code, compared.stderr).toBe(0);
    const report = JSON.parse(compared.stdout);
    expect(report.verdict).toBe('agree');
    expect(report.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [1, 3, 6, 10] }]);
    expect(compared.stderr).toContain("input 'x' fed channels-last (NHWC)");
    const contradicted = await runCli(['compare', onnxPath, tflitePath, '--input-shape', 'x=1,3,6,11']);
    expect(contradicted.code).toBe(2);
    expect(contradicted.stderr).toContain('--input-shape x: dim 1 is declared 6');
  });

  it('without --input-shape, the symbolic dims take the sizes the static .tflite fixes (plain and channels-last), each said on stderr', async () => {
    const onnxPath = join(temp, 'conv.onnx');
    writeFileSync(onnxPath, encodeOnnx(model));
    for (const layout of ['nchw', 'nhwc']) {
      const tflitePath = join(temp, `conv.${layout}.static.tflite`);
      const converted = await runCli(['convert', onnxPath, '-o', tflitePath, '--input-shape', 'x=1,3,6,10', '-p', `legalize-tflite{io-layout=${layout}}`]);
      expect(converted.code, converted.stderr).toBe(0);
      const compared = await runCli(['compare', onnxPath, tflitePath, '--json']);
      expect(compared.code, compared.stderr).toBe(0);
      expect(JSON.parse(compared.stdout).inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [1, 3, 6, 10] }]);
      expect(compared.stderr).toContain("H=6 (symbolic; the second model fixes it in input 'x'");
      expect(compared.stderr).toContain("W=10 (symbolic; the second model fixes it in input 'x'");
    }
  });
});

describe('compare against an io-layout=nhwc .tflite of a Conv1d (NCL) or Conv3d (NCDHW) net', () => {
  const nets = [
    {
      name: 'conv1d',
      text: `model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[1,3,12]) {
  const %w = tensor<float32[2,3,1]> [0.5, -1, 0.25, 2, 0.125, -0.5]
  %y: float32[1,2,12] = onnx.Conv(%x, %w) name="conv"
  return %y
}
}`,
      declared: [1, 12, 3],
    },
    {
      name: 'conv3d',
      text: `model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[1,3,4,5,6]) {
  const %w = tensor<float32[2,3,1,1,1]> [0.5, -1, 0.25, 2, 0.125, -0.5]
  %y: float32[1,2,4,5,6] = onnx.Conv(%x, %w) name="conv"
  return %y
}
}`,
      declared: [1, 4, 5, 6, 3],
    },
  ];
  for (const net of nets) {
    it(`${net.name}: its channels-last input is fed channels-last, its channels-last output read back (agree, not a shape error)`, async () => {
      const onnxPath = join(temp, `${net.name}.onnx`);
      writeFileSync(onnxPath, encodeOnnx(parseModel(net.text)));
      const tflitePath = join(temp, `${net.name}.nhwc.tflite`);
      const converted = await runCli(['convert', onnxPath, '-o', tflitePath, '-p', 'legalize-tflite{io-layout=nhwc}', '--json']);
      expect(converted.code, converted.stderr).toBe(0);
      const inspected = await runCli(['inspect', tflitePath, '--json']);
      expect(JSON.parse(inspected.stdout).inputs[0].shape).toEqual(net.declared);
      const compared = await runCli(['compare', onnxPath, tflitePath, '--json']);
      expect(compared.code, compared.stderr).toBe(0);
      expect(JSON.parse(compared.stdout).verdict).toBe('agree');
      expect(compared.stderr).toContain("input 'x' fed channels-last (NHWC)");
      expect(compared.stderr).toContain("output 'y' of the second model read back from NHWC to NCHW");
    });
  }
});

describe('compare against an io-layout=nhwc .tflite whose feed is the same in both layouts', () => {
  it('a [N,1,H,W] input fed at 1×1×1×1: the declarations say channels-last, so the [1,1,1,2] output is read back (QA s13: a false shape disagreement)', async () => {
    const onnxPath = join(temp, 'one-channel.onnx');
    writeFileSync(
      onnxPath,
      encodeOnnx(
        parseModel(`model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[N,1,H,W]) {
  const %w = tensor<float32[2,1,1,1]> [0.5, -1]
  %y: float32[N,2,H,W] = onnx.Conv(%x, %w) name="conv"
  return %y
}
}`),
      ),
    );
    const tflitePath = join(temp, 'one-channel.nhwc.tflite');
    const converted = await runCli(['convert', onnxPath, '-o', tflitePath, '--io-layout', 'nhwc']);
    expect(converted.code, converted.stderr).toBe(0);
    const compared = await runCli(['compare', onnxPath, tflitePath, '--json']);
    expect(compared.code, compared.stderr).toBe(0);
    const report = JSON.parse(compared.stdout);
    expect(report.verdict).toBe('agree');
    expect(report.inputs).toEqual([{ name: 'x', dtype: 'float32', shape: [1, 1, 1, 1] }]);
    expect(compared.stderr).toContain("output 'y' of the second model read back from NHWC to NCHW");
  });
});
