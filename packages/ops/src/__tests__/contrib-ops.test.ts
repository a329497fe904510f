/**
 * The com.microsoft contrib ops (schemas, inference, verify hooks) and the quantized cost rules, on
 * small text-IR models written as the quantize passes write them. ONNX Runtime referees the same
 * models in packages/conformance (contrib-ops-quantized.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { parseModel, verifyModel, type Model } from '@modelpass/ir';
import { analyzeCost, contribOps, createOpRegistry, inferShapes } from '@modelpass/ops';

const registry = createOpRegistry();
/** A constant's text: `tensor<dtype[shape]> [value, value, …]`. */
const filled = (dtype: string, shape: readonly number[], value: number): string =>
  `tensor<${dtype}[${shape.join(',')}]> [${Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => value).join(', ')}]`;
const errors = (model: Model) => verifyModel(model, { registry }).filter((d) => d.severity === 'error');
const codes = (model: Model) => errors(model).map((d) => d.code);

/** x [N,K] · MatMulNBits(K, N=out) with packed B, scales and zero points; `patch` edits the text. */
function nbitsModel(options: { k?: number; n?: number; blockSize?: number; bits?: number; bShape?: string; scales?: string; zeroPoints?: string; bias?: boolean } = {}): Model {
  const { k = 20, n = 6, blockSize = 16, bits = 4 } = options;
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  const bShape = options.bShape ?? `${n},${blocks},${blob}`;
  const bCount = bShape.split(',').reduce((a, b) => a * Number(b), 1);
  const scales = options.scales ?? `${n * blocks}`;
  const scaleCount = scales.split(',').reduce((a, b) => a * Number(b), 1);
  const zp = options.zeroPoints ?? `${n * Math.ceil((blocks * bits) / 8)}`;
  const zpCount = zp.split(',').reduce((a, b) => a * Number(b), 1);
  const fill = (count: number, value: number) => Array.from({ length: count }, () => value).join(', ');
  return parseModel(`model ir_version=8 opsets{onnx=13, com.microsoft=1} {
graph @main(%x: float32[N,${k}]) {
  const %b = tensor<uint8[${bShape}]> [${fill(bCount, 136)}]
  const %s = tensor<float32[${scales}]> [${fill(scaleCount, 0.5)}]
  const %z = tensor<uint8[${zp}]> [${fill(zpCount, 136)}]
  ${options.bias ? `const %bias = tensor<float32[${n}]> [${fill(n, 1)}]` : ''}
  %y: float32[N,${n}] = com.microsoft.MatMulNBits(%x, %b, %s, %z${options.bias ? ', null, %bias' : ''}) {K=${k}, N=${n}, bits=${bits}, block_size=${blockSize}} name="fc_Q4"
  return %y
}
}`);
}

