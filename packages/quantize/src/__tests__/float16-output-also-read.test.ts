/**
 * convert-float16 (keep-io) on a graph output that a node also reads — a VAE's `mu`, returned and used
 * in `mu + eps·exp(logvar/2)`: the Cast to float32 for the output took over the 16-bit Add's use too,
 * and the pass failed verifying "type T is already float32 from input #0 'mu'" (QA s13). Only the
 * graph output moves to the Cast (keeping its name); the Add reads the float16 value.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GraphBuilder, tensorType, type Model } from '@modelpass/ir';
import { writeOnnx } from '@modelpass/onnx';
import { OrtRunner } from '@modelpass/runtime';
import { cosine, onnxChecker, randomTensor, runPipeline } from './weights-helpers.js';

const work = mkdtempSync(join(tmpdir(), 'modelpass-fp16-outputs-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function reparametrised(): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [2, 8]));
  const eps = b.input('eps', tensorType('float32', [2, 4]));
  const mu = b.op1('onnx.MatMul', [x, b.constant(randomTensor([8, 4], 1), 'w_mu')], {}, { name: 'mu_fc', outputs: ['mu'] });
  const logvar = b.op1('onnx.MatMul', [x, b.constant(randomTensor([8, 4], 2), 'w_lv')], {}, { name: 'lv_fc', outputs: ['logvar'] });
  const std = b.op1('onnx.Exp', [logvar], {}, { name: 'exp' });
  const z = b.op1('onnx.Add', [mu, b.op1('onnx.Mul', [eps, std], {}, { name: 'mul' })], {}, { name: 'add' });
  const y = b.op1('onnx.MatMul', [z, b.constant(randomTensor([4, 3], 3), 'w_dec')], {}, { name: 'dec', outputs: ['y'] });
  for (const [value, n] of [[mu, 4], [logvar, 4], [y, 3]] as const) value.type = tensorType('float32', [2, n]);
  b.output(y, mu, logvar);
  return b.model({ onnx: 13 });
}

describe('convert-float16 with a graph output that a node also reads', () => {
  it('converts; outputs keep their names and float32, and agree with the float model in ORT', async () => {
    const feeds = { x: randomTensor([2, 8], 4), eps: randomTensor([2, 4], 5) };
    const runner = new OrtRunner();
    try {
      const reference = await runner.run(reparametrised(), feeds);
      const model = reparametrised();
      await runPipeline(model, 'convert-float16');
      expect(model.graph.outputs.map((value) => `${value.name}:${value.type.kind === 'tensor' ? value.type.dtype : '?'}`)).toEqual(['y:float32', 'mu:float32', 'logvar:float32']);
      const path = join(work, 'vae-like.fp16.onnx');
      writeOnnx(model, path);
      onnxChecker(path);
      const converted = await runner.run(path, feeds);
      for (const name of ['y', 'mu', 'logvar']) expect(cosine(converted.get(name)!, reference.get(name)!), name).toBeGreaterThan(0.9999);
    } finally {
      await runner.dispose();
    }
  });
});
