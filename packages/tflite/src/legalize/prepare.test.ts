import { describe, expect, it } from 'vitest';
import { attrs, GraphBuilder, Tensor, tensorType } from '@modelpass/ir';
import { constantNodesAsInitializers } from './prepare.js';

describe('constantNodesAsInitializers', () => {
  it('turns every Constant node of the main graph into an initializer its readers take, but one that writes a graph output', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2]));
    const shared = b.op1('onnx.Constant', [], { value: attrs.tensor(Tensor.fromValues('float32', [2], [1, 2])) }, { outputs: ['shared'] });
    const once = b.op1('onnx.Constant', [], { value: attrs.tensor(Tensor.fromValues('float32', [2], [3, 4])) }, { outputs: ['once'] });
    const kept = b.op1('onnx.Constant', [], { value: attrs.tensor(Tensor.fromValues('float32', [2], [5, 6])) }, { outputs: ['kept'] });
    const sum = b.op1('onnx.Add', [x, shared], {}, { name: 'add' });
    const product = b.op1('onnx.Mul', [sum, shared], {}, { name: 'mul' });
    const y = b.op1('onnx.Sub', [product, once], {}, { name: 'sub' });
    b.output(y, kept);
    const model = b.model({ onnx: 17 });
    const graph = model.graph;

    expect(constantNodesAsInitializers(model)).toBe(2);

    // Only the Constant that writes a graph output is left as a node.
    expect(graph.nodeList().map((node) => node.op)).toEqual(['onnx.Constant', 'onnx.Add', 'onnx.Mul', 'onnx.Sub']);
    expect(graph.firstNode!.output(0)).toBe(kept);
    // Readers take the new initializers (named after the outputs they replace), in graph order.
    const byName = (name: string) => graph.nodeList().find((node) => node.name === name)!;
    expect(byName('add').inputs[1]!.name).toBe('shared_value');
    expect(byName('mul').inputs[1]).toBe(byName('add').inputs[1]);
    expect(byName('sub').inputs[1]!.name).toBe('once_value');
    expect(graph.constants.map((value) => value.name)).toEqual(['shared_value', 'once_value']);
    expect(graph.constants.map((value) => [...value.constant!.toNumbers()])).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(graph.constants[0]!.useCount).toBe(2);
    // The replaced node outputs are gone from the graph.
    expect(graph.getValue('shared')).toBeUndefined();
    expect(graph.getValue('once')).toBeUndefined();
  });
});
