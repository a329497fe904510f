/**
 * `modelpass batch --to tflite` without legalize-tflite in the pipeline: batch adds no format passes
 * (convert does), so every model used to fail after the fact with convert's hint; now it is a usage
 * error before any job runs, naming the pass and a pipeline that works — which then converts.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

describe('modelpass batch across formats', () => {
  it('asks for legalize-tflite up front, and converts with the pipeline it suggests', async () => {
    const work = mkdtempSync(join(tmpdir(), 'batch-formats-'));
    const cnn = join(work, 'cnn.onnx');
    copyFileSync(join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), cnn);
    const out = join(work, 'out');
    mkdirSync(out);
    const refused = await runCli(['batch', '--pipeline', 'simplify', '--to', 'tflite', cnn, '-o', out], work);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("goes from onnx to tflite, but batch adds no format passes (convert does): name legalize-tflite in the pipeline, e.g. --pipeline 'simplify,legalize-tflite'");
    expect(readdirSync(out)).toEqual([]);
    const converted = await runCli(['batch', '--pipeline', 'simplify,legalize-tflite', '--to', 'tflite', cnn, '-o', out], work);
    expect(converted.code).toBe(0);
    expect(readdirSync(out)).toEqual(['cnn.tflite']);
  });
});
