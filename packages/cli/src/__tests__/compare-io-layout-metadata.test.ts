/**
 * `compare m.onnx m.tflite` where m.tflite was converted with `--io-layout nhwc` and an input or output's NCHW and
 * NHWC shapes are equal (`[1, 8, 8, 8]`, C = H = W): the shapes cannot say it is channels-last, so compare read it
 * as NCHW and reported a false disagreement (audit 12, "Found, not fixed"). The conversion now records which
 * inputs/outputs it made channels-last (TFLite metadata `modelpass.io_layout`) and compare bridges exactly those.
 * The same file with the entry stripped keeps the shape rule (still a disagreement); a file from another converter
 * (a MediaPipe fixture) compares as before; io-layout=nchw files carry no entry.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseModel } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { channelsLastIoOf, META_IO_LAYOUT, readTflite, writeTflite } from '@modelpass/tflite';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import { runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-compare-io-layout-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(temp, { recursive: true, force: true });
});

/** A 1x1 Conv from `channels` to 8 channels on an 8x8 image, weights with no symmetry, then a Relu-free Add of a bias. */
function convNet(channels: number): string {
  const weights = Array.from({ length: 8 * channels }, (_, i) => (((i * 7) % 11) - 5) / 4);
  const bias = Array.from({ length: 8 }, (_, i) => i / 8 - 0.5);
  return `model ir_version=8 opsets{onnx=13} {
graph @main(%x: float32[1,${channels},8,8]) {
  const %w = tensor<float32[8,${channels},1,1]> [${weights.join(', ')}]
  const %b = tensor<float32[8]> [${bias.join(', ')}]
  %y: float32[1,8,8,8] = onnx.Conv(%x, %w, %b) name="conv"
  return %y
}
}`;
}

async function compareJson(a: string, b: string): Promise<{ code: number; verdict: string; stderr: string }> {
  const compared = await runCli(['compare', a, b, '--json']);
  expect(compared.stdout, compared.stderr).not.toBe('');
  return { code: compared.code, verdict: JSON.parse(compared.stdout).verdict, stderr: compared.stderr };
}

describe('compare an --io-layout nhwc .tflite whose NCHW and NHWC shapes are equal', () => {
  for (const [channels, inputBridgedBefore] of [[3, true], [8, false]] as const) {
    it(`[1,${channels},8,8] → [1,8,8,8]: agree with the metadata entry; stripped, the shape rule disagrees as before`, async () => {
      const onnxPath = join(temp, `conv${channels}.onnx`);
      writeFileSync(onnxPath, encodeOnnx(parseModel(convNet(channels))));
      const nhwc = join(temp, `conv${channels}.nhwc.tflite`);
      const converted = await runCli(['convert', onnxPath, '-o', nhwc, '--io-layout', 'nhwc']);
      expect(converted.code, converted.stderr).toBe(0);
      expect(channelsLastIoOf(readTflite(nhwc))).toEqual({ inputs: ['x'], outputs: ['y'] });

      const agreed = await compareJson(onnxPath, nhwc);
      expect(agreed.verdict, agreed.stderr).toBe('agree');
      expect(agreed.code).toBe(0);
      expect(agreed.stderr).toContain("input 'x' fed channels-last (NHWC)");
      expect(agreed.stderr).toContain("output 'y' of the second model read back from NHWC to NCHW");

      // Both channels-last (the file against itself, or its raise to ONNX keeping NHWC): nothing bridged. Its raise
      // to NCHW no longer lists what it declared channels-first, and is bridged again by the file's own entry.
      expect((await compareJson(nhwc, nhwc)).verdict).toBe('agree');
      for (const layout of ['nhwc', 'nchw']) {
        const raised = join(temp, `conv${channels}.raised-${layout}.onnx`);
        const converted = await runCli(['convert', nhwc, '-o', raised, '-p', `raise-tflite{io-layout=${layout}}`]);
        expect(converted.code, converted.stderr).toBe(0);
        const back = await compareJson(raised, nhwc);
        expect(back.verdict, back.stderr).toBe('agree');
        expect(back.stderr.includes('read back from NHWC')).toBe(layout === 'nchw');
      }

      // Without the entry (as from another converter): the shapes decide, and [1,8,8,8] is not read back.
      const model = readTflite(nhwc);
      model.metadata.delete(META_IO_LAYOUT);
      const stripped = join(temp, `conv${channels}.stripped.tflite`);
      writeTflite(model, stripped);
      expect(channelsLastIoOf(readTflite(stripped))).toBeUndefined();
      const before = await compareJson(onnxPath, stripped);
      expect(before.verdict).toBe('disagree');
      expect(before.code).toBe(1);
      expect(before.stderr.includes("input 'x' fed channels-last")).toBe(inputBridgedBefore);
      expect(before.stderr).not.toContain('read back from NHWC');

      // io-layout=nchw: no entry (those files' bytes are as before), and nothing to bridge.
      const nchw = join(temp, `conv${channels}.nchw.tflite`);
      expect((await runCli(['convert', onnxPath, '-o', nchw, '--io-layout', 'nchw'])).code).toBe(0);
      expect(readTflite(nchw).metadata.has(META_IO_LAYOUT)).toBe(false);
      expect((await compareJson(onnxPath, nchw)).verdict).toBe('agree');
    });
  }

  it('refuses a malformed entry, naming it and what was expected', async () => {
    const onnxPath = join(temp, 'conv8.bad.onnx');
    writeFileSync(onnxPath, encodeOnnx(parseModel(convNet(8))));
    const nhwc = join(temp, 'conv8.bad.tflite');
    expect((await runCli(['convert', onnxPath, '-o', nhwc, '--io-layout', 'nhwc'])).code).toBe(0);
    const model = readTflite(nhwc);
    model.metadata.set(META_IO_LAYOUT, Buffer.from('{"layout":"nhwc","inputs":"x"}').toString('base64'));
    writeTflite(model, nhwc);
    const compared = await runCli(['compare', onnxPath, nhwc]);
    expect(compared.code).not.toBe(0);
    expect(compared.stderr).toContain(`metadata 'modelpass.io_layout'`);
    expect(compared.stderr).toContain('is not {"layout":"nhwc","inputs":[names],"outputs":[names]}');
    expect(compared.stderr).not.toMatch(/\n\s+at /);
  });

  it('a MediaPipe file (no entry) against its NCHW raise: the shape rule still feeds its input channels-last, agree', async () => {
    // fetched (or found in .fixtures-cache) as the other third-party tests do, so the test never skips
    const [face] = await ensureThirdPartyModels({ ids: ['mediapipe-face-detection-short-range'] });
    const fixture = face!.path;
    const onnxPath = join(temp, 'face.nchw.onnx');
    const raised = await runCli(['convert', fixture, '-o', onnxPath, '-p', 'raise-tflite{io-layout=nchw}']);
    expect(raised.code, raised.stderr).toBe(0);
    expect(readTflite(fixture).metadata.has(META_IO_LAYOUT)).toBe(false);
    const compared = await compareJson(onnxPath, fixture);
    expect(compared.verdict, compared.stderr).toBe('agree');
    expect(compared.stderr).toContain("input 'input' fed channels-last (NHWC)");
  });
});
