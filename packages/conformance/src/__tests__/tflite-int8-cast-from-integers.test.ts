/**
 * QA s16 round 11: torch's `x.argmax(1).float()` added to a quantized value. quantize-static gives the Cast's output a
 * QuantizeLinear (an entry of the quantized Add); legalize-tflite refused the model ('onnx.Cast on quantized values has
 * no int8 TFLite lowering') unless unsupported-int8=float. A node computing reals from integers only has no int8 form
 * in TFLite: it now runs in float with a QUANTIZE after it by default, and TFLite 2.9 equals ORT on the QDQ model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type TensorType } from '@modelpass/ir';
import { decodeOnnx, encodeOnnx } from '@modelpass/onnx';
import { PassManager } from '@modelpass/pass-manager';
import { builtinEnvironment } from '@modelpass/cli';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { readTflite, writeTflite } from '@modelpass/tflite';
import { seededUniform, stepsApart } from './int8-agreement.js';

const DIR = mkdtempSync(join(tmpdir(), 'tflite-int8-cast-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

/** y = Relu(x·W) + float(argmax(x)) */
function argmaxModel(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 6]));
  const h = b.op1('onnx.Relu', [b.op1('onnx.MatMul', [x, b.constant(seededUniform([6, 4], 1, -1, 2))], {}, { name: 'mm' })], {}, { name: 'relu' });
  const index = b.op1('onnx.Cast', [b.op1('onnx.ArgMax', [x], { axis: attrs.int(1), keepdims: attrs.int(1) }, { name: 'argmax' })], { to: attrs.int(1) }, { name: 'as_float' });
  b.output(b.op1('onnx.Add', [h, index], {}, { name: 'add', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

describe('legalize-tflite: a Cast of integers read by a QuantizeLinear', () => {
  it('runs in float before a QUANTIZE (no refusal); TFLite 2.9 within 1 step of ORT on the QDQ model', async () => {
    const model = argmaxModel();
    await new PassManager({ environment: builtinEnvironment() }).run(model, 'quantize-static{samples=16 seed=2 quantize-outputs=true}');
    const add = [...model.graph.nodes()].find((node) => node.name === 'add')!;
    expect(add.inputs.map((input) => input!.producer!.op)).toEqual(['onnx.DequantizeLinear', 'onnx.DequantizeLinear']);
    const qdq = encodeOnnx(model);
    const converted = decodeOnnx(qdq);
    await new PassManager({ environment: builtinEnvironment() }).run(converted, 'legalize-tflite');
    const path = join(DIR, 'argmax.tflite');
    writeTflite(converted, path);
    const nodes = readTflite(path).graph.nodeList();
    const cast = nodes.find((node) => node.op === 'tflite.CAST')!;
    expect((cast.outputs[0]!.type as TensorType).dtype).toBe('float32');
    expect([...cast.outputs[0]!.uses].map((use) => use.node?.op)).toEqual(['tflite.QUANTIZE']);
    const engine = new TfliteEngine();
    for (const seed of [3, 4, 5]) {
      const x = seededUniform([2, 6], seed, -2, 4);
      const ort = (await runOrt(qdq, { x })).get('y')!.toNumbers();
      const tflite = [...(await engine.run(path, { x })).values()][0]!.toNumbers();
      const scale = add.output(0).uses.values().next().value!.node!.input(1).constant!.toNumbers()[0]!;
      expect(stepsApart(ort, tflite, scale), `seed ${seed}`).toBeLessThanOrEqual(1.001);
      expect(new Set(tflite.map((v) => Math.round(v))).size).toBeGreaterThan(1);
    }
  }, 60_000);
});
