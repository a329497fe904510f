/**
 * format=qoperator: the lowered QDQ groups become QLinearConv / QGemm / MatMulIntegerToFloat /
 * QLinearMatMul (and uint8 MaxPool, integer Flatten/Reshape), with QuantizeLinear/DequantizeLinear
 * only at the float boundaries. Checked by ONNX's checker and run in ONNX Runtime on the 10k test
 * images: accuracy within 0.3 pp of fp32, as the QDQ form.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeOnnx } from '@modelpass/onnx';
import { checkWithOnnx, fixturePath, readFixture, requireReferees, runPipeline, testAccuracy } from './static-helpers.js';

describe('quantize-static{format=qoperator}', () => {
  const dir = mkdtempSync(join(tmpdir(), 'quantize-static-qop-'));
  it.each([
    // conv1 (1 input channel × 3×3) stays float by min-conv-reduction (cost-rules.ts).
    { name: 'fashion-cnn', expected: ['onnx.QLinearConv', 'onnx.MaxPool', 'com.microsoft.QGemm'], floatConvs: ['/conv1/Conv'] },
    { name: 'fashion-transformer-opset17', expected: ['com.microsoft.MatMulIntegerToFloat', 'onnx.QLinearMatMul'], floatConvs: [] },
  ])('$name runs in ORT within 0.3 pp of fp32', async ({ name, expected, floatConvs }) => {
    requireReferees();
    const model = readFixture(name);
    const ownNames = new Set([...model.graph.nodes()].map((node) => node.name));
    await runPipeline(model, 'simplify,quantize-static{dataset=fashion-mnist:train samples=256 format=qoperator}');
    const ops = [...model.graph.nodes()].map((node) => node.op);
    // An integer node is the model's node in integer form: it keeps that node's name (no `_quant` suffix).
    const integerNodes = [...model.graph.nodes()].filter((node) => /QLinear|QGemm|MatMulIntegerToFloat/.test(node.op));
    expect(integerNodes.length).toBeGreaterThan(0);
    for (const node of integerNodes) expect(ownNames, `${node.op} '${node.name}'`).toContain(node.name);
    for (const op of expected) expect(ops).toContain(op);
    expect([...model.graph.nodesOf('onnx.Conv')].map((node) => node.name)).toEqual(floatConvs);
    expect(ops).not.toContain('onnx.Gemm');
    // Q/DQ only where float ops meet integer ones: every DequantizeLinear feeds a float op.
    for (const node of model.graph.nodesOf('onnx.DequantizeLinear')) {
      for (const user of node.output(0).users) expect(['onnx.QLinearConv', 'onnx.QLinearMatMul', 'com.microsoft.QGemm']).not.toContain(user.op);
    }
    const out = join(dir, `${name}.qop.onnx`);
    writeOnnx(model, out);
    checkWithOnnx(out);
    const fp32 = await testAccuracy(fixturePath(name));
    const int8 = await testAccuracy(out);
    console.log(`${name} qoperator: fp32 ${(fp32 * 100).toFixed(2)}% int8 ${(int8 * 100).toFixed(2)}%`, ops.filter((op) => !op.startsWith('onnx.') || op.includes('QLinear')).join(' '));
    expect(Math.abs(fp32 - int8) * 100).toBeLessThanOrEqual(0.3);
  }, 300_000);
});
