/**
 * raise-tflite rules for TRANSPOSE_CONV, PACK and UNPACK (QA s10 R6: a torch UNet's, LSTM's and GRU's
 * .tflite could not go back to ONNX): a tflite-dialect model run by the TFLite 2.9 runtime, then
 * raised and run by ONNX Runtime, gives the same outputs (PACK/UNPACK exactly: they only move data;
 * TRANSPOSE_CONV within float32 summation order). TRANSPOSE_CONV covers SAME with an even and an odd
 * total padding (TFLite puts the odd row after), VALID, and a bias.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, Tensor, attrs, tensorType, type Attribute, type Type, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';
import { addTfliteNode as add, sineRamp as ramp } from './tflite-graph-building.js';

afterAll(() => disposeSharedOrtRunner());

/** x float32[1,3,3,2] NHWC through three TRANSPOSE_CONVs; a, b float32[2,3] packed; u float32[2,3,4] unpacked. */
function model(): Model {
  const graph = new Graph('main');
  const x = graph.addInput('x', tensorType('float32', [1, 3, 3, 2]));
  const a = graph.addInput('a', tensorType('float32', [2, 3]));
  const b = graph.addInput('b', tensorType('float32', [2, 3]));
  const u = graph.addInput('u', tensorType('float32', [2, 3, 4]));
  const outputs: Value[] = [];
  const filter = graph.addConstant('filter', ramp([4, 3, 3, 2], 0.5)); // OHWI
  const bias = graph.addConstant('bias', Tensor.fromValues('float32', [4], [0.25, -0.5, 1, 0]));
  const shape = (name: string, dims: number[]) => graph.addConstant(name, Tensor.fromValues('int32', [4], dims));
  const options = (padding: string, stride: number): Record<string, Attribute> => ({ padding: attrs.string(padding), stride_h: attrs.int(stride), stride_w: attrs.int(stride) });
  // SAME, stride 2, 3 → 6: total padding 1 (0 before, 1 after).
  outputs.push(...add(graph, 'TRANSPOSE_CONV', [shape('shape_same6', [1, 6, 6, 4]), filter, x, bias], [['tconv_same_odd', tensorType('float32', [1, 6, 6, 4])]], options('SAME', 2)));
  // SAME, stride 2, 3 → 5: total padding 2 (1 and 1), no bias.
  outputs.push(...add(graph, 'TRANSPOSE_CONV', [shape('shape_same5', [1, 5, 5, 4]), filter, x, null], [['tconv_same_even', tensorType('float32', [1, 5, 5, 4])]], options('SAME', 2)));
  // VALID, stride 2, 3 → (3 − 1)·2 + 3 = 7.
  outputs.push(...add(graph, 'TRANSPOSE_CONV', [shape('shape_valid', [1, 7, 7, 4]), filter, x, bias], [['tconv_valid', tensorType('float32', [1, 7, 7, 4])]], options('VALID', 2)));
  outputs.push(...add(graph, 'PACK', [a, b], [['packed', tensorType('float32', [2, 2, 3])]], { values_count: attrs.int(2), axis: attrs.int(1) }));
  outputs.push(...add(graph, 'PACK', [a, b, a], [['packed_last', tensorType('float32', [2, 3, 3])]], { values_count: attrs.int(3), axis: attrs.int(-1) }));
  outputs.push(...add(graph, 'UNPACK', [u], [0, 1, 2, 3].map((i): [string, Type] => [`unpacked_${i}`, tensorType('float32', [2, 3])]), { num: attrs.int(4), axis: attrs.int(-1) }));
  outputs.push(...add(graph, 'UNPACK', [u], [0, 1].map((i): [string, Type] => [`unpacked_rows_${i}`, tensorType('float32', [3, 4])]), { num: attrs.int(2), axis: attrs.int(0) }));
  graph.setOutputs(outputs);
  const result = new Model(graph);
  result.opsetImports.set('tflite', 3);
  return result;
}

describe('raise-tflite: TRANSPOSE_CONV, PACK, UNPACK', () => {
  it('the raised model gives ORT the TFLite runtime outputs', async () => {
    const registry = registerTfliteDialect(createOpRegistry());
    const tflite = model();
    const feeds = { x: ramp([1, 3, 3, 2], 2, 0.3), a: ramp([2, 3], 1, 1), b: ramp([2, 3], 1, 2), u: ramp([2, 3, 4], 1, 3) };
    const onTflite = await new TfliteEngine().run(tflite, feeds);
    raiseFromTflite(tflite, registry, { opset: 13 });
    const ops = tflite.graph.nodeList().map((n) => n.op);
    expect(ops.filter((op) => op.startsWith('tflite.'))).toEqual([]);
    expect(ops).toEqual(expect.arrayContaining(['onnx.ConvTranspose', 'onnx.Unsqueeze', 'onnx.Concat', 'onnx.Split', 'onnx.Squeeze']));
    const onOrt = await runOrt(tflite, feeds);
    expect([...onOrt.keys()].sort()).toEqual([...onTflite.keys()].sort());
    for (const [name, expected] of onTflite) {
      const actual = onOrt.get(name)!;
      expect(actual.shape, name).toEqual(expected.shape);
      const e = expected.toNumbers();
      const g = actual.toNumbers();
      if (name.startsWith('tconv')) {
        for (let i = 0; i < e.length; i++) expect(Math.abs(g[i]! - e[i]!), `${name}[${i}]`).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(e[i]!)));
      } else {
        expect(g, name).toEqual(e);
      }
    }
    // Not trivially equal: the transposed convolutions differ from each other and are not all bias.
    expect(new Set(onTflite.get('tconv_same_odd')!.toNumbers()).size).toBeGreaterThan(40);
    expect(onTflite.get('packed')!.toNumbers().slice(0, 6)).toEqual([...feeds.a.toNumbers().slice(0, 3), ...feeds.b.toNumbers().slice(0, 3)]);
    expect(onTflite.get('unpacked_1')!.toNumbers()).toEqual(feeds.u.toNumbers().filter((_, i) => i % 4 === 1));
  }, 60_000);
});