describe('com.microsoft contrib ops', () => {
  it('are registered under their dialect with typed attributes, and other com.microsoft ops stay opaque', () => {
    expect(contribOps.map((op) => op.schema.op).sort()).toEqual(
      ['DynamicQuantizeMatMul', 'GatherBlockQuantized', 'Inverse', 'MatMulIntegerToFloat', 'MatMulNBits', 'QGemm', 'QLinearAdd', 'QLinearAveragePool', 'QLinearConcat', 'QLinearGlobalAveragePool', 'QLinearLeakyRelu', 'QLinearMul', 'QLinearSigmoid', 'QLinearSoftmax'].map((op) => `com.microsoft.${op}`),
    );
    expect(registry.isOpenDialect('com.microsoft')).toBe(true);
    expect(registry.clone().isOpenDialect('com.microsoft')).toBe(true);
    const model = parseModel(`model opsets{onnx=13, com.microsoft=1} {
graph @main(%x: float32[1,4]) {
  %y: float32[1,4] = com.microsoft.FastGelu(%x) name="gelu"
  %z: float32[1,4] = onnx.Frobnicate(%y) name="frob"
  return %z
}
}`);
    const found = errors(model);
    expect(found.map((d) => [d.code, d.location?.node])).toEqual([['verify/unknown-op', 'frob']]);
  });

  /** ids [B,S] → GatherBlockQuantized of a packed 4-bit [V=6, D=48] table, blocks of 32 along D. */
  function gatherModel(options: { dataShape?: string; scales?: string; blockSize?: number; bits?: number } = {}): Model {
    const { dataShape = '6,24', scales = '6,2', blockSize = 32, bits = 4 } = options;
    const count = (shape: string) => shape.split(',').reduce((a, b) => a * Number(b), 1);
    const fill = (n: number, v: number) => Array.from({ length: n }, () => v).join(', ');
    return parseModel(`model ir_version=8 opsets{onnx=13, com.microsoft=1} {
graph @main(%ids: int64[B,S]) {
  const %t = tensor<uint8[${dataShape}]> [${fill(count(dataShape), 136)}]
  const %s = tensor<float32[${scales}]> [${fill(count(scales), 0.5)}]
  %y: float32[B,S,48] = com.microsoft.GatherBlockQuantized(%t, %ids, %s) {bits=${bits}, block_size=${blockSize}, gather_axis=0, quantize_axis=1} name="embed_Q4"
  return %y
}
}`);
  }

  it('GatherBlockQuantized as quantize-weights writes it verifies cleanly and infers ids.shape + [D] with D unpacked', () => {
    const model = gatherModel();
    expect(errors(model)).toEqual([]);
    const node = [...model.graph.nodes()][0]!;
    expect(registry.inferNode(node, model)).toEqual([{ kind: 'tensor', dtype: 'float32', shape: ['B', 'S', 48] }]);
  });

  it.each([
    { what: 'scales for another block count', options: { scales: '6,3' }, code: 'ops/gather-block-quantized-scales' },
    { what: 'scales of another rank', options: { scales: '12' }, code: 'ops/gather-block-quantized-scales' },
    { what: 'a block size under 16', options: { blockSize: 8, scales: '6,6' }, code: 'ops/gather-block-quantized-block-size' },
    { what: 'bits=2', options: { bits: 2 }, code: 'ops/gather-block-quantized-bits' },
  ])('a malformed GatherBlockQuantized ($what) gets a located error', ({ options, code }) => {
    const found = errors(gatherModel(options)).filter((d) => d.code === code);
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]!.location?.node).toBe('embed_Q4');
  });

  it('MatMulNBits as quantize-weights writes it verifies cleanly and infers [..., N]', () => {
    const model = nbitsModel({ bias: true });
    expect(errors(model)).toEqual([]);
    const node = [...model.graph.nodes()][0]!;
    expect(registry.inferNode(node, model)).toEqual([{ kind: 'tensor', dtype: 'float32', shape: ['N', 6] }]);
    // scales and zero points may also be written 2-D, as ORT's docs show them
    expect(errors(nbitsModel({ scales: '6,2', zeroPoints: '6,1' }))).toEqual([]);
  });

  it.each([
    { what: 'A whose last dim is not K', model: () => nbitsModel({ k: 20 }), patch: (m: Model) => m.graph.inputs[0]!.type = { kind: 'tensor', dtype: 'float32', shape: ['N', 24] }, code: 'ops/matmul-nbits-k' },
    { what: 'a block size that is not a power of two', model: () => nbitsModel({ blockSize: 24, bShape: '6,1,12', scales: '6', zeroPoints: '6' }), code: 'ops/matmul-nbits-block-size' },
    { what: 'a block size under 16', model: () => nbitsModel({ blockSize: 8, bShape: '6,3,4', scales: '18', zeroPoints: '12' }), code: 'ops/matmul-nbits-block-size' },
    { what: 'B packed for another block size', model: () => nbitsModel({ bShape: '6,1,16' }), code: 'ops/matmul-nbits-shape' },
    { what: 'B packed flat', model: () => nbitsModel({ bShape: '96' }), code: 'ops/matmul-nbits-shape' },
    { what: 'one scale per row instead of per block', model: () => nbitsModel({ scales: '6' }), code: 'ops/matmul-nbits-shape' },
    { what: 'zero points unpacked as uint8', model: () => nbitsModel({ zeroPoints: '12' }), code: 'ops/matmul-nbits-shape' },
  ])('a malformed MatMulNBits ($what) gets a located error', ({ model, patch, code }) => {
    const m = model();
    patch?.(m);
    const found = errors(m).filter((d) => d.code === code);
    expect(found.length).toBeGreaterThan(0);
    expect(found[0]!.location?.node).toBe('fc_Q4');
    expect(found[0]!.expected).toBeTruthy();
  });

  it('QOperator ops: inference, type constraints and QLinearConcat operands', () => {
    const model = parseModel(`model opsets{onnx=13, com.microsoft=1} {
graph @main(%x: uint8[N,8,6,6], %w: int8[4,8]) {
  const %s = ${filled('float32', [], 0.1)}
  const %z = ${filled('uint8', [], 128)}
  const %wz = ${filled('int8', [], 0)}
  %a: uint8[N,8,6,6] = com.microsoft.QLinearAdd(%x, %s, %z, %x, %s, %z, %s, %z) name="add"
  %p: uint8[N,8,3,3] = com.microsoft.QLinearAveragePool(%a, %s, %z, %s, %z) {kernel_shape=[2, 2], strides=[2, 2]} name="pool"
  %g: uint8[N,8,1,1] = com.microsoft.QLinearGlobalAveragePool(%p, %s, %z, %s, %z) {channels_last=0} name="gap"
  %c: uint8[N,16,1,1] = com.microsoft.QLinearConcat(%s, %z, %g, %s, %z, %g, %s, %z) {axis=1} name="cat"
  %f: uint8[N,16] = onnx.Flatten(%c) name="flat"
  %q: float32[N,4] = com.microsoft.QGemm(%f, %s, %z, %w, %s, %wz) {transB=1} name="fc"
  return %q
}
}`);
    expect(errors(model).map((d) => `${d.code} ${d.reason}`)).toEqual([
      // QGemm: K is 16 for A but B (transB) has 8 columns: the float Gemm would be refused too
      expect.stringContaining('ops/gemm-inner-dim'),
    ]);
    const cat = [...model.graph.nodes()].find((n) => n.name === 'cat')!;
    cat.setInputs([...cat.inputs.slice(0, 7)]);
    expect(codes(model)).toContain('ops/qlinear-concat-operands');
  });

  it('type constraints: a float input to QLinearAdd and an int8 scale are located errors', () => {
    const model = parseModel(`model opsets{onnx=13, com.microsoft=1} {
graph @main(%x: float32[2,3]) {
  const %s = ${filled('float32', [], 0.1)}
  const %bad = ${filled('int8', [], 1)}
  const %z = ${filled('uint8', [], 128)}
  %a: uint8[2,3] = com.microsoft.QLinearAdd(%x, %s, %z, %x, %bad, %z, %s, %z) name="add"
  return %a
}
}`);
    const found = errors(model).filter((d) => d.code === 'ops/type-constraint');
    expect(found.map((d) => d.actual)).toEqual(expect.arrayContaining(['float32', 'int8']));
    expect(found.every((d) => d.location?.node === 'add')).toBe(true);
  });

  it('inferShapes runs through the contrib ops', () => {
    const model = nbitsModel();
    model.graph.outputs[0]!.type = { kind: 'tensor', dtype: 'float32', shape: null };
    const { diagnostics } = inferShapes(model, { mode: 'refresh' });
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });
});

