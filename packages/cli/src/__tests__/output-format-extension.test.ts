/**
 * `convert m.onnx -o out.onnx --to tflite` wrote a TFLite flatbuffer named .onnx (QA s10), which every
 * tool, this one included, then reads as ONNX ("not an ONNX model: … TFLite"). An output extension that
 * names another format than --to is a usage error before any work; --to with an extension no format
 * claims still chooses the format.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-output-extension-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');

describe('convert --to against the output extension', () => {
  it('refuses --to tflite for out.onnx (exit 2, nothing written); writes TFLite for an extension no format claims', async () => {
    const contradicted = join(temp, 'out.onnx');
    const refused = await runCli(['convert', cnn, '-o', contradicted, '--to', 'tflite']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--to tflite contradicts the output's extension '.onnx' (onnx)");
    expect(existsSync(contradicted)).toBe(false);
    const plain = join(temp, 'out.bin');
    const written = await runCli(['convert', cnn, '-o', plain, '--to', 'tflite']);
    expect(written.code, written.stderr).toBe(0);
    expect(readFileSync(plain).subarray(4, 8).toString('latin1')).toBe('TFL3');
    const agreeing = await runCli(['convert', cnn, '-o', join(temp, 'same.onnx'), '--to', 'onnx']);
    expect(agreeing.code, agreeing.stderr).toBe(0);
  });
});
