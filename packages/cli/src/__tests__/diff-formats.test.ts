/**
 * `diff m.onnx m.tflite` (a model against its own TFLite conversion): the .tflite side used to stay in the tflite
 * dialect, so no node paired and ONNX Runtime refused it for the tensor comparison ("intermediate tensors not
 * compared: … tflite:RESHAPE(-1) is not a registered function/op", QA s10). Between two formats, diff now raises
 * each model as convert does, so the intermediate tensors are compared.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-diff-formats-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(temp, { recursive: true, force: true });
});
const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');

describe('diff across formats', () => {
  it('raises the .tflite side and compares intermediate tensors in ONNX Runtime', async () => {
    const tflite = join(temp, 'cnn.tflite');
    expect((await runCli(['convert', cnn, '-o', tflite])).code).toBe(0);
    const diff = await runCli(['diff', cnn, tflite, '--json']);
    expect([0, 1]).toContain(diff.code);
    expect(diff.stderr).toContain('running raise-tflite before diffing');
    expect(diff.stderr).not.toContain('intermediate tensors not compared');
    const report = JSON.parse(diff.stdout);
    expect(report.tensors).toBeDefined();
    expect(report.tensors.compared).toBeGreaterThan(0);
  });
});
