/**
 * raise-tflite's GELU: TFLite's approximate (tanh) form and its exact (erf) form must stay apart when
 * raised below opset 20, where ONNX has no Gelu op to carry the flag. Before, both became the erf
 * form, so an approximate GELU changed numbers silently (up to ~1e-3 per element).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, Tensor, attrs, tensorType } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';

afterAll(() => disposeSharedOrtRunner());

function geluModel(): Model {
  const graph = new Graph('main');
  const x = graph.addInput('x', tensorType('float32', [64]));
  const outputs = [0, 1].map(
    (approximate) =>
      graph.createNode({
        op: 'tflite.GELU',
        name: approximate ? 'gelu_tanh' : 'gelu_erf',
        inputs: [x],
        outputs: [{ name: approximate ? 'gelu_tanh' : 'gelu_erf', type: tensorType('float32', [64]) }],
        attributes: { approximate: attrs.int(approximate) },
      }).outputs[0]!,
  );
  graph.setOutputs(outputs);
  const model = new Model(graph);
  model.opsetImports.set('tflite', 3);
  return model;
}

describe('raise-tflite: GELU approximate', () => {
  const x = Tensor.fromValues('float32', [64], Array.from({ length: 64 }, (_, i) => Math.fround((i - 32) / 8)));

  for (const opset of [13, 20]) {
    it(`keeps the tanh form apart from the erf form at opset ${opset}, as the TFLite runtime computes them`, async () => {
      const registry = registerTfliteDialect(createOpRegistry());
      const model = geluModel();
      const onTflite = await new TfliteEngine().run(model, { x });
      const tanhTflite = onTflite.get('gelu_tanh')!.toNumbers();
      const erfTflite = onTflite.get('gelu_erf')!.toNumbers();
      // The two forms differ measurably on [-4, 4), so the comparison below can tell them apart.
      expect(Math.max(...tanhTflite.map((v, i) => Math.abs(v - erfTflite[i]!)))).toBeGreaterThan(1e-4);
      raiseFromTflite(model, registry, { opset });
      expect(model.graph.nodeList().filter((n) => n.op.startsWith('tflite.'))).toEqual([]);
      const onOrt = await runOrt(model, { x });
      for (const [name, expected] of [['gelu_tanh', tanhTflite], ['gelu_erf', erfTflite]] as const) {
        const actual = onOrt.get(name)!.toNumbers();
        const worst = Math.max(...actual.map((v, i) => Math.abs(v - expected[i]!)));
        expect(worst, `${name} at opset ${opset}`).toBeLessThan(2e-6);
      }
    });
  }
});
