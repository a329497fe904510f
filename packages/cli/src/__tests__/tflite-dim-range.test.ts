/**
 * A graph input whose static dim TFLite cannot store (over 2^31 - 1; shapes are int32) — from `--input-shape` or
 * declared in the file — converted to .tflite: legalize-tflite computed the int32 RESHAPE shapes of such a model,
 * which wrapped (4000000000 → -294967296), and convert stopped with "pass 'legalize-tflite' left the IR invalid"
 * and a crash reproducer (QA s18 round 16). It is refused before any pass, naming the input, the axis and the dim.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, runCli } from './run-cli.js';

const temp = mkdtempSync(join(tmpdir(), 'modelpass-tflite-dim-range-'));
const declared = join(temp, 'declared.onnx');
afterAll(() => rmSync(temp, { recursive: true, force: true }));

beforeAll(() => {
  // x [3000000000, 4] → Relu → Flatten, written by ONNX's own helper (python3-onnx).
  const script = [
    'import sys, onnx',
    'from onnx import helper, TensorProto',
    "nodes = [helper.make_node('Relu', ['x'], ['r']), helper.make_node('Flatten', ['r'], ['y'], axis=0)]",
    "g = helper.make_graph(nodes, 'g', [helper.make_tensor_value_info('x', TensorProto.FLOAT, [3000000000, 4])], [helper.make_tensor_value_info('y', TensorProto.FLOAT, None)])",
    "onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]), sys.argv[1])",
  ].join('\n');
  execFileSync('/usr/bin/python3', ['-c', script, declared], { stdio: 'ignore', timeout: 120_000 });
}, 120_000);

describe('convert to TFLite with an input dim over int32', () => {
  it('refuses --input-shape input=4000000000,1,28,28 naming the input and the dim, with no reproducer and no file', async () => {
    const output = join(temp, 'huge.tflite');
    const result = await runCli(['convert', join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), '-o', output, '--input-shape', 'input=4000000000,1,28,28']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("input 'input' has dim 4000000000 at axis 0 ([4000000000,1,28,28]); TFLite stores tensor shapes as int32");
    expect(result.stderr).not.toMatch(/reproducer|left the IR invalid|-294967296/);
    expect(existsSync(output)).toBe(false);
  });

  it('refuses a dim the file declares; 2147483647 itself and other outputs are not refused by this check', async () => {
    const refused = await runCli(['convert', declared, '-o', join(temp, 'declared.tflite')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("input 'x' has dim 3000000000 at axis 0");
    const onnx = await runCli(['convert', declared, '-o', join(temp, 'declared.out.onnx')]);
    expect(onnx.code).toBe(0);
    const largest = await runCli(['convert', join(repoRoot, 'fixtures/models/fashion-cnn/model.onnx'), '-o', join(temp, 'largest.tflite'), '--input-shape', 'input=2147483647,1,28,28']);
    expect(largest.stderr).not.toContain('TFLite stores tensor shapes as int32');
  });
});
