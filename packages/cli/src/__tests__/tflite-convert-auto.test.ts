/**
 * `modelpass convert` between ONNX and TFLite exactly as a stranger types it (no --pipeline), from a
 * temp folder with relative paths: convert adds raise-tflite / legalize-tflite by itself and says so;
 * `compare` across formats agrees within 1e-4 (ORT vs the TFLite runtime).
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attrs } from '@modelpass/ir';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import { binPath, repoRoot, spawnCli } from './run-cli.js';

const models = await ensureThirdPartyModels({ ids: ['mediapipe-face-detection-short-range', 'mediapipe-selfie-segmentation', 'blazeface-front-128'] });
const thirdParty = (id: string) => models.find((m) => m.id === id)!.path;
let work: string;
beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'modelpass-cli-tflite-auto-'));
  copyFileSync(join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), join(work, 'm.onnx'));
  copyFileSync(thirdParty('mediapipe-face-detection-short-range'), join(work, 'x.tflite'));
  copyFileSync(thirdParty('mediapipe-selfie-segmentation'), join(work, 'selfie.tflite'));
  copyFileSync(thirdParty('blazeface-front-128'), join(work, 'b.onnx'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const compareJson = (a: string, b: string) => {
  const result = spawnCli(['compare', a, b, '--atol', '1e-4', '--rtol', '0', '--json'], work);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout);
};

describe('convert picks legalize-tflite / raise-tflite when the formats differ', () => {
  it('modelpass convert m.onnx -o m.tflite (fashion-cnn) legalizes by itself; compare agrees within 1e-4', () => {
    const converted = spawnCli(['convert', 'm.onnx', '-o', 'm.tflite'], work);
    expect(converted.code, converted.stderr).toBe(0);
    expect(converted.stderr).toContain('onnx → tflite: running legalize-tflite after the pipeline');
    const report = compareJson('m.onnx', 'm.tflite');
    expect(report.engines).toEqual(['ort', 'tflite']);
    expect(report.verdict).toBe('agree');
    expect(report.maxAbsError).toBeLessThanOrEqual(1e-4);
  });

  it('modelpass convert b.onnx -o b.tflite (MediaPipe BlazeFace as tf2onnx wrote it: ConstantOfShape channel padding) legalizes with no transpose left', () => {
    const converted = spawnCli(['convert', 'b.onnx', '-o', 'b.tflite', '--statistics'], work);
    expect(converted.code, converted.stderr).toBe(0);
    expect(converted.stderr).toMatch(/\b0 transposes-inside/);
    const report = compareJson('b.onnx', 'b.tflite');
    expect(report.engines).toEqual(['ort', 'tflite']);
    expect(report.verdict).toBe('agree');
    expect(report.maxAbsError).toBeLessThanOrEqual(1e-4);
  });

  it('modelpass convert x.tflite -o x.onnx (MediaPipe face detection) raises by itself; compare agrees within 1e-4', () => {
    const converted = spawnCli(['convert', 'x.tflite', '-o', 'x.onnx'], work);
    expect(converted.code, converted.stderr).toBe(0);
    expect(converted.stderr).toContain('tflite → onnx: running raise-tflite before the pipeline');
    const inspected = spawnCli(['inspect', 'x.onnx'], work);
    expect(inspected.stdout).not.toContain('tflite.');
    const report = compareJson('x.tflite', 'x.onnx');
    expect(report.engines).toEqual(['tflite', 'ort']);
    expect(report.verdict).toBe('agree');
    expect(report.maxAbsError).toBeLessThanOrEqual(1e-4);
    // And back: the raised ONNX model legalizes again and still agrees with the original file.
    const back = spawnCli(['convert', 'x.onnx', '-o', 'x2.tflite'], work);
    expect(back.code, back.stderr).toBe(0);
    expect(compareJson('x.tflite', 'x2.tflite').verdict).toBe('agree');
  });

  it('keeps a pass the pipeline already names (options included) and adds nothing with --no-legalize', () => {
    const named = spawnCli(['convert', 'm.onnx', '-o', 'nhwc.tflite', '-p', 'legalize-tflite{io-layout=nhwc}', '--json'], work);
    expect(named.code, named.stderr).toBe(0);
    expect(named.stderr).not.toContain('running legalize-tflite');
    expect(JSON.parse(named.stdout).pipeline).toBe('legalize-tflite{io-layout=nhwc}');
    const auto = spawnCli(['convert', 'm.onnx', '-o', 'auto.tflite', '-p', 'dce', '--json'], work);
    expect(auto.code, auto.stderr).toBe(0);
    expect(JSON.parse(auto.stdout).pipeline).toBe('dce,legalize-tflite');
    const optedOut = spawnCli(['convert', 'm.onnx', '-o', 'plain.tflite', '--no-legalize'], work);
    expect(optedOut.code).toBe(1);
    expect(optedOut.stderr).toContain('legalize-tflite');
    expect(optedOut.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(work, 'plain.tflite'))).toBe(false);
  });

  it('a custom op stops the automatic raise with the op and node named, and nothing is written', () => {
    // MediaPipe's Convolution2DTransposeBias is raised (conformance: tflite-raise-mediapipe-custom.test.ts);
    // the same file naming a custom op with no raise rule is refused.
    expect(spawnCli(['convert', 'selfie.tflite', '-o', 'selfie.onnx'], work).code).toBe(0);
    const other = readTflite(join(work, 'selfie.tflite'));
    other.graph.nodeList().find((node) => node.op === 'tflite.CUSTOM')!.setAttribute('custom_code', attrs.string('MaxPoolingWithArgmax2D'));
    writeTflite(other, join(work, 'other-custom.tflite'));
    const result = spawnCli(['convert', 'other-custom.tflite', '-o', 'other.onnx'], work);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("custom op 'MaxPoolingWithArgmax2D' has no ONNX equivalent");
    expect(result.stderr).toContain("'segment'");
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(work, 'other.onnx'))).toBe(false);
  });
});
