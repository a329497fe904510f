/**
 * The int8 forms of a quantized transformer's float patterns (composites-int8.ts, shared-integers.ts):
 * - an erf-GELU between DQ(x) and Q(y) becomes GELU on int8 — also when its constants (√2, 1, 0.5) are themselves
 *   quantized (read through DequantizeLinear: the matcher reads their reals, not their codes; it did not match);
 * - Reciprocal(Sqrt(v)) between DQ(v) and Q(r) becomes RSQRT on int8;
 * - one integer constant that several DequantizeLinear nodes read with different scales (compact-qdq's shared `255`)
 *   stays quantized for each (it became a float constant, which full-integer=true refused).
 * legalize-tflite{full-integer=true} converts each with no float op.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { PassEnvironment, PassManager, StatisticsInstrumentation } from '@modelpass/pass-manager';
import { transformPasses } from '@modelpass/transforms';
import { registerTfliteDialect, tflitePasses } from '../../index.js';

async function legalize(model: Model): Promise<Map<string, number>> {
  const environment = new PassEnvironment({ ops: registerTfliteDialect(createOpRegistry()) });
  environment.passes.register(transformPasses, '@modelpass/transforms');
  environment.passes.register(tflitePasses, '@modelpass/tflite');
  const statistics = new StatisticsInstrumentation();
  await new PassManager({ environment, instrumentations: [statistics] }).run(model, 'legalize-tflite{full-integer=true}');
  return new Map(statistics.get('legalize-tflite') ?? []);
}

function qdq(b: GraphBuilder, value: Value, scale: number, zeroPoint: number, name: string): Value {
  const s = b.constant(Tensor.scalar('float32', Math.fround(scale)));
  const z = b.constant(Tensor.scalar('int8', zeroPoint));
  return b.op1('onnx.DequantizeLinear', [b.op1('onnx.QuantizeLinear', [value, s, z], {}, { name: `${name}_q` }), s, z], {}, { name: `${name}_dq` });
}

/** A scalar constant stored as int8 code 127 behind a DequantizeLinear of scale value/127 (its real is `value`). */
function quantizedScalar(b: GraphBuilder, value: number, integers?: Value): Value {
  const codes = integers ?? b.constant(Tensor.scalar('int8', 127));
  return b.op1('onnx.DequantizeLinear', [codes, b.constant(Tensor.scalar('float32', Math.fround(value / 127))), b.constant(Tensor.scalar('int8', 0))]);
}

const opsOf = (model: Model) => model.graph.nodeList().map((node) => `${node.op.slice(7)}(${(node.inputs[0]?.type as { dtype?: string } | undefined)?.dtype})`);

describe('quantized composites → int8 TFLite ops', () => {
  for (const constants of ['float', 'quantized'] as const) {
    it(`erf-GELU between DQ and Q with ${constants} constants → GELU int8`, async () => {
      const b = new GraphBuilder();
      const x = qdq(b, b.input('x', tensorType('float32', [1, 8])), 0.03, 0, 'x');
      const c = (v: number) => (constants === 'float' ? b.constant(Tensor.scalar('float32', v)) : quantizedScalar(b, v));
      const erf = b.op1('onnx.Erf', [b.op1('onnx.Div', [x, c(Math.SQRT2)])]);
      const y = b.op1('onnx.Mul', [b.op1('onnx.Mul', [x, b.op1('onnx.Add', [erf, c(1)])]), c(0.5)]);
      b.output(qdq(b, y, 0.02, -100, 'y'));
      const model = b.model({ onnx: 13 });
      const statistics = await legalize(model);
      expect(statistics.get('float-ops-in-int8-model')).toBe(0);
      expect(opsOf(model)).toEqual(['QUANTIZE(float32)', 'GELU(int8)', 'DEQUANTIZE(int8)']);
    });
  }

  it('Reciprocal(Sqrt(v)) between DQ and Q → RSQRT int8', async () => {
    const b = new GraphBuilder();
    const v = qdq(b, b.input('v', tensorType('float32', [1, 8])), 0.02, -128, 'v');
    b.output(qdq(b, b.op1('onnx.Reciprocal', [b.op1('onnx.Sqrt', [v])]), 0.05, -128, 'r'));
    const model = b.model({ onnx: 13 });
    expect((await legalize(model)).get('float-ops-in-int8-model')).toBe(0);
    expect(opsOf(model)).toEqual(['QUANTIZE(float32)', 'RSQRT(int8)', 'DEQUANTIZE(int8)']);
  });

  it('one integer constant dequantized with two scales (ε and another scalar) stays quantized for both', async () => {
    const b = new GraphBuilder();
    const x = qdq(b, b.input('x', tensorType('float32', [1, 8])), 0.02, -128, 'x');
    const shared = b.constant(Tensor.scalar('int8', 127));
    const a = qdq(b, b.op1('onnx.Add', [x, quantizedScalar(b, 1e-5, shared)]), 0.02, -128, 'a');
    b.output(qdq(b, b.op1('onnx.Mul', [a, quantizedScalar(b, 0.125, shared)]), 0.01, -128, 'm'));
    const model = b.model({ onnx: 13 });
    expect((await legalize(model)).get('float-ops-in-int8-model')).toBe(0);
    expect(opsOf(model)).toEqual(['QUANTIZE(float32)', 'ADD(int8)', 'MUL(int8)', 'DEQUANTIZE(int8)']);
  });
});
