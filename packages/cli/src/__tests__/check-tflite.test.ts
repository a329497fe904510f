/**
 * `convert m.onnx -o m.tflite --check`: the pass that lowers to the tflite dialect is checked on the
 * TFLite runtime against the original on ONNX Runtime. It used to fail the conversion with "pass
 * 'legalize-tflite' failed: ONNX Runtime rejected model …: tflite:RESHAPE(-1) is not a registered
 * function/op". A zero tolerance shows the check really compares (TFLite's float sums differ from
 * ORT's in the last bits), and then nothing is written.
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-check-tflite-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cnn = join(temp, 'cnn.onnx');
copyFileSync(join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), cnn);

describe('convert --check into TFLite', () => {
  it('checks legalize-tflite on the TFLite runtime and writes the model', async () => {
    const output = join(temp, 'cnn.tflite');
    const result = await runCli(['convert', cnn, '-o', output, '--check']);
    expect(result.stderr).not.toMatch(/error|not a registered function/);
    expect(result.stderr).toMatch(/check #\d+ legalize-tflite: ok — max abs [0-9.e-]+.*\(tflite\)/);
    expect(result.code).toBe(0);
    expect(existsSync(output)).toBe(true);
  });

  it('a difference beyond the tolerance stops the conversion at legalize-tflite, no file written', async () => {
    const output = join(temp, 'exact.tflite');
    const result = await runCli(['convert', cnn, '-o', output, '--check=0,0', '--reproducer', join(temp, 'repro')]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--check: pass 'legalize-tflite' .*changed output 'logits'/);
    expect(existsSync(output)).toBe(false);
  });
});