describe('cost of quantized ops', () => {
  it('MatMulNBits counts like the MatMul it replaces; a bias adds one FLOP per output', () => {
    const cost = analyzeCost(nbitsModel({ k: 64, n: 10, bias: true }), { dims: { N: 8 } });
    expect(cost.layers).toEqual([{ node: 'fc_Q4', op: 'com.microsoft.MatMulNBits', macs: 8 * 10 * 64, flops: 2 * 8 * 10 * 64 + 80, parameters: expect.any(Number) }]);
    expect(cost.uncounted).toEqual([]);
  });

  it('counts layers whose declared intermediate types carry the batch symbol (as passes leave them)', () => {
    const model = parseModel(`model opsets{onnx=13, com.microsoft=1} {
graph @main(%x: float32[N,32]) {
  const %b = ${filled('uint8', [4, 1, 16], 136)}
  const %s = ${filled('float32', [4], 0.5)}
  %h: float32[N,4] = com.microsoft.MatMulNBits(%x, %b, %s) {K=32, N=4, bits=4, block_size=32} name="fc"
  %r: float32[N,4] = onnx.Relu(%h) name="relu"
  return %r
}
}`);
    expect(errors(model)).toEqual([]);
    const cost = analyzeCost(model, { dims: { N: 3 } });
    expect(cost.uncounted).toEqual([]);
    expect(cost.macs).toBe(3 * 4 * 32);
    expect(cost.flops).toBe(2 * 3 * 4 * 32 + 3 * 4);
    expect(model.graph.getValue('h')!.type).toEqual({ kind: 'tensor', dtype: 'float32', shape: ['N', 4] }); // put back
  });

  it('QLinearConv and ConvInteger count like Conv; QGemm like Gemm; QLinearMatMul and MatMulIntegerToFloat like MatMul', () => {
    const floatModel = parseModel(`model opsets{onnx=13} {
graph @main(%x: float32[N,3,8,8]) {
  const %w = ${filled('float32', [4,3,3,3], 0.5)}
  const %b = ${filled('float32', [4], 0.5)}
  const %fw = ${filled('float32', [4,144], 0.5)}
  const %m = ${filled('float32', [144,5], 0.5)}
  %c: float32[N,4,6,6] = onnx.Conv(%x, %w, %b) {kernel_shape=[3, 3]} name="conv"
  %f: float32[N,144] = onnx.Flatten(%c) name="flat"
  %g: float32[N,4] = onnx.Gemm(%f, %fw) {transB=1} name="gemm"
  %mm: float32[N,5] = onnx.MatMul(%f, %m) name="matmul"
  return %g, %mm
}
}`);
    const quantized = parseModel(`model opsets{onnx=13, com.microsoft=1} {
graph @main(%x: uint8[N,3,8,8]) {
  const %w = ${filled('int8', [4,3,3,3], 1)}
  const %b = ${filled('int32', [4], 1)}
  const %fw = ${filled('int8', [4,144], 1)}
  const %m = ${filled('int8', [144,5], 1)}
  const %s = ${filled('float32', [], 0.1)}
  const %z = ${filled('uint8', [], 128)}
  const %wz = ${filled('int8', [], 0)}
  %c: uint8[N,4,6,6] = onnx.QLinearConv(%x, %s, %z, %w, %s, %wz, %s, %z, %b) {kernel_shape=[3, 3]} name="conv"
  %ci: int32[N,4,6,6] = onnx.ConvInteger(%x, %w, %z, %wz) {kernel_shape=[3, 3]} name="conv_integer"
  %f: uint8[N,144] = onnx.Flatten(%c) name="flat"
  %g: float32[N,4] = com.microsoft.QGemm(%f, %s, %z, %fw, %s, %wz) {transB=1} name="gemm"
  %mm: float32[N,5] = com.microsoft.MatMulIntegerToFloat(%f, %m, %s, %s, %z, %wz) name="matmul"
  %ql: uint8[N,5] = onnx.QLinearMatMul(%f, %s, %z, %m, %s, %wz, %s, %z) name="qlinear_matmul"
  return %g, %mm, %ci, %ql
}
}`);
    expect(errors(quantized)).toEqual([]);
    const f = Object.fromEntries(analyzeCost(floatModel, { dims: { N: 2 } }).layers.map((l) => [l.node, l]));
    const q = Object.fromEntries(analyzeCost(quantized, { dims: { N: 2 } }).layers.map((l) => [l.node, l]));
    expect(q.conv).toMatchObject({ macs: f.conv!.macs, flops: f.conv!.flops });
    expect(q.conv_integer!.macs).toBe(f.conv!.macs);
    expect(q.conv_integer!.flops).toBe(f.conv!.flops - 2 * 4 * 36); // no bias
    expect(q.gemm).toMatchObject({ macs: f.gemm!.macs, flops: f.gemm!.flops });
    expect(q.matmul).toMatchObject({ macs: f.matmul!.macs, flops: f.matmul!.flops });
    expect(q.qlinear_matmul).toMatchObject({ macs: f.matmul!.macs, flops: f.matmul!.flops });
    expect(f.conv!.macs).toBe(2 * 4 * 36 * 27);
  });
});
