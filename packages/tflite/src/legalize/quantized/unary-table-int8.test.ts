/**
 * unary-table-int8.ts: a chain of int8 elementwise ops that reads one int8 value along two paths (HardSwish as
 * x·relu6(x+3)/6, x·x, SiLU x·sigmoid(x)) becomes CAST → GATHER of a 256-code table; what is not such a chain keeps its int8 kernels.
 * Between two NHWC convolutions the table lookup adds no TRANSPOSE (sinkTransposes lets a transpose of the indices
 * of a rank-1 table through the Gather). Agreement with ONNX Runtime: conformance/…/tflite-int8-hardswish-table.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { transformPasses } from '@modelpass/transforms';
import { registerTfliteDialect, tflitePasses } from '../../index.js';

async function legalize(model: Model): Promise<string[]> {
  const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(tflitePasses, '@modelpass/tflite');
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment, instrumentations: [statistics] }).run(model, 'legalize-tflite{full-integer=true}');
  expect(new Map(statistics.get('legalize-tflite') ?? []).get('float-ops-in-int8-model')).toBe(0);
  return model.graph.nodeList().map((node) => `${node.op.slice(7)}(${(node.inputs[0]?.type as { dtype?: string } | undefined)?.dtype})`);
}

function qdq(b: GraphBuilder, value: Value, scale: number, zeroPoint: number): Value {
  const s = b.constant(Tensor.scalar('float32', Math.fround(scale)));
  const z = b.constant(Tensor.scalar('uint8', zeroPoint));
  return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z]), s, z]);
}

/** A scalar constant as code 255 of a uint8 DequantizeLinear (its real is `value`). */
function scalar(b: GraphBuilder, value: number): Value {
  return b.op1('onnx.DequantizeLinear', [b.constant(Tensor.scalar('uint8', 255)), b.constant(Tensor.scalar('float32', Math.fround(value / 255))), b.constant(Tensor.scalar('uint8', 0))]);
}

/** x·relu6(x+3)/6 on `x`, each step quantized as quantize-static writes it. */
function hardSwish(b: GraphBuilder, x: Value): Value {
  const shifted = qdq(b, b.op1('onnx.Add', [x, scalar(b, 3)]), 6 / 255, 0);
  const product = qdq(b, b.op1('onnx.Mul', [x, shifted]), 0.17, 13);
  return qdq(b, b.op1('onnx.Mul', [product, scalar(b, 1 / 6)]), 0.029, 13);
}

function conv(b: GraphBuilder, x: Value, seed: number): Value {
  const codes = b.constant(Tensor.fromValues('int8', [4, 4, 1, 1], Array.from({ length: 16 }, (_, i) => Math.round(100 * Math.sin(seed + i)))));
  const weights = b.op1('onnx.DequantizeLinear', [codes, b.constant(Tensor.scalar('float32', 0.01)), b.constant(Tensor.scalar('int8', 0))]);
  return qdq(b, b.op1('onnx.Conv', [x, weights]), 0.05, 127);
}

describe('int8 chains on one value → a 256-code GATHER', () => {
  it('HardSwish between two convolutions: CAST, GATHER, no ADD/MUL, and no TRANSPOSE beyond the input and output ones', async () => {
    const b = new GraphBuilder();
    const x = qdq(b, b.input('x', tensorType('float32', [1, 4, 6, 6])), 0.02, 128);
    b.output(conv(b, hardSwish(b, conv(b, x, 1)), 2));
    const ops = await legalize(b.model({ onnx: 13 }));
    expect(ops).toContain('CAST(int8)');
    expect(ops).toContain('GATHER(int8)');
    expect(ops.filter((op) => op.startsWith('ADD') || op.startsWith('MUL'))).toEqual([]);
    expect(ops.filter((op) => op.startsWith('TRANSPOSE'))).toEqual(['TRANSPOSE(int8)', 'TRANSPOSE(int8)']);
  });

  it('x·x (one Mul reading x twice) becomes a table; a lone Add of a constant stays ADD', async () => {
    const b = new GraphBuilder();
    const x = qdq(b, b.input('x', tensorType('float32', [1, 8])), 0.02, 128);
    b.output(qdq(b, b.op1('onnx.Add', [qdq(b, b.op1('onnx.Mul', [x, x]), 0.01, 0), scalar(b, 0.5)]), 0.02, 0));
    const ops = await legalize(b.model({ onnx: 13 }));
    // Mul(x, x) and the Add after it are one chain on x: both in the table.
    expect(ops.filter((op) => op.startsWith('GATHER') || op.startsWith('MUL') || op.startsWith('ADD'))).toEqual(['GATHER(int8)']);

    const lone = new GraphBuilder();
    const y = qdq(lone, lone.input('x', tensorType('float32', [1, 8])), 0.02, 128);
    lone.output(qdq(lone, lone.op1('onnx.Add', [y, scalar(lone, 3)]), 6 / 255, 0));
    expect((await legalize(lone.model({ onnx: 13 }))).filter((op) => op.startsWith('GATHER') || op.startsWith('ADD'))).toEqual(['ADD(int8)']);
  });

  it('SiLU x·sigmoid(x) (the Sigmoid quantized on its calibrated range, as quantize-static{full-integer=true} writes it) becomes a table; an SE gate (sigmoid of another value) keeps LOGISTIC + MUL', async () => {
    const b = new GraphBuilder();
    const x = qdq(b, b.input('x', tensorType('float32', [1, 4, 6, 6])), 0.04, 120);
    const gate = qdq(b, b.op1('onnx.Sigmoid', [x]), 0.0028, 0);
    b.output(qdq(b, b.op1('onnx.Mul', [x, gate]), 0.03, 10));
    const ops = await legalize(b.model({ onnx: 13 }));
    expect(ops.filter((op) => /^(GATHER|MUL|LOGISTIC)/.test(op))).toEqual(['GATHER(int8)']);

    const se = new GraphBuilder();
    const features = qdq(se, se.input('x', tensorType('float32', [1, 4, 6, 6])), 0.04, 120);
    const pooled = qdq(se, se.op1('onnx.GlobalAveragePool', [features]), 0.03, 128);
    const scale = qdq(se, se.op1('onnx.Sigmoid', [pooled]), 0.0028, 0);
    se.output(qdq(se, se.op1('onnx.Mul', [features, scale]), 0.03, 10));
    expect((await legalize(se.model({ onnx: 13 }))).filter((op) => /^(GATHER|MUL|LOGISTIC)/.test(op))).toEqual(['LOGISTIC(int8)', 'MUL(int8)']);
  });

  it('a chain whose inner value is also read outside it keeps its int8 ops', async () => {
    const b = new GraphBuilder();
    const x = qdq(b, b.input('x', tensorType('float32', [1, 8])), 0.02, 128);
    const shifted = qdq(b, b.op1('onnx.Add', [x, scalar(b, 3)]), 6 / 255, 0);
    b.output(qdq(b, b.op1('onnx.Mul', [x, shifted]), 0.17, 13));
    b.output(shifted);
    const ops = await legalize(b.model({ onnx: 13 }));
    expect(ops).not.toContain('GATHER(int8)');
    expect(ops).toContain('MUL(int8)');
  });
});
