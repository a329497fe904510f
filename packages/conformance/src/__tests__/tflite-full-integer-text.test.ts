/**
 * QA s16 round 11: a BERT-like encoder's embedding lookup, a ViT's class token concatenated before the tokens and a
 * pooler's tanh as strict full-integer TFLite. quantize-static{full-integer=true} left all three float (the Gather's
 * data and the Concat's first input are constants; Tanh had no rule), so legalize-tflite{io-type=int8
 * full-integer=true} refused torch's BERT/ViT exports. Now the table and the class token are stored int8 on their own
 * ranges, the Tanh output takes TANH's fixed int8 parameters (1/128, zero point 0), and TFLite 2.9 agrees with ONNX
 * Runtime on the same QDQ model within 2 output steps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model } from '@modelpass/ir';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { seededUniform, stepsApart } from './int8-agreement.js';
import { fullIntegerTflite, quantOf } from './full-integer-harness.js';

const DIR = mkdtempSync(join(tmpdir(), 'tflite-full-integer-text-'));
afterAll(async () => {
  await disposeSharedOrtRunner();
  rmSync(DIR, { recursive: true, force: true });
});

/** ids [1, 6] → embedding Gather → Concat(class token, ·) → + positions → MatMul + bias → Tanh. */
function textModel(): Model {
  const b = new GraphBuilder();
  const w = (shape: number[], seed: number, span: number) => b.constant(seededUniform(shape, seed, -span / 2, span));
  const ids = b.input('ids', tensorType('int64', [1, 6]));
  const embedded = b.op1('onnx.Gather', [w([16, 8], 1, 2), ids], {}, { name: 'embed' });
  const tokens = b.op1('onnx.Concat', [w([1, 1, 8], 2, 1), embedded], { axis: attrs.int(1) }, { name: 'cls_concat' });
  const positioned = b.op1('onnx.Add', [tokens, w([1, 7, 8], 3, 0.5)], {}, { name: 'pos_add' });
  const h = b.op1('onnx.Add', [b.op1('onnx.MatMul', [positioned, w([8, 8], 4, 1.5)], {}, { name: 'dense' }), w([8], 5, 0.2)], {}, { name: 'dense_bias' });
  b.output(b.op1('onnx.Tanh', [h], {}, { name: 'pool_tanh', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

describe('full-integer TFLite: embedding Gather, class-token Concat, Tanh', () => {
  it('int8 GATHER/CONCATENATION/TANH, no float op, no requantization after TANH; TFLite 2.9 within 2 steps of ORT', async () => {
    const model = textModel();
    const path = join(DIR, 'text.tflite');
    const { qdq, written, ops } = await fullIntegerTflite(model, 'quantize-static{samples=16 seed=3 full-integer=true}', path);
    for (const op of ['GATHER(int8)', 'CONCATENATION(int8)', 'TANH(int8)']) expect(ops, ops.join(' ')).toContain(op);
    // No float op; the one QUANTIZE brings the gathered rows to CONCATENATION's parameters (TFLite's int8 kernel needs
    // them equal; ORT's QLinearConcat requantizes too), none follows TANH.
    expect(ops.filter((op) => op.startsWith('DEQUANTIZE(')), ops.join(' ')).toEqual([]);
    expect(written.outputs[0]!.producer!.op).toBe('tflite.TANH');
    const outQuant = quantOf(written.outputs[0]!)!;
    expect([outQuant.scale[0], outQuant.zeroPoint[0]]).toEqual([1 / 128, 0]);
    const engine = new TfliteEngine();
    for (const sample of [[0, 1, 2, 3, 4, 5], [15, 9, 9, 0, 7, 12], [3, 3, 3, 3, 3, 3]]) {
      const ids = Tensor.fromValues('int64', [1, 6], sample);
      const ort = (await runOrt(qdq, { ids })).get('y')!.toNumbers();
      const tflite = [...(await engine.run(path, { ids })).values()][0]!;
      expect(tflite.dtype).toBe('int8');
      const reals = tflite.toNumbers().map((v) => (v - outQuant.zeroPoint[0]!) * outQuant.scale[0]!);
      expect(new Set(reals).size).toBeGreaterThan(8);
      expect(stepsApart(ort, reals, outQuant.scale[0]!), sample.join(',')).toBeLessThanOrEqual(2.001);
    }
  }, 120_000);
});
