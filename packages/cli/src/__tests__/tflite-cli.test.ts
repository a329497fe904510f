/**
 * .tflite through the built CLI: inspect, convert (tflite → tflite, and the refusal to write a
 * custom op as ONNX), compare on the TFLite runtime, and broken files (exit 1, a clear message).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import { binPath, repoRoot, spawnCli } from './run-cli.js';

const models = await ensureThirdPartyModels({ format: 'tflite' });
const path = (id: string) => models.find((m) => m.id === id)!.path;
let work: string;
beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'modelpass-cli-tflite-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('modelpass and .tflite files', () => {
  it('inspects a .tflite model', () => {
    const result = spawnCli(['inspect', path('mediapipe-face-detection-short-range')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('(tflite)');
    expect(result.stdout).toMatch(/tflite\.CONV_2D\s+21/);
    expect(result.stdout).toContain('input: float32[1, 128, 128, 3]');
  });

  it('converts tflite → tflite and compare finds the outputs bit-identical on the TFLite runtime', () => {
    const out = join(work, 'sparse.tflite');
    const source = path('mediapipe-face-detection-full-range-sparse');
    const converted = spawnCli(['convert', source, '-o', out]);
    // The one line: its sparse constants are read dense, so the copy stores them dense (QA s17 round 14).
    expect(converted.stderr).toMatch(/^modelpass: note: '[^\n]*': 46 sparse constants \(\d+ bytes of stored values, their indices aside\) read dense \(\d+ bytes\)[^\n]*\n$/);
    expect(converted.code).toBe(0);
    const compared = spawnCli(['compare', source, out, '--atol', '0', '--rtol', '0', '--json']);
    expect(compared.code).toBe(0);
    const report = JSON.parse(compared.stdout);
    expect(report.verdict).toBe('agree');
    expect(report.engines).toEqual(['tflite', 'tflite']);
    expect(report.maxAbsError).toBe(0);
  });

  it('refuses to write the selfie model\'s custom op as ONNX, naming the op and node, and writes nothing', () => {
    const out = join(work, 'selfie.onnx');
    // --no-legalize: straight to the ONNX writer (without it, raise-tflite refuses it first: tflite-convert-auto.test.ts).
    const result = spawnCli(['convert', path('mediapipe-selfie-segmentation'), '-o', out, '--no-legalize']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("custom op 'Convolution2DTransposeBias' (node 'segment') has no ONNX equivalent");
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    // …while tflite → tflite keeps it.
    const kept = spawnCli(['convert', path('mediapipe-selfie-segmentation'), '-o', join(work, 'selfie.tflite')]);
    expect(kept.code).toBe(0);
    expect(spawnCli(['inspect', join(work, 'selfie.tflite')]).stdout).toMatch(/tflite\.CUSTOM\s+1/);
  });

  it('says the TFLite runtime has no kernel for the custom op when asked to run it', () => {
    const source = path('mediapipe-selfie-segmentation');
    const result = spawnCli(['compare', source, source]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("custom op 'Convolution2DTransposeBias'");
  });

  it('eval and compare take a .tflite made by convert (legalize-tflite): same accuracy as the ONNX model on ORT', () => {
    const onnx = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
    const tflite = join(work, 'cnn.tflite');
    expect(spawnCli(['convert', onnx, '-o', tflite, '--pipeline', 'legalize-tflite']).code).toBe(0);
    const accuracy = (model: string) => JSON.parse(spawnCli(['eval', model, '--dataset', 'fashion-mnist:test', '--limit', '1000', '--json']).stdout);
    const onTflite = accuracy(tflite);
    const onOrt = accuracy(onnx);
    expect(onTflite.engine).toBe('tflite');
    expect(onOrt.engine).toBe('ort');
    expect(onTflite.correct).toBe(onOrt.correct);
    const compared = JSON.parse(spawnCli(['compare', onnx, tflite, '--dim', 'N=4', '--atol', '1e-4', '--json']).stdout);
    expect(compared.engines).toEqual(['ort', 'tflite']);
    expect(compared.verdict).toBe('agree');
  });

  it('reports truncated and hostile files with exit code 1 and no stack trace', () => {
    const bytes = readFileSync(path('mediapipe-face-detection-short-range'));
    const cases: [string, Uint8Array][] = [
      ['truncated.tflite', bytes.subarray(0, 5000)],
      ['root.tflite', Buffer.concat([Buffer.from([0xf0, 0xff, 0xff, 0x7f]), bytes.subarray(4)])],
      ['text.tflite', Buffer.from('not a model at all')],
    ];
    for (const [name, content] of cases) {
      const file = join(work, name);
      writeFileSync(file, content);
      for (const argv of [['inspect', file], ['convert', file, '-o', join(work, `${name}.out.tflite`)]]) {
        const result = spawnCli(argv);
        expect(result.code, `${argv.join(' ')}: ${result.stderr}`).toBe(1);
        expect(result.stderr).toContain(name);
        expect(result.stderr).not.toMatch(/\n\s+at /);
      }
    }
  });
});
