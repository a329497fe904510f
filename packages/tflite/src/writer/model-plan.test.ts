import { Graph, Model, attrs, tensorType, type Value } from '@modelpass/ir';
import { describe, expect, it } from 'vitest';
import { planModel } from './model-plan.js';

const f32 = tensorType('float32', [1, 4]);
const i8 = tensorType('int8', [1, 4]);

/** ADD, ADD (shares ADD v1), ADD of int8 (v2), CUSTOM 'A', CUSTOM 'B', CUSTOM 'A' (shares), a CUSTOM with an absent optional input. */
function model(): { model: Model; values: Record<string, Value> } {
  const graph = new Graph('main');
  const x = graph.addInput('x', f32);
  const q = graph.addInput('q', i8);
  const node = (op: string, inputs: (Value | null)[], name: string, type = f32, custom?: string) =>
    graph.createNode({
      op,
      inputs,
      outputs: [{ name, type }],
      attributes: custom ? { custom_code: attrs.string(custom) } : { fused_activation_function: attrs.string('NONE') },
    }).output(0);
  const a = node('tflite.ADD', [x, x], 'a');
  const b = node('tflite.ADD', [a, x], 'b');
  const c = node('tflite.ADD', [q, q], 'c', i8);
  const d = node('tflite.CUSTOM', [b], 'd', f32, 'A');
  const e = node('tflite.CUSTOM', [d], 'e', f32, 'B');
  const f = node('tflite.CUSTOM', [e, null, d], 'f', f32, 'A');
  graph.setOutputs([f, c]);
  const result = new Model(graph);
  result.opsetImports.set('tflite', 3);
  return { model: result, values: { x, q, a, b, c, d, e, f } };
}

describe('planModel', () => {
  it('numbers operator codes by first use (builtin and version, or custom code) and lists each operator\'s operands', () => {
    const { model: planned, values } = model();
    const plan = planModel(planned, 'plan.tflite');
    expect(plan.operatorCodes).toEqual([
      { builtin: 'ADD', customCode: undefined, version: 1 },
      { builtin: 'ADD', customCode: undefined, version: 2 },
      { builtin: 'CUSTOM', customCode: 'A', version: 1 },
      { builtin: 'CUSTOM', customCode: 'B', version: 1 },
    ]);
    const [subgraph] = plan.subgraphs;
    const index = (name: string) => subgraph!.indexOf.get(values[name]!)!;
    expect(subgraph!.tensors.map((tensor) => tensor.value.name)).toEqual(['x', 'q', 'a', 'b', 'c', 'd', 'e', 'f']);
    // Per operator: opcode index, input count, inputs (-1 absent), output count, outputs.
    expect(subgraph!.operators).toEqual([
      [0, 2, index('x'), index('x'), 1, index('a')],
      [0, 2, index('a'), index('x'), 1, index('b')],
      [1, 2, index('q'), index('q'), 1, index('c')],
      [2, 1, index('b'), 1, index('d')],
      [3, 1, index('d'), 1, index('e')],
      [2, 3, index('e'), -1, index('d'), 1, index('f')],
    ].flat());
  });
});
