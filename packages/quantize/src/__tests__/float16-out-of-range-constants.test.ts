/**
 * convert-float16 on constants beyond float16's range (QA s17 round 13): PaddleOCR v4 det holds BatchNormalization
 * variances up to 9.8e7 in Constant nodes; clamped to 65504 (counted only in the `values-clamped` statistic) they
 * turned its probability map's cosine to 0.02 — also with every op type in keep=, since the Constant nodes feeding the
 * kept nodes still went through float16 and back. Now a node reading such a constant (an initializer or a Constant
 * node) stays float32 with it, named in a warning, and a Constant node read only by float32 operands stays float32.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType, type Model, type Value } from '@modelpass/ir';
import { encodeOnnx } from '@modelpass/onnx';
import { disposeSharedOrtRunner, runOrt } from '@modelpass/runtime';
import { cosine, randomTensor, runPipeline } from './weights-helpers.js';

afterAll(() => disposeSharedOrtRunner());

const vector = (values: number[]): Tensor => Tensor.fromValues('float32', [values.length], values);

/** x → Conv (outputs in the thousands) → BatchNormalization (variances up to 4e7: std 6,300) → Relu → Conv = y. */
function model(statistics: 'initializers' | 'constant-nodes'): Model {
  const b = new GraphBuilder();
  const x = b.input('x', tensorType('float32', [1, 3, 6, 6]));
  const stat = (name: string, values: number[]): Value =>
    statistics === 'initializers' ? b.constant(vector(values), name) : b.op1('onnx.Constant', [], { value: attrs.tensor(vector(values)) }, { name: `${name}_node`, outputs: [name] });
  const conv = b.op1('onnx.Conv', [x, b.constant(randomTensor([4, 3, 3, 3], 1, 3000), 'w1')], { pads: attrs.ints([1, 1, 1, 1]) }, { name: 'conv1' });
  const bn = b.op1('onnx.BatchNormalization', [conv, stat('gamma', [1, 0.5, 2, 1]), stat('beta', [0.1, -0.2, 0.3, 0]), stat('mean', [300, -500, 0.5, 1]), stat('var', [1e7, 4e7, 2, 0.5])], {}, { name: 'bn' });
  const relu = b.op1('onnx.Relu', [bn], {}, { name: 'relu' });
  b.output(b.op1('onnx.Conv', [relu, b.constant(randomTensor([2, 4, 1, 1], 2), 'w2')], {}, { name: 'conv2', outputs: ['y'] }));
  return b.model({ onnx: 13 });
}

const x = randomTensor([1, 3, 6, 6], 3);
const run = async (m: Model): Promise<Tensor> => (await runOrt(encodeOnnx(m), { x })).get('y')!;

describe.each(['initializers', 'constant-nodes'] as const)('convert-float16 with BatchNormalization statistics beyond float16 (%s)', (statistics) => {
  it('keeps the BatchNormalization float32, with a warning naming it, and the output stays the float one', async () => {
    const m = model(statistics);
    const float = await run(m);
    const result = await runPipeline(m, 'convert-float16');
    expect(result.warnings.join('\n')).toMatch(/kept \d node\(s\) float32 whose constants hold finite values beyond float16's range .*BatchNormalization 'bn' \(its constant 'var' holds \|x\| up to 4\.00e\+7/);
    expect(result.statistics.get('values-clamped') ?? 0).toBe(0);
    expect(m.graph.getValue('var')!.type).toMatchObject({ dtype: 'float32' });
    // the rest is converted: conv1 computes in float16, a Cast brings its output to the float32 BatchNormalization
    expect([...m.graph.nodesOf('onnx.Conv')].find((node) => node.name === 'conv1')!.output(0).type).toMatchObject({ dtype: 'float16' });
    expect(cosine(float, await run(m))).toBeGreaterThan(0.9999);
  });

  it('keep=[BatchNormalization] leaves its statistics float32 (not rounded through float16)', async () => {
    const m = model(statistics);
    await runPipeline(m, 'convert-float16{keep=[BatchNormalization]}');
    for (const name of ['gamma', 'beta', 'mean', 'var']) {
      const value = m.graph.getValue(name)!;
      expect(value.type).toMatchObject({ dtype: 'float32' });
      expect(value.producer?.opType ?? 'initializer').not.toBe('Cast');
    }
  });
});
