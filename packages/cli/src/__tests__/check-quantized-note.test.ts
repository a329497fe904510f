/**
 * `convert --check` after a quantizing pass: the default tolerance is made for float passes, so quantize-dynamic
 * "fails" it by design. QA s19 (`-p 'simplify,quantize-dynamic' --check` on an LSTM tagger) got the failure and a
 * reproducer with no word on how to check a quantization; the failure now says the model is quantized and how to
 * judge it. A float pass that breaks the tolerance gets no such note.
 */
import { existsSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binPath, repoRoot, spawnCli } from './run-cli.js';

const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const NOTE = /note: the model after 'quantize-dynamic' is quantized: .*--check-dataset SPEC --check-accuracy-budget X\) or with --check=ATOL,RTOL/;

let temp: string;
beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  temp = realpathSync(mkdtempSync(join(tmpdir(), 'modelpass-check-quantized-')));
});
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('convert --check after a quantizing pass', () => {
  it('says the model is quantized and how to check it instead', () => {
    const result = spawnCli(['convert', cnn, '-o', join(temp, 'q.onnx'), '-p', 'quantize-dynamic', '--check', '--reproducer', join(temp, 'repro-q')], temp);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).toContain("pass 'quantize-dynamic' (#1) changed output");
    expect(result.stderr).toMatch(NOTE);
    expect(existsSync(join(temp, 'q.onnx'))).toBe(false);
  });

  it('passes with a tolerance of a few quantization steps, as the note says', () => {
    const result = spawnCli(['convert', cnn, '-o', join(temp, 'q2.onnx'), '-p', 'quantize-dynamic', '--check=0.5,0.5'], temp);
    expect(result.code, result.stderr).toBe(0);
  });

  it('a float pass that breaks the tolerance gets no quantization note', () => {
    const result = spawnCli(['convert', cnn, '-o', join(temp, 'p.onnx'), '-p', 'prune-magnitude{sparsity=0.9}', '--check', '--reproducer', join(temp, 'repro-p')], temp);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stderr).not.toMatch(/is quantized/);
  });
});
