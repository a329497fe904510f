/**
 * Random calibration of a model whose input has a symbolic dimension after the batch ([batch, len, 16]: a
 * tagger, a transformer) was refused with a hint naming code-level `dims` and CLI flags (`--dim` of compare,
 * `--input-shape` of convert, which also fixes the written model's shape) — no way to size it from a pass
 * (QA s12). quantize-static and quantize-weights (GPTQ) now take `dims=[len:8]`; the model keeps 'len'.
 */
import { describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { randomTensor, runPipeline } from './weights-helpers.js';

/** x [batch, len, 16] → MatMul(w1) → Relu → MatMul(w2) → y [batch, len, 16]. */
function sequenceModel(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', ['batch', 'len', 16]));
  const h = b.op1('onnx.MatMul', [x, b.constant(randomTensor([16, 32], 1), 'w1')], {}, { name: 'fc1' });
  const r = b.op1('onnx.Relu', [h], {}, { name: 'relu' });
  const y = b.op1('onnx.MatMul', [r, b.constant(randomTensor([32, 16], 2), 'w2')], {}, { name: 'fc2', outputs: ['y'] });
  y.type = tensorType('float32', ['batch', 'len', 16]);
  b.output(y);
  return b.model({ onnx: 13 });
}

async function failure(run: Promise<unknown>): Promise<string> {
  try {
    await run;
  } catch (error) {
    const e = error as Error & { diagnostics?: { hint?: string }[] };
    return `${e.message}\n${(e.diagnostics ?? []).map((d) => d.hint ?? '').join('\n')}`;
  }
  throw new Error('expected the pipeline to fail');
}

describe('dims= sizes symbolic input dims of random calibration inputs', () => {
  it('without it, quantize-static names the dimension and the dims option', async () => {
    const message = await failure(runPipeline(sequenceModel(), 'quantize-static{samples=4}'));
    expect(message).toMatch(/input 'x' has a symbolic dimension 'len' at axis 1/);
    expect(message).toMatch(/dims=\[len:16\]/);
  }, 60_000);

  it('quantize-static{dims=[len:5]} quantizes and the model keeps len symbolic', async () => {
    const model = sequenceModel();
    const run = await runPipeline(model, 'quantize-static{samples=4 dims=[len:5]}');
    expect(run.statistics.get('weights-quantized')).toBeGreaterThanOrEqual(1);
    const x = model.graph.inputs[0]!;
    expect(x.type.kind === 'tensor' ? x.type.shape : undefined).toEqual(['batch', 'len', 16]);
  }, 60_000);

  it('quantize-weights{method=gptq dims=[len:5]} calibrates on random inputs of that length', async () => {
    const run = await runPipeline(sequenceModel(), 'quantize-weights{method=gptq samples=4 block-size=16 dims=[len:5]}');
    expect(run.statistics.get('layers-quantized')).toBe(2);
  }, 60_000);

  it('a bad entry names the option and the form expected', async () => {
    expect(await failure(runPipeline(sequenceModel(), 'quantize-static{samples=4 dims=[len:0]}'))).toMatch(/option 'dims' of pass 'quantize-static': 'len:0' is not NAME:SIZE/);
    expect(await failure(runPipeline(sequenceModel(), 'quantize-static{samples=4 dims=[len]}'))).toMatch(/expected NAME:SIZE with SIZE an integer ≥ 1/);
  }, 60_000);
});
