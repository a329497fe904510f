import { describe, expect, it } from 'vitest';
import { attrs, Builder, defineOp, GraphBuilder, OpRegistry, tensorType } from '@modelpass/ir';

describe('graph outputs and Builder.create, as kept by the graph (no walks over uses)', () => {
  it('isGraphOutput follows each output of the value’s own graph, counted once per output, not a nested graph’s', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2]));
    const y = b.op1('onnx.Relu', [x]);
    const z = b.op1('onnx.Neg', [y]);
    b.output(y, y);
    expect([y.isGraphOutput, z.isGraphOutput]).toEqual([true, false]);
    b.graph.setOutputs([y, z]);
    expect([y.isGraphOutput, z.isGraphOutput]).toEqual([true, true]);
    z.replaceAllUsesWith(y, { keepOutputNames: false });
    expect([y.isGraphOutput, z.isGraphOutput]).toEqual([true, false]);
    b.graph.setOutputs([z]);
    expect([y.isGraphOutput, z.isGraphOutput]).toEqual([false, true]);
    // A value of the outer graph returned by a subgraph is an output of the subgraph only.
    const inner = new GraphBuilder();
    inner.output(x);
    b.node('onnx.If', [x], { then_branch: attrs.graph(inner.graph), else_branch: attrs.graph(new GraphBuilder().output(x).graph) });
    expect(x.isGraphOutput).toBe(false);
    expect(x.useCount).toBe(4);
    inner.graph.setOutputs([]);
    expect(x.useCount).toBe(3);
  });

  it('names, types, attributes (a subgraph one included) and places what it creates as createNode did', () => {
    const b = new GraphBuilder();
    const x = b.input('x', tensorType('float32', [2]));
    const anchor = b.node('onnx.Relu', [x], {}, { name: 'anchor' });
    const body = new GraphBuilder();
    body.output(x);
    const at = Builder.before(anchor, { loc: { file: 'm.onnx', line: 3 } });
    const node = at.create('onnx.Loop', [x, null], { body: attrs.graph(body.graph), axis: 1, skipped: undefined, pads: [0, 1] }, { outputs: ['v', 'v_2'] as string[], types: [tensorType('float32', [2])] });
    expect(node.outputs.map((v) => v!.name)).toEqual(['v', 'v_2']);
    expect(node.outputs.map((v) => v!.type.kind)).toEqual(['tensor', 'unknown']);
    expect([...node.attributes.keys()]).toEqual(['body', 'axis', 'pads']);
    expect(node.attributes.get('axis')).toEqual({ kind: 'int', value: 1 });
    expect(body.graph.parentNode).toBe(node);
    expect(node.subgraphs).toEqual([body.graph]);
    expect(node.loc).toEqual({ file: 'm.onnx', line: 3 });
    expect(node.name).toBe('Loop');
    expect(b.graph.nodeList().map((n) => n.name)).toEqual(['Loop', 'anchor']);
    const plain = at.create('onnx.Relu', [x]);
    expect([plain.name, plain.output().name, plain.hasAttribute('axis'), plain.attributes.size]).toEqual(['Relu', 'Relu_0', false, 0]);
    expect(() => at.create('onnx.Neg', [x], {}, { outputs: ['w', 'w'] as string[] })).toThrow("value name 'w' is already defined");
    expect(() => at.create('onnx.Neg', [x], { axis: 'wide' }, { outputs: ['u'] as string[] })).not.toThrow();
  });
});

describe('moves and replacements walk the links in place', () => {
  it('moveAfter/moveBefore keep order, count and the node names uniqueNodeName avoids', () => {
    const b = new GraphBuilder();
    const x = b.input('x');
    const [first, second, third] = ['a', 'b', 'c'].map((name) => b.node('onnx.Relu', [x], {}, { name }));
    const names = () => b.graph.nodeList().map((n) => n.name);
    second!.moveAfter(first!); // already there
    expect(names()).toEqual(['a', 'b', 'c']);
    first!.moveAfter(third!);
    expect(names()).toEqual(['b', 'c', 'a']);
    third!.moveBefore(second!);
    expect(names()).toEqual(['c', 'b', 'a']);
    expect([b.graph.nodeCount, b.graph.firstNode?.name, b.graph.lastNode?.name]).toEqual([3, 'c', 'a']);
    expect(b.graph.uniqueNodeName('a')).not.toBe('a');
    first!.erase();
    expect(b.graph.uniqueNodeName('a')).toBe('a');
  });

  it('replaceAllUsesWith replaces every use (one node reading twice, graph outputs) but the excepted node’s', () => {
    const b = new GraphBuilder();
    const x = b.input('x');
    const y = b.input('y');
    const twice = b.node('onnx.Add', [x, x]);
    const keep = b.node('onnx.Neg', [x]);
    const after = b.node('onnx.Abs', [x]);
    b.output(x);
    x.replaceAllUsesWith(y, { except: keep, keepOutputNames: false });
    expect([twice.inputs[0], twice.inputs[1], keep.inputs[0], after.inputs[0], b.graph.outputs[0]]).toEqual([y, y, x, y, y]);
    expect([x.useCount, y.useCount, x.isGraphOutput, y.isGraphOutput]).toEqual([1, 4, false, true]);
    expect([...y.uses].map((use) => use.index)).toEqual([0, 1, 0, 0]);
  });
});

describe('Builder.create types plain attribute values by the registry’s schema', () => {
  it('also when a typed attribute comes first, and needs no schema for typed ones only', () => {
    const registry = new OpRegistry([defineOp({ op: 'test.Leaky', inputs: [{ name: 'X' }], outputs: [{ name: 'Y' }], attributes: { alpha: { kind: 'float' }, mode: { kind: 'string' } } })]);
    const b = new GraphBuilder();
    const x = b.input('x');
    const anchor = b.node('onnx.Relu', [x]);
    const at = Builder.before(anchor, { registry });
    const node = at.create('test.Leaky', [x], { mode: attrs.string('a'), alpha: 2 });
    expect(node.attributes.get('alpha')).toEqual({ kind: 'float', value: 2 });
    expect(at.create('test.Unknown', [x], { alpha: 2 }).attributes.get('alpha')).toEqual({ kind: 'int', value: 2 });
    expect(at.create('test.Unknown', [x], { alpha: attrs.float(2) }).attributes.get('alpha')).toEqual({ kind: 'float', value: 2 });
    expect(() => at.create('test.Leaky', [x], { mode: attrs.string('a'), alpha: 'x' })).toThrow("attribute 'alpha' of test.Leaky cannot be built from the value given");
  });
});
