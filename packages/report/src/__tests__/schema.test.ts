import { readFileSync } from 'node:fs';
import { parseModel, printModel, ModelpassError } from '@modelpass/ir';
import { describe, expect, it } from 'vitest';
import { describeModel, layerTable, REPORT_JSON_SCHEMA, reportProblems, validateReport, type Report } from '@modelpass/report';

// A Conv (8x3x3x3 weight + bias) on a 1x3x8x8 input, a Relu, a Gemm through int8 QDQ weights.
const model = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[1,3,8,8]) {
  const %w = tensor<float32[2,3,1,1]> [1, 0, 2, 0, 0, 3]
  const %b = tensor<float32[2]> [0.5, -0.5]
  const %q = tensor<int8[4,2]> [1, -2, 3, 0, 5, 6, -7, 8]
  const %s = tensor<float32[]> [0.5]
  const %z = tensor<int8[]> [0]
  const %shape = tensor<int64[2]> [1, -1]
  %c: float32[1,2,8,8] = onnx.Conv(%x, %w, %b) {kernel_shape=[1, 1]} name="conv"
  %r: float32[1,2,8,8] = onnx.Relu(%c) name="relu"
  %f: float32[1,128] = onnx.Reshape(%r, %shape) name="flatten"
  %p: float32[1,2] = onnx.Slice(%f, %shape, %shape) name="pick"
  %wd: float32[4,2] = onnx.DequantizeLinear(%q, %s, %z) name="dq"
  %y: float32[1,4] = onnx.MatMul(%p, %wd) name="fc"
  return %y
}
}`);

describe('describeModel', () => {
  const summary = describeModel(model);

  it('counts constant bytes by dtype and by the op reading them, parameters and nodes by op', () => {
    // float32: w 6, b 2, s 1 elements = 36 bytes; int8: q 8 + z 1 = 9 bytes; int64: shape 2 = 16 bytes.
    expect(summary.bytesByDtype).toEqual({ float32: 36, int8: 9, int64: 16 });
    expect(summary.bytes).toBe(61);
    expect(summary.bytesByOp).toEqual({ Conv: 32, DequantizeLinear: 13, Reshape: 16 });
    expect(summary.parameters).toBe(6 + 2 + 8 + 1 + 1 + 2);
    expect(summary.nodes).toBe(6);
    expect(summary.nodesByOp).toEqual({ Conv: 1, Relu: 1, Reshape: 1, Slice: 1, DequantizeLinear: 1, MatMul: 1 });
    expect(summary.graphInputs).toEqual([{ name: 'x', type: 'float32[1,3,8,8]' }]);
    expect(summary.graphOutputs).toEqual([{ name: 'y', type: 'float32[1,4]' }]);
    expect(summary.opsets).toEqual({ onnx: 17 });
  });

  it('counts MatMulNBits weights as the 4-bit values they pack, not as bytes', () => {
    const packed = parseModel(`model ir_version=8 opsets{onnx=17, com.microsoft=1} {
graph @main(%x: float32[1,32]) {
  const %b = tensor<uint8[4,1,16]> hex"${"00".repeat(64)}"
  const %s = tensor<float32[4]> [1, 1, 1, 1]
  %y: float32[1,4] = com.microsoft.MatMulNBits(%x, %b, %s) {K=32, N=4, bits=4, block_size=32} name="fc"
  return %y
}
}`);
    // 4 x 32 weights in 64 bytes, plus 4 scales.
    expect(describeModel(packed).parameters).toBe(4 * 32 + 4);
  });

  it('estimates FLOPs: 2 per MAC plus a bias add per output for Conv, 1 per element for Relu', () => {
    const convMacs = 2 * 8 * 8 * 3; // outputs × (C/group · k · k)
    const matmulMacs = 1 * 4 * 2;
    expect(summary.flopsByOp.Conv).toBe(2 * convMacs + 2 * 8 * 8);
    expect(summary.flopsByOp.Relu).toBe(2 * 8 * 8);
    expect(summary.flopsByOp.MatMul).toBe(2 * matmulMacs);
    expect(summary.macs).toBe(convMacs + matmulMacs);
  });
});

describe('layerTable', () => {
  it('reports sparsity of float weights and QDQ weight quantization with SQNR against the float weight before', () => {
    const before = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[1,2]) {
  const %w = tensor<float32[2,4]> [0.5, -1, 1.5, 0.1, 2.5, 3, -3.5, 4]
  %y: float32[1,4] = onnx.MatMul(%x, %w) name="fc"
  return %y
}
}`);
    const after = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[1,2]) {
  const %q = tensor<int8[2,4]> [1, -2, 3, 0, 5, 6, -7, 8]
  const %s = tensor<float32[]> [0.5]
  const %z = tensor<int8[]> [0]
  %wd: float32[2,4] = onnx.DequantizeLinear(%q, %s, %z) name="dq"
  %y: float32[1,4] = onnx.MatMul(%x, %wd) name="fc"
  return %y
}
}`);
    const [row] = layerTable(after, { before });
    expect(row).toMatchObject({ node: 'fc', op: 'MatMul', weight: 'wd', weightShape: [2, 4], parameters: 8, sparsity: 1 / 8 });
    expect(row!.channels).toEqual({ before: 4, after: 4 });
    expect(row!.quantization).toMatchObject({ dtype: 'int8', bits: 8, scale: [0.5], zeroPoint: [0], scaleCount: 1 });
    // Only 0.1 → 0 differs: noise 0.01, signal Σw² = 0.25+1+2.25+0.01+6.25+9+12.25+16 = 47.01.
    expect(row!.quantization!.sqnrDb).toBeCloseTo(10 * Math.log10(47.01 / 0.01), 4);
    expect(row!.quantization!.cosine).toBeGreaterThan(0.9998);
    // A float weight that does not quantize to these integers (another rewrite changed it first) is not compared.
    const changedFirst = parseModel(printModel(before).replace('[0.5, -1, 1.5, 0.1,', '[0.9, -1, 1.5, 0.1,'));
    const [unmatched] = layerTable(after, { before: changedFirst });
    expect(unmatched!.quantization).toMatchObject({ dtype: 'int8', scale: [0.5] });
    expect(unmatched!.quantization!.sqnrDb).toBeUndefined();
    expect(unmatched!.quantization!.cosine).toBeUndefined();
    const conv = layerTable(model)[0]!;
    expect(conv).toMatchObject({ node: 'conv', sparsity: 3 / 6 });
  });

  it('reports the weight, parameters and sparsity of a sparse initializer (prune-magnitude sparse-initializers=true)', () => {
    const sparse = parseModel(`model ir_version=8 opsets{onnx=17} {
graph @main(%x: float32[1,2]) {
  const %w: float32[2,4] = sparse<dims=[2,4], values=tensor<float32[3]> [1.5, 0, -2], indices=tensor<int64[3]> [1, 4, 6]>
  %y: float32[1,4] = onnx.MatMul(%x, %w) name="fc"
  return %y
}
}`);
    expect(sparse.graph.getValue('w')!.sparseConstant).toBeDefined();
    const [row] = layerTable(sparse);
    // 8 elements, 2 of them nonzero (a stored 0 is still a zero).
    expect(row).toMatchObject({ node: 'fc', op: 'MatMul', weight: 'w', weightShape: [2, 4], parameters: 8, sparsity: 6 / 8 });
    expect(row!.quantization).toBeUndefined();
  });
});

function minimalReport(): Report {
  return {
    schemaVersion: 1,
    tool: { name: 'modelpass', version: '0.1.0' },
    command: 'convert',
    createdAt: new Date(0).toISOString(),
    inputs: [{ role: 'model', path: 'model.onnx', format: 'onnx', bytes: 10 }],
    pipeline: 'simplify',
    passes: [{ index: 1, name: 'simplify', options: {}, timeMs: 1.5, changed: true, statistics: { 'nodes-removed': 2 } }],
    models: { before: describeModel(model), after: describeModel(model) },
    layers: layerTable(model),
  };
}

describe('validateReport', () => {
  it('accepts a report made of describeModel and layerTable output', () => {
    const report = minimalReport();
    expect(validateReport(JSON.parse(JSON.stringify(report)))).toEqual(report);
  });

  it('names every problem with its JSON pointer', () => {
    const broken = { ...minimalReport(), passes: [{ index: 0, name: 'x', options: {}, timeMs: 'slow', changed: true, statistics: {} }], extra: 1 };
    expect(reportProblems(broken)).toEqual(
      expect.arrayContaining(['(report): must NOT have additional properties \'extra\'', '/passes/0/index: must be >= 1', '/passes/0/timeMs: must be number']),
    );
    expect(() => validateReport(broken, 'out.json')).toThrow(ModelpassError);
    expect(() => validateReport({ ...minimalReport(), schemaVersion: 2 })).toThrow(/report schema version 2 is not supported/);
    expect(() => validateReport('text')).toThrow(/not a valid modelpass report/);
  });

  it('ships the same JSON Schema it validates with (npm run schema -w @modelpass/report rewrites the file)', () => {
    const shipped = JSON.parse(readFileSync(new URL('../../schema/report.v1.json', import.meta.url), 'utf8'));
    expect(shipped).toEqual(REPORT_JSON_SCHEMA);
  });
});
