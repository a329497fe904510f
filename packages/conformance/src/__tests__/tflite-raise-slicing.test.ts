/**
 * raise-tflite rules for SHAPE, CAST, SPLIT, SPLIT_V and STRIDED_SLICE (masks included, which
 * legalize-tflite never emits): a tflite-dialect model run by the TFLite 2.9 runtime, then raised
 * and run by ONNX Runtime, must give the same outputs exactly (these ops only move data).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Graph, Model, ModelpassError, Tensor, attrs, printModel, tensorType, type Attribute, type Value } from '@modelpass/ir';
import { createOpRegistry } from '@modelpass/ops';
import { disposeSharedOrtRunner, runOrt, TfliteEngine } from '@modelpass/runtime';
import { raiseFromTflite, registerTfliteDialect } from '@modelpass/tflite';
import { addTfliteNode as add } from './tflite-graph-building.js';

afterAll(() => disposeSharedOrtRunner());

const int32 = (graph: Graph, name: string, values: number[], shape = [values.length]) => graph.addConstant(name, Tensor.fromValues('int32', shape, values));

function stridedSlice(begin: number[], end: number[], strides: number[], masks: { begin?: number; end?: number; shrink?: number; ellipsis?: number }): Record<string, Attribute> {
  return {
    begin_mask: attrs.int(masks.begin ?? 0),
    end_mask: attrs.int(masks.end ?? 0),
    ellipsis_mask: attrs.int(masks.ellipsis ?? 0),
    new_axis_mask: attrs.int(0),
    shrink_axis_mask: attrs.int(masks.shrink ?? 0),
    offset: attrs.int(0),
  };
}

/** x float32[2,3,4] through every rule; outputs named after what they test. */
function slicingModel(): Model {
  const graph = new Graph('main');
  const x = graph.addInput('x', tensorType('float32', [2, 3, 4]));
  const outputs: Value[] = [];
  // x[1, 0:3:2, ::-1]: shrink axis 0, stride 2 on axis 1, reversed axis 2 through both masks.
  outputs.push(
    ...add(graph, 'STRIDED_SLICE', [x, int32(graph, 'b1', [1, 0, 0]), int32(graph, 'e1', [2, 3, 0]), int32(graph, 's1', [1, 2, -1])], [['sliced_shrunk', tensorType('float32', [2, 4])]], stridedSlice([], [], [], { begin: 4, end: 4, shrink: 1 })),
  );
  // x[:, -1, 1:]: the last row (begin -1 shrunk), begin on two of three axes with end masked.
  outputs.push(
    ...add(graph, 'STRIDED_SLICE', [x, int32(graph, 'b2', [0, -1, 1]), int32(graph, 'e2', [0, 0, 0]), int32(graph, 's2', [1, 1, 1])], [['sliced_last_row', tensorType('float32', [2, 3])]], stridedSlice([], [], [], { begin: 1, end: 5, shrink: 2 })),
  );
  // x[1:, 2:0:-1] over the first two axes only (the third is whole).
  outputs.push(
    ...add(graph, 'STRIDED_SLICE', [x, int32(graph, 'b3', [1, 2]), int32(graph, 'e3', [2, 0]), int32(graph, 's3', [1, -1])], [['sliced_reversed', tensorType('float32', [1, 2, 4])]], stridedSlice([], [], [], {})),
  );
  outputs.push(...add(graph, 'SPLIT', [int32(graph, 'split_axis', [-1], []), x], [['split_a', tensorType('float32', [2, 3, 2])], ['split_b', tensorType('float32', [2, 3, 2])]], { num_splits: attrs.int(2) }));
  outputs.push(
    ...add(graph, 'SPLIT_V', [x, int32(graph, 'sizes', [1, -1]), int32(graph, 'splitv_axis', [1], [])], [['splitv_a', tensorType('float32', [2, 1, 4])], ['splitv_b', tensorType('float32', [2, 2, 4])]], { num_splits: attrs.int(2) }),
  );
  outputs.push(...add(graph, 'SHAPE', [x], [['shape', tensorType('int32', [3])]], { out_type: attrs.string('INT32') }));
  outputs.push(...add(graph, 'CAST', [x], [['cast', tensorType('int32', [2, 3, 4])]], { in_data_type: attrs.string('FLOAT32'), out_data_type: attrs.string('INT32') }));
  graph.setOutputs(outputs);
  const model = new Model(graph);
  model.opsetImports.set('tflite', 3);
  return model;
}

describe('raise-tflite: SHAPE, CAST, SPLIT, SPLIT_V, STRIDED_SLICE', () => {
  it('the raised model gives ORT exactly the TFLite runtime outputs', async () => {
    const registry = registerTfliteDialect(createOpRegistry());
    const model = slicingModel();
    const x = Tensor.fromValues('float32', [2, 3, 4], Array.from({ length: 24 }, (_, i) => Math.fround((i - 11.5) * 0.75)));
    const engine = new TfliteEngine();
    const onTflite = await engine.run(model, { x });
    raiseFromTflite(model, registry, { opset: 13 });
    const ops = model.graph.nodeList().map((n) => n.op);
    expect(ops.filter((op) => op.startsWith('tflite.'))).toEqual([]);
    expect(new Set(ops)).toEqual(new Set(['onnx.Slice', 'onnx.Squeeze', 'onnx.Split', 'onnx.Shape', 'onnx.Cast']));
    const onOrt = await runOrt(model, { x });
    expect([...onOrt.keys()].sort()).toEqual([...onTflite.keys()].sort());
    for (const [name, expected] of onTflite) {
      expect(onOrt.get(name)!.shape, name).toEqual(expected.shape);
      expect(onOrt.get(name)!.toNumbers(), name).toEqual(expected.toNumbers());
    }
    // The figures the test relies on are not trivially equal: the shrunk slice is row 1, reversed, stride 2.
    expect(onTflite.get('sliced_shrunk')!.toNumbers()).toEqual([15, 14, 13, 12, 23, 22, 21, 20].map((i) => Math.fround((i - 11.5) * 0.75)));
    expect(onTflite.get('shape')!.toNumbers()).toEqual([2, 3, 4]);
  });

  it('refuses an ellipsis mask by node, before changing anything', () => {
    const registry = registerTfliteDialect(createOpRegistry());
    const graph = new Graph('main');
    const x = graph.addInput('x', tensorType('float32', [2, 3, 4]));
    graph.setOutputs(add(graph, 'STRIDED_SLICE', [x, int32(graph, 'b', [0, 1]), int32(graph, 'e', [0, 2]), int32(graph, 's', [1, 1])], [['y', tensorType('float32', [2, 3, 1])]], stridedSlice([], [], [], { ellipsis: 1 })));
    const model = new Model(graph);
    model.opsetImports.set('tflite', 3);
    const before = printModel(model);
    let caught: unknown;
    try {
      raiseFromTflite(model, registry, { opset: 13 });
    } catch (error) {
      caught = error;
    }
    expect(ModelpassError.is(caught)).toBe(true);
    expect((caught as Error).message).toContain('ellipsis_mask is not supported yet');
    expect((caught as Error).message).toContain("'y'");
    expect(printModel(model)).toBe(before);
  });
});
