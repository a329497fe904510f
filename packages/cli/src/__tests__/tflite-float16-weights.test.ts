/**
 * QA s17 round 14, item 2: `.tflite → .onnx → .tflite` of MediaPipe's face_detection_short_range grew 229,032 → 424,752
 * bytes without a word: raise-tflite folds each DEQUANTIZE of a float16 weight into a float32 constant. Now the fold
 * says so (count and bytes), and `raise-tflite{float16-weights=float16}` keeps the weights float16 behind a Cast, which
 * legalize-tflite stores as float16 behind DEQUANTIZE again. Outputs stay bit-identical: ORT on the two .onnx files,
 * TFLite on the source and the round-tripped file.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readTflite } from '@modelpass/tflite';
import { ensureThirdPartyModels } from '../../../../tools/fixtures/third-party.mjs';
import { spawnCli } from './run-cli.js';

const models = await ensureThirdPartyModels({ format: 'tflite' });
const source = models.find((m) => m.id === 'mediapipe-face-detection-short-range')!.path;
let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'modelpass-tflite-float16-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const size = (path: string) => statSync(path).size;

/** The file's float16 constants read through a DEQUANTIZE, as the reader gives them (the raise is not involved). */
function float16Weights(): { count: number; bytes: number } {
  const model = readTflite(source);
  const weights = model.graph.constants.filter((value) => value.constant!.dtype === 'float16' && [...value.uses].some((use) => use.node?.op === 'tflite.DEQUANTIZE'));
  return { count: weights.length, bytes: weights.reduce((sum, value) => sum + value.constant!.size * 2, 0) };
}

it('raise-tflite says how many float16 weights it stores as float32, and the round trip grows as it says', () => {
  const { count, bytes } = float16Weights();
  expect(count).toBeGreaterThan(0);
  const onnx = join(work, 'a32.onnx');
  const converted = spawnCli(['convert', source, '-o', onnx]);
  expect(converted.code, converted.stderr).toBe(0);
  expect(converted.stderr).toContain(`modelpass: info: raise-tflite: ${count} float16 weights behind DEQUANTIZE (${bytes} bytes) became float32 constants (${bytes * 2} bytes; values exact)`);
  expect(converted.stderr).toContain('hint: raise-tflite{float16-weights=float16} keeps them float16');
  const back = join(work, 'b32.tflite');
  expect(spawnCli(['convert', onnx, '-o', back, '--io-layout', 'nhwc']).code).toBe(0);
  expect(size(back) - size(source)).toBeGreaterThanOrEqual(bytes * 0.9);
}, 180_000);

it('raise-tflite{float16-weights=float16}: float16 in the .onnx and in the round-tripped .tflite, outputs bit-identical', () => {
  const onnx32 = join(work, 'f32.onnx');
  const onnx16 = join(work, 'f16.onnx');
  expect(spawnCli(['convert', source, '-o', onnx32]).code).toBe(0);
  const kept = spawnCli(['convert', source, '-o', onnx16, '-p', 'raise-tflite{float16-weights=float16}']);
  expect(kept.code, kept.stderr).toBe(0);
  expect(kept.stderr).not.toContain('became float32 constants');
  const { bytes } = float16Weights();
  expect(size(onnx32) - size(onnx16)).toBeGreaterThanOrEqual(bytes * 0.9);
  const onnxSame = spawnCli(['compare', onnx32, onnx16, '--atol', '0', '--rtol', '0', '--json']);
  expect(onnxSame.code, onnxSame.stdout + onnxSame.stderr).toBe(0);
  expect(JSON.parse(onnxSame.stdout).verdict).toBe('agree');

  const back = join(work, 'b16.tflite');
  const written = spawnCli(['convert', onnx16, '-o', back, '--io-layout', 'nhwc']);
  expect(written.code, written.stderr).toBe(0);
  expect(size(back)).toBeLessThan(size(source) * 1.05);
  const tfliteSame = spawnCli(['compare', source, back, '--atol', '0', '--rtol', '0', '--json']);
  expect(tfliteSame.code, tfliteSame.stdout + tfliteSame.stderr).toBe(0);
  expect(JSON.parse(tfliteSame.stdout).verdict).toBe('agree');
}, 240_000);
