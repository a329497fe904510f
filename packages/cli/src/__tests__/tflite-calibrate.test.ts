/**
 * Calibrating a .tflite (issue 12 item 6, audit s14): `convert m.tflite -o q.tflite -p 'raise-tflite,quantize-static{…}'`
 * — what quantize-static's own hint says to write — ends with legalize-tflite added by convert, so the int8 model is
 * written as TFLite instead of being refused for its canonical ops ("cannot write … as TFLite: 31 problems").
 */
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readTflite } from '@modelpass/tflite';
import { binPath, repoRoot, spawnCli } from './run-cli.js';

let work: string;
beforeAll(() => {
  expect(existsSync(binPath), `${binPath} is missing: build the CLI first (npx nx run @modelpass/cli:build)`).toBe(true);
  work = mkdtempSync(join(tmpdir(), 'modelpass-cli-tflite-calibrate-'));
  copyFileSync(join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), join(work, 'm.onnx'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('convert of a .tflite through a pipeline that raises it', () => {
  it("-p 'raise-tflite,quantize-static{…}' to .tflite adds legalize-tflite last and writes an int8 .tflite", () => {
    expect(spawnCli(['convert', 'm.onnx', '-o', 'm.tflite'], work).code).toBe(0);
    const quantized = spawnCli(['convert', 'm.tflite', '-o', 'q.tflite', '-p', 'raise-tflite,quantize-static{dataset=fashion-mnist:train samples=32}'], work);
    expect(quantized.code, quantized.stderr).toBe(0);
    expect(quantized.stderr).toContain('tflite → tflite: running legalize-tflite after the pipeline');
    const model = readTflite(join(work, 'q.tflite'));
    const int8Convs = model.graph.nodeList().filter((node) => node.op === 'tflite.CONV_2D' && node.inputs[0]!.type.kind === 'tensor' && node.inputs[0]!.type.dtype === 'int8');
    expect(int8Convs.length).toBeGreaterThan(0);
    const evaluated = spawnCli(['eval', 'q.tflite', '--dataset', 'fashion-mnist:test', '--limit', '500', '--json'], work);
    expect(evaluated.code, evaluated.stderr).toBe(0);
    expect(JSON.parse(evaluated.stdout).accuracy).toBeGreaterThan(0.8);
  });

  it('a pipeline on a .tflite that does not raise it gets nothing added, and one naming legalize-tflite itself gets no second one', () => {
    const plain = spawnCli(['convert', 'm.tflite', '-o', 'p.tflite', '-p', 'dce'], work);
    expect(plain.code, plain.stderr).toBe(0);
    expect(plain.stderr).not.toContain('running legalize-tflite');
    const explicit = spawnCli(['convert', 'm.tflite', '-o', 'e.tflite', '-p', 'raise-tflite,legalize-tflite'], work);
    expect(explicit.code, explicit.stderr).toBe(0);
    expect(explicit.stderr).not.toContain('running legalize-tflite');
  });
});
