/**
 * --check after quantize-static named a QuantizeLinear as the first diverging node: the pass gives its uint8
 * output the float activation's name, and the codes were compared with the floats (QA s12, densenet-ish:
 * "'Q1' (QuantizeLinear) … max abs 110.3, cosine 0.6527"). Tensors whose dtype changed are not compared now;
 * a note lists them. Also: the location was printed "at at torch_jit/…".
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const cnn = join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx');
const temp = mkdtempSync(join(tmpdir(), 'modelpass-check-retyped-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('--check on quantize-static', () => {
  it('does not compare integer codes with the float tensor of the same name', async () => {
    const output = join(temp, 'never-written.onnx');
    const result = await runCli(['convert', cnn, '-o', output, '--pipeline', 'quantize-static{samples=8}', '--check']);
    expect(result.code, result.stderr).toBe(1);
    expect(existsSync(output)).toBe(false);
    expect(result.stderr).toMatch(/tensor\(s\) keep their name but not their dtype, so their values are not compared: '[^']+' \(float32 → uint8, now from 'Q\d+'\)/);
    expect(result.stderr).not.toMatch(/first diverging node '[^']*' \(QuantizeLinear\)/);
    expect(result.stderr).not.toContain(' at at ');
  }, 120_000);
});
