/**
 * raise-tflite rules for LOCAL_RESPONSE_NORMALIZATION and REVERSE_SEQUENCE (issue 12 audit s14: both are tf2onnx TFLite
 * op names and legalize-tflite's own output for ONNX LRN and ReverseSequence, and raise-tflite refused them, 'has no ONNX
 * lowering yet'). LRN's window and alpha are converted (size = 2·radius + 1, ONNX alpha = alpha · size). The TFLite 2.9
 * runtime and ORT on the raised model agree; REVERSE_SEQUENCE with axes other than 0/1 is refused by node.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { attrs, Graph, Model, ModelpassError, Tensor, tensorType, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';
import { addTfliteNode as add, sineRamp as ramp } from './tflite-graph-building.js';
import { expectRaisedAgrees } from './tflite-raised-case.js';

afterAll(() => disposeSharedOrtRunner());

function model(): Model {
  const graph = new Graph('main');
  const x = graph.addInput('x', tensorType('float32', [1, 3, 4, 7]));
  const s = graph.addInput('s', tensorType('float32', [4, 3, 2]));
  const lengths = graph.addInput('lengths', tensorType('int32', [3]));
  const outputs: Value[] = [];
  outputs.push(...add(graph, 'LOCAL_RESPONSE_NORMALIZATION', [x], [['lrn', tensorType('float32', [1, 3, 4, 7])]], {
    radius: attrs.int(2), bias: attrs.float(1.5), alpha: attrs.float(0.3), beta: attrs.float(0.75),
  }));
  outputs.push(...add(graph, 'LOCAL_RESPONSE_NORMALIZATION', [x], [['lrn_r1', tensorType('float32', [1, 3, 4, 7])]], {
    radius: attrs.int(1), bias: attrs.float(2), alpha: attrs.float(1e-2), beta: attrs.float(0.5),
  }));
  // time along axis 0, batch along axis 1
  outputs.push(...add(graph, 'REVERSE_SEQUENCE', [s, lengths], [['reversed', tensorType('float32', [4, 3, 2])]], { seq_dim: attrs.int(0), batch_dim: attrs.int(1) }));
  // batch along axis 0, time along axis 1
  const t = graph.addInput('t', tensorType('float32', [3, 4, 2]));
  outputs.push(...add(graph, 'REVERSE_SEQUENCE', [t, lengths], [['reversed_batch_first', tensorType('float32', [3, 4, 2])]], { seq_dim: attrs.int(1), batch_dim: attrs.int(0) }));
  graph.setOutputs(outputs);
  const result = new Model(graph);
  result.opsetImports.set('tflite', 3);
  return result;
}

describe('raise-tflite: LOCAL_RESPONSE_NORMALIZATION, REVERSE_SEQUENCE', () => {
  it('the raised model gives ORT the TFLite runtime outputs', async () => {
    const tflite = model();
    const feeds = { x: ramp([1, 3, 4, 7], 3, 0.2), s: ramp([4, 3, 2], 1, 0.9), t: ramp([3, 4, 2], 1, 1.3), lengths: Tensor.fromValues('int32', [3], [4, 1, 3]) };
    const onOrt = await expectRaisedAgrees(tflite, feeds, { tolerance: (name) => (name.startsWith('reversed') ? 0 : 1e-5) });
    // LRN changed the values (the comparison sees alpha and the window), and the lengths were used: batch 1 (length 1) is unchanged.
    expect(onOrt.get('lrn')!.toNumbers()).not.toEqual(feeds.x.toNumbers());
    const reversed = onOrt.get('reversed')!.toNumbers();
    const input = feeds.s.toNumbers();
    for (let time = 0; time < 4; time++) expect(reversed.slice(time * 6 + 2, time * 6 + 4)).toEqual(input.slice(time * 6 + 2, time * 6 + 4));
    expect(reversed.slice(0, 2)).toEqual(input.slice(18, 20));
  });

  it('REVERSE_SEQUENCE over axes ONNX cannot express is refused by node', () => {
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float32', [2, 3, 4]));
    const lengths = graph.addConstant('lengths', Tensor.fromValues('int32', [2], [3, 1]));
    graph.setOutputs(add(graph, 'REVERSE_SEQUENCE', [x, lengths], [['odd_axes', tensorType('float32', [2, 3, 4])]], { seq_dim: attrs.int(2), batch_dim: attrs.int(0) }));
    const tflite = new Model(graph);
    tflite.opsetImports.set('tflite', 3);
    let error: unknown;
    try {
      raiseFromTflite(tflite, registerTfliteDialect(createOpRegistry()), { opset: 13 });
    } catch (e) {
      error = e;
    }
    expect(ModelpassError.is(error)).toBe(true);
    expect((error as Error).message).toMatch(/node 'odd_axes' \(tflite\.REVERSE_SEQUENCE\).*seq_dim 2 and batch_dim 0/);
  });
});
